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

// TestTransformerLearns: a small transformer (Dense token projection,
// learned positions, one encoder block, masked mean pool, Dense head)
// learns an order-dependent task on padded sequences — does token 1 come
// before token 2 — and its export, f32 and int8, scores as well through
// the engine as on the host.
func TestTransformerLearns(t *testing.T) {
	const vocab, tl, d = 6, 8, 16
	rng := rand.New(rand.NewPCG(41, 42))
	gen := func(n int) (*Table, []float64) {
		d := &Table{F: tl * vocab, T: tl}
		var mask []float64
		for i := 0; i < n; i++ {
			length := 4 + rng.IntN(tl-3)
			toks := make([]int, tl)
			for s := range toks[:length] {
				toks[s] = 3 + rng.IntN(vocab-3)
			}
			a, b := rng.IntN(length), rng.IntN(length-1)
			if b >= a {
				b++
			}
			toks[a], toks[b] = 1, 2
			for s, k := range toks {
				row := make([]float64, vocab)
				m := 0.0
				if s < length {
					row[k], m = 1, 1
				}
				d.X = append(d.X, row...)
				mask = append(mask, m)
			}
			d.Y = append(d.Y, map[bool]float64{true: 1, false: 0}[a < b])
		}
		return d, mask
	}
	trainSet, trainMask := gen(600)
	testSet, testMask := gen(200)
	blk := NewEncoderBlock(rng, d, 2, 32, false)
	blk.SetMask("mask")
	m := NewSequential(NewDense(rng, vocab, d, Linear), NewAddPositional(rng, tl, d), blk,
		&GlobalAveragePool1D{MaskName: "mask"}, NewDense(rng, d, 2, Linear))
	masked := &maskedTable{trainSet, trainMask}
	if _, err := Fit(m, SoftmaxCE{}, NewAdam(), masked, nil, Config{Epochs: 15, BatchSize: 32, Seed: 1, LR: Constant(3e-3)}); err != nil {
		t.Fatal(err)
	}
	tb, ty := (&maskedTable{testSet, testMask}).Batch(seq(0, testSet.Len()))
	hostAcc := Accuracy(m.Forward(tb, false), ty)
	for _, q := range []bool{false, true} {
		_, dev := seqEngineRun(t, m.Layers, tb, q)
		var ok int
		for i := range ty {
			if (dev[2*i+1] > dev[2*i]) == (ty[i] == 1) {
				ok++
			}
		}
		acc := float64(ok) / float64(len(ty))
		t.Logf("int8=%v: test accuracy host %.3f, engine %.3f", q, hostAcc, acc)
		if acc < 0.85 || acc < hostAcc-0.02 {
			t.Errorf("int8=%v: engine accuracy %.3f (host %.3f)", q, acc, hostAcc)
		}
	}
}

// maskedTable is a Table whose batches carry a step mask.
type maskedTable struct {
	*Table
	mask []float64
}

func (d *maskedTable) Batch(idx []int) (*Batch, []float64) {
	b, y := d.Table.Batch(idx)
	for _, r := range idx {
		b.Mask = append(b.Mask, d.mask[r*d.T:(r+1)*d.T]...)
	}
	return b, y
}
