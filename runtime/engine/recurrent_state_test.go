package engine_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/engine/enginetest"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// The recurrent layers' state inputs and outputs through the engine: a
// knowledge-tracing model (enginetest's tracing) run a learner's answers
// at a time, the state kept by the caller between Runs.

// tracingSpecs are the tracing models of specs.
func tracingSpecs() []string {
	var out []string
	for _, s := range specs {
		if strings.HasPrefix(s, "tracing:") {
			out = append(out, s)
		}
	}
	return out
}

// tracingModel loads spec and returns it with its state size and the
// number of state tensors (2 for an LSTM, 1 for a GRU).
func tracingModel(t testing.TB, spec string, q bool) (m *engine.Model, hidden, states int) {
	t.Helper()
	m = load(t, spec, q)
	if len(m.Inputs) < 2 || len(m.Inputs) != len(m.Outputs) {
		t.Fatalf("%s: inputs %v, outputs %v", spec, m.Inputs, m.Outputs)
	}
	return m, m.Inputs[1].Shape[1], len(m.Inputs) - 1
}

// tracingRequest is the inputs of one Run: the answers [b, t] and the
// states.
func tracingRequest(ids []int64, b, t int, state [][]float32) []*tensor.Tensor {
	in := []*tensor.Tensor{tensor.NewI64(tensor.Shape{b, t}, ids)}
	for _, s := range state {
		in = append(in, tensor.NewF32(tensor.Shape{b, len(s) / max(b, 1)}, s))
	}
	return in
}

// steps cuts steps [s0, s1) of every row out of a [b, t, w] array.
func steps[T any](v []T, b, t, w, s0, s1 int) []T {
	out := make([]T, 0, b*(s1-s0)*w)
	for i := range b {
		out = append(out, v[(i*t+s0)*w:(i*t+s1)*w]...)
	}
	return out
}

