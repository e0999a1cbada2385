package op

import (
	"fmt"
	"math"

	"github.com/edgerun/edgerun/runtime/internal/kernel"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// The basic operators: lookups, masks, pooling, element-wise activations,
// softmax, broadcasting arithmetic and shape plumbing. None of them needs
// scratch space or per-session state; all arithmetic is float32 with
// every product rounded explicitly (see CATALOG.md, "Determinism").

func init() {
	Register(Def{Name: "Embedding", Build: buildEmbedding,
		Doc: "Table lookup. Inputs: ids i32/i64 [...], table const [V, D] (f32, or i8 with per-row scales, axis 0). Output f32 [..., D]; an id outside 0..V-1 is a run-time error."})
	Register(Def{Name: "PadMask", Attrs: []string{"pad"}, Build: buildPadMask,
		Doc: "Padding mask. Input: ids i32/i64 [B, T]. Output f32 [B, T]: 1 where id != pad, else 0. Attribute: pad (int, default 0)."})
	Register(Def{Name: "SeqPool", Attrs: []string{"mode"}, Build: buildSeqPool,
		Doc: "Pools over time. Inputs: x f32 [B, T, D], mask f32 [B, T] (optional; a step with mask 0 is ignored). Output [B, D]; a row with no valid step gives 0. Attribute: mode (mean (default), max, sum)."})
	for _, a := range []struct {
		name string
		act  Act
		doc  string
	}{
		{"Relu", ActReLU, "max(x, 0)"},
		{"Sigmoid", ActSigmoid, "1 / (1 + e^-x)"},
		{"Tanh", ActTanh, "tanh(x)"},
		{"Gelu", ActGELU, "x/2 · (1 + tanh(√(2/π)·(x + 0.044715x³)))"},
	} {
		act := a.act
		Register(Def{Name: a.name, Build: func(n *Node) (Kernel, error) { return buildAct(n, act) },
			Doc: "Element-wise " + a.doc + ". Input: x f32 [...]. Output: same shape."})
	}
	Register(Def{Name: "LeakyRelu", Attrs: []string{"alpha"}, Build: func(n *Node) (Kernel, error) { return buildAct(n, ActLeakyReLU) },
		Doc: "Element-wise x for x >= 0, alpha·x below. Input: x f32 [...]. Output: same shape. Attribute: alpha (float, default 0.01)."})
	Register(Def{Name: "Softmax", Attrs: []string{"axis"}, Build: buildSoftmax,
		Doc: "Numerically stable softmax over the last axis. Input: x f32 [..., D]. Output: same shape. Attribute: axis (int; only -1, the default)."})
	Register(Def{Name: "Add", Build: func(n *Node) (Kernel, error) { return buildBinary(n, false) },
		Doc: "a + b. Inputs: a f32, b f32 of a's shape, a suffix of it (broadcast over a's leading dimensions), or a scalar / [1]. Output: a's shape."})
	Register(Def{Name: "Mul", Build: func(n *Node) (Kernel, error) { return buildBinary(n, true) },
		Doc: "a · b, element-wise. Inputs: a f32, b f32 of a's shape, a suffix of it (broadcast over a's leading dimensions), or a scalar / [1]. Output: a's shape."})
	Register(Def{Name: "Concat", Attrs: []string{"axis"}, Build: buildConcat,
		Doc: "Joins x1 … xn (f32, same rank, equal dimensions except along axis). Attribute: axis (int, negative counts from the end; default -1)."})
	Register(Def{Name: "Reshape", Attrs: []string{"shape"}, Build: buildReshape,
		Doc: "Same elements, new shape. Input: x (any dtype). Attribute: shape (ints, required): 0 copies the input's dimension at that position, one -1 is inferred."})
	Register(Def{Name: "Flatten", Build: buildFlatten,
		Doc: "Input: x [B, ...] (any dtype). Output: [B, prod(...)]."})
	Register(Def{Name: "Dot", Build: buildDot,
		Doc: "Row-wise dot product. Inputs: u f32 [..., D], v f32 of the same shape. Output [..., 1]."})
	Register(Def{Name: "Normalize", Build: buildNormalize,
		Doc: "(x − mean) / std. Inputs: x f32 [..., D], mean const [D], std const [D] (no zero entries)."})
}

// basicWantF32 checks that a planned input is present and f32 of rank >= minRank.
func basicWantF32(what string, d Desc, minRank int) error {
	if d.DType == 0 {
		return fmt.Errorf("%s is missing", what)
	}
	if d.DType != tensor.F32 {
		return fmt.Errorf("%s is %s%v, want f32", what, d.DType, d.Shape)
	}
	if len(d.Shape) < minRank {
		return fmt.Errorf("%s has shape %v, want rank >= %d", what, d.Shape, minRank)
	}
	return nil
}

// basicWantIDs checks that a planned input is i32 or i64 token ids.
func basicWantIDs(d Desc) error {
	if d.DType != tensor.I32 && d.DType != tensor.I64 {
		if d.DType == 0 {
			return fmt.Errorf("ids are missing")
		}
		return fmt.Errorf("ids are %s%v, want i32 or i64", d.DType, d.Shape)
	}
	return nil
}

// basicWantPresent checks that the first count inputs are present.
func basicWantPresent(n *Node, count int) error {
	for i := 0; i < count && i < len(n.Inputs); i++ {
		if !n.Inputs[i].Present {
			return fmt.Errorf("input %d is required", i)
		}
	}
	return nil
}

// basicCopyShape returns a copy of s (an output Desc must not share the
// caller's slice).
func basicCopyShape(s tensor.Shape) tensor.Shape {
	return append(make(tensor.Shape, 0, len(s)), s...)
}

// --- Embedding ---

type embeddingOp struct {
	v, d   int
	f32    []float32 // [V, D] for an f32 table
	i8     []int8    // [V, D] for an int8 table
	scales []float32 // [V], int8 only
}

func buildEmbedding(n *Node) (Kernel, error) {
	if err := wantInputs(n, 2, 2); err != nil {
		return nil, err
	}
	if err := basicWantPresent(n, 1); err != nil {
		return nil, err
	}
	tab, err := n.ConstInput(1, "table", 2)
	if err != nil {
		return nil, err
	}
	if err := tab.T.Check(); err != nil {
		return nil, fmt.Errorf("table %q: %w", tab.Name, err)
	}
	e := &embeddingOp{v: tab.T.Shape[0], d: tab.T.Shape[1]}
	switch tab.T.DType {
	case tensor.F32:
		e.f32 = tab.T.F32
	case tensor.I8:
		if tab.Axis != 0 || len(tab.Scales) != e.v {
			return nil, fmt.Errorf("int8 table %q must be quantized per row (axis 0, %d scales), has axis %d and %d scales", tab.Name, e.v, tab.Axis, len(tab.Scales))
		}
		e.i8, e.scales = tab.T.I8, tab.Scales
	default:
		return nil, fmt.Errorf("table %q is %s, want f32 or i8", tab.Name, tab.T.DType)
	}
	return e, nil
}

func (e *embeddingOp) Plan(in []Desc) ([]Desc, Scratch, error) {
	if err := basicWantIDs(in[0]); err != nil {
		return nil, Scratch{}, err
	}
	out := append(basicCopyShape(in[0].Shape), e.d)
	return []Desc{{tensor.F32, out}}, Scratch{}, nil
}

func (e *embeddingOp) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	y := out[0].F32
	var n int
	switch ids := in[0]; ids.DType {
	case tensor.I32:
		if e.i8 != nil && e.d == 1 {
			return lookup1(e, y, ids.I32)
		}
		if err := checkIDs(e, ids.I32); err != nil {
			return err
		}
		n = len(ids.I32)
	case tensor.I64:
		if e.i8 != nil && e.d == 1 {
			return lookup1(e, y, ids.I64)
		}
		if err := checkIDs(e, ids.I64); err != nil {
			return err
		}
		n = len(ids.I64)
	default:
		return fmt.Errorf("ids are %s, want i32 or i64", ids.DType)
	}
	st, ok := ctx.State.(*embeddingState)
	if !ok { // run without the session state: every row here
		one := embeddingState{e: e, y: y, ids: in[0]}
		one.rows(0, n)
		return nil
	}
	st.y, st.ids = y, in[0]
	st.rs.do(ctx, n, 2*e.d, 1)
	st.y, st.ids = nil, nil
	return nil
}

