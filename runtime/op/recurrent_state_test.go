package op

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/runtime/tensor"
)

// The recurrent operators' state inputs (h0, c0) and outputs (h_n, c_n):
// a sequence run in pieces, the state carried from one call to the next.

// rnnStateNode is rnnNode for a forward spec with the mask slot (a
// dynamic input when withMask, else absent), the state input slots h0
// (and c0 for the LSTM) when withState, and outs outputs.
func rnnStateNode(s rnnSpec, ws []rnnDirW, withMask, withState bool, outs int) *Node {
	n := rnnNode(s, ws, true)
	if !withMask {
		n.Inputs[len(n.Inputs)-1] = absent
	}
	if withState {
		n.Inputs = append(n.Inputs, dyn("h0"))
		if s.op == "LSTM" {
			n.Inputs = append(n.Inputs, dyn("c0"))
		}
	}
	n.Outputs = outs
	return n
}

// states is the number of state tensors of the spec's cell: h and c for
// the LSTM, h for the GRU.
func (s rnnSpec) states() int { return s.gates() - 2 }

// rnnCall is one call of a state node: its inputs by slot (x, mask and
// the states) for runNode.
func rnnCall(n *Node, s rnnSpec, b, t int, x, mask []float32, state [][]float32) []*tensor.Tensor {
	in := make([]*tensor.Tensor, len(n.Inputs))
	in[0] = tensor.NewF32(tensor.Shape{b, t, s.d}, x)
	maskIn := 1 + 2*s.per()
	if mask != nil {
		in[maskIn] = tensor.NewF32(tensor.Shape{b, t}, mask)
	}
	for k, v := range state {
		if v != nil {
			in[maskIn+1+k] = tensor.NewF32(tensor.Shape{b, s.h}, v)
		}
	}
	return in
}

// rnnSteps cuts steps [s0, s1) of every row out of a [b, t, w] array.
func rnnSteps(v []float32, b, t, w, s0, s1 int) []float32 {
	if v == nil {
		return nil
	}
	out := make([]float32, 0, b*(s1-s0)*w)
	for i := range b {
		out = append(out, v[(i*t+s0)*w:(i*t+s1)*w]...)
	}
	return out
}

// rnnStateSpecs are the property's configurations: both cells, f32 and
// int8 weights, B 1 and 3, H 7 and 128 (at H = 128 the int8 LSTM's
// recurrent product of 3 rows is worth splitting among 3 workers, so
// Linear.Forward runs it instead of hhFused).
func rnnStateSpecs() []rnnSpec {
	var out []rnnSpec
	for _, op := range []string{"LSTM", "GRU"} {
		for _, q := range []bool{false, true} {
			for _, b := range []int{1, 3} {
				for _, h := range []int{7, 128} {
					out = append(out, rnnSpec{op: op, b: b, t: 6, d: 5, h: h, seq: true, q: [2]bool{q, false}})
				}
			}
		}
	}
	return out
}

