package op

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/runtime/internal/kernel"
	"github.com/edgerun/edgerun/runtime/quant"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// rnnDirW is one direction's weights: W_ih [G·H, D], W_hh [G·H, H], b_ih
// [G·H] (for the LSTM the summed bias b) and b_hh [G·H] (GRU only).
type rnnDirW struct{ wih, whh, bih, bhh []float32 }

// rnnSpec is one recurrent test model and its input.
type rnnSpec struct {
	op         string // "LSTM" or "GRU"
	b, t, d, h int
	bidir, seq bool
	q          [2]bool // int8 weights, per direction
}

func (s rnnSpec) gates() int {
	if s.op == "LSTM" {
		return 4
	}
	return 3
}

// per is the number of constant inputs per direction.
func (s rnnSpec) per() int {
	if s.op == "LSTM" {
		return 3 // W_ih, W_hh, b
	}
	return 4 // W_ih, W_hh, b_ih, b_hh
}

func (s rnnSpec) dirs() int {
	if s.bidir {
		return 2
	}
	return 1
}

func randRNN(rng *rand.Rand, s rnnSpec) []rnnDirW {
	gh := s.gates() * s.h
	scale := 1.5 / math.Sqrt(float64(max(s.d, s.h)))
	ws := make([]rnnDirW, s.dirs())
	for i := range ws {
		ws[i] = rnnDirW{wih: randF32(rng, gh*s.d, scale), whh: randF32(rng, gh*s.h, scale), bih: randF32(rng, gh, 0.5)}
		if s.op == "GRU" {
			ws[i].bhh = randF32(rng, gh, 0.5)
		}
	}
	return ws
}

// rnnRef is an independent float64 reference of the catalog's LSTM/GRU:
// each row runs over its valid steps (all steps without a mask), forward
// in order and the reverse direction backwards, from a zero state; masked
// steps output 0 in sequence mode; "last" is each direction's final state.
func rnnRef(s rnnSpec, ws []rnnDirW, x, mask []float32) []float64 {
	y, _, _ := rnnRefState(s, ws, x, mask, nil, nil)
	return y
}

// rnnRefState is rnnRef from the initial state h0 and c0 ([B, H] each,
// nil for zeros; the forward direction's), and also returns the forward
// direction's final hidden and cell state.
func rnnRefState(s rnnSpec, ws []rnnDirW, x, mask, h0, c0 []float32) (y, hn, cn []float64) {
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	g, h, d, dirs := s.gates(), s.h, s.d, len(ws)
	if s.seq {
		y = make([]float64, s.b*s.t*dirs*h)
	} else {
		y = make([]float64, s.b*dirs*h)
	}
	hn, cn = make([]float64, s.b*h), make([]float64, s.b*h)
	for i := 0; i < s.b; i++ {
		var steps []int
		for st := 0; st < s.t; st++ {
			if mask == nil || mask[i*s.t+st] != 0 {
				steps = append(steps, st)
			}
		}
		for dir, w := range ws {
			order := append([]int(nil), steps...)
			if dir == 1 {
				for a, b := 0, len(order)-1; a < b; a, b = a+1, b-1 {
					order[a], order[b] = order[b], order[a]
				}
			}
			hv, cv := make([]float64, h), make([]float64, h)
			if dir == 0 {
				for k := range h {
					if h0 != nil {
						hv[k] = float64(h0[i*h+k])
					}
					if c0 != nil {
						cv[k] = float64(c0[i*h+k])
					}
				}
			}
			for _, st := range order {
				xs := x[(i*s.t+st)*d : (i*s.t+st+1)*d]
				ai, ah := make([]float64, g*h), make([]float64, g*h)
				for j := 0; j < g*h; j++ {
					a := float64(w.bih[j])
					for k := 0; k < d; k++ {
						a += float64(w.wih[j*d+k]) * float64(xs[k])
					}
					ai[j] = a
					a = 0
					if w.bhh != nil {
						a = float64(w.bhh[j])
					}
					for k := 0; k < h; k++ {
						a += float64(w.whh[j*h+k]) * hv[k]
					}
					ah[j] = a
				}
				for k := 0; k < h; k++ {
					if s.op == "LSTM" {
						ig := sig(ai[k] + ah[k])
						fg := sig(ai[h+k] + ah[h+k])
						gg := math.Tanh(ai[2*h+k] + ah[2*h+k])
						og := sig(ai[3*h+k] + ah[3*h+k])
						cv[k] = fg*cv[k] + ig*gg
						hv[k] = og * math.Tanh(cv[k])
					} else {
						r := sig(ai[k] + ah[k])
						z := sig(ai[h+k] + ah[h+k])
						n := math.Tanh(ai[2*h+k] + r*ah[2*h+k])
						hv[k] = (1-z)*n + z*hv[k]
					}
				}
				if s.seq {
					copy(y[((i*s.t+st)*dirs+dir)*h:], hv)
				}
			}
			if !s.seq {
				copy(y[(i*dirs+dir)*h:], hv)
			}
			if dir == 0 {
				copy(hn[i*h:], hv)
				copy(cn[i*h:], cv)
			}
		}
	}
	return y, hn, cn
}