// embeddingState is the per-session state of Embedding: the rows of one
// Run, handed out in blocks (a batch's lookups are independent).
type embeddingState struct {
	e   *embeddingOp
	y   []float32
	ids *tensor.Tensor // checked: every id is in the table
	rs  rowShare
}

func (e *embeddingOp) NewState() any {
	st := &embeddingState{e: e}
	st.rs.run = st.rows
	return st
}

func (st *embeddingState) rows(r0, r1 int) {
	e, d := st.e, st.e.d
	if st.ids.DType == tensor.I32 {
		for i, id := range st.ids.I32[r0:r1] {
			e.row(st.y[(r0+i)*d:][:d], int(id))
		}
		return
	}
	for i, id := range st.ids.I64[r0:r1] {
		e.row(st.y[(r0+i)*d:][:d], int(id))
	}
}

// checkIDs returns the error of the first id outside the table.
func checkIDs[T int32 | int64](e *embeddingOp, ids []T) error {
	for i, id := range ids {
		if uint64(int64(id)) >= uint64(e.v) {
			return e.badID(int64(id), i)
		}
	}
	return nil
}

// lookup1 writes y[i], row ids[i] of an int8 table one value wide (a
// bias table), for every id: lookup's bits without its row slicing.
func lookup1[T int32 | int64](e *embeddingOp, y []float32, ids []T) error {
	y = y[:len(ids)]
	q, s := e.i8[:e.v], e.scales[:e.v]
	for i, id := range ids {
		if uint64(int64(id)) >= uint64(len(q)) {
			return e.badID(int64(id), i)
		}
		y[i] = float32(float32(q[id]) * s[id])
	}
	return nil
}

