package op

import (
	"fmt"

	"github.com/edgerun/edgerun/runtime/tensor"
)

func init() {
	Register(Def{Name: "Conv1D", Attrs: []string{"stride", "padding", "dilation", "activation", "alpha"}, Build: buildConv1D,
		Doc: "y = act(conv1d(x, W) + b), channels last, zero padding. Inputs: x [B, T, C], W [F, Kw, C] (f32, or i8 per-filter symmetric), b [F] (optional). " +
			"Attributes: stride (1), padding (int per side, 0; or \"valid\", or \"same\": T' = ceil(T/stride), the odd padding step on the right), dilation (1), " +
			"activation and alpha as Dense. Output [B, T', F], T' = floor((T + 2·pad − dilation·(Kw−1) − 1)/stride) + 1; an input shorter than the window is an error."})
	Register(Def{Name: "MaxPool1D", Attrs: []string{"size", "stride"}, Build: buildMaxPool1D,
		Doc: "Max over windows of the time axis. Input x [B, T, C]. Attributes: size (required), stride (default size). Output [B, floor((T − size)/stride) + 1, C]; T < size is an error."})
	Register(Def{Name: "GlobalAveragePool1D", Build: buildGlobalAveragePool1D,
		Doc: "Mean over the time axis. Inputs: x [B, T, C], mask [B, T] (optional; a step counts where the mask is nonzero). Output [B, C]; a row with no valid step (or T = 0) gives 0."})
}

// cvInDesc is in[i], or the zero Desc of an absent input.
func cvInDesc(in []Desc, i int) Desc {
	if i < len(in) {
		return in[i]
	}
	return Desc{}
}

// cvCheckSeq checks that d is an f32 [B, T, C] value (C = -1: any) and
// returns B, T and C.
func cvCheckSeq(d Desc, what string, c int) (int, int, int, error) {
	if d.DType != tensor.F32 || len(d.Shape) != 3 || (c >= 0 && d.Shape[2] != c) || min(d.Shape[0], d.Shape[1], d.Shape[2]) < 0 {
		want := "C"
		if c >= 0 {
			want = fmt.Sprint(c)
		}
		return 0, 0, 0, fmt.Errorf("%s is %s%v, want f32 [B, T, %s]", what, d.DType, d.Shape, want)
	}
	return d.Shape[0], d.Shape[1], d.Shape[2], nil
}

// cvCheckMask checks an optional mask input: absent, or f32 [b, t].
func cvCheckMask(d Desc, b, t int) error {
	if d.DType == 0 && d.Shape == nil {
		return nil
	}
	if d.DType != tensor.F32 || len(d.Shape) != 2 || d.Shape[0] != b || d.Shape[1] != t {
		return fmt.Errorf("mask is %s%v, want f32 [%d, %d]", d.DType, d.Shape, b, t)
	}
	return nil
}

// cvIntAttr reads an int attribute that must lie in [lo, 1<<24].
func cvIntAttr(n *Node, name string, def int64, lo int64) (int, error) {
	v, err := n.IntAttr(name, def)
	if err != nil {
		return 0, err
	}
	if v < lo || v > 1<<24 {
		return 0, fmt.Errorf("attribute %s = %d, want %d to %d", name, v, lo, 1<<24)
	}
	return int(v), nil
}

// Padding modes of Conv1D.
const (
	convPadExplicit = iota
	convPadSame
)

type conv1D struct {
	lin                   *Linear
	f, kw, c              int
	stride, dilation, pad int // pad: per side, convPadExplicit mode only
	padMode               int
	act                   Act
	alpha                 float32
}

// convInputs reads a convolution's inputs: x, the filters (a constant of
// rank rank) and an optional bias (a constant vector).
func convInputs(n *Node, rank int) (w, b *Const, err error) {
	if err := wantInputs(n, 2, 3); err != nil {
		return nil, nil, err
	}
	if w, err = n.ConstInput(1, "filters", rank); err != nil {
		return nil, nil, err
	}
	if b, err = n.OptConstInput(2, "bias", 1); err != nil {
		return nil, nil, err
	}
	return w, b, nil
}

