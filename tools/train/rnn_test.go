package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

type rnnCase struct {
	cell       Cell
	bidir, seq bool
}

func (c rnnCase) String() string {
	return fmt.Sprintf("%v/bidir=%v/seq=%v", c.cell, c.bidir, c.seq)
}

var rnnCases = func() []rnnCase {
	var cs []rnnCase
	for _, cell := range []Cell{LSTMCell, GRUCell} {
		for _, bidir := range []bool{false, true} {
			for _, sq := range []bool{false, true} {
				cs = append(cs, rnnCase{cell, bidir, sq})
			}
		}
	}
	return cs
}()

// rnnModel is rnn (→ SeqPool max in sequence mode) → Dense(3).
func rnnModel(rng *rand.Rand, c rnnCase, in, h int, head ...Layer) *Sequential {
	r := newRecurrent(rng, c.cell, in, h, c.bidir, c.seq)
	ls := append(head, r)
	if c.seq {
		ls = append(ls, &SeqPool{Mode: PoolMax})
	}
	return NewSequential(append(ls, NewDense(rng, r.Out(), 3, Linear))...)
}

// TestRecurrentGradCheck: BPTT matches finite differences for the
// parameters and the input, masked steps included.
func TestRecurrentGradCheck(t *testing.T) {
	for i, c := range rnnCases {
		t.Run(c.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, uint64(i)))
			b := maskedSeqBatch(rng, 4, 5, 3)
			y := []float64{0, 1, 2, 1}
			m := rnnModel(rng, c, 3, 4)
			if e := GradCheck(m, SoftmaxCE{}, b, y, 40); e > 1e-5 {
				t.Errorf("parameter gradient relative error %.3g", e)
			}
			if e := InputGradCheck(m, SoftmaxCE{}, b, y, 60); e > 1e-5 {
				t.Errorf("input gradient relative error %.3g", e)
			}
		})
	}
}

// TestRecurrentEngine: Embedding → LSTM/GRU (→ SeqPool) → Dense exported
// f32 computes on the engine what it computes on the host.
func TestRecurrentEngine(t *testing.T) {
	for i, c := range rnnCases {
		t.Run(c.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(4, uint64(i)))
			b, ids := seqIDs(rng, 6, 9, 30)
			m := rnnModel(rng, c, 8, 5, NewEmbedding(rng, 30, 8))
			for _, p := range m.Params() { // larger weights: saturating gates
				for j := range p.W {
					p.W[j] *= 3
				}
			}
			compareEngine(t, m, b, ids, 1e-4)
		})
	}
}

// TestRecurrentLearns: an LSTM learns whether token 2 comes before token 3.
func TestRecurrentLearns(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	d := &Seqs{T: 8}
	for i := 0; i < 400; i++ {
		s := make([]int, 8)
		n := 2 + rng.IntN(7)
		for j := 0; j < n; j++ {
			s[j] = 4 + rng.IntN(6)
		}
		a, b := rng.IntN(n), rng.IntN(n)
		for a == b {
			b = rng.IntN(n)
		}
		s[a], s[b] = 2, 3
		y := 0.0
		if a < b {
			y = 1
		}
		d.IDs, d.Y = append(d.IDs, s), append(d.Y, y)
	}
	for _, cell := range []Cell{LSTMCell, GRUCell} {
		m := NewSequential(NewEmbedding(rng, 10, 8), newRecurrent(rng, cell, 8, 16, false, false), NewDense(rng, 16, 1, Linear))
		h, err := Fit(m, SigmoidBCE{}, NewAdam(), d, nil, Config{Epochs: 30, BatchSize: 32, Seed: 1, LR: Constant(0.01), ClipNorm: 5, Metric: Accuracy})
		if err != nil {
			t.Fatal(err)
		}
		if acc := h[len(h)-1].Metric; acc < 0.9 {
			t.Errorf("%v: training accuracy %.3f", cell, acc)
		}
	}
}