func rnnWeight(name string, v []float32, rows, cols int, q bool) Input {
	if !q {
		return f32Const(name, tensor.Shape{rows, cols}, v)
	}
	qw, sc := quant.SymmetricRows(v, rows, cols)
	return Input{Name: name, Present: true, Const: &Const{Name: name,
		T: &tensor.Tensor{DType: tensor.I8, Shape: tensor.Shape{rows, cols}, I8: qw}, Scales: sc, Axis: 0}}
}

// rnnNode builds the catalog's node for s: x, then per direction W_ih,
// W_hh and the bias(es), then the mask (after absent reverse slots).
func rnnNode(s rnnSpec, ws []rnnDirW, withMask bool) *Node {
	gh := s.gates() * s.h
	inputs := []Input{dyn("x")}
	per := s.per()
	for dir := 0; dir < 2; dir++ {
		if dir >= len(ws) {
			if withMask {
				for range per {
					inputs = append(inputs, absent)
				}
			}
			continue
		}
		w, sfx := ws[dir], []string{"", "_r"}[dir]
		inputs = append(inputs, rnnWeight("W_ih"+sfx, w.wih, gh, s.d, s.q[dir]), rnnWeight("W_hh"+sfx, w.whh, gh, s.h, s.q[dir]))
		if s.op == "LSTM" {
			inputs = append(inputs, f32Const("b"+sfx, tensor.Shape{gh}, w.bih))
		} else {
			inputs = append(inputs, f32Const("b_ih"+sfx, tensor.Shape{gh}, w.bih), f32Const("b_hh"+sfx, tensor.Shape{gh}, w.bhh))
		}
	}
	if withMask {
		inputs = append(inputs, dyn("mask"))
	}
	dir, ret := "forward", "last"
	if s.bidir {
		dir = "bidirectional"
	}
	if s.seq {
		ret = "sequence"
	}
	return &Node{Name: strings.ToLower(s.op), Op: s.op, Inputs: inputs, Outputs: 1, Attrs: map[string]Attr{
		"hidden":    {Kind: AttrInt, Int: int64(s.h)},
		"direction": {Kind: AttrString, String: dir},
		"return":    {Kind: AttrString, String: ret},
	}}
}

// rnnInputs places x (slot 0) and the mask (last slot) for runNode.
func rnnInputs(n *Node, x, mask *tensor.Tensor) []*tensor.Tensor {
	in := make([]*tensor.Tensor, len(n.Inputs))
	in[0] = x
	if mask != nil {
		in[len(in)-1] = mask
	}
	return in
}

// rnnMask makes a [b, t] mask: "lengths" right-pads rows to lengths
// ⌈t/2⌉, t and 0 (a fully padded last row); "holes" masks steps at random,
// including a left-padded first row.
func rnnMask(rng *rand.Rand, kind string, b, t int) []float32 {
	m := make([]float32, b*t)
	switch kind {
	case "lengths":
		lens := []int{(t + 1) / 2, t, 0}
		for i := 0; i < b; i++ {
			for s := 0; s < lens[i%3]; s++ {
				m[i*t+s] = 1
			}
		}
	case "holes":
		for i := range m {
			if rng.Float64() < 0.65 {
				m[i] = 1
			}
		}
		if t > 1 {
			m[0] = 0
		}
	default:
		return nil
	}
	return m
}

// Documented tolerances: f32 is accumulated float32 rounding only; int8
// (quantization v1: int8 weights per row, uint8 activations per row, for
// both x·W_ihᵀ and h·W_hhᵀ) is compared with the float64 reference on the
// unquantized weights, so it carries weight steps of max|w|/127 and
// activation steps of range/255 through every step of the recurrence.
const (
	rnnTolF32  = 1e-4
	rnnTolInt8 = 0.05
)

