package op

import (
	"fmt"

	"github.com/edgerun/edgerun/runtime/tensor"
)

// The 2D operators of image models, channels last (NHWC): Conv2D (im2col
// rows through Linear, so int8 filters run on the int8 GEMM),
// DepthwiseConv2D (direct float32 loops), MaxPool2D, AvgPool2D and the
// global pools. Windows, strides, dilations and padding follow
// TensorFlow: "same" gives ceil(H/stride) outputs with the odd padding
// step on the bottom and right.

func init() {
	convAttrs := []string{"strides", "padding", "dilations", "activation", "alpha"}
	poolAttrs := []string{"size", "strides", "padding"}
	Register(Def{Name: "Conv2D", Attrs: convAttrs, Build: buildConv2D,
		Doc: "y = act(conv2d(x, W) + b), NHWC, zero padding. Inputs: x f32 [B, H, W, C], W [F, Kh, Kw, C] (f32, or i8 per-filter symmetric, axis 0), b [F] (optional). " +
			"Attributes: strides (ints [sh, sw], default [1, 1]); padding (\"valid\", the default; \"same\": H' = ceil(H/sh), total padding max((H'−1)·sh + (Kh−1)·dh + 1 − H, 0), the odd step on the bottom/right; " +
			"or ints [top, left, bottom, right]); dilations (ints [dh, dw], default [1, 1]); activation and alpha as Dense. " +
			"Output [B, H', W', F], H' = floor((H + top + bottom − dh·(Kh−1) − 1)/sh) + 1, the same for W'; an output size below 1 is an error."})
	Register(Def{Name: "DepthwiseConv2D", Attrs: convAttrs, Build: buildDepthwiseConv2D,
		Doc: "y = act(depthwise_conv2d(x, W) + b), NHWC, channel multiplier 1: channel c is convolved with its own filter W[c]. Inputs: x f32 [B, H, W, C], W [C, Kh, Kw] " +
			"(f32, or i8 per-channel symmetric, axis 0: dequantized to f32 at load), b [C] (optional). Attributes and output size as Conv2D; output [B, H', W', C]."})
	Register(Def{Name: "MaxPool2D", Attrs: poolAttrs, Build: func(n *Node) (Kernel, error) { return buildPool2D(n, false) },
		Doc: "Max over windows of the height and width axes. Input x f32 [B, H, W, C]. Attributes: size (ints [kh, kw], required), strides (ints, default size), " +
			"padding (\"valid\", the default, or \"same\" as Conv2D; padded cells are ignored). Output [B, H', W', C], sizes as Conv2D; an output size below 1 is an error."})
	Register(Def{Name: "AvgPool2D", Attrs: poolAttrs, Build: func(n *Node) (Kernel, error) { return buildPool2D(n, true) },
		Doc: "Mean over windows of the height and width axes, of the window's cells inside the input (padding is not counted). Input x f32 [B, H, W, C]. Attributes and output as MaxPool2D."})
	Register(Def{Name: "GlobalAveragePool2D", Build: func(n *Node) (Kernel, error) { return buildGlobalPool2D(n, false) },
		Doc: "Mean over the height and width axes. Input x f32 [B, H, W, C]. Output [B, C]; H·W = 0 gives 0."})
	Register(Def{Name: "GlobalMaxPool2D", Build: func(n *Node) (Kernel, error) { return buildGlobalPool2D(n, true) },
		Doc: "Max over the height and width axes. Input x f32 [B, H, W, C]. Output [B, C]; H·W = 0 gives 0."})
}

// cv2MaxSpan bounds a dilated window and a padded input dimension, so
// that every index the 2D operators compute (a window's start plus a
// dilated offset) fits an int on 32-bit ARM.
const cv2MaxSpan = 1 << 30

// conv2DBlock bounds the elements of the im2col rows (and of the int8
// path's int32 products) Conv2D holds at once, though a block has at
// least one row: its rows are made and multiplied a block at a time, so
// its scratch stays about a megabyte however large the image, instead of
// Kh·Kw times the input. A variable so tests can move it.
var conv2DBlock = 1 << 18

// win2D is the window geometry of a 2D convolution or pool.
type win2D struct {
	kh, kw int    // kernel (pool window) height and width
	sh, sw int    // strides
	dh, dw int    // dilations
	same   bool   // TensorFlow "same" padding, computed per input size
	pad    [4]int // explicit padding: top, left, bottom, right
}