func (e *embeddingOp) badID(id int64, pos int) error {
	return fmt.Errorf("token id %d (position %d) is outside the vocabulary: size %d, valid ids 0..%d", id, pos, e.v, e.v-1)
}

// row writes row id (in the table) to dst.
func (e *embeddingOp) row(dst []float32, id int) {
	r := id * e.d
	if e.i8 == nil {
		copy(dst, e.f32[r:r+e.d])
		return
	}
	kernel.ScaleI8F32(dst, e.i8[r:r+e.d], e.scales[id])
}

// --- PadMask ---

type padMaskOp struct{ pad int64 }

func buildPadMask(n *Node) (Kernel, error) {
	if err := wantInputs(n, 1, 1); err != nil {
		return nil, err
	}
	if err := basicWantPresent(n, 1); err != nil {
		return nil, err
	}
	pad, err := n.IntAttr("pad", 0)
	if err != nil {
		return nil, err
	}
	return &padMaskOp{pad: pad}, nil
}

func (p *padMaskOp) Plan(in []Desc) ([]Desc, Scratch, error) {
	if err := basicWantIDs(in[0]); err != nil {
		return nil, Scratch{}, err
	}
	if len(in[0].Shape) != 2 {
		return nil, Scratch{}, fmt.Errorf("ids have shape %v, want [B, T]", in[0].Shape)
	}
	return []Desc{{tensor.F32, basicCopyShape(in[0].Shape)}}, Scratch{}, nil
}

