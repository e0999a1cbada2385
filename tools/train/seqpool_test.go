package train

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// maskedSeqBatch is b sequences of t steps of d random features with the mask
// of seqIDs (varied lengths, one all-padding row, one hole).
func maskedSeqBatch(rng *rand.Rand, b, t, d int) *Batch {
	ib, _ := seqIDs(rng, b, t, 5)
	x := make([]float64, b*t*d)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return &Batch{X: mat.NewDense(b*t, d, x), B: b, T: t, Mask: ib.Mask}
}

func TestSeqPoolGradCheck(t *testing.T) {
	for _, mode := range []PoolMode{PoolMean, PoolMax, PoolSum} {
		t.Run(mode.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(mode)))
			b := maskedSeqBatch(rng, 4, 5, 3)
			y := []float64{0, 1, 2, 1}
			m := NewSequential(&SeqPool{Mode: mode}, NewDense(rng, 3, 3, Linear))
			if e := GradCheck(m, SoftmaxCE{}, b, y, 50); e > 1e-6 {
				t.Errorf("parameter gradient relative error %.3g", e)
			}
			if e := InputGradCheck(m, SoftmaxCE{}, b, y, 60); e > 1e-6 {
				t.Errorf("input gradient relative error %.3g", e)
			}
		})
	}
}

// TestSeqPoolEngine: Embedding → SeqPool → Dense exported f32 computes
// on the engine what it computes on the host, padding masked.
func TestSeqPoolEngine(t *testing.T) {
	for _, mode := range []PoolMode{PoolMean, PoolMax, PoolSum} {
		t.Run(mode.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(2, uint64(mode)))
			b, ids := seqIDs(rng, 5, 7, 20)
			m := NewSequential(NewEmbedding(rng, 20, 6), &SeqPool{Mode: mode}, NewDense(rng, 6, 3, Tanh))
			y := []float64{0, 1, 2, 1, 0}
			if e := GradCheck(m, SoftmaxCE{}, b, y, 60); e > 1e-6 {
				t.Errorf("gradient relative error %.3g", e)
			}
			compareEngine(t, m, b, ids, 1e-5)
		})
	}
}