// geom2D is a window geometry applied to one input size: the output
// height and width, and the padding before the first row and column.
type geom2D struct {
	hOut, wOut, top, left int
}

// geometry returns the output size and leading padding for an h×w input,
// or an error when an output dimension would be below 1.
func (g *win2D) geometry(h, w int) (geom2D, error) {
	hOut, top, err := winAxis("height", h, g.kh, g.sh, g.dh, g.pad[0], g.pad[2], g.same)
	if err != nil {
		return geom2D{}, err
	}
	wOut, left, err := winAxis("width", w, g.kw, g.sw, g.dw, g.pad[1], g.pad[3], g.same)
	if err != nil {
		return geom2D{}, err
	}
	return geom2D{hOut: hOut, wOut: wOut, top: top, left: left}, nil
}

// winAxis is one axis of geometry: n cells, a window of k cells dilated
// by d (its span d·(k−1)+1 at most cv2MaxSpan, checked at build), stride
// s, explicit padding lo and hi unless same.
func winAxis(axis string, n, k, s, d, lo, hi int, same bool) (out, before int, err error) {
	span := d*(k-1) + 1
	if same {
		if n < 1 {
			return 0, 0, fmt.Errorf("input %s is %d: \"same\" padding gives no output", axis, n)
		}
		if n > cv2MaxSpan {
			return 0, 0, fmt.Errorf("input %s %d exceeds %d", axis, n, cv2MaxSpan)
		}
		out = n/s + b2i(n%s != 0)
		r := n - (out-1)*s // 1 ≤ r ≤ s: the cells from the last window's start
		return out, max(span-r, 0) / 2, nil
	}
	padded := satAdd(n, lo, hi)
	if padded > cv2MaxSpan {
		return 0, 0, fmt.Errorf("input %s %d with padding %d + %d exceeds %d", axis, n, lo, hi, cv2MaxSpan)
	}
	if padded < span {
		return 0, 0, fmt.Errorf("input %s %d (%d with padding) is smaller than the window's %d (size %d, dilation %d): an output %s below 1", axis, n, padded, span, k, d, axis)
	}
	return (padded-span)/s + 1, lo, nil
}

// winRange returns the window cells [j0, j1) (of k, dilation d) whose
// input index start + j·d lies in [0, n); j0 ≤ j1 ≤ k.
func winRange(start, k, d, n int) (j0, j1 int) {
	if d == 1 { // no division: the common case, once an output cell
		j0 = min(max(-start, 0), k)
		return j0, min(max(n-start, j0), k)
	}
	if start < 0 {
		j0 = min((-start+d-1)/d, k)
	}
	j1 = j0
	if start < n {
		j1 = max(min((n-start+d-1)/d, k), j0)
	}
	return j0, j1
}

// cv2Ints reads an ints attribute of exactly count values, each in
// [lo, 1<<24]; def when absent.
func cv2Ints(n *Node, name string, count int, lo int64, def []int) ([]int, error) {
	a, ok := n.Attrs[name]
	if !ok {
		return def, nil
	}
	if a.Kind != AttrInts {
		return nil, fmt.Errorf("attribute %q must be a list of %d ints", name, count)
	}
	if len(a.Ints) != count {
		return nil, fmt.Errorf("attribute %s = %v has %d values, want %d", name, a.Ints, len(a.Ints), count)
	}
	out := make([]int, count)
	for i, v := range a.Ints {
		if v < lo || v > 1<<24 {
			return nil, fmt.Errorf("attribute %s = %v: value %d is out of range, want %d to %d", name, a.Ints, v, lo, 1<<24)
		}
		out[i] = int(v)
	}
	return out, nil
}