func (p *padMaskOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	y := out[0].F32
	switch ids := in[0]; ids.DType {
	case tensor.I32:
		for i, id := range ids.I32 {
			y[i] = basicBool(int64(id) != p.pad)
		}
	case tensor.I64:
		for i, id := range ids.I64 {
			y[i] = basicBool(id != p.pad)
		}
	default:
		return fmt.Errorf("ids are %s, want i32 or i64", ids.DType)
	}
	return nil
}

func basicBool(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// --- SeqPool ---

type poolMode uint8

const (
	poolMean poolMode = iota
	poolMax
	poolSum
)

type seqPoolOp struct{ mode poolMode }

func buildSeqPool(n *Node) (Kernel, error) {
	if err := wantInputs(n, 1, 2); err != nil {
		return nil, err
	}
	if err := basicWantPresent(n, 1); err != nil {
		return nil, err
	}
	s, err := n.StringAttr("mode", "mean")
	if err != nil {
		return nil, err
	}
	k := &seqPoolOp{}
	switch s {
	case "mean":
		k.mode = poolMean
	case "max":
		k.mode = poolMax
	case "sum":
		k.mode = poolSum
	default:
		return nil, fmt.Errorf("unknown mode %q (want mean, max or sum)", s)
	}
	return k, nil
}

func (p *seqPoolOp) Plan(in []Desc) ([]Desc, Scratch, error) {
	x := in[0]
	if err := basicWantF32("input", x, 3); err != nil {
		return nil, Scratch{}, err
	}
	if len(x.Shape) != 3 {
		return nil, Scratch{}, fmt.Errorf("input has shape %v, want [B, T, D]", x.Shape)
	}
	if len(in) > 1 && in[1].DType != 0 {
		m := in[1]
		if m.DType != tensor.F32 || !m.Shape.Equal(x.Shape[:2]) {
			return nil, Scratch{}, fmt.Errorf("mask is %s%v, want f32 %v for input %v", m.DType, m.Shape, x.Shape[:2], x.Shape)
		}
	}
	return []Desc{{tensor.F32, tensor.Shape{x.Shape[0], x.Shape[2]}}}, Scratch{}, nil
}

func (p *seqPoolOp) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	var mask []float32
	if len(in) > 1 && in[1] != nil {
		mask = in[1].F32
	}
	b, t, d := in[0].Shape[0], in[0].Shape[1], in[0].Shape[2]
	st, ok := ctx.State.(*seqPoolState)
	if !ok { // run without the session state: every row here
		one := seqPoolState{p: p, x: in[0], y: out[0], mask: mask}
		one.rows(0, b)
		return nil
	}
	st.x, st.y, st.mask = in[0], out[0], mask
	st.rs.do(ctx, b, t*d, 1)
	st.x, st.y, st.mask = nil, nil, nil
	return nil
}

// seqPoolState is the per-session state of SeqPool: the batch rows of one
// Run, handed out in blocks.
type seqPoolState struct {
	p    *seqPoolOp
	x, y *tensor.Tensor
	mask []float32
	rs   rowShare
}

func (p *seqPoolOp) NewState() any {
	st := &seqPoolState{p: p}
	st.rs.run = st.rows
	return st
}

// rows pools batch rows [b0, b1).
func (st *seqPoolState) rows(b0, b1 int) {
	p, mask := st.p, st.mask
	t, d := st.x.Shape[1], st.x.Shape[2]
	x, y := st.x.F32, st.y.F32
	for i := b0; i < b1; i++ {
		row := y[i*d : (i+1)*d]
		n := 0
		for s := 0; s < t; s++ {
			if mask != nil && mask[i*t+s] == 0 {
				continue
			}
			xs := x[(i*t+s)*d : (i*t+s+1)*d]
			switch {
			case n == 0:
				copy(row, xs)
			case p.mode == poolMax:
				for j, v := range xs {
					row[j] = max(row[j], v)
				}
			default:
				kernel.AxpyF32(1, xs, row) // row + 1·xs: the one rounding of row + xs
			}
			n++
		}
		switch {
		case n == 0:
			clear(row)
		case p.mode == poolMean && n > 1:
			c := float32(n)
			for j := range row {
				row[j] /= c
			}
		}
	}
}