// TestRecurrentStatePieces is the property of the state inputs and
// outputs, bit for bit: a sequence of T steps run in one call gives the
// same y rows and final state as the steps run one call each, h_n (and
// c_n) of a call fed back as h0 (and c0) of the next, and as the first k
// steps in one call and the rest in another, for every k; with and
// without a mask, from a zero and from a random initial state, on 1 and
// 3 workers. Every row's arithmetic does not depend on the other rows or
// on how many steps a call has (the same GEMM bits per row, the same
// per-row activation quantization; the operator's PerSample contract),
// so no tolerance is needed. The whole run is also checked against the
// float64 reference from the same initial state.
func TestRecurrentStatePieces(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	for _, s := range rnnStateSpecs() {
		for _, mk := range []string{"none", "holes"} {
			for _, start := range []string{"zero", "random"} {
				name := fmt.Sprintf("%s/int8=%v/B=%d,H=%d/mask=%s/start=%s", s.op, s.q[0], s.b, s.h, mk, start)
				t.Run(name, func(t *testing.T) {
					ws := randRNN(rng, s)
					x := randF32(rng, s.b*s.t*s.d, 1)
					mask := rnnMask(rng, mk, s.b, s.t)
					state := make([][]float32, s.states())
					for k := range state {
						state[k] = make([]float32, s.b*s.h)
						if start == "random" {
							state[k] = randF32(rng, s.b*s.h, 0.8)
						}
					}
					n := rnnStateNode(s, ws, mask != nil, true, 1+s.states())
					k, err := Build(n)
					if err != nil {
						t.Fatal(err)
					}
					run := func(workers, s0, s1 int, st [][]float32) []*tensor.Tensor {
						t.Helper()
						in := rnnCall(n, s, s.b, s1-s0, rnnSteps(x, s.b, s.t, s.d, s0, s1), rnnSteps(mask, s.b, s.t, 1, s0, s1), st)
						var out []*tensor.Tensor
						if workers > 1 {
							// Counted: the int8 LSTM at H = 128 must
							// take Linear.Forward, not hhFused.
							cp := &rnnCountPool{testPool: testPool{workers}}
							r := newRNNRun(t, k, n, in)
							r.ctx.Par = cp
							if err := k.Run(r.ctx, r.in, r.out); err != nil {
								t.Fatal(err)
							}
							if s.op == "LSTM" && s.q[0] && s.h == 128 && s.b == 3 && mk == "none" && cp.small == 0 {
								t.Errorf("no recurrent product was split among workers")
							}
							out = r.out
						} else {
							out = runNode(t, n, workers, in...)
						}
						if len(out) != 1+s.states() {
							t.Fatalf("%d outputs, want %d", len(out), 1+s.states())
						}
						return out
					}
					outs := func(o []*tensor.Tensor) [][]float32 {
						var st [][]float32
						for _, v := range o[1:] {
							st = append(st, v.F32)
						}
						return st
					}
					whole := run(1, 0, s.t, state)
					for i := 1; i < len(whole); i++ {
						if !whole[i].Shape.Equal(tensor.Shape{s.b, s.h}) {
							t.Fatalf("output %d has shape %v, want [%d, %d]", i, whole[i].Shape, s.b, s.h)
						}
					}
					// Against the float64 reference from the same state.
					var c0 []float32
					if s.op == "LSTM" {
						c0 = state[1]
					}
					wantY, wantH, wantC := rnnRefState(s, ws, x, mask, state[0], c0)
					tol := rnnTolF32
					if s.q[0] {
						tol = rnnTolInt8
					}
					rnnCheckClose(t, whole[0].F32, wantY, tol)
					rnnCheckClose(t, whole[1].F32, wantH, tol)
					if s.op == "LSTM" {
						rnnCheckClose(t, whole[2].F32, wantC, 4*tol) // c is not squashed
					}
					for _, workers := range []int{1, 3} {
						if workers > 1 {
							again := run(workers, 0, s.t, state)
							for i := range whole {
								rnnSameBits(t, fmt.Sprintf("output %d, %d workers", i, workers), again[i].F32, whole[i].F32)
							}
						}
						// Cut after every step k: steps [0, k) then [k, T).
						for cut := 1; cut < s.t; cut++ {
							a := run(workers, 0, cut, state)
							b := run(workers, cut, s.t, outs(a))
							where := fmt.Sprintf("%d workers, cut at %d", workers, cut)
							rnnSameBits(t, where+": y of the first call", a[0].F32, rnnSteps(whole[0].F32, s.b, s.t, s.h, 0, cut))
							rnnSameBits(t, where+": y of the second call", b[0].F32, rnnSteps(whole[0].F32, s.b, s.t, s.h, cut, s.t))
							for i := 1; i < len(b); i++ {
								rnnSameBits(t, fmt.Sprintf("%s: state output %d", where, i), b[i].F32, whole[i].F32)
							}
						}
						// One step a call.
						st := state
						for step := range s.t {
							o := run(workers, step, step+1, st)
							rnnSameBits(t, fmt.Sprintf("%d workers, step %d alone: y", workers, step), o[0].F32, rnnSteps(whole[0].F32, s.b, s.t, s.h, step, step+1))
							st = outs(o)
						}
						for i, v := range st {
							rnnSameBits(t, fmt.Sprintf("%d workers, one step a call: state output %d", workers, i+1), v, whole[i+1].F32)
						}
					}
				})
			}
		}
	}
}