// cv2Window reads strides, padding and, for a convolution (conv),
// dilations into g, whose window size is set. A convolution's padding may
// also be ints [top, left, bottom, right]; a pool's strides default to
// its size.
func cv2Window(n *Node, g *win2D, conv bool) error {
	def := []int{g.kh, g.kw} // a pool's strides: its size
	if conv {
		def = []int{1, 1}
	}
	st, err := cv2Ints(n, "strides", 2, 1, def)
	if err != nil {
		return err
	}
	g.sh, g.sw = st[0], st[1]
	g.dh, g.dw = 1, 1
	if conv {
		dil, err := cv2Ints(n, "dilations", 2, 1, []int{1, 1})
		if err != nil {
			return err
		}
		g.dh, g.dw = dil[0], dil[1]
	}
	// The dilated window must fit in an int with room for the index
	// sums (2²⁴·(2²⁴−1)+1 is more than an int holds on 32-bit ARM).
	for _, a := range []struct {
		name   string
		k, dil int
	}{{"height", g.kh, g.dh}, {"width", g.kw, g.dw}} {
		if span := satAdd(satMul(a.dil, a.k-1), 1); span > cv2MaxSpan {
			return fmt.Errorf("dilation %d × (window %s %d − 1) + 1 exceeds %d", a.dil, a.name, a.k, cv2MaxSpan)
		}
	}
	a, ok := n.Attrs["padding"]
	if !ok {
		return nil
	}
	switch {
	case a.Kind == AttrString && a.String == "same":
		g.same = true
	case a.Kind == AttrString && a.String == "valid":
	case a.Kind == AttrInts && conv:
		p, err := cv2Ints(n, "padding", 4, 0, nil)
		if err != nil {
			return err
		}
		copy(g.pad[:], p)
	case conv:
		return fmt.Errorf("attribute padding = %s, want \"same\", \"valid\" or ints [top, left, bottom, right]", cv2AttrString(a))
	default:
		return fmt.Errorf("attribute padding = %s, want \"same\" or \"valid\"", cv2AttrString(a))
	}
	return nil
}

// cv2AttrString shows an attribute's value in an error.
func cv2AttrString(a Attr) string {
	switch a.Kind {
	case AttrString:
		return fmt.Sprintf("%q", a.String)
	case AttrInt:
		return fmt.Sprintf("%d (an int)", a.Int)
	case AttrFloat:
		return fmt.Sprintf("%g (a float)", a.Float)
	case AttrInts:
		return fmt.Sprint(a.Ints)
	}
	return fmt.Sprintf("an attribute of kind %d", a.Kind)
}

// cv2Act reads the activation and alpha attributes, as Dense does.
func cv2Act(n *Node) (Act, float32, error) {
	s, err := n.StringAttr("activation", "")
	if err != nil {
		return 0, 0, err
	}
	act, err := ParseAct(s)
	if err != nil {
		return 0, 0, err
	}
	alpha, err := n.FloatAttr("alpha", 0.01)
	if err != nil {
		return 0, 0, err
	}
	return act, float32(alpha), nil
}

// cv2CheckImage checks that d is an f32 [B, H, W, C] value (c = -1: any
// C) and returns B, H, W and C.
func cv2CheckImage(d Desc, c int) (b, h, w, ch int, err error) {
	if d.DType != tensor.F32 || len(d.Shape) != 4 || (c >= 0 && d.Shape[3] != c) || min(d.Shape[0], d.Shape[1], d.Shape[2], d.Shape[3]) < 0 {
		want := "C"
		if c >= 0 {
			want = fmt.Sprint(c)
		}
		return 0, 0, 0, 0, fmt.Errorf("input is %s%v, want f32 [B, H, W, %s]", d.DType, d.Shape, want)
	}
	return d.Shape[0], d.Shape[1], d.Shape[2], d.Shape[3], nil
}

// --- Conv2D ---

// conv2D multiplies im2col rows, one per output position, by the filters
// viewed as the matrix [F, Kh·Kw·C] (a row's cells in the order [kh][kw][c],
// W's own), through a Linear: f32 or int8 on the GEMM kernels.
type conv2D struct {
	lin   *Linear
	f, c  int
	win   win2D
	act   Act
	alpha float32
}

func buildConv2D(n *Node) (Kernel, error) {
	w, b, err := convInputs(n, 4)
	if err != nil {
		return nil, err
	}
	s := w.T.Shape
	if min(s[0], s[1], s[2], s[3]) < 1 {
		return nil, fmt.Errorf("filters %q have shape %v, want [F, Kh, Kw, C] with every dimension at least 1", w.Name, s)
	}
	if w.T.DType != tensor.F32 && w.T.DType != tensor.I8 {
		return nil, fmt.Errorf("filters %q are %s, want f32 or i8", w.Name, w.T.DType)
	}
	k := &conv2D{f: s[0], c: s[3], win: win2D{kh: s[1], kw: s[2]}}
	// The attributes before the weights are packed.
	if err := cv2Window(n, &k.win, true); err != nil {
		return nil, err
	}
	if k.act, k.alpha, err = cv2Act(n); err != nil {
		return nil, err
	}
	// W [F, Kh, Kw, C] is the matrix [F, Kh·Kw·C] the im2col rows multiply.
	view := *w
	view.T = &tensor.Tensor{DType: w.T.DType, Shape: tensor.Shape{k.f, satMul(s[1], s[2], s[3])}, F32: w.T.F32, I8: w.T.I8}
	if err := view.T.Check(); err != nil {
		return nil, fmt.Errorf("filters %q: %w", w.Name, err)
	}
	if k.lin, err = NewLinear(&view, b); err != nil {
		return nil, err
	}
	return k, nil
}