// --- Relu, LeakyRelu, Sigmoid, Tanh, Gelu ---

type actOp struct {
	act   Act
	alpha float32
}

func buildAct(n *Node, act Act) (Kernel, error) {
	if err := wantInputs(n, 1, 1); err != nil {
		return nil, err
	}
	if err := basicWantPresent(n, 1); err != nil {
		return nil, err
	}
	a := &actOp{act: act}
	if act == ActLeakyReLU {
		alpha, err := n.FloatAttr("alpha", 0.01)
		if err != nil {
			return nil, err
		}
		a.alpha = float32(alpha)
	}
	return a, nil
}

func (a *actOp) Plan(in []Desc) ([]Desc, Scratch, error) {
	if err := basicWantF32("input", in[0], 0); err != nil {
		return nil, Scratch{}, err
	}
	return []Desc{{tensor.F32, basicCopyShape(in[0].Shape)}}, Scratch{}, nil
}

func (a *actOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	y := out[0].F32
	if a.act == ActGELU { // the output buffer holds the tanh arguments
		kernel.GELUSlice(y, in[0].F32, y)
		return nil
	}
	copy(y, in[0].F32)
	a.act.Apply(y, a.alpha)
	return nil
}

// --- Softmax ---

type softmaxOp struct{}

func buildSoftmax(n *Node) (Kernel, error) {
	if err := wantInputs(n, 1, 1); err != nil {
		return nil, err
	}
	if err := basicWantPresent(n, 1); err != nil {
		return nil, err
	}
	axis, err := n.IntAttr("axis", -1)
	if err != nil {
		return nil, err
	}
	if axis != -1 {
		return nil, fmt.Errorf("axis %d is not supported: Softmax runs over the last axis only (axis -1)", axis)
	}
	return softmaxOp{}, nil
}

func (softmaxOp) Plan(in []Desc) ([]Desc, Scratch, error) {
	if err := basicWantF32("input", in[0], 1); err != nil {
		return nil, Scratch{}, err
	}
	return []Desc{{tensor.F32, basicCopyShape(in[0].Shape)}}, Scratch{}, nil
}

func (softmaxOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x, y := in[0].F32, out[0].F32
	d := in[0].Shape[len(in[0].Shape)-1]
	if d == 0 {
		return nil
	}
	// Every row as SoftmaxF32 leaves it; narrow rows (a classifier's
	// classes) a block of rows at a time.
	y = y[:len(x)]
	copy(y, x)
	kernel.SoftmaxRowsF32(y, d)
	return nil
}

// --- Add, Mul ---

type binaryOp struct{ mul bool }

func buildBinary(n *Node, mul bool) (Kernel, error) {
	if err := wantInputs(n, 2, 2); err != nil {
		return nil, err
	}
	if err := basicWantPresent(n, 2); err != nil {
		return nil, err
	}
	return binaryOp{mul: mul}, nil
}

func (o binaryOp) Plan(in []Desc) ([]Desc, Scratch, error) {
	a, b := in[0], in[1]
	if err := basicWantF32("a", a, 0); err != nil {
		return nil, Scratch{}, err
	}
	if err := basicWantF32("b", b, 0); err != nil {
		return nil, Scratch{}, err
	}
	scalar := len(b.Shape) == 0 || (len(b.Shape) == 1 && b.Shape[0] == 1)
	suffix := len(b.Shape) <= len(a.Shape) && b.Shape.Equal(a.Shape[len(a.Shape)-len(b.Shape):])
	if !scalar && !suffix {
		return nil, Scratch{}, fmt.Errorf("b has shape %v, want a's shape %v, a suffix of it, or a scalar / [1]", b.Shape, a.Shape)
	}
	return []Desc{{tensor.F32, basicCopyShape(a.Shape)}}, Scratch{}, nil
}