func rnnCheckClose(t *testing.T, got []float32, want []float64, tol float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d values, want %d", len(got), len(want))
	}
	worst := 0.0
	for i, v := range got {
		d := math.Abs(float64(v) - want[i])
		if !(d <= tol) {
			t.Fatalf("y[%d] = %v, want %v (|diff| %.3g > %.3g)", i, v, want[i], d, tol)
		}
		worst = max(worst, d)
	}
	return worst
}

func rnnSameBits(t *testing.T, what string, a, b []float32) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d values vs %d", what, len(a), len(b))
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("%s: y[%d] = %v vs %v", what, i, a[i], b[i])
		}
	}
}

func TestRecurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var worstF32, worstI8 float64
	for _, op := range []string{"LSTM", "GRU"} {
		for _, bidir := range []bool{false, true} {
			for _, seq := range []bool{false, true} {
				for _, mk := range []string{"none", "lengths", "holes"} {
					for _, b := range []int{1, 3} {
						for _, tt := range []int{1, 5} {
							for _, d := range []int{1, 7} {
								for _, h := range []int{1, 4, 9} {
									for _, q := range []bool{false, true} {
										s := rnnSpec{op: op, b: b, t: tt, d: d, h: h, bidir: bidir, seq: seq, q: [2]bool{q, q}}
										name := fmt.Sprintf("%s/bidir=%v/seq=%v/mask=%s/B=%d,T=%d,D=%d,H=%d/int8=%v", op, bidir, seq, mk, b, tt, d, h, q)
										t.Run(name, func(t *testing.T) {
											ws := randRNN(rng, s)
											x := randF32(rng, b*tt*d, 1)
											mask := rnnMask(rng, mk, b, tt)
											n := rnnNode(s, ws, mask != nil)
											var mt *tensor.Tensor
											if mask != nil {
												mt = tensor.NewF32(tensor.Shape{b, tt}, mask)
											}
											in := rnnInputs(n, tensor.NewF32(tensor.Shape{b, tt, d}, x), mt)
											y1 := runNode(t, n, 1, in...)[0]
											y3 := runNode(t, n, 3, in...)[0]
											rnnSameBits(t, "workers 1 vs 3", y1.F32, y3.F32)
											wantShape := tensor.Shape{b, s.dirs() * h}
											if seq {
												wantShape = tensor.Shape{b, tt, s.dirs() * h}
											}
											if !y1.Shape.Equal(wantShape) {
												t.Fatalf("output shape %v, want %v", y1.Shape, wantShape)
											}
											want := rnnRef(s, ws, x, mask)
											if q {
												worstI8 = max(worstI8, rnnCheckClose(t, y1.F32, want, rnnTolInt8))
											} else {
												worstF32 = max(worstF32, rnnCheckClose(t, y1.F32, want, rnnTolF32))
											}
										})
									}
								}
							}
						}
					}
				}
			}
		}
	}
	t.Logf("largest |diff| from the float64 reference: f32 %.3g, int8 %.3g", worstF32, worstI8)
}

// TestRecurrentLarge runs shapes big enough that Linear.Forward splits the
// input and recurrent projections among workers, and checks that 1 and 3
// workers give the same bits.
func TestRecurrentLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, op := range []string{"LSTM", "GRU"} {
		for _, q := range [][2]bool{{false, false}, {true, true}, {false, true}} {
			t.Run(fmt.Sprintf("%s/int8=%v", op, q), func(t *testing.T) {
				s := rnnSpec{op: op, b: 8, t: 12, d: 48, h: 96, bidir: true, seq: true, q: q}
				ws := randRNN(rng, s)
				x := randF32(rng, s.b*s.t*s.d, 1)
				mask := rnnMask(rng, "holes", s.b, s.t)
				for i := 0; i < s.t; i++ { // rows 0-2 full, so most steps have many valid rows
					mask[s.t+i], mask[2*s.t+i], mask[3*s.t+i] = 1, 1, 1
				}
				n := rnnNode(s, ws, true)
				in := rnnInputs(n, tensor.NewF32(tensor.Shape{s.b, s.t, s.d}, x), tensor.NewF32(tensor.Shape{s.b, s.t}, mask))
				y1 := runNode(t, n, 1, in...)[0]
				y3 := runNode(t, n, 3, in...)[0]
				rnnSameBits(t, "workers 1 vs 3", y1.F32, y3.F32)
				// Both projections are really split among workers.
				k, err := Build(n)
				if err != nil {
					t.Fatal(err)
				}
				r := newRNNRun(t, k, n, in)
				cp := &rnnCountPool{testPool: testPool{3}}
				r.ctx.Par = cp
				if err := k.Run(r.ctx, r.in, r.out); err != nil {
					t.Fatal(err)
				}
				rnnSameBits(t, "counted run", y1.F32, r.out[0].F32)
				if want := len(k.(*recurrent).ih); cp.big != want {
					t.Errorf("%d input projections of %d rows were split among workers, want %d", cp.big, s.b*s.t, want)
				}
				if cp.small < s.t {
					t.Errorf("only %d recurrent Forward calls were split among workers", cp.small)
				}
				tol := rnnTolF32
				if q[0] || q[1] {
					tol = rnnTolInt8
				}
				worst := rnnCheckClose(t, y1.F32, rnnRef(s, ws, x, mask), tol)
				t.Logf("largest |diff| %.3g", worst)
			})
		}
	}
}