// TestEmbeddingRecurrent: EmbeddingRecurrent computes what Embedding →
// Recurrent computes, outputs and every gradient (the table's and
// W_ih's through the per-vocabulary projection), and passes the gradient
// check itself.
func TestEmbeddingRecurrent(t *testing.T) {
	for i, c := range rnnCases {
		t.Run(c.String(), func(t *testing.T) {
			build := func(joined bool) *Sequential {
				rng := rand.New(rand.NewPCG(5, uint64(i)))
				emb := NewEmbedding(rng, 30, 8)
				r := newRecurrent(rng, c.cell, 8, 5, c.bidir, c.seq)
				var ls []Layer
				if joined {
					ls = []Layer{NewEmbeddingRecurrent(emb, r)}
				} else {
					ls = []Layer{emb, r}
				}
				if c.seq {
					ls = append(ls, &SeqPool{Mode: PoolMax})
				}
				return NewSequential(append(ls, NewDense(rng, r.Out(), 3, Linear))...)
			}
			a, j := build(false), build(true)
			b, _ := seqIDs(rand.New(rand.NewPCG(6, uint64(i))), 6, 9, 30)
			y := []float64{0, 1, 2, 1, 0, 2}
			var grads [2][][]float64
			var outs [2][]float64
			for k, m := range []*Sequential{a, j} {
				zeroGrads(m.Params())
				out := m.Forward(b, true)
				_, g := SoftmaxCE{}.Eval(out, y, true)
				m.Backward(g)
				outs[k] = out.RawMatrix().Data
				for _, p := range m.Params() {
					grads[k] = append(grads[k], p.G)
				}
			}
			for r := range outs[0] {
				if d := outs[0][r] - outs[1][r]; d > 1e-12 || d < -1e-12 {
					t.Fatalf("output %d: %v vs %v", r, outs[0][r], outs[1][r])
				}
			}
			if len(grads[0]) != len(grads[1]) {
				t.Fatalf("%d vs %d parameters", len(grads[0]), len(grads[1]))
			}
			for p := range grads[0] {
				for q := range grads[0][p] {
					if d := grads[0][p][q] - grads[1][p][q]; d > 1e-10 || d < -1e-10 {
						t.Fatalf("parameter %d gradient %d: %v vs %v", p, q, grads[0][p][q], grads[1][p][q])
					}
				}
			}
			// The equality above is the exact check; finite differences
			// through saturating GRU gates on this batch reach 1.6e-5.
			if e := GradCheck(j, SoftmaxCE{}, b, y, 40); e > 1e-4 {
				t.Errorf("parameter gradient relative error %.3g", e)
			}
		})
	}
}

// TestRecurrentParallelRows: splitting a step's rows among goroutines
// gives the same bits as one goroutine, outputs and gradients, for
// every cell and direction (H = 64 makes a row worth splitting).
func TestRecurrentParallelRows(t *testing.T) {
	for i, c := range rnnCases {
		t.Run(c.String(), func(t *testing.T) {
			run := func(minCost int) ([]float64, [][]float64) {
				defer func(old int) { parMinCost = old }(parMinCost)
				parMinCost = minCost
				rng := rand.New(rand.NewPCG(7, uint64(i)))
				emb := NewEmbedding(rng, 30, 16)
				r := newRecurrent(rng, c.cell, 16, 64, c.bidir, c.seq)
				ls := []Layer{NewEmbeddingRecurrent(emb, r)}
				if c.seq {
					ls = append(ls, &SeqPool{Mode: PoolMax})
				}
				m := NewSequential(append(ls, NewDense(rng, r.Out(), 3, Linear))...)
				b, _ := seqIDs(rand.New(rand.NewPCG(8, uint64(i))), 12, 9, 30)
				y := make([]float64, 12)
				for j := range y {
					y[j] = float64(j % 3)
				}
				zeroGrads(m.Params())
				out := m.Forward(b, true)
				_, g := SoftmaxCE{}.Eval(out, y, true)
				m.Backward(g)
				var gs [][]float64
				for _, p := range m.Params() {
					gs = append(gs, append([]float64(nil), p.G...))
				}
				return append([]float64(nil), out.RawMatrix().Data...), gs
			}
			o1, g1 := run(math.MaxInt) // one goroutine
			o2, g2 := run(1)           // rows split
			for j := range o1 {
				if o1[j] != o2[j] {
					t.Fatalf("output %d: %v vs %v", j, o1[j], o2[j])
				}
			}
			for p := range g1 {
				for q := range g1[p] {
					if g1[p][q] != g2[p][q] {
						t.Fatalf("parameter %d gradient %d: %v vs %v", p, q, g1[p][q], g2[p][q])
					}
				}
			}
		})
	}
}