func (o binaryOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	a, b, y := in[0].F32, in[1].F32, out[0].F32
	m := len(b)
	switch {
	case m == 1:
		s := b[0]
		if o.mul {
			for i, v := range a {
				y[i] = float32(v * s)
			}
		} else {
			for i, v := range a {
				y[i] = v + s
			}
		}
	case m > 1 && m == len(a) && !o.mul && &y[0] == &b[0]:
		kernel.AxpyF32(1, a, y[:m]) // in place of b: b + a, the same bits as a + b
	case m > 1 && !o.mul:
		// A vector add per block of b's size: y = a, then y += 1·b (1·b is
		// exact, so each element is the one rounding of a + b, as the
		// scalar loop gives).
		for off := 0; off+m <= len(a); off += m {
			ys := y[off : off+m]
			if as := a[off : off+m]; &ys[0] != &as[0] {
				copy(ys, as)
			}
			kernel.AxpyF32(1, b, ys)
		}
	case m > 0:
		for off := 0; off < len(a); off += m {
			as, ys := a[off:off+m], y[off:off+m]
			if o.mul {
				for j, v := range as {
					ys[j] = float32(v * b[j])
				}
			} else {
				for j, v := range as {
					ys[j] = v + b[j]
				}
			}
		}
	}
	return nil
}

// --- Concat ---

type concatOp struct{ axis int }

func buildConcat(n *Node) (Kernel, error) {
	if len(n.Inputs) < 1 {
		return nil, fmt.Errorf("takes at least 1 input, has 0")
	}
	if err := basicWantPresent(n, len(n.Inputs)); err != nil {
		return nil, err
	}
	axis, err := n.IntAttr("axis", -1)
	if err != nil {
		return nil, err
	}
	if axis < -64 || axis >= 64 {
		return nil, fmt.Errorf("axis %d is out of range", axis)
	}
	return &concatOp{axis: int(axis)}, nil
}

// resolve turns the axis attribute into an index for the given rank.
func (c *concatOp) resolve(rank int) (int, bool) {
	ax := c.axis
	if ax < 0 {
		ax += rank
	}
	return ax, ax >= 0 && ax < rank
}

func (c *concatOp) Plan(in []Desc) ([]Desc, Scratch, error) {
	if err := basicWantF32("input 0", in[0], 1); err != nil {
		return nil, Scratch{}, err
	}
	first := in[0].Shape
	ax, ok := c.resolve(len(first))
	if !ok {
		return nil, Scratch{}, fmt.Errorf("axis %d is out of range for rank %d", c.axis, len(first))
	}
	out := basicCopyShape(first)
	for i, d := range in[1:] {
		if err := basicWantF32(fmt.Sprintf("input %d", i+1), d, 0); err != nil {
			return nil, Scratch{}, err
		}
		if len(d.Shape) != len(first) {
			return nil, Scratch{}, fmt.Errorf("input %d has shape %v, input 0 has %v: ranks differ", i+1, d.Shape, first)
		}
		for j := range first {
			if j != ax && d.Shape[j] != first[j] {
				return nil, Scratch{}, fmt.Errorf("input %d has shape %v, input 0 has %v: they may differ only along axis %d", i+1, d.Shape, first, ax)
			}
		}
		var ok bool
		if out[ax], ok = tensor.AddInt(out[ax], d.Shape[ax]); !ok {
			return nil, Scratch{}, fmt.Errorf("input %d has shape %v: the joined axis %d overflows", i+1, d.Shape, ax)
		}
	}
	return []Desc{{tensor.F32, out}}, Scratch{}, nil
}

func (c *concatOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	shape := in[0].Shape
	ax, ok := c.resolve(len(shape))
	if !ok {
		return fmt.Errorf("axis %d is out of range for rank %d", c.axis, len(shape))
	}
	outer := shape[:ax].NumElements()
	inner := shape[ax+1:].NumElements()
	y := out[0].F32
	off := 0
	for o := 0; o < outer; o++ {
		for _, t := range in {
			n := t.Shape[ax] * inner
			copy(y[off:off+n], t.F32[o*n:(o+1)*n])
			off += n
		}
	}
	return nil
}