// TestRecurrentStateLast checks "last" mode with the state outputs: y is
// h_n, and a row whose steps are all masked (or a call of no step) gives
// back its initial state.
func TestRecurrentStateLast(t *testing.T) {
	rng := rand.New(rand.NewPCG(53, 54))
	for _, op := range []string{"LSTM", "GRU"} {
		for _, q := range []bool{false, true} {
			s := rnnSpec{op: op, b: 3, t: 4, d: 5, h: 6, q: [2]bool{q, false}}
			ws := randRNN(rng, s)
			n := rnnStateNode(s, ws, true, true, 1+s.states())
			state := [][]float32{randF32(rng, s.b*s.h, 1), randF32(rng, s.b*s.h, 1)}[:s.states()]
			x := randF32(rng, s.b*s.t*s.d, 1)
			mask := rnnMask(rng, "lengths", s.b, s.t) // row 2 has no valid step
			out := runNode(t, n, 1, rnnCall(n, s, s.b, s.t, x, mask, state)...)
			rnnSameBits(t, op+": y vs h_n", out[0].F32, out[1].F32)
			for k := range state {
				rnnSameBits(t, fmt.Sprintf("%s int8=%v: all-masked row, state %d", op, q, k), out[1+k].F32[2*s.h:], state[k][2*s.h:])
			}
			// No step at all: the state passes through.
			out = runNode(t, n, 1, rnnCall(n, s, s.b, 0, nil, []float32{}, state)...)
			for k := range state {
				rnnSameBits(t, fmt.Sprintf("%s int8=%v: T = 0, state %d", op, q, k), out[1+k].F32, state[k])
			}
			rnnSameBits(t, op+": T = 0, y", out[0].F32, state[0])
		}
	}
}

// TestRecurrentInitialState checks that the initial state is used: a
// nonzero h0 (or c0 alone) changes y and the final state, and zeros given
// as h0 and c0 are bit for bit the absent inputs, for every path (f32,
// int8 through Forward, the int8 LSTM's hhFused).
func TestRecurrentInitialState(t *testing.T) {
	rng := rand.New(rand.NewPCG(55, 56))
	for _, s := range rnnStateSpecs() {
		for _, workers := range []int{1, 3} {
			name := fmt.Sprintf("%s/int8=%v/B=%d,H=%d/workers=%d", s.op, s.q[0], s.b, s.h, workers)
			t.Run(name, func(t *testing.T) {
				ws := randRNN(rng, s)
				x := randF32(rng, s.b*s.t*s.d, 1)
				mask := rnnMask(rng, "holes", s.b, s.t)
				n := rnnStateNode(s, ws, true, true, 1+s.states())
				none := runNode(t, n, workers, rnnCall(n, s, s.b, s.t, x, mask, nil)...)
				zeros := make([][]float32, s.states())
				for k := range zeros {
					zeros[k] = make([]float32, s.b*s.h)
				}
				zero := runNode(t, n, workers, rnnCall(n, s, s.b, s.t, x, mask, zeros)...)
				for i := range none {
					rnnSameBits(t, fmt.Sprintf("output %d: zero state vs absent", i), zero[i].F32, none[i].F32)
				}
				// The node without the state slots at all, and without
				// the state outputs: the same y.
				plain := rnnStateNode(s, ws, true, false, 1)
				y := runNode(t, plain, workers, rnnCall(plain, s, s.b, s.t, x, mask, nil)...)
				if len(y) != 1 {
					t.Fatalf("%d outputs, want 1", len(y))
				}
				rnnSameBits(t, "y without state slots", y[0].F32, none[0].F32)
				for k := range s.states() {
					st := make([][]float32, s.states())
					st[k] = randF32(rng, s.b*s.h, 1)
					got := runNode(t, n, workers, rnnCall(n, s, s.b, s.t, x, mask, st)...)
					for i := range got {
						if sameF32(got[i].F32, none[i].F32) {
							t.Errorf("initial state %d: output %d is that of the zero state", k, i)
						}
					}
				}
			})
		}
	}
}