// direct reports whether x itself is the im2col matrix [B·H·W, C] (a
// pointwise convolution: 1×1 window, stride 1, no padding).
func (k *conv2D) direct() bool {
	g := &k.win
	return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pad == [4]int{}
}

// block is the number of im2col rows Run makes and multiplies at once,
// for m rows in all.
func (k *conv2D) block(m int) int {
	return max(1, min(m, conv2DBlock/max(k.lin.K, k.lin.N, 1)))
}

type conv2DState struct{ lin *linearTask }

func (k *conv2D) NewState() any { return &conv2DState{lin: k.lin.NewTask()} }

func (k *conv2D) Plan(in []Desc) ([]Desc, Scratch, error) {
	b, h, w, _, err := cv2CheckImage(cvInDesc(in, 0), k.c)
	if err != nil {
		return nil, Scratch{}, err
	}
	g, err := k.win.geometry(h, w)
	if err != nil {
		return nil, Scratch{}, err
	}
	m := satMul(b, g.hOut, g.wOut)
	var sc Scratch
	if k.direct() {
		sc = k.lin.Scratch(m)
	} else {
		blk := k.block(m)
		sc = k.lin.Scratch(blk)
		sc.F32 = satAdd(sc.F32, satMul(blk, k.lin.K))
	}
	return []Desc{{tensor.F32, tensor.Shape{b, g.hOut, g.wOut, k.f}}}, sc, nil
}

func (k *conv2D) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	st, ok := ctx.State.(*conv2DState)
	if !ok {
		return fmt.Errorf("Conv2D: no session state")
	}
	x := in[0]
	b, h, w := x.Shape[0], x.Shape[1], x.Shape[2]
	g, err := k.win.geometry(h, w)
	if err != nil {
		return err
	}
	m := b * g.hOut * g.wOut
	if m == 0 {
		return nil
	}
	y := out[0].F32
	if k.direct() {
		k.lin.Forward(ctx, st.lin, y, x.F32, m, k.act, k.alpha)
		return nil
	}
	kk, f := k.lin.K, k.f
	blk := k.block(m)
	cols := ctx.F32[:blk*kk]
	sub := Ctx{Par: ctx.Par, F32: ctx.F32[blk*kk:], U8: ctx.U8, I32: ctx.I32, Int8Off: ctx.Int8Off}
	for r0 := 0; r0 < m; r0 += blk {
		r1 := min(r0+blk, m)
		k.im2col(cols[:(r1-r0)*kk], x.F32, h, w, g, r0, r1)
		k.lin.Forward(&sub, st.lin, y[r0*f:r1*f], cols, r1-r0, k.act, k.alpha)
	}
	return nil
}

