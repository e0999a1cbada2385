package train

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// seqMask is a [B, T] mask with a few padded steps (example 0 all valid,
// the last example's tail padded, one example fully padded when bn > 2).
func seqMask(bn, tl int) []float64 {
	m := make([]float64, bn*tl)
	for b := 0; b < bn; b++ {
		for s := 0; s < tl; s++ {
			switch {
			case b == 0:
				m[b*tl+s] = 1
			case b == 2:
				// all padding
			case s < tl-2:
				m[b*tl+s] = 1
			}
		}
	}
	return m
}

func randomizeBiases(rng *rand.Rand, ps ...*Param) {
	for _, p := range ps {
		for i := range p.W {
			p.W[i] = 0.1 * rng.NormFloat64()
		}
	}
}

// TestAttentionGradients: MultiHeadAttention (one and several heads,
// causal or not, with and without a key mask), AddPositional and both
// encoder block variants match finite differences in every parameter and
// the input. The key bias's gradient is zero in exact arithmetic (adding
// q·b_k to every score of a query leaves its softmax unchanged), so its
// finite differences are rounding noise of about 1e-11 against GradCheck's
// 1e-6 floor: the parameters are checked to 1e-4, the input to 1e-6.
func TestAttentionGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, heads := range []int{1, 2} {
		for _, causal := range []bool{false, true} {
			for _, masked := range []bool{false, true} {
				l := NewMultiHeadAttention(rng, 4, heads, causal)
				randomizeBiases(rng, l.Bqkv, l.Bo)
				var mask []float64
				if masked {
					mask = seqMask(3, 5)
				}
				name := fmt.Sprintf("mha/heads=%d,causal=%v,masked=%v", heads, causal, masked)
				seqCheckGradsTol(t, name, rng, []Layer{l}, seqBatch(rng, 3, 5, 4, mask), 1e-6, 1e-4)
			}
		}
	}
	seqCheckGrads(t, "positional", rng, []Layer{NewAddPositional(rng, 6, 4), NewDense(rng, 4, 2, Tanh)}, seqBatch(rng, 2, 5, 4, nil), 1e-6)
	for _, pre := range []bool{false, true} {
		blk := NewEncoderBlock(rng, 4, 2, 8, false)
		blk.PreNorm = pre
		randomizeBiases(rng, blk.Attn.Bqkv, blk.Attn.Bo, blk.FF1.B, blk.FF2.B, blk.LN1.Beta, blk.LN2.Beta)
		layers := []Layer{NewAddPositional(rng, 5, 4), blk, &GlobalAveragePool1D{MaskName: "mask"}, NewDense(rng, 4, 3, Linear)}
		seqCheckGradsTol(t, fmt.Sprintf("encoder/prenorm=%v", pre), rng, layers, seqBatch(rng, 3, 5, 4, seqMask(3, 5)), 1e-6, 1e-4)
	}
}

// TestAttentionExport: MultiHeadAttention (heads, causal, mask),
// AddPositional and a two-block encoder with masked pooling and a head,
// exported f32, give the host's outputs within 1e-4 through the engine.
func TestAttentionExport(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	for _, heads := range []int{1, 2, 4} {
		for _, causal := range []bool{false, true} {
			for _, masked := range []bool{false, true} {
				l := NewMultiHeadAttention(rng, 8, heads, causal)
				randomizeBiases(rng, l.Bqkv, l.Bo)
				var mask []float64
				if masked {
					mask = seqMask(4, 6)
					l.MaskName = "mask"
				}
				name := fmt.Sprintf("mha/heads=%d,causal=%v,masked=%v", heads, causal, masked)
				seqCheckExport(t, name, []Layer{l}, seqBatch(rng, 4, 6, 8, mask), 1e-4)
			}
		}
	}
	// A shorter sequence than the table holds.
	seqCheckExport(t, "positional", []Layer{NewAddPositional(rng, 10, 8)}, seqBatch(rng, 2, 6, 8, nil), 1e-4)
	for _, pre := range []bool{false, true} {
		var layers []Layer
		layers = append(layers, NewAddPositional(rng, 6, 8))
		for i := 0; i < 2; i++ {
			blk := NewEncoderBlock(rng, 8, 2, 16, false)
			blk.PreNorm = pre
			blk.SetMask("mask")
			randomizeBiases(rng, blk.Attn.Bqkv, blk.Attn.Bo, blk.FF1.B, blk.FF2.B, blk.LN1.Beta, blk.LN2.Beta)
			layers = append(layers, blk)
		}
		layers = append(layers, &GlobalAveragePool1D{MaskName: "mask"}, NewDense(rng, 8, 3, Linear))
		seqCheckExport(t, fmt.Sprintf("encoder/prenorm=%v", pre), layers, seqBatch(rng, 4, 6, 8, seqMask(4, 6)), 1e-4)
	}
}