// --- Reshape, Flatten ---

type reshapeOp struct{ shape []int }

func buildReshape(n *Node) (Kernel, error) {
	if err := wantInputs(n, 1, 1); err != nil {
		return nil, err
	}
	if err := basicWantPresent(n, 1); err != nil {
		return nil, err
	}
	if _, ok := n.Attrs["shape"]; !ok {
		return nil, fmt.Errorf("needs the shape attribute")
	}
	s, err := n.IntsAttr("shape")
	if err != nil {
		return nil, err
	}
	r := &reshapeOp{shape: make([]int, len(s))}
	inferred := false
	for i, d := range s {
		switch {
		case d == -1 && inferred:
			return nil, fmt.Errorf("shape %v has more than one -1", s)
		case d == -1:
			inferred = true
		case d < -1:
			return nil, fmt.Errorf("shape %v has an invalid dimension %d", s, d)
		}
		v, ok := tensor.Int(d)
		if !ok {
			return nil, fmt.Errorf("shape %v has a dimension %d too large for this machine's int", s, d)
		}
		r.shape[i] = v
	}
	return r, nil
}

func (r *reshapeOp) Plan(in []Desc) ([]Desc, Scratch, error) {
	x := in[0]
	if x.DType.Size() == 0 {
		return nil, Scratch{}, fmt.Errorf("input is %s%v, want a known dtype", x.DType, x.Shape)
	}
	total, err := x.Shape.Elements()
	if err != nil {
		return nil, Scratch{}, err
	}
	out := make(tensor.Shape, len(r.shape))
	known, infer := 1, -1
	for i, d := range r.shape {
		switch d {
		case 0:
			if i >= len(x.Shape) {
				return nil, Scratch{}, fmt.Errorf("shape %v copies dimension %d (0) of input %v, which has rank %d", r.shape, i, x.Shape, len(x.Shape))
			}
			out[i] = x.Shape[i]
		case -1:
			infer = i
			continue
		default:
			out[i] = d
		}
		var ok bool
		if known, ok = tensor.MulInt(known, out[i]); !ok {
			return nil, Scratch{}, fmt.Errorf("shape %v for input %v: the element count overflows", r.shape, x.Shape)
		}
	}
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, Scratch{}, fmt.Errorf("cannot infer the -1 of shape %v for input %v (%d elements)", r.shape, x.Shape, total)
		}
		out[infer] = total / known
	}
	if n, err := out.Elements(); err != nil || n != total {
		return nil, Scratch{}, fmt.Errorf("cannot reshape input %v (%d elements) to %v", x.Shape, total, out)
	}
	return []Desc{{x.DType, out}}, Scratch{}, nil
}

func (r *reshapeOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	return basicCopyData(out[0], in[0])
}

// basicCopyData copies a tensor's elements into another of the same dtype.
func basicCopyData(dst, src *tensor.Tensor) error {
	if dst.DType != src.DType {
		return fmt.Errorf("output is %s, input %s", dst.DType, src.DType)
	}
	switch src.DType {
	case tensor.F32:
		copy(dst.F32, src.F32)
	case tensor.I32:
		copy(dst.I32, src.I32)
	case tensor.I64:
		copy(dst.I64, src.I64)
	case tensor.U8:
		copy(dst.U8, src.U8)
	case tensor.I8:
		copy(dst.I8, src.I8)
	default:
		return fmt.Errorf("unsupported dtype %s", src.DType)
	}
	return nil
}

type flattenOp struct{}

func buildFlatten(n *Node) (Kernel, error) {
	if err := wantInputs(n, 1, 1); err != nil {
		return nil, err
	}
	if err := basicWantPresent(n, 1); err != nil {
		return nil, err
	}
	return flattenOp{}, nil
}