// im2col writes the receptive fields of output positions [r0, r1) (of
// all B·H'·W', row-major) to cols, one row of Kh·Kw·C each in W's order
// [kh][kw][c]; cells in the padding are 0.
func (k *conv2D) im2col(cols, x []float32, h, w int, g geom2D, r0, r1 int) {
	win, c := &k.win, k.c
	rowLen := win.kw * c // one kernel row's cells
	kk := win.kh * rowLen
	img := h * w * c
	// Row r is output cell (bi, oh, ow): divided out once, then counted.
	bi, p := r0/(g.hOut*g.wOut), r0%(g.hOut*g.wOut)
	oh, ow := p/g.wOut, p%g.wOut
	for r := r0; r < r1; r++ {
		if ow == g.wOut {
			ow, oh = 0, oh+1
			if oh == g.hOut {
				oh, bi = 0, bi+1
			}
		}
		dst := cols[(r-r0)*kk : (r-r0+1)*kk]
		ih0 := oh*win.sh - g.top
		iw0 := ow*win.sw - g.left
		ow++
		i0, i1 := winRange(ih0, win.kh, win.dh, h)
		j0, j1 := winRange(iw0, win.kw, win.dw, w)
		xb := x[bi*img : (bi+1)*img]
		clear(dst[:i0*rowLen])
		for i := i0; i < i1; i++ {
			d := dst[i*rowLen : (i+1)*rowLen]
			src := xb[(ih0+i*win.dh)*w*c:]
			clear(d[:j0*c])
			switch {
			case j0 == j1: // every column in the padding
			case win.dw == 1:
				copy(d[j0*c:j1*c], src[(iw0+j0)*c:(iw0+j1)*c])
			default:
				for j := j0; j < j1; j++ {
					iw := iw0 + j*win.dw
					copy(d[j*c:(j+1)*c], src[iw*c:(iw+1)*c])
				}
			}
			clear(d[j1*c:])
		}
		clear(dst[i1*rowLen:])
	}
}

// --- DepthwiseConv2D ---

// depthwise2D convolves each channel with its own filter in direct
// float32 loops: per output cell, the bias, then the window's products
// in row-major window order, each rounded to float32 before it is added
// (no fused multiply-add), so the bits are the same on every
// architecture. Int8 filters are dequantized at build (q·scale of their
// channel, as Const.F32) and run in f32.
type depthwise2D struct {
	c     int
	win   win2D
	w     []float32 // [Kh·Kw, C]: the filters transposed, channels innermost
	bias  []float32 // C, or nil
	act   Act
	alpha float32
}

func buildDepthwiseConv2D(n *Node) (Kernel, error) {
	w, b, err := convInputs(n, 3)
	if err != nil {
		return nil, err
	}
	s := w.T.Shape
	if min(s[0], s[1], s[2]) < 1 {
		return nil, fmt.Errorf("filters %q have shape %v, want [C, Kh, Kw] with every dimension at least 1", w.Name, s)
	}
	c, kh, kw := s[0], s[1], s[2]
	switch w.T.DType {
	case tensor.F32:
	case tensor.I8:
		if w.Axis != 0 || len(w.Scales) != c {
			return nil, fmt.Errorf("int8 filters %q must be quantized per channel (axis 0, %d scales), have axis %d with %d scales", w.Name, c, w.Axis, len(w.Scales))
		}
	default:
		return nil, fmt.Errorf("filters %q are %s, want f32 or i8", w.Name, w.T.DType)
	}
	k := &depthwise2D{c: c, win: win2D{kh: kh, kw: kw}}
	if err := cv2Window(n, &k.win, true); err != nil {
		return nil, err
	}
	if k.act, k.alpha, err = cv2Act(n); err != nil {
		return nil, err
	}
	if err := w.T.Check(); err != nil {
		return nil, fmt.Errorf("filters %q: %w", w.Name, err)
	}
	vals, err := w.F32()
	if err != nil {
		return nil, err
	}
	k.w = make([]float32, len(vals))
	for ch := range c {
		for p := range kh * kw {
			k.w[p*c+ch] = vals[ch*kh*kw+p]
		}
	}
	if b != nil {
		if k.bias, err = b.F32(); err != nil {
			return nil, err
		}
		if len(k.bias) != c {
			return nil, fmt.Errorf("bias %q has %d values, want %d (the channels)", b.Name, len(k.bias), c)
		}
	}
	return k, nil
}

func (k *depthwise2D) Plan(in []Desc) ([]Desc, Scratch, error) {
	b, h, w, _, err := cv2CheckImage(cvInDesc(in, 0), k.c)
	if err != nil {
		return nil, Scratch{}, err
	}
	g, err := k.win.geometry(h, w)
	if err != nil {
		return nil, Scratch{}, err
	}
	var sc Scratch
	if k.act == ActGELU { // one output row's GELU scratch
		sc.F32 = satMul(g.wOut, k.c)
	}
	return []Desc{{tensor.F32, tensor.Shape{b, g.hOut, g.wOut, k.c}}}, sc, nil
}

// win2DState is the per-session state of DepthwiseConv2D and the
// windowed pools: one Run's output rows (B·H' of them), handed out in
// blocks (each row is computed from its sample alone, the same bits
// however the rows are grouped).
type win2DState struct {
	x, y  []float32
	h, w  int
	c     int // channels
	g     geom2D
	rows  int
	tmp   []float32 // the activation's scratch when one goroutine does every row
	rs    rowShare
	rowFn func(st *win2DState, r0, r1 int)
}

