package op

import (
	"errors"
	"fmt"
	"math"

	"github.com/edgerun/edgerun/runtime/internal/kernel"
	"github.com/edgerun/edgerun/runtime/tensor"
)

func init() {
	Register(Def{Name: "LSTM", Attrs: []string{"hidden", "direction", "return"}, Build: buildLSTM,
		Doc: "Long short-term memory over x [B, T, D], PyTorch gate order i, f, g, o. Inputs: x; W_ih [4H, D], W_hh [4H, H] (f32, or i8 per-row symmetric); b [4H] (b_ih + b_hh); for direction bidirectional W_ih_r, W_hh_r, b_r (inputs 4-6); mask f32 [B, T] (input 7, optional: a step is valid where mask != 0; masked steps keep the state and output 0, the reverse direction runs over the valid steps backwards); h0 f32 [B, H] and c0 f32 [B, H] (inputs 8 and 9, optional, forward only: the initial hidden and cell state, zeros when absent). Outputs: y (last: [B, H*dirs], sequence: [B, T, H*dirs]); h_n f32 [B, H] and c_n f32 [B, H] (outputs 1 and 2, optional, forward only: the state after each row's last valid step, h0 and c0 for a row with none), so a sequence can run in pieces, the state carried from one call to the next. Attributes: hidden (H), direction (forward, bidirectional), return (last, sequence)."})
	Register(Def{Name: "GRU", Attrs: []string{"hidden", "direction", "return"}, Build: buildGRU,
		Doc: "Gated recurrent unit over x [B, T, D], PyTorch gate order r, z, n: n = tanh(W_in x + b_in + r*(W_hn h + b_hn)), h' = (1-z)*n + z*h. Inputs: x; W_ih [3H, D], W_hh [3H, H] (f32, or i8 per-row symmetric); b_ih [3H]; b_hh [3H]; for direction bidirectional W_ih_r, W_hh_r, b_ih_r, b_hh_r (inputs 5-8); mask f32 [B, T] (input 9, optional, as LSTM); h0 f32 [B, H] (input 10, optional, forward only, as LSTM). Outputs: y, as LSTM; h_n f32 [B, H] (output 1, optional, forward only, as LSTM). Attributes: hidden (H), direction (forward, bidirectional), return (last, sequence), as LSTM."})
}

type rnnCell uint8

const (
	cellLSTM rnnCell = iota
	cellGRU
)

// recurrent is a built LSTM or GRU.
//
// Run computes the input projection of every step of every direction in
// one Linear.Forward over the B·T rows of x, then walks the steps: per
// step and direction one matrix product of the state rows that are valid
// at that step (h · W_hhᵀ, [B, G·H], all rows in one call so batches go
// through the GEMM tiles) and the gate math in float32. Gate matmuls of
// int8 weights run in int8 (kernel.GemmI8, per-row quantized
// activations); the LSTM's int8 step on one worker adds the input
// projection in the dequantization (hhFused), otherwise it is
// Linear.Forward and one vector add. The gates, the cell state and the
// outputs stay f32.
//
// The state rows start as zeros or, for a forward node, as the initial
// state inputs (h0, and c0 for the LSTM), and end in the optional state
// outputs (h_n, c_n): every path above reads the state rows only, so all
// of them start from the given state, and a sequence run in pieces, the
// state carried, gives the bits of the sequence run at once.
type recurrent struct {
	cell   rnnCell
	gates  int // G: 4 (LSTM) or 3 (GRU)
	h, d   int // hidden size, input features
	dirs   int // 1 or 2
	seq    bool
	maskIn int // input index of the optional mask
	// stateIn is the input index of the optional initial hidden state;
	// the LSTM's initial cell state is the next. states is how many
	// there are (2 for the LSTM, 1 for the GRU), outs the node's outputs:
	// y, then the final states, up to 1+states.
	stateIn, states, outs int
	// ih holds the input projections: one Linear with all directions'
	// rows ([dirs·G·H, D]) when their weights can be packed together,
	// else one per direction.
	ih []*Linear
	hh []*Linear // per direction, [G·H, H]; the GRU's carries b_hh
}