func buildConv1D(n *Node) (Kernel, error) {
	w, b, err := convInputs(n, 3)
	if err != nil {
		return nil, err
	}
	k := &conv1D{f: w.T.Shape[0], kw: w.T.Shape[1], c: w.T.Shape[2]}
	if k.kw < 1 {
		return nil, fmt.Errorf("filters %q have shape %v: kernel width must be at least 1", w.Name, w.T.Shape)
	}
	// W [F, Kw, C] is the matrix [F, Kw·C] the im2col rows multiply.
	view := *w
	view.T = &tensor.Tensor{DType: w.T.DType, Shape: tensor.Shape{k.f, k.kw * k.c}, F32: w.T.F32, I8: w.T.I8}
	if err := view.T.Check(); err != nil {
		return nil, fmt.Errorf("filters %q: %w", w.Name, err)
	}
	if k.lin, err = NewLinear(&view, b); err != nil {
		return nil, err
	}
	if k.stride, err = cvIntAttr(n, "stride", 1, 1); err != nil {
		return nil, err
	}
	if k.dilation, err = cvIntAttr(n, "dilation", 1, 1); err != nil {
		return nil, err
	}
	// The dilated window, dilation·(Kw−1)+1, must fit in an int with room
	// for the geometry's sums (it is up to 2⁵⁰ on 32-bit ARM otherwise).
	if span := satAdd(satMul(k.dilation, k.kw-1), 1); span > 1<<30 {
		return nil, fmt.Errorf("dilation %d × (kernel width %d − 1) + 1 exceeds %d", k.dilation, k.kw, 1<<30)
	}
	if a, ok := n.Attrs["padding"]; ok {
		switch {
		case a.Kind == AttrString && a.String == "same":
			k.padMode = convPadSame
		case a.Kind == AttrString && a.String == "valid":
		case a.Kind == AttrString:
			return nil, fmt.Errorf("attribute padding = %q, want \"same\", \"valid\" or an int", a.String)
		case a.Kind == AttrInt:
			if k.pad, err = cvIntAttr(n, "padding", 0, 0); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("attribute %q must be an int or a string", "padding")
		}
	}
	s, err := n.StringAttr("activation", "")
	if err != nil {
		return nil, err
	}
	if k.act, err = ParseAct(s); err != nil {
		return nil, err
	}
	alpha, err := n.FloatAttr("alpha", 0.01)
	if err != nil {
		return nil, err
	}
	k.alpha = float32(alpha)
	return k, nil
}

// geometry returns the output length and the padding before the first
// step for an input of t steps, or an error when no window fits.
func (k *conv1D) geometry(t int) (tOut, padL int, err error) {
	span := k.dilation*(k.kw-1) + 1 // the dilated window
	if k.padMode == convPadSame {
		tOut = (t + k.stride - 1) / k.stride
		total := max((tOut-1)*k.stride+span-t, 0)
		return tOut, total / 2, nil
	}
	if t+2*k.pad < span {
		return 0, 0, fmt.Errorf("input has %d steps, %d with padding, shorter than the dilated kernel width %d", t, t+2*k.pad, span)
	}
	return (t+2*k.pad-span)/k.stride + 1, k.pad, nil
}

// direct reports whether x itself is the im2col matrix (a pointwise
// convolution).
func (k *conv1D) direct() bool {
	return k.kw == 1 && k.stride == 1 && k.pad == 0 && k.padMode == convPadExplicit
}

type conv1DState struct{ lin *linearTask }

func (k *conv1D) NewState() any { return &conv1DState{lin: k.lin.NewTask()} }

func (k *conv1D) Plan(in []Desc) ([]Desc, Scratch, error) {
	b, t, _, err := cvCheckSeq(cvInDesc(in, 0), "input", k.c)
	if err != nil {
		return nil, Scratch{}, err
	}
	tOut, _, err := k.geometry(t)
	if err != nil {
		return nil, Scratch{}, err
	}
	m := satMul(b, tOut)
	sc := k.lin.Scratch(m)
	if !k.direct() {
		sc.F32 = satAdd(sc.F32, satMul(m, k.kw, k.c))
	}
	return []Desc{{tensor.F32, tensor.Shape{b, tOut, k.f}}}, sc, nil
}

