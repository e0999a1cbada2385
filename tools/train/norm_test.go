package train

import (
	"math/rand/v2"
	"testing"
)

// TestLayerNormGradients: LayerNorm (with non-trivial γ, β) matches finite
// differences in γ, β and its input, on plain rows and on a sequence.
func TestLayerNormGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	l := NewLayerNorm(6)
	for i := range l.Gamma.W {
		l.Gamma.W[i] = 1 + 0.3*rng.NormFloat64()
		l.Beta.W[i] = 0.2 * rng.NormFloat64()
	}
	seqCheckGrads(t, "layernorm/seq", rng, []Layer{l}, seqBatch(rng, 2, 5, 6, nil), 1e-6)
	b := randBatch(rng, 7, 6)
	seqCheckGrads(t, "layernorm/rows+dense", rng, []Layer{l, NewDense(rng, 6, 3, Tanh)}, b, 1e-6)
}

// TestLayerNormExport: the exported LayerNorm gives the host's output
// within 1e-4 through the engine.
func TestLayerNormExport(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	l := NewLayerNorm(8)
	for i := range l.Gamma.W {
		l.Gamma.W[i] = 1 + 0.3*rng.NormFloat64()
		l.Beta.W[i] = 0.2 * rng.NormFloat64()
	}
	l.Eps = 1e-3
	seqCheckExport(t, "layernorm", []Layer{l}, seqBatch(rng, 3, 5, 8, nil), 1e-4)
}