// rnnState is a session's Forward state for each Linear.
type rnnState struct {
	ih []*linearTask
	hh []*linearTask
}

// rnnStateNames names the state inputs (h0, c0) and outputs (h_n, c_n)
// in errors; rnnOutputs lists the outputs of a node with 1 or 2 states.
var (
	rnnStateNames = []string{"h", "c"}
	rnnOutputs    = []string{"", "y, h_n", "y, h_n, c_n"}
)

func buildLSTM(n *Node) (Kernel, error) { return buildRecurrent(n, cellLSTM) }
func buildGRU(n *Node) (Kernel, error)  { return buildRecurrent(n, cellGRU) }

// rnnWeights are one direction's constants.
type rnnWeights struct {
	wih, whh, bih, bhh *Const // bhh: GRU only
}

func buildRecurrent(n *Node, cell rnnCell) (Kernel, error) {
	r := &recurrent{cell: cell, gates: 4}
	nb := 1 // bias inputs per direction
	if cell == cellGRU {
		r.gates, nb = 3, 2
	}
	per := 2 + nb // constant inputs per direction
	r.maskIn = 1 + 2*per
	r.stateIn, r.states = r.maskIn+1, 3-nb
	if err := wantInputs(n, 1+per, r.stateIn+r.states); err != nil {
		return nil, err
	}
	r.outs = max(1, n.Outputs)
	if r.outs > 1+r.states {
		return nil, fmt.Errorf("has %d outputs, takes at most %d (%s)", r.outs, 1+r.states, rnnOutputs[r.states])
	}
	if _, ok := n.Attrs["hidden"]; !ok {
		return nil, errors.New("missing attribute \"hidden\" (the state size H)")
	}
	hidden, err := n.IntAttr("hidden", 0)
	if err != nil {
		return nil, err
	}
	if hidden < 1 || hidden > 1<<24 {
		// Bounded before int(): on 32-bit ARM int(2³²+6) is 6, and the
		// gate count times a huge size wraps.
		return nil, fmt.Errorf("attribute \"hidden\" is %d, want a positive size up to %d", hidden, 1<<24)
	}
	r.h = int(hidden)
	dir, err := n.StringAttr("direction", "forward")
	if err != nil {
		return nil, err
	}
	switch dir {
	case "forward":
		r.dirs = 1
	case "bidirectional":
		r.dirs = 2
	default:
		return nil, fmt.Errorf("unknown direction %q (want forward or bidirectional)", dir)
	}
	ret, err := n.StringAttr("return", "last")
	if err != nil {
		return nil, err
	}
	switch ret {
	case "last":
	case "sequence":
		r.seq = true
	default:
		return nil, fmt.Errorf("unknown return %q (want last or sequence)", ret)
	}
	if r.dirs == 1 {
		for i := 1 + per; i < 1+2*per && i < len(n.Inputs); i++ {
			if n.Inputs[i].Present {
				return nil, fmt.Errorf("input %d (%q) is a reverse-direction weight, but direction is forward", i, n.Inputs[i].Name)
			}
		}
	} else {
		// The state of a layer run in pieces: the reverse direction's
		// would depend on the steps of the calls still to come.
		for i := r.stateIn; i < len(n.Inputs); i++ {
			if n.Inputs[i].Present {
				return nil, fmt.Errorf("input %d (%q) is the initial state %s0, which only a forward node takes (a bidirectional layer cannot run a sequence in pieces)", i, n.Inputs[i].Name, rnnStateNames[i-r.stateIn])
			}
		}
		if r.outs > 1 {
			return nil, fmt.Errorf("has %d outputs: the final state outputs (%s) are for direction forward only (a bidirectional layer cannot run a sequence in pieces)", r.outs, rnnOutputs[r.states][3:])
		}
	}

	gh := r.gates * r.h
	ws := make([]rnnWeights, r.dirs)
	for d := range ws {
		base, sfx := 1+d*per, ""
		if d == 1 {
			sfx = "_r"
		}
		w := &ws[d]
		if w.wih, err = n.ConstInput(base, "W_ih"+sfx, 2); err != nil {
			return nil, err
		}
		if w.whh, err = n.ConstInput(base+1, "W_hh"+sfx, 2); err != nil {
			return nil, err
		}
		if cell == cellLSTM {
			w.bih, err = n.ConstInput(base+2, "b"+sfx, 1)
		} else {
			w.bih, err = n.ConstInput(base+2, "b_ih"+sfx, 1)
			if err == nil {
				w.bhh, err = n.ConstInput(base+3, "b_hh"+sfx, 1)
			}
		}
		if err != nil {
			return nil, err
		}
		if d == 0 {
			r.d = w.wih.T.Shape[1]
		}
		if s := w.wih.T.Shape; s[0] != gh || s[1] != r.d {
			return nil, fmt.Errorf("input weight W_ih%s %q has shape %v, want [%d, %d] (%d gates × hidden %d, input features)", sfx, w.wih.Name, s, gh, r.d, r.gates, r.h)
		}
		if s := w.whh.T.Shape; s[0] != gh || s[1] != r.h {
			return nil, fmt.Errorf("recurrent weight W_hh%s %q has shape %v, want [%d, %d] (%d gates × hidden %d, hidden)", sfx, w.whh.Name, s, gh, r.h, r.gates, r.h)
		}
		for _, b := range []*Const{w.bih, w.bhh} {
			if b != nil && b.T.Shape[0] != gh {
				return nil, fmt.Errorf("bias %q has shape %v, want [%d]", b.Name, b.T.Shape, gh)
			}
		}
	}

	// The input projections of both directions are one matrix product
	// when the weights pack together (same dtype, per-row scales).
	if wih, b, ok := rnnConcatDirections(ws); ok {
		l, err := NewLinear(wih, b)
		if err != nil {
			return nil, err
		}
		r.ih = []*Linear{l}
	} else {
		for _, w := range ws {
			l, err := NewLinear(w.wih, w.bih)
			if err != nil {
				return nil, err
			}
			r.ih = append(r.ih, l)
		}
	}
	for _, w := range ws {
		l, err := NewLinear(w.whh, w.bhh)
		if err != nil {
			return nil, err
		}
		r.hh = append(r.hh, l)
	}
	return r, nil
}