func (k *conv1D) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	st, ok := ctx.State.(*conv1DState)
	if !ok {
		return fmt.Errorf("Conv1D: no session state")
	}
	x := in[0]
	b, t := x.Shape[0], x.Shape[1]
	tOut, padL, err := k.geometry(t)
	if err != nil {
		return err
	}
	m := b * tOut
	cols, rest := x.F32, ctx.F32
	if !k.direct() {
		row := k.kw * k.c
		cols, rest = ctx.F32[:m*row], ctx.F32[m*row:]
		for bi := 0; bi < b; bi++ {
			xb := x.F32[bi*t*k.c : (bi+1)*t*k.c]
			for o := 0; o < tOut; o++ {
				dst := cols[(bi*tOut+o)*row : (bi*tOut+o+1)*row]
				start := o*k.stride - padL
				for j := 0; j < k.kw; j++ {
					d := dst[j*k.c : (j+1)*k.c]
					if p := start + j*k.dilation; p >= 0 && p < t {
						copy(d, xb[p*k.c:(p+1)*k.c])
					} else {
						clear(d)
					}
				}
			}
		}
	}
	sub := Ctx{Par: ctx.Par, F32: rest, U8: ctx.U8, I32: ctx.I32, Int8Off: ctx.Int8Off}
	k.lin.Forward(&sub, st.lin, out[0].F32, cols, m, k.act, k.alpha)
	return nil
}

type maxPool1D struct{ size, stride int }

func buildMaxPool1D(n *Node) (Kernel, error) {
	if err := wantInputs(n, 1, 1); err != nil {
		return nil, err
	}
	if _, ok := n.Attrs["size"]; !ok {
		return nil, fmt.Errorf("attribute size is required")
	}
	size, err := cvIntAttr(n, "size", 0, 1)
	if err != nil {
		return nil, err
	}
	stride, err := cvIntAttr(n, "stride", int64(size), 1)
	if err != nil {
		return nil, err
	}
	return &maxPool1D{size: size, stride: stride}, nil
}

func (p *maxPool1D) Plan(in []Desc) ([]Desc, Scratch, error) {
	b, t, c, err := cvCheckSeq(cvInDesc(in, 0), "input", -1)
	if err != nil {
		return nil, Scratch{}, err
	}
	if t < p.size {
		return nil, Scratch{}, fmt.Errorf("input has %d steps, fewer than the pool size %d", t, p.size)
	}
	return []Desc{{tensor.F32, tensor.Shape{b, (t-p.size)/p.stride + 1, c}}}, Scratch{}, nil
}

func (p *maxPool1D) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x, y := in[0], out[0]
	b, t, c := x.Shape[0], x.Shape[1], x.Shape[2]
	if t < p.size {
		return fmt.Errorf("MaxPool1D: input has %d steps, fewer than the pool size %d", t, p.size)
	}
	tOut := (t-p.size)/p.stride + 1
	for bi := 0; bi < b; bi++ {
		for o := 0; o < tOut; o++ {
			dst := y.F32[(bi*tOut+o)*c : (bi*tOut+o+1)*c]
			src := bi*t + o*p.stride
			copy(dst, x.F32[src*c:(src+1)*c])
			for j := 1; j < p.size; j++ {
				row := x.F32[(src+j)*c : (src+j+1)*c]
				row = row[:len(dst)]
				for i, v := range row {
					dst[i] = max(dst[i], v)
				}
			}
		}
	}
	return nil
}

type globalAveragePool1D struct{}

func buildGlobalAveragePool1D(n *Node) (Kernel, error) {
	if err := wantInputs(n, 1, 2); err != nil {
		return nil, err
	}
	return globalAveragePool1D{}, nil
}

func (globalAveragePool1D) Plan(in []Desc) ([]Desc, Scratch, error) {
	b, t, c, err := cvCheckSeq(cvInDesc(in, 0), "input", -1)
	if err != nil {
		return nil, Scratch{}, err
	}
	if err := cvCheckMask(cvInDesc(in, 1), b, t); err != nil {
		return nil, Scratch{}, err
	}
	return []Desc{{tensor.F32, tensor.Shape{b, c}}}, Scratch{}, nil
}

func (globalAveragePool1D) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x, y := in[0], out[0]
	b, t, c := x.Shape[0], x.Shape[1], x.Shape[2]
	var mask []float32
	if len(in) > 1 && in[1] != nil {
		mask = in[1].F32
	}
	for bi := 0; bi < b; bi++ {
		dst := y.F32[bi*c : (bi+1)*c]
		clear(dst)
		count := 0
		for ti := 0; ti < t; ti++ {
			if mask != nil && mask[bi*t+ti] == 0 {
				continue
			}
			count++
			row := x.F32[(bi*t+ti)*c : (bi*t+ti+1)*c]
			row = row[:len(dst)]
			for i, v := range row {
				dst[i] += v
			}
		}
		if count > 0 {
			n := float32(count)
			for i := range dst {
				dst[i] /= n
			}
		}
	}
	return nil
}
