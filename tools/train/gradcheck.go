package train

import "math"

// gradStep is the finite-difference step of the gradient checks.
const gradStep = 1e-5

// NumericGrad is the central difference (f(w[i]+h) − f(w[i]−h)) / 2h of f
// with respect to w[i] (h = 1e-5); w[i] is restored.
func NumericGrad(f func() float64, w []float64, i int) float64 {
	old := w[i]
	w[i] = old + gradStep
	lp := f()
	w[i] = old - gradStep
	lm := f()
	w[i] = old
	return (lp - lm) / (2 * gradStep)
}

// RelErr is the gradient checks' error measure:
// |analytic − numeric| / max(1e-6, |analytic| + |numeric|).
func RelErr(analytic, numeric float64) float64 {
	return math.Abs(analytic-numeric) / max(1e-6, math.Abs(analytic)+math.Abs(numeric))
}

// GradCheck compares m's backward pass with central finite differences of
// loss on one batch, for every parameter element (at most maxPer of each
// parameter, spread evenly). It returns the largest RelErr.
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
	worst := 0.0
	for _, p := range ps {
		ga := append([]float64(nil), p.G...)
		step := max(1, len(p.W)/max(maxPer, 1))
		for i := 0; i < len(p.W); i += step {
			worst = max(worst, RelErr(ga[i], NumericGrad(eval, p.W, i)))
		}
	}
	return worst
}

// InputGradCheck compares the gradient m's first layer returns for b.X
// with central finite differences of loss, over at most maxN elements of
// b.X spread evenly, and returns the largest RelErr.
func InputGradCheck(m *Sequential, loss Loss, b *Batch, y []float64, maxN int) float64 {
	eval := func() float64 {
		l, _ := loss.Eval(m.Forward(b, true), y, false)
		return l
	}
	zeroGrads(m.Params())
	_, g := loss.Eval(m.Forward(b, true), y, true)
	d := g
	for i := len(m.Layers) - 1; i >= 0; i-- {
		d = m.Layers[i].Backward(d)
	}
	ga := append([]float64(nil), seqData(d)...)
	x := b.X.RawMatrix().Data
	worst := 0.0
	step := max(1, len(x)/max(maxN, 1))
	for i := 0; i < len(x); i += step {
		worst = max(worst, RelErr(ga[i], NumericGrad(eval, x, i)))
	}
	return worst
}