// rnnConcatDirections stacks the two directions' input weights and biases
// into one [2·G·H, D] constant, or reports false when there is one
// direction or the weights do not pack together.
func rnnConcatDirections(ws []rnnWeights) (w, b *Const, ok bool) {
	if len(ws) != 2 {
		return nil, nil, false
	}
	a, c := ws[0].wih, ws[1].wih
	if a.T.DType != c.T.DType {
		return nil, nil, false
	}
	shape := tensor.Shape{a.T.Shape[0] + c.T.Shape[0], a.T.Shape[1]}
	t := &tensor.Tensor{DType: a.T.DType, Shape: shape}
	// The stacked copy is this node's alone.
	w = &Const{Name: a.Name + "+" + c.Name, T: t, Axis: -1, Own: true, Dequant: a.Dequant || c.Dequant}
	switch a.T.DType {
	case tensor.F32:
		if len(a.T.F32) != a.T.Shape.NumElements() || len(c.T.F32) != c.T.Shape.NumElements() {
			return nil, nil, false
		}
		t.F32 = append(append(make([]float32, 0, shape.NumElements()), a.T.F32...), c.T.F32...)
	case tensor.I8:
		if a.Axis != 0 || c.Axis != 0 || len(a.Scales) != a.T.Shape[0] || len(c.Scales) != c.T.Shape[0] ||
			len(a.T.I8) != a.T.Shape.NumElements() || len(c.T.I8) != c.T.Shape.NumElements() {
			return nil, nil, false // NewLinear names the problem per direction
		}
		t.I8 = append(append(make([]int8, 0, shape.NumElements()), a.T.I8...), c.T.I8...)
		w.Scales = append(append(make([]float32, 0, shape[0]), a.Scales...), c.Scales...)
		w.Axis = 0
	default:
		return nil, nil, false
	}
	b0, err0 := ws[0].bih.F32()
	b1, err1 := ws[1].bih.F32()
	if err0 != nil || err1 != nil || len(b0) != a.T.Shape[0] || len(b1) != c.T.Shape[0] {
		return nil, nil, false
	}
	bv := append(append(make([]float32, 0, len(b0)+len(b1)), b0...), b1...)
	b = &Const{Name: ws[0].bih.Name + "+" + ws[1].bih.Name, T: tensor.NewF32(tensor.Shape{len(bv)}, bv), Axis: -1}
	return w, b, true
}

