package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// seqIDs makes b sequences of t ids in 2..vocab-1 followed by padding (id
// 0): lengths vary, one sequence is all padding when b > 2, and one has a
// padding hole in the middle.
func seqIDs(rng *rand.Rand, b, t, vocab int) (*Batch, [][]int) {
	d := &Seqs{T: t}
	for i := 0; i < b; i++ {
		n := 1 + rng.IntN(t)
		if i == 0 {
			n = t
		}
		if i == 2 {
			n = 0
		}
		s := make([]int, t)
		for j := 0; j < n; j++ {
			s[j] = 2 + rng.IntN(vocab-2)
		}
		if i == 1 && t > 3 {
			s[1] = 0
		}
		d.IDs = append(d.IDs, s)
		d.Y = append(d.Y, 0)
	}
	bt, _ := d.Batch(seq(0, b))
	return bt, d.IDs
}

// engineRun exports m (reading ids [B, T] i64) in f32 or int8, runs the
// engine on ids and returns the output.
func engineRun(t *testing.T, m *Sequential, ids [][]int, outCols int, int8 bool) []float32 {
	t.Helper()
	e := NewExporter(int8)
	T := len(ids[0])
	e.M.Graph.Inputs = []format.ValueInfo{{Name: "ids", DType: format.I64, Shape: []int64{-1, int64(T)}}}
	out, err := m.Export(e, "ids")
	if err != nil {
		t.Fatal(err)
	}
	e.Output(out, outCols)
	e.M.Metadata.Task = "test"
	fm, err := e.Finish()
	if err != nil {
		t.Fatal(err)
	}
	em, err := engine.Load(fm)
	if err != nil {
		t.Fatal(err)
	}
	s := em.NewSession()
	defer s.Close()
	in := &tensor.Tensor{DType: tensor.I64, Shape: tensor.Shape{len(ids), T}}
	for _, r := range ids {
		for _, id := range r {
			in.I64 = append(in.I64, int64(id))
		}
	}
	res, err := s.Run([]*tensor.Tensor{in})
	if err != nil {
		t.Fatal(err)
	}
	return res[0].F32
}

// compareEngine checks that the engine's f32 output of m's export is the
// host Forward within tol.
func compareEngine(t *testing.T, m *Sequential, b *Batch, ids [][]int, tol float64) {
	t.Helper()
	host := m.Forward(b, false)
	_, c := host.Dims()
	got := engineRun(t, m, ids, c, false)
	hd := host.RawMatrix().Data
	if len(got) != len(hd) {
		t.Fatalf("engine gave %d values, host %d", len(got), len(hd))
	}
	for i, v := range hd {
		if math.Abs(float64(got[i])-v) > tol {
			t.Fatalf("output %d: engine %g, host %g", i, got[i], v)
		}
	}
}

func TestEmbeddingGradCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	b, _ := seqIDs(rng, 4, 5, 9)
	b.T, b.Mask = 0, nil // every id is a row of its own
	b.B = len(b.IDs)
	m := NewSequential(NewEmbedding(rng, 9, 3), NewDense(rng, 3, 2, Tanh))
	y := make([]float64, b.B)
	for i := range y {
		y[i] = float64(i % 2)
	}
	if e := GradCheck(m, SoftmaxCE{}, b, y, 100); e > 1e-6 {
		t.Errorf("gradient relative error %.3g", e)
	}
}

func TestEmbeddingExportInt8(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	emb := NewEmbedding(rng, 11, 4)
	m := NewSequential(emb, &SeqPool{Mode: PoolSum})
	b, ids := seqIDs(rng, 3, 6, 11)
	host := m.Forward(b, false).RawMatrix().Data
	got := engineRun(t, m, ids, 4, true)
	// int8 per row: each element within half a step of its row's scale,
	// summed over at most 6 steps.
	var top float64
	for _, w := range emb.Table.W {
		top = max(top, math.Abs(w))
	}
	for i, v := range host {
		if d := math.Abs(float64(got[i]) - v); d > 6*0.5*top/127+1e-6 {
			t.Errorf("int8 output %d: %g, f32 %g", i, got[i], v)
		}
	}
	var gotI8 bool
	e := NewExporter(true)
	e.M.Graph.Inputs = []format.ValueInfo{{Name: "ids", DType: format.I64, Shape: []int64{-1, 6}}}
	if _, err := m.Export(e, "ids"); err != nil {
		t.Fatal(err)
	}
	for _, tn := range e.M.Tensors {
		if tn.Name == "embedding/table" && tn.DType == format.I8 && tn.Quant != nil && len(tn.Quant.Scales) == 11 {
			gotI8 = true
		}
	}
	if !gotI8 {
		t.Error("the int8 export has no per-row int8 table")
	}
}