func sameF32Bits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] && !(got[i] != got[i] && want[i] != want[i]) {
			t.Fatalf("%s: [%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// TestTracingPieces: a batch of learners' answers run at once gives the
// bits of the same answers run one Run per answer, and in two pieces, each
// Run's h_out (and c_out) passed back as the next one's h_in (and c_in);
// with 1 and 2 threads, f32 and int8, an LSTM and a GRU, with and without
// padding (mask=1: the padded answers keep the state).
func TestTracingPieces(t *testing.T) {
	for _, spec := range tracingSpecs() {
		for _, q := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/int8=%v", spec, q), func(t *testing.T) {
				haveOps(t, opsOf(spec)...)
				m, hidden, states := tracingModel(t, spec, q)
				rng := rand.New(rand.NewPCG(71, 72))
				const b, steps_ = 3, 7
				ids := make([]int64, b*steps_)
				for i := range ids {
					ids[i] = 1 + rng.Int64N(24)
				}
				if strings.Contains(spec, "mask=1") {
					ids[0], ids[steps_+3], ids[3*steps_-1] = 0, 0, 0 // padding inside and at the ends
				}
				state := make([][]float32, states)
				for k := range state {
					state[k] = make([]float32, b*hidden)
					for i := range state[k] {
						state[k][i] = float32(rng.NormFloat64())
					}
				}
				ref := m.NewSession()
				defer ref.Close()
				engine.SetSlices(ref, -1)
				whole, err := ref.Run(tracingRequest(ids, b, steps_, state))
				if err != nil {
					t.Fatal(err)
				}
				want := make([][]float32, len(whole))
				for i, o := range whole {
					want[i] = slices.Clone(o.F32)
				}
				skills := whole[0].Shape[2]
				for i := 1; i < len(whole); i++ {
					if !whole[i].Shape.Equal(tensor.Shape{b, hidden}) {
						t.Fatalf("output %d has shape %v, want [%d, %d]", i, whole[i].Shape, b, hidden)
					}
				}
				for _, threads := range []int{1, 2} {
					s := m.NewSession(engine.WithThreads(threads))
					// run runs steps [s0, s1) from st and returns the
					// outputs, the states copied out of the session's.
					run := func(s0, s1 int, st [][]float32) ([]float32, [][]float32) {
						t.Helper()
						out, err := s.Run(tracingRequest(steps(ids, b, steps_, 1, s0, s1), b, s1-s0, st))
						if err != nil {
							t.Fatal(err)
						}
						var next [][]float32
						for _, o := range out[1:] {
							next = append(next, slices.Clone(o.F32))
						}
						return slices.Clone(out[0].F32), next
					}
					for cut := 1; cut < steps_; cut++ {
						p1, st := run(0, cut, state)
						p2, st := run(cut, steps_, st)
						where := fmt.Sprintf("%d threads, cut at %d", threads, cut)
						sameF32Bits(t, where+": p_correct of the first Run", p1, steps(want[0], b, steps_, skills, 0, cut))
						sameF32Bits(t, where+": p_correct of the second Run", p2, steps(want[0], b, steps_, skills, cut, steps_))
						for k := range st {
							sameF32Bits(t, fmt.Sprintf("%s: state %d", where, k), st[k], want[1+k])
						}
					}
					st := state
					for step := range steps_ {
						var p []float32
						p, st = run(step, step+1, st)
						sameF32Bits(t, fmt.Sprintf("%d threads, step %d alone: p_correct", threads, step), p, steps(want[0], b, steps_, skills, step, step+1))
					}
					for k := range st {
						sameF32Bits(t, fmt.Sprintf("%d threads, one step a Run: state %d", threads, k), st[k], want[1+k])
					}
					s.Close()
				}
				// Sliced batches: every learner a slice, the states too.
				s := m.NewSession(engine.WithThreads(2))
				engine.SetSlices(s, b)
				out, err := s.Run(tracingRequest(ids, b, steps_, state))
				if err != nil {
					t.Fatal(err)
				}
				if k := engine.Slices(s); k != b {
					t.Errorf("ran in %d slices, want %d", k, b)
				}
				for i := range out {
					sameF32Bits(t, fmt.Sprintf("sliced: output %d", i), out[i].F32, want[i])
				}
				s.Close()
			})
		}
	}
}

// TestTracingStepAllocs: one answer of one learner (B = 1, T = 1), the
// state in and out, allocates nothing once warm, and the zero state
// equals the first answer of a learner run from a zero state.
func TestTracingStepAllocs(t *testing.T) {
	for _, spec := range tracingSpecs() {
		for _, q := range []bool{false, true} {
			for _, threads := range []int{1, 2} {
				t.Run(fmt.Sprintf("%s/int8=%v/threads=%d", spec, q, threads), func(t *testing.T) {
					m, hidden, states := tracingModel(t, spec, q)
					s := m.NewSession(engine.WithThreads(threads))
					defer s.Close()
					in := tracingRequest([]int64{5}, 1, 1, make([][]float32, states))
					for k := range states {
						in[1+k] = tensor.NewF32(tensor.Shape{1, hidden}, nil)
					}
					id := int64(0)
					step := func() {
						id = id%24 + 1
						in[0].I64[0] = id
						out, err := s.Run(in)
						if err != nil {
							t.Fatal(err)
						}
						for k := range states { // the learner's state, kept by the caller
							copy(in[1+k].F32, out[1+k].F32)
						}
					}
					step()
					if a := testing.AllocsPerRun(50, step); a != 0 {
						t.Errorf("%v allocations per step", a)
					}
				})
			}
		}
	}
}