func (r *recurrent) NewState() any {
	s := &rnnState{}
	for _, l := range r.ih {
		s.ih = append(s.ih, l.NewTask())
	}
	for _, l := range r.hh {
		s.hh = append(s.hh, l.NewTask())
	}
	return s
}

// rnnLayout places a run's working memory in the F32 scratch: the input
// projections (at 0), the recurrent projection, the gathered valid state rows,
// the states (h, and c for the LSTM), and last the Linear scratch, which
// all Forward calls share since they run one after another.
type rnnLayout struct {
	hp, hin, hs, cs, lin int // offsets in F32
	xpStride             int // floats between steps in the input projection
	xpOff                [2]int
	need                 Scratch
}

func (r *recurrent) layout(b, t int) rnnLayout {
	gh, bt := r.gates*r.h, b*t
	var lay rnnLayout
	lay.xpStride = gh
	if len(r.ih) == 1 {
		lay.xpStride = r.dirs * gh
		lay.xpOff[1] = gh
	} else {
		lay.xpOff[1] = bt * gh
	}
	var lin Scratch
	grow := func(s Scratch) {
		lin.F32, lin.U8, lin.I32 = max(lin.F32, s.F32), max(lin.U8, s.U8), max(lin.I32, s.I32)
	}
	for _, l := range r.ih {
		grow(l.Scratch(bt))
	}
	for _, l := range r.hh {
		grow(l.Scratch(b))
	}
	lay.hp = bt * r.dirs * gh
	lay.hin = lay.hp + b*gh
	lay.hs = lay.hin + b*r.h
	lay.cs = lay.hs + r.dirs*b*r.h
	lay.lin = lay.cs
	if r.cell == cellLSTM {
		lay.lin += r.dirs * b * r.h
	}
	lay.need = Scratch{F32: lay.lin + lin.F32, U8: lin.U8, I32: lin.I32}
	return lay
}

// scratch is layout(b, t).need, or math.MaxInt in a field whose size
// overflows an int (the engine refuses it): layout's arithmetic is plain,
// for Run, which only sees shapes Plan accepted.
func (r *recurrent) scratch(b, t int) Scratch {
	gh, bt := satMul(r.gates, r.h), satMul(b, t)
	rows := satMul(r.dirs, b, r.h)
	f32 := satAdd(satMul(bt, r.dirs, gh), satMul(b, gh), satMul(b, r.h), rows, rows)
	var lin Scratch
	grow := func(s Scratch) {
		lin = Scratch{F32: max(lin.F32, s.F32), U8: max(lin.U8, s.U8), I32: max(lin.I32, s.I32)}
	}
	for _, l := range r.ih {
		grow(l.Scratch(bt))
	}
	for _, l := range r.hh {
		grow(l.Scratch(b))
	}
	if satAdd(f32, lin.F32) == math.MaxInt || lin.U8 == math.MaxInt || lin.I32 == math.MaxInt {
		return Scratch{F32: math.MaxInt, U8: math.MaxInt, I32: math.MaxInt}
	}
	return r.layout(b, t).need
}

func (r *recurrent) outShape(b, t int) tensor.Shape {
	if r.seq {
		return tensor.Shape{b, t, r.dirs * r.h}
	}
	return tensor.Shape{b, r.dirs * r.h}
}