// rnnCountPool counts the parallel Forward calls: the input projection's
// (many blocks) and the recurrent projections' (few blocks).
type rnnCountPool struct {
	testPool
	big, small int
}

func (p *rnnCountPool) Do(n int, t Task) {
	if n > 1 {
		if _, ok := t.(*linearTask); ok {
			if t.(*linearTask).m > 8 {
				p.big++
			} else {
				p.small++
			}
		}
	}
	p.testPool.Do(n, t)
}

// TestRecurrentMixedDirections has an f32 forward and an int8 reverse
// direction, whose input projections cannot share one matrix.
func TestRecurrentMixedDirections(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, op := range []string{"LSTM", "GRU"} {
		s := rnnSpec{op: op, b: 3, t: 5, d: 7, h: 9, bidir: true, seq: true, q: [2]bool{false, true}}
		ws := randRNN(rng, s)
		x := randF32(rng, s.b*s.t*s.d, 1)
		mask := rnnMask(rng, "lengths", s.b, s.t)
		n := rnnNode(s, ws, true)
		k, err := Build(n)
		if err != nil {
			t.Fatal(err)
		}
		if l := len(k.(*recurrent).ih); l != 2 {
			t.Fatalf("%s: %d input projections, want 2", op, l)
		}
		y := runNode(t, n, 1, rnnInputs(n, tensor.NewF32(tensor.Shape{s.b, s.t, s.d}, x), tensor.NewF32(tensor.Shape{s.b, s.t}, mask))...)[0]
		want := rnnRef(s, ws, x, mask)
		// The forward half is f32 exact to rnnTolF32.
		for i := 0; i < s.b*s.t; i++ {
			rnnCheckClose(t, y.F32[i*2*s.h:i*2*s.h+s.h], want[i*2*s.h:i*2*s.h+s.h], rnnTolF32)
		}
		rnnCheckClose(t, y.F32, want, rnnTolInt8)
	}
}