func (flattenOp) Plan(in []Desc) ([]Desc, Scratch, error) {
	x := in[0]
	if x.DType.Size() == 0 {
		return nil, Scratch{}, fmt.Errorf("input is %s%v, want a known dtype", x.DType, x.Shape)
	}
	if len(x.Shape) < 1 {
		return nil, Scratch{}, fmt.Errorf("input has shape %v, want [B, ...]", x.Shape)
	}
	return []Desc{{x.DType, tensor.Shape{x.Shape[0], x.Shape[1:].NumElements()}}}, Scratch{}, nil
}

func (flattenOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	return basicCopyData(out[0], in[0])
}

// --- Dot ---

type dotOp struct{}

func buildDot(n *Node) (Kernel, error) {
	if err := wantInputs(n, 2, 2); err != nil {
		return nil, err
	}
	if err := basicWantPresent(n, 2); err != nil {
		return nil, err
	}
	return dotOp{}, nil
}

func (dotOp) Plan(in []Desc) ([]Desc, Scratch, error) {
	u, v := in[0], in[1]
	if err := basicWantF32("u", u, 1); err != nil {
		return nil, Scratch{}, err
	}
	if err := basicWantF32("v", v, 1); err != nil {
		return nil, Scratch{}, err
	}
	if !u.Shape.Equal(v.Shape) {
		return nil, Scratch{}, fmt.Errorf("u has shape %v and v %v, want the same shape [..., D]", u.Shape, v.Shape)
	}
	out := basicCopyShape(u.Shape)
	out[len(out)-1] = 1
	return []Desc{{tensor.F32, out}}, Scratch{}, nil
}

func (dotOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	u, v, y := in[0].F32, in[1].F32, out[0].F32
	d := in[0].Shape[len(in[0].Shape)-1]
	for i := range y {
		us, vs := u[i*d:(i+1)*d], v[i*d:(i+1)*d]
		var s float32
		for j, a := range us {
			s += float32(a * vs[j])
		}
		y[i] = s
	}
	return nil
}

// --- Normalize ---

type normalizeOp struct{ mean, std []float32 }

func buildNormalize(n *Node) (Kernel, error) {
	if err := wantInputs(n, 3, 3); err != nil {
		return nil, err
	}
	if err := basicWantPresent(n, 1); err != nil {
		return nil, err
	}
	mc, err := n.ConstInput(1, "mean", 1)
	if err != nil {
		return nil, err
	}
	sc, err := n.ConstInput(2, "std", 1)
	if err != nil {
		return nil, err
	}
	mean, err := mc.F32()
	if err != nil {
		return nil, err
	}
	std, err := sc.F32()
	if err != nil {
		return nil, err
	}
	if len(mean) != len(std) {
		return nil, fmt.Errorf("mean %q has %d values and std %q %d: want the same size", mc.Name, len(mean), sc.Name, len(std))
	}
	for i, s := range std {
		if s == 0 || math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) {
			return nil, fmt.Errorf("std %q[%d] is %v: want a finite, non-zero value", sc.Name, i, s)
		}
	}
	return &normalizeOp{mean: mean, std: std}, nil
}

func (o *normalizeOp) Plan(in []Desc) ([]Desc, Scratch, error) {
	x := in[0]
	if err := basicWantF32("input", x, 1); err != nil {
		return nil, Scratch{}, err
	}
	if d := x.Shape[len(x.Shape)-1]; d != len(o.mean) {
		return nil, Scratch{}, fmt.Errorf("input has shape %v, want [..., %d]", x.Shape, len(o.mean))
	}
	return []Desc{{tensor.F32, basicCopyShape(x.Shape)}}, Scratch{}, nil
}

func (o *normalizeOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x, y := in[0].F32, out[0].F32
	d := len(o.mean)
	if d == 0 {
		return nil
	}
	for off := 0; off < len(x); off += d {
		xs, ys := x[off:off+d], y[off:off+d]
		for j, v := range xs {
			ys[j] = (v - o.mean[j]) / o.std[j]
		}
	}
	return nil
}
