package engine_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/engine/enginetest"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// hugeGraph is x → op → y with x of the given shape: before the limits,
// x = [-1, 2³², 2³²] loaded (its element count wrapped to 0) and Run
// panicked in SeqPool and Concat, and spun for minutes in
// GlobalAveragePool1D before panicking.
func hugeGraph(opName string, shape []int64, attrs ...format.Attr) *format.Model {
	in := []string{"x"}
	if opName == "Concat" {
		in = []string{"x", "x"}
	}
	return &format.Model{Graph: format.Graph{
		Inputs:  []format.ValueInfo{{Name: "x", DType: format.F32, Shape: shape}},
		Outputs: []format.ValueInfo{{Name: "y", DType: format.F32, Shape: []int64{-1, -1}}},
		Nodes:   []format.Node{{Name: "n", Op: opName, Inputs: in, Outputs: []string{"y"}, Attrs: attrs}},
	}}
}

// big is 2³² without a constant that overflows int on 32-bit targets.
var big = int64(1) << 32

func TestLoadRefusesHugeDimensions(t *testing.T) {
	for _, c := range []struct {
		op    string
		shape []int64
		attrs []format.Attr
	}{
		{"SeqPool", []int64{-1, big, big}, nil},
		{"Concat", []int64{-1, big, big}, nil},
		{"Concat", []int64{-1, big, big}, []format.Attr{{Name: "axis", Kind: format.AttrInt, Int: 1}}},
		{"GlobalAveragePool1D", []int64{-1, big, big}, nil},
		{"SeqPool", []int64{-1, 1 << 20, 1 << 20}, nil},            // each dimension fits, the product does not
		{"GlobalAveragePool1D", []int64{1 << 20, 1 << 20, 0}, nil}, // no element, 2⁴⁰ loop steps
		{"SeqPool", []int64{-1, -1, big}, nil},
	} {
		_, err := engine.Load(hugeGraph(c.op, c.shape, c.attrs...))
		// format.Validate (MaxDimSize) or the engine's own shape checks
		// (the element count) refuse it, whichever comes first.
		if !errors.Is(err, engine.ErrInvalidModel) || !errors.Is(err, tensor.ErrShape) && !errors.Is(err, format.ErrLimit) {
			t.Errorf("%s on %v: Load error %v, want ErrInvalidModel and tensor.ErrShape or format.ErrLimit", c.op, c.shape, err)
		}
	}
}

// A request cannot take a dynamic dimension past the limits, neither in
// the input itself nor in an activation it grows into; it is refused
// before anything is allocated for it.
func TestRunRefusesHugeRequests(t *testing.T) {
	for _, opName := range []string{"SeqPool", "Concat", "GlobalAveragePool1D"} {
		var attrs []format.Attr
		if opName == "Concat" {
			attrs = []format.Attr{{Name: "axis", Kind: format.AttrInt, Int: 1}}
		}
		m, err := engine.Load(hugeGraph(opName, []int64{-1, -1, -1}, attrs...))
		if err != nil {
			t.Fatalf("%s: %v", opName, err)
		}
		s := m.NewSession(engine.WithThreads(2))
		for _, shape := range []tensor.Shape{
			{1, 1 << 30, 1 << 30}, // each dimension over MaxDimSize
			{1, 1 << 13, 1 << 14}, // 2²⁷ elements, over MaxElements
			{1 << 26, 1 << 26, 0}, // no element, 2⁵² loop steps
		} {
			x := &tensor.Tensor{DType: tensor.F32, Shape: shape} // no data: refused before Check
			_, err := s.Run([]*tensor.Tensor{x})
			if !errors.Is(err, engine.ErrInvalidInput) || !errors.Is(err, tensor.ErrShape) {
				t.Errorf("%s on %v: Run error %v, want ErrInvalidInput and tensor.ErrShape", opName, shape, err)
			}
		}
		// And the session still runs a request that fits.
		out, err := s.Run([]*tensor.Tensor{tensor.NewF32(tensor.Shape{2, 3, 4}, nil)})
		if err != nil || len(out) != 1 {
			t.Errorf("%s: a small request after refused ones: %v", opName, err)
		}
		s.Close()
	}
}