// TestRecurrentPaddingIsTruncation checks the masking contract bit for bit
// against the operator itself: a right-padded row of length L gives, in
// "last" mode, exactly the output of the row cut to its first L steps
// without a mask (zeros for L = 0), with int8 weights too. The batch of
// 16 has at most two rows padded at a step, which the int8 LSTM projects
// with the valid rows instead of gathering them.
func TestRecurrentPaddingIsTruncation(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, op := range []string{"LSTM", "GRU"} {
		for _, q := range []bool{false, true} {
			for _, lens := range [][]int{{6, 3, 0, 1}, {6, 6, 6, 4, 6, 6, 6, 6, 6, 5, 6, 6, 6, 6, 6, 3}} {
				s := rnnSpec{op: op, b: len(lens), t: 6, d: 5, h: 7, bidir: true, q: [2]bool{q, q}}
				ws := randRNN(rng, s)
				x := randF32(rng, s.b*s.t*s.d, 1)
				mask := make([]float32, s.b*s.t)
				for i, l := range lens {
					for j := 0; j < l; j++ {
						mask[i*s.t+j] = 1
					}
				}
				n := rnnNode(s, ws, true)
				y := runNode(t, n, 3, rnnInputs(n, tensor.NewF32(tensor.Shape{s.b, s.t, s.d}, x), tensor.NewF32(tensor.Shape{s.b, s.t}, mask))...)[0]
				// All-ones mask = no mask.
				ones := make([]float32, s.b*s.t)
				for i := range ones {
					ones[i] = 1
				}
				all := runNode(t, n, 1, rnnInputs(n, tensor.NewF32(tensor.Shape{s.b, s.t, s.d}, x), tensor.NewF32(tensor.Shape{s.b, s.t}, ones))...)[0]
				nm := rnnNode(s, ws, false)
				none := runNode(t, nm, 1, rnnInputs(nm, tensor.NewF32(tensor.Shape{s.b, s.t, s.d}, x), nil)...)[0]
				rnnSameBits(t, op+" all-ones mask vs none", all.F32, none.F32)
				for i, l := range lens {
					got := y.F32[i*2*s.h : (i+1)*2*s.h]
					var want []float32
					if l == 0 {
						want = make([]float32, 2*s.h)
					} else {
						row := tensor.NewF32(tensor.Shape{1, l, s.d}, x[i*s.t*s.d:(i*s.t+l)*s.d])
						want = runNode(t, nm, 1, rnnInputs(nm, row, nil)...)[0].F32
					}
					rnnSameBits(t, fmt.Sprintf("%s int8=%v B=%d row %d (length %d)", op, q, s.b, i, l), got, want)
				}
			}
		}
	}
}

// TestRecurrentInt8Off runs int8 weights with Ctx.Int8Off: the result is
// the f32 operator on the dequantized weights, bit for bit.
func TestRecurrentInt8Off(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, op := range []string{"LSTM", "GRU"} {
		s := rnnSpec{op: op, b: 3, t: 5, d: 7, h: 9, bidir: true, seq: true, q: [2]bool{true, true}}
		ws := randRNN(rng, s)
		deq := make([]rnnDirW, len(ws))
		for i, w := range ws {
			dq := func(v []float32, rows, cols int) []float32 {
				qw, sc := quant.SymmetricRows(v, rows, cols)
				c := &Const{T: &tensor.Tensor{DType: tensor.I8, Shape: tensor.Shape{rows, cols}, I8: qw}, Scales: sc, Axis: 0}
				f, err := c.F32()
				if err != nil {
					t.Fatal(err)
				}
				return f
			}
			gh := s.gates() * s.h
			deq[i] = rnnDirW{wih: dq(w.wih, gh, s.d), whh: dq(w.whh, gh, s.h), bih: w.bih, bhh: w.bhh}
		}
		x := tensor.NewF32(tensor.Shape{s.b, s.t, s.d}, randF32(rng, s.b*s.t*s.d, 1))
		mask := tensor.NewF32(tensor.Shape{s.b, s.t}, rnnMask(rng, "holes", s.b, s.t))
		qn := withDequant(rnnNode(s, ws, true))
		k, err := Build(qn)
		if err != nil {
			t.Fatal(err)
		}
		in := rnnInputs(qn, x, mask)
		r := newRNNRun(t, k, qn, in)
		r.ctx.Int8Off = true
		if err := k.Run(r.ctx, r.in, r.out); err != nil {
			t.Fatal(err)
		}
		fs := s
		fs.q = [2]bool{}
		fn := rnnNode(fs, deq, true)
		want := runNode(t, fn, 1, rnnInputs(fn, x, mask)...)[0]
		rnnSameBits(t, op+" Int8Off vs f32 on dequantized weights", r.out[0].F32, want.F32)
	}
}

// rnnRun is a planned kernel with its buffers, for running Run directly.
type rnnRun struct {
	ctx     *Ctx
	in, out []*tensor.Tensor
}

func newRNNRun(t testing.TB, k Kernel, n *Node, in []*tensor.Tensor) *rnnRun {
	t.Helper()
	full, descs := slotInputs(n, in)
	od, sc, err := k.Plan(descs)
	if err != nil {
		t.Fatal(err)
	}
	r := &rnnRun{in: full, ctx: &Ctx{Par: testPool{1}, F32: make([]float32, sc.F32), U8: make([]uint8, sc.U8), I32: make([]int32, sc.I32)}}
	for _, d := range od {
		r.out = append(r.out, tensor.NewF32(d.Shape, nil))
	}
	r.ctx.State = k.(Stateful).NewState()
	return r
}

func TestRecurrentRunAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, op := range []string{"LSTM", "GRU"} {
		for _, q := range []bool{false, true} {
			for _, seq := range []bool{false, true} {
				s := rnnSpec{op: op, b: 4, t: 6, d: 16, h: 24, bidir: true, seq: seq, q: [2]bool{q, q}}
				ws := randRNN(rng, s)
				n := rnnNode(s, ws, true)
				k, err := Build(n)
				if err != nil {
					t.Fatal(err)
				}
				x := tensor.NewF32(tensor.Shape{s.b, s.t, s.d}, randF32(rng, s.b*s.t*s.d, 1))
				mask := tensor.NewF32(tensor.Shape{s.b, s.t}, rnnMask(rng, "holes", s.b, s.t))
				r := newRNNRun(t, k, n, rnnInputs(n, x, mask))
				var runErr error
				allocs := testing.AllocsPerRun(50, func() {
					if err := k.Run(r.ctx, r.in, r.out); err != nil {
						runErr = err
					}
				})
				if runErr != nil {
					t.Fatal(runErr)
				}
				if allocs != 0 {
					t.Errorf("%s int8=%v seq=%v: Run allocates %v times", op, q, seq, allocs)
				}
			}
		}
	}
}

// TestRecurrentEmpty plans and runs zero-length sequences and batches:
// "last" is then the zero state.
func TestRecurrentEmpty(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, op := range []string{"LSTM", "GRU"} {
		for _, q := range []bool{false, true} {
			for _, bt := range [][2]int{{2, 0}, {0, 3}} {
				s := rnnSpec{op: op, b: bt[0], t: bt[1], d: 3, h: 4, bidir: true, q: [2]bool{q, q}}
				n := rnnNode(s, randRNN(rng, s), true)
				y := runNode(t, n, 1, rnnInputs(n, tensor.NewF32(tensor.Shape{s.b, s.t, s.d}, nil), tensor.NewF32(tensor.Shape{s.b, s.t}, nil))...)[0]
				if !y.Shape.Equal(tensor.Shape{s.b, 2 * s.h}) {
					t.Fatalf("shape %v", y.Shape)
				}
				for i, v := range y.F32 {
					if v != 0 {
						t.Fatalf("%s B=%d T=%d: y[%d] = %v, want 0", op, s.b, s.t, i, v)
					}
				}
			}
		}
	}
}

func TestRecurrentPlanErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, op := range []string{"LSTM", "GRU"} {
		s := rnnSpec{op: op, b: 2, t: 3, d: 5, h: 4, bidir: true}
		n := rnnNode(s, randRNN(rng, s), true)
		k, err := Build(n)
		if err != nil {
			t.Fatal(err)
		}
		descs := make([]Desc, len(n.Inputs))
		for i, in := range n.Inputs {
			if in.Const != nil {
				descs[i] = Desc{in.Const.T.DType, in.Const.T.Shape}
			}
		}
		maskAt := len(descs) - 1
		for _, tc := range []struct {
			name    string
			x, mask Desc
		}{
			{"wrong D", Desc{tensor.F32, tensor.Shape{2, 3, 6}}, Desc{}},
			{"rank 2", Desc{tensor.F32, tensor.Shape{2, 5}}, Desc{}},
			{"rank 4", Desc{tensor.F32, tensor.Shape{1, 2, 3, 5}}, Desc{}},
			{"i32 x", Desc{tensor.I32, tensor.Shape{2, 3, 5}}, Desc{}},
			{"mask T", Desc{tensor.F32, tensor.Shape{2, 3, 5}}, Desc{tensor.F32, tensor.Shape{2, 4}}},
			{"mask B", Desc{tensor.F32, tensor.Shape{2, 3, 5}}, Desc{tensor.F32, tensor.Shape{1, 3}}},
			{"mask rank", Desc{tensor.F32, tensor.Shape{2, 3, 5}}, Desc{tensor.F32, tensor.Shape{6}}},
			{"mask dtype", Desc{tensor.F32, tensor.Shape{2, 3, 5}}, Desc{tensor.I64, tensor.Shape{2, 3}}},
		} {
			descs[0], descs[maskAt] = tc.x, tc.mask
			if _, _, err := k.Plan(descs); err == nil {
				t.Errorf("%s: Plan accepted %s", op, tc.name)
			}
		}
		descs[0], descs[maskAt] = Desc{tensor.F32, tensor.Shape{2, 3, 5}}, Desc{}
		if od, _, err := k.Plan(descs); err != nil || !od[0].Shape.Equal(tensor.Shape{2, 8}) {
			t.Errorf("%s: Plan without mask: %v %v", op, od, err)
		}
		descs[maskAt] = Desc{tensor.F32, tensor.Shape{2, 3}}
		if od, _, err := k.Plan(descs); err != nil || !od[0].Shape.Equal(tensor.Shape{2, 8}) {
			t.Errorf("%s: Plan with mask: %v %v", op, od, err)
		}
	}
}

func TestRecurrentBuildErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	for _, op := range []string{"LSTM", "GRU"} {
		s := rnnSpec{op: op, b: 1, t: 1, d: 3, h: 2}
		ws := randRNN(rng, s)
		sb := s
		sb.bidir = true
		wsb := randRNN(rng, sb)
		per := s.per()
		cases := map[string]func() *Node{
			"direction sideways": func() *Node {
				n := rnnNode(s, ws, false)
				n.Attrs["direction"] = Attr{Kind: AttrString, String: "sideways"}
				return n
			},
			"return everything": func() *Node {
				n := rnnNode(s, ws, false)
				n.Attrs["return"] = Attr{Kind: AttrString, String: "everything"}
				return n
			},
			"direction int": func() *Node {
				n := rnnNode(s, ws, false)
				n.Attrs["direction"] = Attr{Kind: AttrInt, Int: 2}
				return n
			},
			"no hidden": func() *Node {
				n := rnnNode(s, ws, false)
				delete(n.Attrs, "hidden")
				return n
			},
			"hidden 0": func() *Node {
				n := rnnNode(s, ws, false)
				n.Attrs["hidden"] = Attr{Kind: AttrInt, Int: 0}
				return n
			},
			"hidden 2^32+h": func() *Node { // int() of it is h on 32-bit ARM
				n := rnnNode(s, ws, false)
				n.Attrs["hidden"] = Attr{Kind: AttrInt, Int: 1<<32 + int64(s.h)}
				return n
			},
			"hidden 2^62": func() *Node { // gates × hidden wraps to 0
				n := rnnNode(s, ws, false)
				n.Attrs["hidden"] = Attr{Kind: AttrInt, Int: 1 << 62}
				return n
			},
			"hidden mismatch": func() *Node {
				n := rnnNode(s, ws, false)
				n.Attrs["hidden"] = Attr{Kind: AttrInt, Int: 3}
				return n
			},
			"unknown attribute": func() *Node {
				n := rnnNode(s, ws, false)
				n.Attrs["dropout"] = Attr{Kind: AttrFloat, Float: 0.1}
				return n
			},
			"missing bias": func() *Node {
				n := rnnNode(s, ws, false)
				n.Inputs = n.Inputs[:1+per-1]
				return n
			},
			"too many inputs": func() *Node { // after the mask and the state slots
				n := rnnNode(s, ws, true)
				for range s.states() {
					n.Inputs = append(n.Inputs, absent)
				}
				n.Inputs = append(n.Inputs, dyn("extra"))
				return n
			},
			"dynamic W_hh": func() *Node {
				n := rnnNode(s, ws, false)
				n.Inputs[2] = dyn("W_hh")
				return n
			},
			"W_ih wrong rows": func() *Node {
				n := rnnNode(s, ws, false)
				n.Inputs[1] = f32Const("W_ih", tensor.Shape{1, 3}, []float32{1, 2, 3})
				return n
			},
			"bias wrong length": func() *Node {
				n := rnnNode(s, ws, false)
				n.Inputs[3] = f32Const("b", tensor.Shape{2}, []float32{1, 2})
				return n
			},
			"int8 per-tensor scale": func() *Node {
				n := rnnNode(s, ws, false)
				c := *n.Inputs[2].Const
				c.T = &tensor.Tensor{DType: tensor.I8, Shape: c.T.Shape, I8: make([]int8, c.T.Shape.NumElements())}
				c.Scales, c.Axis = []float32{1}, -1
				n.Inputs[2].Const = &c
				return n
			},
			"bidirectional without reverse": func() *Node {
				n := rnnNode(s, ws, false)
				n.Attrs["direction"] = Attr{Kind: AttrString, String: "bidirectional"}
				return n
			},
			"forward with reverse": func() *Node {
				n := rnnNode(sb, wsb, false)
				n.Attrs["direction"] = Attr{Kind: AttrString, String: "forward"}
				return n
			},
			"reverse D differs": func() *Node {
				n := rnnNode(sb, wsb, false)
				gh := s.gates() * s.h
				n.Inputs[1+per] = f32Const("W_ih_r", tensor.Shape{gh, 4}, make([]float32, gh*4))
				return n
			},
		}
		for name, mk := range cases {
			if _, err := Build(mk()); err == nil {
				t.Errorf("%s: %s accepted", op, name)
			} else if testing.Verbose() {
				t.Logf("%s: %s: %v", op, name, err)
			}
		}
		// The reference node builds, with and without the mask slot.
		for _, m := range []bool{false, true} {
			if _, err := Build(rnnNode(s, ws, m)); err != nil {
				t.Errorf("%s mask=%v: %v", op, m, err)
			}
		}
	}
}