// TestTracingStateOutputsOnly: a graph whose outputs are the recurrent
// node's second (and third) output alone, y feeding a node whose output
// nobody reads, or the state outputs before y.
func TestTracingStateOutputsOnly(t *testing.T) {
	for _, spec := range tracingSpecs() {
		fm, err := enginetest.Build(spec, enginetest.Options{Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		full, err := engine.Load(fm)
		if err != nil {
			t.Fatal(err)
		}
		in := inputs(full, 2, 4)
		ref := full.NewSession()
		want, err := ref.Run(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, order := range [][]int{{1, 2}, {2, 1, 0}, {1}} {
			fm, _ := enginetest.Build(spec, enginetest.Options{Seed: 3})
			var outs []format.ValueInfo
			var idx []int
			for _, i := range order {
				if i < len(fm.Graph.Outputs) {
					outs, idx = append(outs, fm.Graph.Outputs[i]), append(idx, i)
				}
			}
			fm.Graph.Outputs = outs
			m, err := engine.Load(fm)
			if err != nil {
				t.Fatalf("%s outputs %v: %v", spec, order, err)
			}
			s := m.NewSession()
			got, err := s.Run(in)
			if err != nil {
				t.Fatal(err)
			}
			for j, i := range idx {
				sameF32Bits(t, fmt.Sprintf("%s outputs %v: output %d", spec, order, i), got[j].F32, want[i].F32)
			}
			s.Close()
		}
		ref.Close()
	}
}

// TestTracingBadModels: state inputs or outputs on a bidirectional
// layer, too many outputs, and state inputs declared with a shape or
// dtype the layer cannot take are ErrInvalidModel at Load; a request
// whose state does not fit its answers is ErrInvalidInput at Run.
func TestTracingBadModels(t *testing.T) {
	for _, spec := range []string{"tracing:skills=12,emb=8,lstm=6", "tracing:skills=12,emb=8,gru=5"} {
		rnn := func(fm *format.Model) *format.Node {
			for i := range fm.Graph.Nodes {
				if fm.Graph.Nodes[i].Name == "rnn" {
					return &fm.Graph.Nodes[i]
				}
			}
			t.Fatal("no rnn node")
			return nil
		}
		per := 3 // constant inputs per direction
		if strings.Contains(spec, "gru=") {
			per = 4
		}
		stateIn := 2 + 2*per // h_in's slot, after the mask's
		bidir := func(fm *format.Model) {
			// The reverse weights are the forward ones under other names.
			n := rnn(fm)
			n.Attrs = append(n.Attrs, format.Attr{Name: "direction", Kind: format.AttrString, String: "bidirectional"})
			for i := 1; i <= per; i++ {
				var c format.Tensor
				for _, ft := range fm.Tensors {
					if ft.Name == n.Inputs[i] {
						c = ft
					}
				}
				c.Name += "_r"
				fm.Tensors = append(fm.Tensors, c)
				n.Inputs[per+i] = c.Name
			}
		}
		for name, mutate := range map[string]func(*format.Model){
			"bidirectional with the state": bidir,
			"bidirectional with h_out only": func(fm *format.Model) {
				bidir(fm)
				n := rnn(fm)
				n.Inputs = n.Inputs[:stateIn] // the state inputs dropped, the outputs kept
			},
			"bidirectional with c_in only": func(fm *format.Model) { // the GRU: its h_in, as above
				bidir(fm)
				n := rnn(fm)
				if n.Op == "LSTM" {
					n.Inputs[stateIn] = ""
				}
				n.Outputs = n.Outputs[:1]
				fm.Graph.Outputs = fm.Graph.Outputs[:1]
			},
			"too many outputs": func(fm *format.Model) { // 4 on the LSTM, 3 on the GRU
				n := rnn(fm)
				n.Outputs = append(n.Outputs, "extra")
			},
			"h_in one wider":      func(fm *format.Model) { fm.Graph.Inputs[1].Shape[1]++ },
			"h_in rank 3":         func(fm *format.Model) { fm.Graph.Inputs[1].Shape = append(fm.Graph.Inputs[1].Shape, 1) },
			"h_in rank 1":         func(fm *format.Model) { fm.Graph.Inputs[1].Shape = fm.Graph.Inputs[1].Shape[1:] },
			"h_in i64":            func(fm *format.Model) { fm.Graph.Inputs[1].DType = format.I64 },
			"h_in i32":            func(fm *format.Model) { fm.Graph.Inputs[1].DType = format.I32 },
			"h_in batch 2":        func(fm *format.Model) { fm.Graph.Inputs[1].Shape[0] = 2 },
			"h_in is the answers": func(fm *format.Model) { rnn(fm).Inputs[stateIn] = "answers" },
			"h_in is a weight": func(fm *format.Model) {
				n := rnn(fm)
				n.Inputs[stateIn] = n.Inputs[2]
			},
			"state after the states": func(fm *format.Model) {
				n := rnn(fm)
				n.Inputs = append(n.Inputs, "h_in")
			},
		} {
			fm, err := enginetest.Build(spec, enginetest.Options{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			mutate(fm)
			_, err = engine.Load(fm)
			if !errors.Is(err, engine.ErrInvalidModel) || errors.Is(err, engine.ErrInternal) {
				t.Errorf("%s: %s: Load error %v, want ErrInvalidModel", spec, name, err)
				continue
			}
			t.Logf("%s: %s: %v", spec, name, err)
		}

		m, hidden, states := tracingModel(t, spec, false)
		s := m.NewSession()
		for _, tc := range []struct {
			name string
			b, t int
			sb   int // the states' batch
			w    int // their width
		}{
			{"state batch 1, answers 2", 2, 1, 1, hidden},
			{"state batch 3, answers 2", 2, 4, 3, hidden},
			{"state one wider", 1, 1, 1, hidden + 1},
			{"state batch 0", 1, 1, 0, hidden},
		} {
			in := []*tensor.Tensor{tensor.NewI64(tensor.Shape{tc.b, tc.t}, nil)}
			for range states {
				in = append(in, tensor.NewF32(tensor.Shape{tc.sb, tc.w}, nil))
			}
			_, err := s.Run(in)
			if !errors.Is(err, engine.ErrInvalidInput) || errors.Is(err, engine.ErrInternal) {
				t.Errorf("%s: %s: Run error %v, want ErrInvalidInput", spec, tc.name, err)
				continue
			}
			t.Logf("%s: %s: %v", spec, tc.name, err)
		}
		// And the session still runs a request that fits.
		in := []*tensor.Tensor{tensor.NewI64(tensor.Shape{2, 3}, nil)}
		for range states {
			in = append(in, tensor.NewF32(tensor.Shape{2, hidden}, nil))
		}
		if _, err := s.Run(in); err != nil {
			t.Errorf("%s: a request that fits: %v", spec, err)
		}
		s.Close()
	}
}

// BenchmarkLSTMStep is one answer of one learner through a knowledge-
// tracing model of the DKT paper's size (100 skills, answers embedded in
// 64 floats, an LSTM of 128): B = 1, T = 1, the state in and out, one
// thread; the embedding, the LSTM step and the per-skill Dense head.
func BenchmarkLSTMStep(b *testing.B) {
	for _, q := range []bool{false, true} {
		b.Run(fmt.Sprintf("int8=%v", q), func(b *testing.B) {
			m, hidden, states := tracingModel(b, "tracing:skills=100,emb=64,lstm=128", q)
			s := m.NewSession(engine.WithThreads(1))
			defer s.Close()
			in := []*tensor.Tensor{tensor.NewI64(tensor.Shape{1, 1}, []int64{7})}
			for range states {
				in = append(in, tensor.NewF32(tensor.Shape{1, hidden}, nil))
			}
			step := func() {
				out, err := s.Run(in)
				if err != nil {
					b.Fatal(err)
				}
				for k := range states {
					copy(in[1+k].F32, out[1+k].F32)
				}
				in[0].I64[0] = in[0].I64[0]%200 + 1
			}
			step()
			b.ReportAllocs()
			for b.Loop() {
				step()
			}
		})
	}
}
