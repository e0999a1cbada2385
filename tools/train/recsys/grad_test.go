package recsys

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestImplicitGradient checks the recommender's backward pass (the dot
// product, the bias embeddings and the global bias under weighted
// binary cross-entropy) against central finite differences of the batch's
// mean loss, for every parameter the batch touches.
func TestImplicitGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	m := newMF(rng, 5, 6, 4, 0.5)
	for i := range m.BU {
		m.BU[i] = rng.NormFloat64() * 0.3
	}
	for i := range m.BI {
		m.BI[i] = rng.NormFloat64() * 0.3
	}
	m.B = 0.2
	b := []sample{{1, 2, 1, 1}, {1, 3, 0, 0.5}, {4, 2, 0, 2}, {2, 5, 1, 1}, {3, 1, 1, 1}}
	tr := newImplicitTrainer(m, 0, 0)
	mean := func() float64 {
		var l float64
		for _, s := range b {
			z := m.score(int(s.u), int(s.i))
			l += float64(s.w) * (math.Max(z, 0) - float64(s.y)*z + math.Log1p(math.Exp(-math.Abs(z))))
		}
		return l / float64(len(b))
	}
	tr.accumulate(b)
	const h = 1e-6
	worst := 0.0
	check := func(w []float64, j int, analytic float64) {
		old := w[j]
		w[j] = old + h
		lp := mean()
		w[j] = old - h
		lm := mean()
		w[j] = old
		num := (lp - lm) / (2 * h)
		worst = max(worst, math.Abs(analytic-num)/max(1e-6, math.Abs(analytic)+math.Abs(num)))
	}
	for j := range m.P {
		check(m.P, j, tr.gP.g[j])
	}
	for j := range m.Q {
		check(m.Q, j, tr.gQ.g[j])
	}
	for j := range m.BU {
		check(m.BU, j, tr.gBU.g[j])
	}
	for j := range m.BI {
		check(m.BI, j, tr.gBI.g[j])
	}
	old := m.B
	m.B = old + h
	lp := mean()
	m.B = old - h
	lm := mean()
	m.B = old
	num := (lp - lm) / (2 * h)
	worst = max(worst, math.Abs(tr.gB.g[0]-num)/max(1e-6, math.Abs(tr.gB.g[0])+math.Abs(num)))
	if worst > 1e-6 {
		t.Fatalf("largest relative gradient error %.3g", worst)
	}
}