func TestRecurrentRegistered(t *testing.T) {
	for _, name := range []string{"LSTM", "GRU"} {
		d := Lookup(name)
		if d == nil || d.Doc == "" || len(d.Attrs) != 3 {
			t.Errorf("%s: %+v", name, d)
		}
	}
}

func BenchmarkLSTM(b *testing.B) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, c := range []struct {
		op    string
		batch int
		bidir bool
		q     bool
	}{
		{"LSTM", 1, true, false}, {"LSTM", 1, true, true},
		{"LSTM", 32, false, false}, {"LSTM", 32, false, true},
		{"GRU", 32, false, true},
	} {
		q := c.q
		b.Run(fmt.Sprintf("%s/batch=%d/bidir=%v/int8=%v", c.op, c.batch, c.bidir, q), func(b *testing.B) {
			s := rnnSpec{op: c.op, b: c.batch, t: 64, d: 64, h: 128, bidir: c.bidir, q: [2]bool{q, q}}
			n := rnnNode(s, randRNN(rng, s), false)
			k, err := Build(n)
			if err != nil {
				b.Fatal(err)
			}
			x := tensor.NewF32(tensor.Shape{s.b, s.t, s.d}, randF32(rng, s.b*s.t*s.d, 1))
			r := newRNNRun(b, k, n, rnnInputs(n, x, nil))
			b.ReportAllocs()
			for b.Loop() {
				if err := k.Run(r.ctx, r.in, r.out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestRNNCellBits checks lstmCell and gruCell bit for bit against the
// element-by-element formulas with the scalar activations, on every
// kernel implementation, for sizes with and without a vector tail.
func TestRNNCellBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, im := range kernel.Impls() {
		restore, err := kernel.Use(im.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, H := range []int{1, 7, 16, 128, 133} {
			xp, hp := randF32(rng, 4*H, 4), randF32(rng, 4*H, 4)
			h0, c0 := randF32(rng, H, 1), randF32(rng, H, 2)
			// LSTM.
			wantH, wantC := make([]float32, H), make([]float32, H)
			for k := range H {
				g := func(j int) float32 { return hp[j*H+k] + xp[j*H+k] }
				i, f, gg, o := kernel.Sigmoid(g(0)), kernel.Sigmoid(g(1)), kernel.Tanh(g(2)), kernel.Sigmoid(g(3))
				wantC[k] = float32(f*c0[k]) + float32(i*gg)
				wantH[k] = float32(o * kernel.Tanh(wantC[k]))
			}
			h, c, g := append([]float32(nil), h0...), append([]float32(nil), c0...), append([]float32(nil), hp...)
			kernel.AxpyF32(1, xp, g) // as direction adds them
			lstmCell(g, h, c)
			rnnSameBits(t, fmt.Sprintf("%s LSTM H=%d h", im.Name, H), h, wantH)
			rnnSameBits(t, fmt.Sprintf("%s LSTM H=%d c", im.Name, H), c, wantC)
			// GRU.
			for k := range H {
				r := kernel.Sigmoid(hp[k] + xp[k])
				z := kernel.Sigmoid(hp[H+k] + xp[H+k])
				n := kernel.Tanh(xp[2*H+k] + float32(r*hp[2*H+k]))
				wantH[k] = float32((1-z)*n) + float32(z*h0[k])
			}
			h, hpc := append([]float32(nil), h0...), append([]float32(nil), hp[:3*H]...)
			gruCell(xp[:3*H], hpc, h)
			rnnSameBits(t, fmt.Sprintf("%s GRU H=%d h", im.Name, H), h, wantH)
		}
		restore()
	}
}
