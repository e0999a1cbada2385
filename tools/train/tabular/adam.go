package tabular

import (
	"math"

	"github.com/edgerun/edgerun/tools/train"
)

// adam is train.Adam (AdamW when wd > 0: decoupled weight decay on the
// parameters marked Decay) with the per-element work cut to one multiply,
// one square root and one division: the bias corrections are folded into
// the step size and the second-moment scale once per step. It was a
// third of the digits MLP's epoch time with train.Adam (three divisions
// per weight).
type adam struct {
	b1, b2, eps, wd float64
	t               int
	m, v            [][]float64
}

func newAdam(wd float64) *adam { return &adam{b1: 0.9, b2: 0.999, eps: 1e-8, wd: wd} }

// Step is one update of ps (the same parameters, in the same order, at
// every step).
func (o *adam) Step(ps []*train.Param, lr float64) {
	if o.m == nil {
		o.m, o.v = make([][]float64, len(ps)), make([][]float64, len(ps))
		for k, p := range ps {
			o.m[k], o.v[k] = make([]float64, len(p.W)), make([]float64, len(p.W))
		}
	}
	o.t++
	c1 := 1 - math.Pow(o.b1, float64(o.t))
	c2 := 1 - math.Pow(o.b2, float64(o.t))
	step, ic2 := lr/c1, 1/c2
	b1, b2, eps := o.b1, o.b2, o.eps
	for k, p := range ps {
		w := p.W
		g, m, v := p.G[:len(w)], o.m[k][:len(w)], o.v[k][:len(w)]
		if p.Decay && o.wd > 0 {
			f := 1 - lr*o.wd
			for i := range w {
				w[i] *= f
			}
		}
		for i, gi := range g {
			mi := b1*m[i] + (1-b1)*gi
			vi := b2*v[i] + (1-b2)*gi*gi
			m[i], v[i] = mi, vi
			w[i] -= step * mi / (math.Sqrt(vi*ic2) + eps)
		}
	}
}