func sameF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRecurrentStateErrors: state inputs and outputs on a bidirectional
// node, too many outputs or inputs are refused at build; a state of the
// wrong shape or dtype at plan.
func TestRecurrentStateErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(57, 58))
	for _, op := range []string{"LSTM", "GRU"} {
		s := rnnSpec{op: op, b: 2, t: 3, d: 5, h: 4}
		ws := randRNN(rng, s)
		sb := s
		sb.bidir = true
		wsb := randRNN(rng, sb)
		states := s.states()
		build := map[string]*Node{}
		n := rnnNode(sb, wsb, true)
		n.Inputs = append(n.Inputs, dyn("h0"))
		build["bidirectional with h0"] = n
		if op == "LSTM" {
			n = rnnNode(sb, wsb, true)
			n.Inputs = append(n.Inputs, absent, dyn("c0"))
			build["bidirectional with c0"] = n
		}
		n = rnnNode(sb, wsb, false)
		n.Outputs = 2
		build["bidirectional with h_n"] = n
		build[fmt.Sprintf("%d outputs", 2+states)] = rnnStateNode(s, ws, false, true, 2+states)
		n = rnnStateNode(s, ws, false, true, 1)
		n.Inputs = append(n.Inputs, dyn("extra"))
		build["an input after the states"] = n
		for name, n := range build {
			_, err := Build(n)
			if err == nil {
				t.Errorf("%s: %s accepted", op, name)
				continue
			}
			t.Logf("%s: %s: %v", op, name, err)
			if strings.Contains(name, "bidirectional") && !strings.Contains(err.Error(), "forward only") && !strings.Contains(err.Error(), "only a forward node") {
				t.Errorf("%s: %s: the error does not say why: %v", op, name, err)
			}
		}
		// Every output count up to 1+states builds, the bidirectional
		// node with its one output too.
		for outs := 0; outs <= 1+states; outs++ {
			if _, err := Build(rnnStateNode(s, ws, true, true, outs)); err != nil {
				t.Errorf("%s with %d outputs: %v", op, outs, err)
			}
		}
		n = rnnNode(sb, wsb, true)
		n.Outputs = 1
		n.Inputs = append(n.Inputs, absent) // an absent state slot is no state
		if _, err := Build(n); err != nil {
			t.Errorf("%s bidirectional with an absent h0 slot: %v", op, err)
		}

		n = rnnStateNode(s, ws, true, true, 1+states)
		kern, err := Build(n)
		if err != nil {
			t.Fatal(err)
		}
		descs := make([]Desc, len(n.Inputs))
		for i, in := range n.Inputs {
			if in.Const != nil {
				descs[i] = Desc{in.Const.T.DType, in.Const.T.Shape}
			}
		}
		maskIn, stateIn := 1+2*s.per(), 2+2*s.per()
		descs[0] = Desc{tensor.F32, tensor.Shape{2, 3, 5}}
		descs[maskIn] = Desc{tensor.F32, tensor.Shape{2, 3}}
		good := Desc{tensor.F32, tensor.Shape{2, 4}}
		for k := range states {
			descs[stateIn+k] = good
		}
		od, _, err := kern.Plan(descs)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		if len(od) != 1+states {
			t.Fatalf("%s: Plan gave %d outputs, want %d", op, len(od), 1+states)
		}
		for i := 1; i < len(od); i++ {
			if od[i].DType != tensor.F32 || !od[i].Shape.Equal(tensor.Shape{2, 4}) {
				t.Errorf("%s: output %d is %s%v, want f32 [2, 4]", op, i, od[i].DType, od[i].Shape)
			}
		}
		for _, bad := range []Desc{
			{tensor.F32, tensor.Shape{1, 4}},
			{tensor.F32, tensor.Shape{3, 4}},
			{tensor.F32, tensor.Shape{2, 5}},
			{tensor.F32, tensor.Shape{2, 3}},
			{tensor.F32, tensor.Shape{8}},
			{tensor.F32, tensor.Shape{2, 1, 4}},
			{tensor.F32, tensor.Shape{}},
			{tensor.I64, tensor.Shape{2, 4}},
			{tensor.I32, tensor.Shape{2, 4}},
			{tensor.I8, tensor.Shape{2, 4}},
		} {
			for k := range states {
				descs[stateIn+k] = bad
				_, _, err := kern.Plan(descs)
				if err == nil {
					t.Errorf("%s: Plan accepted state %d of %s%v", op, k, bad.DType, bad.Shape)
				} else if !strings.Contains(err.Error(), "initial state") {
					t.Errorf("%s: state %d of %s%v: the error does not name the state: %v", op, k, bad.DType, bad.Shape, err)
				}
				descs[stateIn+k] = good
			}
		}
		// At Run, a state of the wrong length is an error, not a panic.
		x := randF32(rng, 2*3*5, 1)
		in := rnnCall(n, s, 2, 3, x, nil, nil)
		full, _ := slotInputs(n, in)
		r := newRNNRun(t, kern, n, in)
		for kk := range states {
			full[stateIn+kk] = tensor.NewF32(tensor.Shape{2, 4}, make([]float32, 7))
			if err := kern.Run(r.ctx, full, r.out); err == nil {
				t.Errorf("%s: Run accepted a state %d of 7 values", op, kk)
			}
			full[stateIn+kk] = nil
		}
		if err := kern.Run(r.ctx, full, r.out[:1]); err != nil {
			t.Errorf("%s: Run with y only: %v", op, err)
		}
		if err := kern.Run(r.ctx, full, append(r.out[:len(r.out):len(r.out)], r.out[0])); err == nil {
			t.Errorf("%s: Run accepted %d outputs", op, len(r.out)+1)
		}
	}
}

