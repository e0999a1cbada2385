package recsys

import (
	"math"
	"math/rand/v2"
)

var nan = math.NaN()

// mf is the two-embedding model: score(u, i) = P[u]·Q[i] + BU[u] + BI[i] + B,
// through a sigmoid for the implicit recommender. Row 0 of every table is
// the reserved unknown-id row.
type mf struct {
	D      int
	NU, NI int       // rows, the reserved one included
	P, Q   []float64 // NU×D, NI×D
	BU, BI []float64
	B      float64
}

func newMF(rng *rand.Rand, nu, ni, d int, std float64) *mf {
	m := &mf{D: d, NU: nu, NI: ni, P: make([]float64, nu*d), Q: make([]float64, ni*d), BU: make([]float64, nu), BI: make([]float64, ni)}
	for i := d; i < len(m.P); i++ { // row 0 stays zero
		m.P[i] = rng.NormFloat64() * std
	}
	for i := d; i < len(m.Q); i++ {
		m.Q[i] = rng.NormFloat64() * std
	}
	return m
}

func (m *mf) score(u, i int) float64 {
	p, q := m.P[u*m.D:(u+1)*m.D], m.Q[i*m.D:(i+1)*m.D]
	var s float64
	for k, x := range p {
		s += x * q[k]
	}
	return s + m.BU[u] + m.BI[i] + m.B
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// sample is one training example: user row, item row, target, weight.
type sample struct {
	u, i int32
	y, w float32
}

// sparseAdam is the lazy ("sparse") Adam of PyTorch's SparseAdam: only
// the rows a batch touched have their moments and weights updated, with
// the global step for bias correction.
type sparseAdam struct {
	b1, b2, eps float64
	t           int
	m, v        map[*[]float64][]float64
}

func newSparseAdam() *sparseAdam {
	return &sparseAdam{b1: 0.9, b2: 0.999, eps: 1e-8, m: map[*[]float64][]float64{}, v: map[*[]float64][]float64{}}
}

// rowGrads accumulates the gradient of the rows a batch touches of a
// table of width w.
type rowGrads struct {
	w       int
	g       []float64
	touched []int
	mark    []bool
}

func newRowGrads(rows, w int) *rowGrads {
	return &rowGrads{w: w, g: make([]float64, rows*w), mark: make([]bool, rows)}
}

func (r *rowGrads) row(k int) []float64 {
	if !r.mark[k] {
		r.mark[k] = true
		r.touched = append(r.touched, k)
	}
	return r.g[k*r.w : (k+1)*r.w]
}

// step updates the touched rows of table with lr and clears the gradient.
func (o *sparseAdam) step(table *[]float64, g *rowGrads, lr float64) {
	m, ok := o.m[table]
	if !ok {
		m, o.v[table] = make([]float64, len(*table)), make([]float64, len(*table))
		o.m[table] = m
	}
	v := o.v[table]
	w := *table
	c1 := 1 - math.Pow(o.b1, float64(o.t))
	c2 := 1 - math.Pow(o.b2, float64(o.t))
	a := lr * math.Sqrt(c2) / c1
	for _, k := range g.touched {
		lo, hi := k*g.w, (k+1)*g.w
		for j := lo; j < hi; j++ {
			gj := g.g[j]
			m[j] = o.b1*m[j] + (1-o.b1)*gj
			v[j] = o.b2*v[j] + (1-o.b2)*gj*gj
			w[j] -= a * m[j] / (math.Sqrt(v[j]) + o.eps*math.Sqrt(c2))
			g.g[j] = 0
		}
		g.mark[k] = false
	}
	g.touched = g.touched[:0]
}

// implicitTrainer trains mf with binary cross-entropy on mini-batches and
// sparse Adam; L2 on the rows a sample touches.
type implicitTrainer struct {
	m                *mf
	opt              *sparseAdam
	gP, gQ, gBU, gBI *rowGrads
	gB               *rowGrads
	bB               []float64 // the global bias as a 1-row table
	reg, regBias     float64
}

func newImplicitTrainer(m *mf, reg, regBias float64) *implicitTrainer {
	return &implicitTrainer{m: m, opt: newSparseAdam(),
		gP: newRowGrads(m.NU, m.D), gQ: newRowGrads(m.NI, m.D),
		gBU: newRowGrads(m.NU, 1), gBI: newRowGrads(m.NI, 1), gB: newRowGrads(1, 1), bB: []float64{m.B},
		reg: reg, regBias: regBias}
}

// batch runs one mini-batch and returns its summed weighted loss.
func (t *implicitTrainer) batch(b []sample, lr float64) float64 {
	loss := t.accumulate(b)
	t.step(lr)
	return loss
}

// accumulate adds the gradient of the batch's mean weighted loss (plus
// the L2 terms) to the row gradients and returns the summed loss.
func (t *implicitTrainer) accumulate(b []sample) float64 {
	m, d := t.m, t.m.D
	inv := 1 / float64(len(b))
	var loss float64
	for _, s := range b {
		u, i := int(s.u), int(s.i)
		z := m.score(u, i)
		p := sigmoid(z)
		y, w := float64(s.y), float64(s.w)
		// BCE with logits: softplus(z) − y·z.
		loss += w * (math.Max(z, 0) - y*z + math.Log1p(math.Exp(-math.Abs(z))))
		g := w * (p - y) * inv
		pu, qi := m.P[u*d:(u+1)*d], m.Q[i*d:(i+1)*d]
		gu, gi := t.gP.row(u), t.gQ.row(i)
		r := t.reg * inv
		for k := 0; k < d; k++ {
			gu[k] += g*qi[k] + r*pu[k]
			gi[k] += g*pu[k] + r*qi[k]
		}
		rb := t.regBias * inv
		t.gBU.row(u)[0] += g + rb*m.BU[u]
		t.gBI.row(i)[0] += g + rb*m.BI[i]
		t.gB.row(0)[0] += g
	}
	return loss
}

// step applies the accumulated gradients with sparse Adam.
func (t *implicitTrainer) step(lr float64) {
	m := t.m
	t.opt.t++
	t.opt.step(&m.P, t.gP, lr)
	t.opt.step(&m.Q, t.gQ, lr)
	t.opt.step(&m.BU, t.gBU, lr)
	t.opt.step(&m.BI, t.gBI, lr)
	t.bB[0] = m.B
	t.opt.step(&t.bB, t.gB, lr)
	m.B = t.bB[0]
}

// sgdRatings is one epoch of per-example SGD on the squared error (biased
// matrix factorisation, as in Funk's SVD / Surprise's SVD) over rows in
// order; it returns the mean squared error seen.
func (m *mf) sgdRatings(us, is []int32, ys []float64, order []int, lr, reg, regBias float64) float64 {
	d := m.D
	var se float64
	for _, k := range order {
		u, i := int(us[k]), int(is[k])
		e := ys[k] - m.score(u, i)
		se += e * e
		pu, qi := m.P[u*d:(u+1)*d], m.Q[i*d:(i+1)*d]
		for j := 0; j < d; j++ {
			a, b := pu[j], qi[j]
			pu[j] += lr * (e*b - reg*a)
			qi[j] += lr * (e*a - reg*b)
		}
		m.BU[u] += lr * (e - regBias*m.BU[u])
		m.BI[i] += lr * (e - regBias*m.BI[i])
	}
	return se / float64(max(len(order), 1))
}
