package train

import "math"

// GradCheck compares m's backward pass with central finite differences of
// loss on one batch, for every parameter element (at most maxPer of each
// parameter, spread evenly). It returns the largest relative error
// |analytic − numeric| / max(1e-6, |analytic| + |numeric|).
func GradCheck(m Model, loss Loss, b *Batch, y []float64, maxPer int) float64 {
	eval := func() float64 {
		l, _ := loss.Eval(m.Forward(b, true), y, false)
		return l
	}
	ps := m.Params()
	zeroGrads(ps)
	out := m.Forward(b, true)
	_, g := loss.Eval(out, y, true)
	m.Backward(g)
	const h = 1e-5
	worst := 0.0
	check := func(w []float64, i int, analytic float64) {
		old := w[i]
		w[i] = old + h
		lp := eval()
		w[i] = old - h
		lm := eval()
		w[i] = old
		num := (lp - lm) / (2 * h)
		den := max(1e-6, math.Abs(analytic)+math.Abs(num))
		worst = max(worst, math.Abs(analytic-num)/den)
	}
	for _, p := range ps {
		ga := append([]float64(nil), p.G...)
		step := max(1, len(p.W)/max(maxPer, 1))
		for i := 0; i < len(p.W); i += step {
			check(p.W, i, ga[i])
		}
	}
	return worst
}