func (st *win2DState) run(r0, r1 int) { st.rowFn(st, r0, r1) }

func newWin2DState(rowFn func(st *win2DState, r0, r1 int)) *win2DState {
	st := &win2DState{rowFn: rowFn}
	st.rs.run = st.run
	return st
}

// do computes every output row, perRow element operations each.
func (st *win2DState) do(ctx *Ctx, x, y []float32, h, w, c int, g geom2D, batch, perRow int) {
	st.x, st.y, st.h, st.w, st.c, st.g, st.rows = x, y, h, w, c, g, batch*g.hOut
	st.rs.do(ctx, st.rows, perRow, 1)
	st.x, st.y, st.tmp = nil, nil, nil
}

func (k *depthwise2D) NewState() any { return newWin2DState(k.rows) }

func (k *depthwise2D) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	b, h, w := x.Shape[0], x.Shape[1], x.Shape[2]
	g, err := k.win.geometry(h, w)
	if err != nil {
		return err
	}
	st, ok := ctx.State.(*win2DState)
	if !ok { // no session state: a throwaway one (allocates), rows on the caller
		st = newWin2DState(k.rows)
	}
	if k.act == ActGELU {
		st.tmp = ctx.F32[:g.wOut*k.c]
	}
	st.do(ctx, x.F32, out[0].F32, h, w, k.c, g, b, satMul(g.wOut, k.c, k.win.kh, k.win.kw))
	return nil
}

// rows computes output rows [r0, r1) (row r: sample r / H', output row
// r mod H').
func (k *depthwise2D) rows(st *win2DState, r0, r1 int) {
	win, c, g := &k.win, k.c, st.g
	h, w := st.h, st.w
	img := h * w * c
	rowLen := g.wOut * c
	var tmp []float32 // GELU's scratch: the session's when this call does every row, else pooled
	if r0 == 0 && r1 == st.rows {
		tmp = st.tmp
	}
	for r := r0; r < r1; r++ {
		bi, oh := r/g.hOut, r%g.hOut
		ih0 := oh*win.sh - g.top
		i0, i1 := winRange(ih0, win.kh, win.dh, h)
		xb := st.x[bi*img : (bi+1)*img]
		yr := st.y[r*rowLen : (r+1)*rowLen]
		for ow := 0; ow < g.wOut; ow++ {
			dst := yr[ow*c : (ow+1)*c]
			if k.bias != nil {
				copy(dst, k.bias)
			} else {
				clear(dst)
			}
			iw0 := ow*win.sw - g.left
			j0, j1 := winRange(iw0, win.kw, win.dw, w)
			for i := i0; i < i1; i++ {
				xr := xb[(ih0+i*win.dh)*w*c:]
				wr := k.w[i*win.kw*c:]
				for j := j0; j < j1; j++ {
					dwMulAdd(dst, xr[(iw0+j*win.dw)*c:], wr[j*c:])
				}
			}
		}
		k.act.ApplyTmp(yr, tmp, k.alpha)
	}
}

// dwMulAdd adds float32(x[i]·w[i]) to dst[i] for i < len(dst): the
// product rounded to float32 first, so no architecture fuses it into a
// multiply-add.
func dwMulAdd(dst, x, w []float32) {
	x, w = x[:len(dst)], w[:len(dst)]
	for i := range dst {
		dst[i] += float32(x[i] * w[i])
	}
}

// --- MaxPool2D, AvgPool2D ---

type pool2D struct {
	win win2D
	avg bool
}

func buildPool2D(n *Node, avg bool) (Kernel, error) {
	if err := wantInputs(n, 1, 1); err != nil {
		return nil, err
	}
	if _, ok := n.Attrs["size"]; !ok {
		return nil, fmt.Errorf("attribute size is required")
	}
	size, err := cv2Ints(n, "size", 2, 1, nil)
	if err != nil {
		return nil, err
	}
	p := &pool2D{win: win2D{kh: size[0], kw: size[1]}, avg: avg}
	if err := cv2Window(n, &p.win, false); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *pool2D) Plan(in []Desc) ([]Desc, Scratch, error) {
	b, h, w, c, err := cv2CheckImage(cvInDesc(in, 0), -1)
	if err != nil {
		return nil, Scratch{}, err
	}
	g, err := p.win.geometry(h, w)
	if err != nil {
		return nil, Scratch{}, err
	}
	return []Desc{{tensor.F32, tensor.Shape{b, g.hOut, g.wOut, c}}}, Scratch{}, nil
}