func (r *recurrent) Plan(in []Desc) ([]Desc, Scratch, error) {
	x := in[0]
	if x.DType != tensor.F32 || len(x.Shape) != 3 || x.Shape[2] != r.d || x.Shape[0] < 0 || x.Shape[1] < 0 {
		return nil, Scratch{}, fmt.Errorf("input is %s%v, want f32 [B, T, %d]", x.DType, x.Shape, r.d)
	}
	b, t := x.Shape[0], x.Shape[1]
	if r.maskIn < len(in) {
		if m := in[r.maskIn]; m.DType != 0 || m.Shape != nil {
			if m.DType != tensor.F32 || !m.Shape.Equal(tensor.Shape{b, t}) {
				return nil, Scratch{}, fmt.Errorf("mask is %s%v, want f32 [%d, %d] for input %v", m.DType, m.Shape, b, t, x.Shape)
			}
		}
	}
	for k := range r.states {
		i := r.stateIn + k
		if i >= len(in) {
			break
		}
		if s := in[i]; s.DType != 0 || s.Shape != nil {
			if s.DType != tensor.F32 || !s.Shape.Equal(tensor.Shape{b, r.h}) {
				return nil, Scratch{}, fmt.Errorf("initial state %s0 (input %d) is %s%v, want f32 [%d, %d] (the batch of input %v, hidden %d)", rnnStateNames[k], i, s.DType, s.Shape, b, r.h, x.Shape, r.h)
			}
		}
	}
	out := make([]Desc, r.outs)
	out[0] = Desc{tensor.F32, r.outShape(b, t)}
	for k := 1; k < r.outs; k++ {
		out[k] = Desc{tensor.F32, tensor.Shape{b, r.h}}
	}
	return out, r.scratch(b, t), nil
}

var errRNNNoState = errors.New("recurrent kernel run without its state (NewState)")

func (r *recurrent) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	st, ok := ctx.State.(*rnnState)
	if !ok || len(st.ih) != len(r.ih) || len(st.hh) != len(r.hh) {
		return errRNNNoState
	}
	x := in[0]
	if len(x.Shape) != 3 || x.Shape[2] != r.d || len(x.F32) != x.Shape.NumElements() {
		return fmt.Errorf("input is %s%v, want f32 [B, T, %d]", x.DType, x.Shape, r.d)
	}
	b, t := x.Shape[0], x.Shape[1]
	var mask []float32
	if r.maskIn < len(in) && in[r.maskIn] != nil {
		mask = in[r.maskIn].F32
		if len(mask) != b*t {
			return fmt.Errorf("mask has %d values, want %d for input %v", len(mask), b*t, x.Shape)
		}
	}
	if len(out) < 1 || len(out) > 1+r.states {
		return fmt.Errorf("%d outputs, want 1 to %d", len(out), 1+r.states)
	}
	// The initial states (nil: zeros) and the final state outputs.
	var s0, sn [2][]float32
	for k := range r.states {
		if i := r.stateIn + k; i < len(in) && in[i] != nil {
			s0[k] = in[i].F32
			if len(s0[k]) != b*r.h || r.dirs != 1 {
				return fmt.Errorf("initial state %s0 has %d values, want %d (forward only)", rnnStateNames[k], len(s0[k]), b*r.h)
			}
		}
		if k+1 < len(out) {
			sn[k] = out[k+1].F32
			if len(sn[k]) != b*r.h || r.dirs != 1 {
				return fmt.Errorf("final state %s_n has %d values, want %d (forward only)", rnnStateNames[k], len(sn[k]), b*r.h)
			}
		}
	}
	y := out[0].F32
	if want := r.outShape(b, t).NumElements(); len(y) != want {
		return fmt.Errorf("output has %d values, want %d", len(y), want)
	}
	lay := r.layout(b, t)
	if len(ctx.F32) < lay.need.F32 || len(ctx.U8) < lay.need.U8 || len(ctx.I32) < lay.need.I32 {
		return fmt.Errorf("scratch is f32 %d, u8 %d, i32 %d; want %+v", len(ctx.F32), len(ctx.U8), len(ctx.I32), lay.need)
	}
	f := ctx.F32
	// Every Forward gets scratch after our own buffers.
	sub := Ctx{Par: ctx.Par, F32: f[lay.lin:lay.need.F32], U8: ctx.U8, I32: ctx.I32, Int8Off: ctx.Int8Off}
	gh, bt := r.gates*r.h, b*t
	xp := f[:lay.hp]
	if bt > 0 {
		for i, l := range r.ih {
			l.Forward(&sub, st.ih[i], xp[i*bt*l.N:(i+1)*bt*l.N], x.F32, bt, ActNone, 0)
		}
	}
	// The state rows, from the initial state inputs or zeros (read here,
	// before any output is written, so an input may share an output's
	// memory).
	hs := f[lay.hs : lay.hs+r.dirs*b*r.h]
	clear(hs)
	copy(hs, s0[0])
	var cs []float32
	if r.cell == cellLSTM {
		cs = f[lay.cs : lay.cs+r.dirs*b*r.h]
		clear(cs)
		copy(cs, s0[1])
	}
	for d := 0; d < r.dirs && bt > 0; d++ {
		bh := b * r.h
		var c []float32
		if cs != nil {
			c = cs[d*bh : (d+1)*bh]
		}
		r.direction(&sub, st.hh[d], d, b, t, mask, xp[lay.xpOff[d]:], lay.xpStride,
			f[lay.hp:lay.hp+b*gh], f[lay.hin:lay.hin+bh], hs[d*bh:(d+1)*bh], c, y)
	}
	if !r.seq {
		for i := 0; i < b; i++ {
			for d := 0; d < r.dirs; d++ {
				copy(y[(i*r.dirs+d)*r.h:(i*r.dirs+d+1)*r.h], hs[(d*b+i)*r.h:(d*b+i+1)*r.h])
			}
		}
	}
	copy(sn[0], hs)
	copy(sn[1], cs)
	return nil
}