// TestRecurrentStateRunAllocs: a step of one row (B = 1, T = 1) with the
// state in and out allocates nothing.
func TestRecurrentStateRunAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(59, 60))
	for _, op := range []string{"LSTM", "GRU"} {
		for _, q := range []bool{false, true} {
			s := rnnSpec{op: op, b: 1, t: 1, d: 16, h: 24, q: [2]bool{q, false}}
			n := rnnStateNode(s, randRNN(rng, s), false, true, 1+s.states())
			k, err := Build(n)
			if err != nil {
				t.Fatal(err)
			}
			state := [][]float32{randF32(rng, s.h, 1), randF32(rng, s.h, 1)}[:s.states()]
			r := newRNNRun(t, k, n, rnnCall(n, s, 1, 1, randF32(rng, s.d, 1), nil, state))
			var runErr error
			allocs := testing.AllocsPerRun(50, func() {
				if err := k.Run(r.ctx, r.in, r.out); err != nil {
					runErr = err
				}
				for i, v := range state { // the state carried
					copy(v, r.out[1+i].F32)
				}
			})
			if runErr != nil {
				t.Fatal(runErr)
			}
			if allocs != 0 {
				t.Errorf("%s int8=%v: a step allocates %v times", op, q, allocs)
			}
		}
	}
}

// BenchmarkLSTMStep is one step of one learner through a knowledge-tracing
// LSTM: an embedded answer (D = 64) in, the state (H = 128) in and out,
// B = 1, T = 1, one worker.
func BenchmarkLSTMStep(b *testing.B) {
	rng := rand.New(rand.NewPCG(61, 62))
	for _, q := range []bool{false, true} {
		b.Run(fmt.Sprintf("int8=%v", q), func(b *testing.B) {
			s := rnnSpec{op: "LSTM", b: 1, t: 1, d: 64, h: 128, q: [2]bool{q, false}}
			n := rnnStateNode(s, randRNN(rng, s), false, true, 3)
			k, err := Build(n)
			if err != nil {
				b.Fatal(err)
			}
			state := [][]float32{make([]float32, s.h), make([]float32, s.h)}
			r := newRNNRun(b, k, n, rnnCall(n, s, 1, 1, randF32(rng, s.d, 1), nil, state))
			b.ReportAllocs()
			for b.Loop() {
				if err := k.Run(r.ctx, r.in, r.out); err != nil {
					b.Fatal(err)
				}
				copy(state[0], r.out[1].F32)
				copy(state[1], r.out[2].F32)
			}
		})
	}
}
