package train

import "math"

// Optimizer updates parameters from their gradients.
type Optimizer interface {
	// Step applies one update with learning rate lr.
	Step(ps []*Param, lr float64)
}

// SGD is stochastic gradient descent with (Nesterov) momentum and L2
// weight decay.
type SGD struct {
	Momentum    float64
	Nesterov    bool
	WeightDecay float64
	v           map[*Param][]float64
}

// Step updates v = μv + g, w −= lr·v (Nesterov: lr·(g + μv)).
func (o *SGD) Step(ps []*Param, lr float64) {
	if o.v == nil {
		o.v = map[*Param][]float64{}
	}
	for _, p := range ps {
		v := state(o.v, p)
		for i, g := range p.G {
			if p.Decay {
				g += o.WeightDecay * p.W[i]
			}
			v[i] = o.Momentum*v[i] + g
			if o.Nesterov {
				g += o.Momentum * v[i]
			} else {
				g = v[i]
			}
			p.W[i] -= lr * g
		}
	}
}

// RMSprop divides the gradient by a running root mean square.
type RMSprop struct {
	Rho, Eps, Momentum float64
	sq, mom            map[*Param][]float64
}

// NewRMSprop has Keras's defaults (ρ 0.9, ε 1e-7).
func NewRMSprop() *RMSprop { return &RMSprop{Rho: 0.9, Eps: 1e-7} }

// Step updates s = ρs + (1−ρ)g², w −= lr·g/(√s + ε).
func (o *RMSprop) Step(ps []*Param, lr float64) {
	if o.sq == nil {
		o.sq, o.mom = map[*Param][]float64{}, map[*Param][]float64{}
	}
	for _, p := range ps {
		s, m := state(o.sq, p), state(o.mom, p)
		for i, g := range p.G {
			s[i] = o.Rho*s[i] + (1-o.Rho)*g*g
			u := g / (math.Sqrt(s[i]) + o.Eps)
			if o.Momentum > 0 {
				m[i] = o.Momentum*m[i] + u
				u = m[i]
			}
			p.W[i] -= lr * u
		}
	}
}

// Adam is Adam with bias correction; with Decoupled it is AdamW (weight
// decay applied to the weights directly, not through the gradient).
type Adam struct {
	Beta1, Beta2, Eps float64
	WeightDecay       float64
	Decoupled         bool
	t                 int
	m, v              map[*Param][]float64
}

// NewAdam has the usual defaults (β 0.9/0.999, ε 1e-8).
func NewAdam() *Adam { return &Adam{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8} }

// NewAdamW is Adam with decoupled weight decay wd.
func NewAdamW(wd float64) *Adam {
	a := NewAdam()
	a.WeightDecay, a.Decoupled = wd, true
	return a
}

// Step is one Adam update. The bias corrections are folded into the step
// size and the second-moment scale once per step, so each weight costs
// one multiply, one square root and one division (with the textbook form,
// three divisions a weight, Adam was a third of a small MLP's epoch).
func (o *Adam) Step(ps []*Param, lr float64) {
	if o.m == nil {
		o.m, o.v = map[*Param][]float64{}, map[*Param][]float64{}
	}
	o.t++
	c1 := 1 - math.Pow(o.Beta1, float64(o.t))
	c2 := 1 - math.Pow(o.Beta2, float64(o.t))
	step, ic2 := lr/c1, 1/c2
	b1, b2, eps := o.Beta1, o.Beta2, o.Eps
	for _, p := range ps {
		w := p.W
		g, m, v := p.G[:len(w)], state(o.m, p)[:len(w)], state(o.v, p)[:len(w)]
		decay := p.Decay && o.WeightDecay > 0
		if decay && o.Decoupled {
			f := 1 - lr*o.WeightDecay
			for i := range w {
				w[i] *= f
			}
		}
		for i, gi := range g {
			if decay && !o.Decoupled {
				gi += o.WeightDecay * w[i]
			}
			mi := b1*m[i] + (1-b1)*gi
			vi := b2*v[i] + (1-b2)*gi*gi
			m[i], v[i] = mi, vi
			w[i] -= step * mi / (math.Sqrt(vi*ic2) + eps)
		}
	}
}

func state(s map[*Param][]float64, p *Param) []float64 {
	v, ok := s[p]
	if !ok {
		v = make([]float64, len(p.W))
		s[p] = v
	}
	return v
}

// ClipGlobalNorm scales every gradient so their joint L2 norm is at most
// maxNorm (for recurrent layers), and returns the norm before clipping.
func ClipGlobalNorm(ps []*Param, maxNorm float64) float64 {
	var s float64
	for _, p := range ps {
		for _, g := range p.G {
			s += g * g
		}
	}
	n := math.Sqrt(s)
	if maxNorm > 0 && n > maxNorm {
		f := maxNorm / n
		for _, p := range ps {
			for i := range p.G {
				p.G[i] *= f
			}
		}
	}
	return n
}

// Schedule gives the learning rate of an epoch (0-based) of total.
type Schedule func(epoch, total int) float64

// Constant is a fixed learning rate.
func Constant(lr float64) Schedule { return func(int, int) float64 { return lr } }

// Cosine decays lr to lr·floor along a half cosine over the epochs.
func Cosine(lr, floor float64) Schedule {
	return func(e, total int) float64 {
		if total <= 1 {
			return lr
		}
		f := 0.5 * (1 + math.Cos(math.Pi*float64(e)/float64(total-1)))
		return lr * (floor + (1-floor)*f)
	}
}