// direction runs one direction over all steps: forward from step 0, the
// reverse direction from step T−1. xp[xpStride·(i·T+s):] is the input
// projection of row i at step s; hp and hin hold b rows of G·H and H; h
// and c are the b state rows. In sequence mode each step's state goes to
// y (zeros where the step is masked).
func (r *recurrent) direction(ctx *Ctx, task *linearTask, d, b, t int, mask, xp []float32, xpStride int, hp, hin, h, c, y []float32) {
	H, gh := r.h, r.gates*r.h
	ystride := r.dirs * H
	hh := r.hh[d]
	for s := 0; s < t; s++ {
		step := s
		if d == 1 {
			step = t - 1 - s
		}
		// The recurrent projection of the rows valid at this step, in
		// row order: all b state rows as they are, or the valid ones
		// gathered into hin. An int8 LSTM with few rows masked (at most
		// an eighth) projects every row instead (all): the wasted rows
		// cost less than gathering the valid rows' input projections,
		// and each row's bits do not depend on the others.
		src, m := h, b
		all := true // hp's rows are the b batch rows, not the valid ones
		if mask != nil {
			m = 0
			for i := 0; i < b; i++ {
				if mask[i*t+step] != 0 {
					m++
				}
			}
			if m < b && m > 0 && r.cell == cellLSTM && hh.I8 != nil && 8*(b-m) <= b {
				m = b
			} else if m < b {
				all = false
				j := 0
				for i := 0; i < b; i++ {
					if mask[i*t+step] != 0 {
						copy(hin[j*H:(j+1)*H], h[i*H:(i+1)*H])
						j++
					}
				}
				src = hin
			}
		}
		// fused: the input projection was added by the dequantization.
		fused := false
		if m > 0 {
			rmask := mask
			if all {
				rmask = nil
			}
			fused = r.hhFused(ctx, hh, hp[:m*gh], src[:m*H], m, rmask, t, step, b, xp, xpStride)
			if !fused {
				hh.Forward(ctx, task, hp[:m*gh], src[:m*H], m, ActNone, 0)
			}
		}
		j := 0
		for i := 0; i < b; i++ {
			var yr []float32
			if r.seq {
				o := (i*t+step)*ystride + d*H
				yr = y[o : o+H]
			}
			if mask != nil && mask[i*t+step] == 0 {
				clear(yr)
				continue
			}
			row := j
			if all {
				row = i
			}
			hr := hp[row*gh : (row+1)*gh]
			j++
			xr := xp[(i*t+step)*xpStride:][:gh]
			hi := h[i*H : (i+1)*H]
			if r.cell == cellLSTM {
				if !fused {
					kernel.AxpyF32(1, xr, hr) // the gate pre-activations hp + xp
				}
				lstmCell(hr, hi, c[i*H:(i+1)*H])
			} else {
				gruCell(xr, hr, hi)
			}
			copy(yr, hi)
		}
	}
}