// The model's limits (those it was read with) bound the activations a
// request grows: an Embedding multiplies its input's size by the table's
// width.
func TestRunHonoursModelLimits(t *testing.T) {
	fm, err := enginetest.Build("textcls:vocab=50,emb=16,lstm=6,classes=3,seq=8", enginetest.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	fm.Graph.Inputs[0].Shape = []int64{-1, -1}
	fm.Metadata.Tokenizer.MaxLen = 8
	fm.Limits = format.Limits{MaxElements: 4096, MaxDimSize: 4096}
	m, err := engine.Load(fm)
	if err != nil {
		t.Fatal(err)
	}
	s := m.NewSession()
	defer s.Close()
	if _, err := s.Run([]*tensor.Tensor{tensor.NewI64(tensor.Shape{2, 8}, nil)}); err != nil {
		t.Fatalf("a request within the limits: %v", err)
	}
	// 512 ids fit MaxElements, their [1, 512, 16] embedding (8192) does
	// not; nor does that of 1024 ids.
	for _, n := range []int{512, 1024} {
		_, err := s.Run([]*tensor.Tensor{tensor.NewI64(tensor.Shape{1, n}, nil)})
		if !errors.Is(err, engine.ErrInvalidInput) {
			t.Errorf("%d ids: Run error %v, want ErrInvalidInput", n, err)
		}
	}
	// Without the file's limits the same model takes 1024 ids: the
	// limits are the model's, not fixed in the engine.
	fm.Limits = format.Limits{}
	m2, err := engine.Load(fm)
	if err != nil {
		t.Fatal(err)
	}
	s2 := m2.NewSession()
	defer s2.Close()
	if _, err := s2.Run([]*tensor.Tensor{tensor.NewI64(tensor.Shape{1, 1024}, nil)}); err != nil {
		t.Errorf("1024 ids under the default limits: %v", err)
	}
}

// Reshape used to accept dimensions up to 2⁴⁰ (and truncate them to int
// on 32-bit ARM): [1, 0, 0] reshaped to [0, 2⁴⁰, 0] loaded, and pooling over
// it looped 2⁴⁰ times.
func TestLoadRefusesHugeReshape(t *testing.T) {
	fm := &format.Model{
		Graph: format.Graph{
			Inputs:  []format.ValueInfo{{Name: "x", DType: format.F32, Shape: []int64{-1, 0, 0}}},
			Outputs: []format.ValueInfo{{Name: "y", DType: format.F32, Shape: []int64{-1, 0}}},
			Nodes: []format.Node{
				{Name: "r", Op: "Reshape", Inputs: []string{"x"}, Outputs: []string{"r"},
					Attrs: []format.Attr{{Name: "shape", Kind: format.AttrInts, Ints: []int64{0, 1 << 40, 0}}}},
				{Name: "p", Op: "SeqPool", Inputs: []string{"r"}, Outputs: []string{"y"}},
			},
		},
	}
	_, err := engine.Load(fm)
	if !errors.Is(err, engine.ErrInvalidModel) {
		t.Fatalf("Load error %v, want ErrInvalidModel", err)
	}
	if !strings.Contains(err.Error(), "exceeds the limit") && !strings.Contains(err.Error(), "too large") {
		t.Errorf("Load error %q does not say which bound", err)
	}
}

// A zero-length sequence used to panic in MultiHeadAttention
// (attention.go:128, slice bounds out of range), whether the model fixes
// it or the request sends it. Now it runs: the attention has no query,
// the mean pool of no step is 0, so the output is the head of a zero
// vector, the same for every row.
func TestZeroLengthSequence(t *testing.T) {
	for _, spec := range []string{
		"transformer:vocab=40,d=16,heads=2,ffn=24,layers=2,seq=9,classes=4",
		"textcls:vocab=50,emb=8,lstm=6,classes=3,seq=7",
		"textcls:vocab=50,emb=8,gru=5,classes=1,seq=6,bidir=1",
	} {
		for _, fixed := range []bool{true, false} {
			fm, err := enginetest.Build(spec, enginetest.Options{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			fm.Graph.Inputs[0].Shape = []int64{-1, -1}
			if fixed {
				fm.Graph.Inputs[0].Shape = []int64{-1, 0}
			}
			m, err := engine.Load(fm)
			if err != nil {
				t.Fatalf("%s, fixed %v: %v", spec, fixed, err)
			}
			for _, threads := range []int{1, 2} {
				s := m.NewSession(engine.WithThreads(threads))
				out, err := s.Run([]*tensor.Tensor{tensor.NewI64(tensor.Shape{3, 0}, nil)})
				if err != nil {
					t.Fatalf("%s, fixed %v: Run on [3, 0]: %v", spec, fixed, err)
				}
				y := out[0].F32
				if n := len(y); n == 0 || n%3 != 0 {
					t.Fatalf("%s: output %v", spec, out[0].Shape)
				}
				row := len(y) / 3
				for i := range y {
					if y[i] != y[i%row] || y[i] != y[i] {
						t.Fatalf("%s: rows of an empty sequence differ or are NaN: %v", spec, y)
					}
				}
				s.Close()
			}
		}
	}
}

// Attention costs T² per head: MaxSeqLen bounds the T a request may send,
// so a long request cannot keep a Run busy for hours.
func TestAttentionHonoursMaxSeqLen(t *testing.T) {
	fm, err := enginetest.Build("transformer:vocab=40,d=16,heads=2,ffn=24,layers=1,seq=128,classes=2", enginetest.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	fm.Graph.Inputs[0].Shape = []int64{-1, -1}
	fm.Metadata.Tokenizer.MaxLen = 64 // the positional table takes 128
	fm.Limits = format.Limits{MaxSeqLen: 64}
	m, err := engine.Load(fm)
	if err != nil {
		t.Fatal(err)
	}
	s := m.NewSession()
	defer s.Close()
	if _, err := s.Run([]*tensor.Tensor{tensor.NewI64(tensor.Shape{1, 64}, nil)}); err != nil {
		t.Fatalf("64 steps: %v", err)
	}
	_, err = s.Run([]*tensor.Tensor{tensor.NewI64(tensor.Shape{1, 65}, nil)})
	if !errors.Is(err, engine.ErrInvalidInput) || !strings.Contains(err.Error(), "sequence length limit") {
		t.Fatalf("65 steps: %v, want ErrInvalidInput naming the sequence length limit", err)
	}
}
