package engine_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/engine/enginetest"
	"github.com/edgerun/edgerun/runtime/op"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// Specs are every architecture `edgetrain init` can make, small enough for
// tests.
var specs = []string{
	"mlp:8-16-4",
	"mlp:5-7-1",
	"textcls:vocab=50,emb=8,lstm=6,classes=3,seq=7",
	"textcls:vocab=50,emb=8,gru=5,classes=1,seq=6,bidir=1",
	"transformer:vocab=40,d=16,heads=2,ffn=24,layers=2,seq=9,classes=4",
	"recommender:users=20,items=30,dim=8",
	"conv1d:window=16,channels=3,filters=8,kernel=3,classes=2",
	"cnn:height=12,width=10,channels=2,filters=8,classes=3",
	// Knowledge tracing: the recurrent layer's state in and out. (Four
	// specs: FuzzLoadRun picks its base by its first byte modulo the
	// number of bases, 24 with these, and the seed in testdata starts
	// with 99, base 3 both before and after them.)
	"tracing:skills=12,emb=8,lstm=6",
	"tracing:skills=12,emb=8,gru=5",
	"tracing:skills=12,emb=8,lstm=6,mask=1",
	"tracing:skills=12,emb=8,gru=5,mask=1",
}

func load(t testing.TB, spec string, int8 bool) *engine.Model {
	t.Helper()
	fm, err := enginetest.Build(spec, enginetest.Options{Int8: int8, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := format.Write(&buf, fm); err != nil {
		t.Fatal(err)
	}
	m, err := engine.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// inputs makes a batch of random inputs for m.
func inputs(m *engine.Model, batch int, seed uint64) []*tensor.Tensor {
	rng := rand.New(rand.NewPCG(seed, 9))
	var in []*tensor.Tensor
	for _, vi := range m.Inputs {
		shape := make(tensor.Shape, len(vi.Shape))
		for i, d := range vi.Shape {
			shape[i] = d
			if d < 0 {
				shape[i] = batch
			}
		}
		switch vi.DType {
		case tensor.F32:
			t := tensor.NewF32(shape, nil)
			for i := range t.F32 {
				t.F32[i] = float32(rng.NormFloat64())
			}
			in = append(in, t)
		case tensor.I64:
			t := tensor.NewI64(shape, nil)
			limit := int64(20) // below every test vocabulary and user/item count
			for i := range t.I64 {
				t.I64[i] = rng.Int64N(limit)
			}
			// Some padding at the end of each sequence.
			if len(shape) == 2 {
				for b := 0; b < shape[0]; b++ {
					for j := shape[1] - b%3; j < shape[1]; j++ {
						t.I64[b*shape[1]+j] = 0
					}
				}
			}
			in = append(in, t)
		}
	}
	return in
}

// haveOps fails the test when an operator the model needs is not
// registered: a missing registration is a bug, not a reason to skip.
func haveOps(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if op.Lookup(n) == nil {
			t.Fatalf("operator %s is not registered", n)
		}
	}
}

func opsOf(spec string) []string {
	kind, _, _ := strings.Cut(spec, ":")
	switch kind {
	case "mlp":
		return []string{"Dense", "Softmax"}
	case "textcls":
		return []string{"Embedding", "PadMask", "LSTM", "GRU", "Softmax"}
	case "transformer":
		return []string{"Embedding", "AddPositional", "PadMask", "MultiHeadAttention", "Add", "LayerNorm", "SeqPool", "Softmax"}
	case "tracing":
		return []string{"Embedding", "PadMask", "LSTM", "GRU", "Dense"}
	case "recommender":
		return []string{"Embedding", "Dot", "Add", "Sigmoid"}
	case "cnn":
		return []string{"Conv2D", "MaxPool2D", "DepthwiseConv2D", "AvgPool2D", "GlobalAveragePool2D", "Softmax"}
	}
	return []string{"Conv1D", "MaxPool1D", "GlobalAveragePool1D", "Softmax"}
}

// TestEveryArchitecture loads every model shape init can make, f32 and
// int8, runs it at two batch sizes, checks outputs are finite and the
// int8 model stays close to the f32 one, and that steady-state Run
// allocates nothing.
func TestEveryArchitecture(t *testing.T) {
	for _, spec := range specs {
		t.Run(spec, func(t *testing.T) {
			haveOps(t, opsOf(spec)...)
			mf := load(t, spec, false)
			mq := load(t, spec, true)
			for _, batch := range []int{1, 5} {
				in := inputs(mf, batch, 3)
				sf := mf.NewSession()
				outF, err := sf.Run(in)
				if err != nil {
					t.Fatal(err)
				}
				sq := mq.NewSession(engine.WithThreads(2))
				outQ, err := sq.Run(in)
				if err != nil {
					t.Fatal(err)
				}
				for i := range outF {
					if !outF[i].Shape.Equal(outQ[i].Shape) {
						t.Fatalf("shapes %v vs %v", outF[i].Shape, outQ[i].Shape)
					}
					for j, v := range outF[i].F32 {
						if v != v || outQ[i].F32[j] != outQ[i].F32[j] {
							t.Fatalf("NaN in output %d", i)
						}
						if d := v - outQ[i].F32[j]; d > 0.1 || d < -0.1 {
							t.Errorf("output %d[%d]: f32 %v, int8 %v", i, j, v, outQ[i].F32[j])
						}
					}
				}
				for _, s := range []*engine.Session{sf, sq} {
					if a := testing.AllocsPerRun(20, func() {
						if _, err := s.Run(in); err != nil {
							t.Fatal(err)
						}
					}); a != 0 {
						t.Errorf("batch %d: %v allocations per steady-state Run", batch, a)
					}
					s.Close()
				}
			}
		})
	}
}

// TestSharedModel runs one Model from many goroutines, each with its own
// session, and checks every result equals the single-threaded one.
func TestSharedModel(t *testing.T) {
	haveOps(t, "Dense", "Softmax")
	m := load(t, "mlp:16-64-32-4", true)
	in := inputs(m, 8, 5)
	s := m.NewSession()
	want, err := s.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	ref := append([]float32(nil), want[0].F32...)
	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := m.NewSession(engine.WithThreads(1 + g%3))
			defer s.Close()
			for i := 0; i < 20; i++ {
				out, err := s.Run(in)
				if err != nil {
					t.Error(err)
					return
				}
				for j, v := range out[0].F32 {
					if v != ref[j] {
						t.Errorf("goroutine %d: output differs at %d", g, j)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestRunRejectsBadInput(t *testing.T) {
	haveOps(t, "Dense", "Softmax")
	m := load(t, "mlp:4-8-3", false)
	s := m.NewSession()
	for _, tc := range []struct {
		name string
		in   []*tensor.Tensor
	}{
		{"none", nil},
		{"nil", []*tensor.Tensor{nil}},
		{"dtype", []*tensor.Tensor{tensor.NewI64(tensor.Shape{1, 4}, nil)}},
		{"rank", []*tensor.Tensor{tensor.NewF32(tensor.Shape{4}, nil)}},
		{"width", []*tensor.Tensor{tensor.NewF32(tensor.Shape{1, 5}, nil)}},
		{"short-data", []*tensor.Tensor{{DType: tensor.F32, Shape: tensor.Shape{2, 4}, F32: make([]float32, 7)}}},
	} {
		if _, err := s.Run(tc.in); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

func TestLoadRefusesUnknownOp(t *testing.T) {
	fm, err := enginetest.Build("mlp:4-8-3", enginetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fm.Graph.Nodes[0].Op = "Teleport"
	if _, err := engine.Load(fm); err == nil {
		t.Fatal("unknown op accepted")
	} else {
		t.Log(err)
	}
	fm, _ = enginetest.Build("mlp:4-8-3", enginetest.Options{})
	fm.Graph.Nodes[0].Attrs = append(fm.Graph.Nodes[0].Attrs, format.Attr{Name: "warp", Kind: format.AttrInt, Int: 9})
	if _, err := engine.Load(fm); err == nil {
		t.Fatal("unknown attribute accepted")
	}
}

func BenchmarkModels(b *testing.B) {
	for _, bc := range []struct {
		spec  string
		batch int
	}{
		{"mlp:64-256-128-10", 1}, {"mlp:64-256-128-10", 64},
		{"textcls:vocab=20000,emb=64,lstm=128,classes=1,seq=64", 1},
		{"textcls:vocab=20000,emb=64,lstm=128,classes=1,seq=64", 32},
		{"transformer:vocab=8000,d=128,heads=4,ffn=512,layers=2,seq=64,classes=4", 1},
		{"recommender:users=1000,items=5000,dim=32", 5000},
	} {
		for _, q := range []bool{false, true} {
			for _, threads := range []int{1, 2} {
				name := fmt.Sprintf("%s/batch=%d/int8=%v/threads=%d", bc.spec, bc.batch, q, threads)
				b.Run(name, func(b *testing.B) {
					haveOps(b, opsOf(bc.spec)...)
					m := load(b, bc.spec, q)
					in := inputs(m, bc.batch, 1)
					s := m.NewSession(engine.WithThreads(threads))
					defer s.Close()
					if _, err := s.Run(in); err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					for b.Loop() {
						if _, err := s.Run(in); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/inference")
				})
			}
		}
	}
}