// hhFused computes the LSTM's recurrent projection of the m state rows
// src (the batch rows valid at step, in order) with each row's input
// projection added, into hp, when the weights are int8 and Forward would
// not split the product among workers (splitI8): the rows are quantized, multiplied in one GemmI8 (m
// rows at a time, so batches go through the kernel's tiles) and
// dequantized with the input projection row as the bias (GemmI8F32, in
// the GEMM's registers; with masked rows the valid rows' projections are
// gathered into hp first), which gives the
// bits of Linear.Forward followed by hp + xp. It reports false, doing
// nothing, otherwise (f32 weights, a GRU, whose W_hh has a bias of its
// own, or a product worth splitting), and the caller takes Forward.
func (r *recurrent) hhFused(ctx *Ctx, l *Linear, hp, src []float32, m int, mask []float32, t, step, b int, xp []float32, xpStride int) bool {
	K, N := l.K, l.N
	if r.cell != cellLSTM || l.I8 == nil || l.Bias != nil || ctx.Int8Off {
		return false
	}
	if p := ctx.Par; p != nil && p.Workers() > 1 && m*N*K >= splitI8 {
		return false // Forward splits this product among the workers
	}
	if len(ctx.U8) < m*K || len(ctx.I32) < m*N || len(ctx.F32) < 2*m {
		return false // not Linear.Scratch(m): Forward names the problem
	}
	// The scratch as Forward uses it: quantized rows, accumulators, and
	// the rows' scales and zero points (exact in float32: 0 to 255).
	q, acc, xs, xz := ctx.U8[:m*K], ctx.I32[:m*N], ctx.F32[:m], ctx.F32[m:2*m]
	kernel.QuantizeRowsU8(q, src[:m*K], m, K, xs, xz)
	if mask == nil && m <= b {
		// Every row is valid, row j's input projection is xp's row j·t+step:
		// one stride, so the GEMM's epilogue adds it in registers.
		kernel.GemmI8F32(hp, acc, q, m, l.I8, 0, N, xs, xz, l.Scales, xp[step*xpStride:], t*xpStride, false)
		return true
	}
	// Some rows are masked: the valid rows' input projections are
	// gathered into hp, in row order, and the epilogue adds hp to itself
	// (GemmI8F32 reads each bias before it writes that element).
	j := 0
	for i := 0; i < b && j < m; i++ {
		if mask != nil && mask[i*t+step] == 0 {
			continue
		}
		copy(hp[j*N:(j+1)*N], xp[(i*t+step)*xpStride:][:N])
		j++
	}
	if j < m {
		return false // fewer valid rows than m: not the caller's gather
	}
	kernel.GemmI8F32(hp, acc, q, m, l.I8, 0, N, xs, xz, l.Scales, hp, N, false)
	return true
}

// lstmCell updates one row's state from its gate pre-activations g (the
// input plus the recurrent projection, 4H in gate order i, f, g, o, which
// it may overwrite): c' = f⊙c + i⊙g, h' = o⊙tanh(c'), in one
// kernel.LSTMCell (one vector pass on AVX-512).
func lstmCell(g, h, c []float32) { kernel.LSTMCell(g, h, c) }

// gruCell updates one row's state from its input projection xp (with
// b_ih) and recurrent projection hp (with b_hh), both 3H in gate order
// r, z, n: n = tanh(x_n + r⊙h_n), h' = (1−z)⊙n + z⊙h. The r and z sums
// are one vector AxpyF32 with alpha 1.
func gruCell(xp, hp, h []float32) {
	H := len(h)
	g := hp[:3*H]
	kernel.AxpyF32(1, xp[:2*H], g[:2*H])
	kernel.SigmoidSlice(g[:2*H], g[:2*H]) // r, z
	n := g[2*H:]
	rg, zg, xn := g[:len(n)], g[H:][:len(n)], xp[2*H:][:len(n)]
	for k, v := range n {
		n[k] = xn[k] + float32(rg[k]*v)
	}
	kernel.TanhSlice(n, n)
	zg, n = zg[:len(h)], n[:len(h)]
	for k, hv := range h {
		h[k] = float32((1-zg[k])*n[k]) + float32(zg[k]*hv)
	}
}
