package recsys

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/edgerun/edgerun/tools/train"
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
	worst := 0.0
	for _, tab := range []struct{ w, g []float64 }{{m.P, tr.gP.g}, {m.Q, tr.gQ.g}, {m.BU, tr.gBU.g}, {m.BI, tr.gBI.g}} {
		for j := range tab.w {
			worst = max(worst, train.RelErr(tab.g[j], train.NumericGrad(mean, tab.w, j)))
		}
	}
	b1 := []float64{m.B}
	worst = max(worst, train.RelErr(tr.gB.g[0], train.NumericGrad(func() float64 { m.B = b1[0]; return mean() }, b1, 0)))
	m.B = b1[0]
	if worst > 1e-6 {
		t.Fatalf("largest relative gradient error %.3g", worst)
	}
}