func (p *pool2D) NewState() any { return newWin2DState(p.rows) }

func (p *pool2D) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	b, h, w, c := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	g, err := p.win.geometry(h, w)
	if err != nil {
		return err
	}
	if c == 0 {
		return nil
	}
	st, ok := ctx.State.(*win2DState)
	if !ok { // no session state: a throwaway one (allocates), rows on the caller
		st = newWin2DState(p.rows)
	}
	st.do(ctx, x.F32, out[0].F32, h, w, c, g, b, satMul(g.wOut, c, p.win.kh, p.win.kw))
	return nil
}

// rows computes output rows [r0, r1) of the pool. Every window of
// "valid" and "same" padding holds at least one input cell; the mean
// divides the float32 sum, in row-major window order, by their count.
func (p *pool2D) rows(st *win2DState, r0, r1 int) {
	win, g := &p.win, st.g
	h, w, c := st.h, st.w, st.c
	img := h * w * c
	rowLen := g.wOut * c
	for r := r0; r < r1; r++ {
		bi, oh := r/g.hOut, r%g.hOut
		ih0 := oh*win.sh - g.top
		i0, i1 := winRange(ih0, win.kh, 1, h)
		xb := st.x[bi*img : (bi+1)*img]
		yr := st.y[r*rowLen : (r+1)*rowLen]
		for ow := 0; ow < g.wOut; ow++ {
			dst := yr[ow*c : (ow+1)*c]
			iw0 := ow*win.sw - g.left
			j0, j1 := winRange(iw0, win.kw, 1, w)
			if i0 >= i1 || j0 >= j1 {
				clear(dst) // no input cell (not with "valid" or "same")
				continue
			}
			first := true
			for i := i0; i < i1; i++ {
				xr := xb[(ih0+i)*w*c:]
				for j := j0; j < j1; j++ {
					src := xr[(iw0+j)*c : (iw0+j+1)*c]
					src = src[:len(dst)]
					switch {
					case first:
						copy(dst, src)
						first = false
					case p.avg:
						for q, v := range src {
							dst[q] += v
						}
					default:
						for q, v := range src {
							dst[q] = max(dst[q], v)
						}
					}
				}
			}
			if p.avg {
				n := float32((i1 - i0) * (j1 - j0))
				for q := range dst {
					dst[q] /= n
				}
			}
		}
	}
}

// --- GlobalAveragePool2D, GlobalMaxPool2D ---

type globalPool2D struct{ max bool }

func buildGlobalPool2D(n *Node, isMax bool) (Kernel, error) {
	if err := wantInputs(n, 1, 1); err != nil {
		return nil, err
	}
	return globalPool2D{max: isMax}, nil
}

func (globalPool2D) Plan(in []Desc) ([]Desc, Scratch, error) {
	b, _, _, c, err := cv2CheckImage(cvInDesc(in, 0), -1)
	if err != nil {
		return nil, Scratch{}, err
	}
	return []Desc{{tensor.F32, tensor.Shape{b, c}}}, Scratch{}, nil
}

// Run reduces each sample's H·W cells in order: the float32 sum divided
// by H·W, or the max.
func (p globalPool2D) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x, y := in[0], out[0]
	b, h, w, c := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	if c == 0 {
		return nil
	}
	cells := h * w
	if cells == 0 {
		clear(y.F32)
		return nil
	}
	for bi := 0; bi < b; bi++ {
		dst := y.F32[bi*c : (bi+1)*c]
		xb := x.F32[bi*cells*c : (bi+1)*cells*c]
		copy(dst, xb[:c])
		for q := 1; q < cells; q++ {
			src := xb[q*c : (q+1)*c]
			src = src[:len(dst)]
			if p.max {
				for i, v := range src {
					dst[i] = max(dst[i], v)
				}
			} else {
				for i, v := range src {
					dst[i] += v
				}
			}
		}
		if !p.max {
			n := float32(cells)
			for i := range dst {
				dst[i] /= n
			}
		}
	}
	return nil
}
