package train

import (
	"fmt"
	"math/rand/v2"

	"github.com/edgerun/edgerun/format"
	"gonum.org/v1/gonum/mat"
)

// Sequence layers (Conv1D, MaxPool1D, GlobalAveragePool1D, LayerNorm,
// MultiHeadAttention, AddPositional) take a Batch of B examples × T steps:
// X has B·T rows (row b·T + t) of C channels, the host form of the
// engine's channels-last [B, T, C] value.

// seqDims checks that in is a sequence batch and returns B, T and C.
func seqDims(in *Batch, who string) (b, t, c int) {
	r, c := in.X.Dims()
	if in.T <= 0 || in.B <= 0 || in.B*in.T != r {
		panic(fmt.Sprintf("train: %s needs a sequence batch (B·T rows), got %d rows with B=%d, T=%d", who, r, in.B, in.T))
	}
	return in.B, in.T, c
}

// seqData returns the row-major data of m (a copy when m is a strided view).
func seqData(m *mat.Dense) []float64 {
	raw := m.RawMatrix()
	if raw.Stride == raw.Cols {
		return raw.Data[:raw.Rows*raw.Cols]
	}
	var c mat.Dense
	c.CloneFrom(m)
	return c.RawMatrix().Data
}

// Conv1D is the engine's Conv1D: y = act(conv1d(x, W) + b) over the time
// axis, channels last, zero padding. W is [F, Kw, C] (F filters of Kw
// steps by C channels); the output has F channels and T' steps.
type Conv1D struct {
	W, B     *Param
	Stride   int
	Dilation int
	// Padding is "same" (T' = ceil(T/Stride), the odd padding step on the
	// right, as Keras) or "valid" (no padding).
	Padding string
	Act     Activation

	// The last Forward (training): the im2col matrix, pre-activation and
	// output, and the geometry.
	cols        *mat.Dense
	z, y        []float64
	bn, t, tOut int
	padL        int
}

// NewConv1D makes a Conv1D of f filters of width kw over c channels with
// Glorot-uniform weights (fan-in kw·c, fan-out kw·f) and zero bias.
// padding is "same" or "valid"; stride and dilation below 1 mean 1.
func NewConv1D(rng *rand.Rand, c, f, kw int, padding string, stride, dilation int, act Activation) *Conv1D {
	if padding != "same" && padding != "valid" {
		panic(fmt.Sprintf("train: Conv1D padding %q, want \"same\" or \"valid\"", padding))
	}
	l := &Conv1D{W: newParam("w", true, f, kw, c), B: newParam("b", false, f),
		Stride: max(stride, 1), Dilation: max(dilation, 1), Padding: padding, Act: act}
	l.W.glorot(rng, kw*c, kw*f)
	return l
}

// Filters, Width and Channels are F, Kw and C.
func (l *Conv1D) Filters() int  { return l.W.Shape[0] }
func (l *Conv1D) Width() int    { return l.W.Shape[1] }
func (l *Conv1D) Channels() int { return l.W.Shape[2] }

// Geometry returns the output length and the left padding for an input
// of t steps, as the engine computes them; ok is false when no window fits.
func (l *Conv1D) Geometry(t int) (tOut, padL int, ok bool) {
	span := l.Dilation*(l.Width()-1) + 1
	if l.Padding == "same" {
		tOut = (t + l.Stride - 1) / l.Stride
		total := max((tOut-1)*l.Stride+span-t, 0)
		return tOut, total / 2, t > 0
	}
	if t < span {
		return 0, 0, false
	}
	return (t-span)/l.Stride + 1, 0, true
}

// Forward gathers the windows into an im2col matrix [B·T', Kw·C] and
// multiplies it by W viewed as [F, Kw·C].
func (l *Conv1D) Forward(in *Batch, train bool) *Batch {
	bn, t, c := seqDims(in, "Conv1D")
	if c != l.Channels() {
		panic(fmt.Sprintf("train: Conv1D has %d input channels, got %d", l.Channels(), c))
	}
	tOut, padL, ok := l.Geometry(t)
	if !ok {
		panic(fmt.Sprintf("train: Conv1D: %d steps are shorter than the dilated kernel width %d", t, l.Dilation*(l.Width()-1)+1))
	}
	kw, f := l.Width(), l.Filters()
	row := kw * c
	x := seqData(in.X)
	cols := mat64(bn*tOut, row)
	cd := cols.RawMatrix().Data
	for b := 0; b < bn; b++ {
		for o := 0; o < tOut; o++ {
			dst := cd[(b*tOut+o)*row : (b*tOut+o+1)*row]
			start := o*l.Stride - padL
			for j := 0; j < kw; j++ {
				if p := start + j*l.Dilation; p >= 0 && p < t {
					copy(dst[j*c:(j+1)*c], x[(b*t+p)*c:(b*t+p+1)*c])
				}
			}
		}
	}
	z := mat64(bn*tOut, f)
	z.Mul(cols, mat.NewDense(f, row, l.W.W).T())
	zd := z.RawMatrix().Data
	for i := 0; i < bn*tOut; i++ {
		r := zd[i*f : (i+1)*f]
		for j, v := range l.B.W {
			r[j] += v
		}
	}
	y := z
	if l.Act != Linear {
		y = mat64(bn*tOut, f)
		l.Act.apply(y.RawMatrix().Data, zd)
	}
	l.cols, l.z, l.y = cols, zd, y.RawMatrix().Data
	l.bn, l.t, l.tOut, l.padL = bn, t, tOut, padL
	out := &Batch{X: y, B: bn, T: tOut}
	if tOut == t {
		out.Mask = in.Mask // same steps: the mask still applies
	}
	return out
}

// Backward accumulates dW = dZᵀ·cols and db, and scatters dZ·W back over
// the windows into dX.
func (l *Conv1D) Backward(dout *mat.Dense) *mat.Dense {
	f, kw, c := l.Filters(), l.Width(), l.Channels()
	row := kw * c
	dz := mat64(l.bn*l.tOut, f)
	dz.Copy(dout)
	dzd := dz.RawMatrix().Data
	if l.Act != Linear {
		l.Act.grad(dzd, l.z, l.y)
	}
	var dw mat.Dense
	dw.Mul(dz.T(), l.cols)
	g := mat.NewDense(f, row, l.W.G)
	g.Add(g, &dw)
	for i := 0; i < l.bn*l.tOut; i++ {
		for j, v := range dzd[i*f : (i+1)*f] {
			l.B.G[j] += v
		}
	}
	var dcols mat.Dense
	dcols.Mul(dz, mat.NewDense(f, row, l.W.W))
	dc := dcols.RawMatrix().Data
	dx := mat64(l.bn*l.t, c)
	dxd := dx.RawMatrix().Data
	for b := 0; b < l.bn; b++ {
		for o := 0; o < l.tOut; o++ {
			src := dc[(b*l.tOut+o)*row : (b*l.tOut+o+1)*row]
			start := o*l.Stride - l.padL
			for j := 0; j < kw; j++ {
				if p := start + j*l.Dilation; p >= 0 && p < l.t {
					d := dxd[(b*l.t+p)*c : (b*l.t+p+1)*c]
					for k, v := range src[j*c : (j+1)*c] {
						d[k] += v
					}
				}
			}
		}
	}
	return dx
}

// Params are W and b.
func (l *Conv1D) Params() []*Param { return []*Param{l.W, l.B} }

// Export writes a Conv1D node (W int8 per filter when quantizing).
func (l *Conv1D) Export(e *Exporter, in string) (string, error) {
	name := e.Unique("conv1d")
	w := e.Matrix(name+"/w", l.W)
	b := e.Vector(name+"/b", l.B.W)
	attrs := []format.Attr{StrAttr("padding", l.Padding)}
	if l.Stride != 1 {
		attrs = append(attrs, IntAttr("stride", int64(l.Stride)))
	}
	if l.Dilation != 1 {
		attrs = append(attrs, IntAttr("dilation", int64(l.Dilation)))
	}
	if a := l.Act.String(); a != "" {
		attrs = append(attrs, StrAttr("activation", a))
	}
	return e.NodeNamed(name, "Conv1D", []string{in, w, b}, attrs...), nil
}

// MaxPool1D is the engine's MaxPool1D: the maximum over windows of Size
// steps every Stride steps (T' = floor((T − Size)/Stride) + 1).
type MaxPool1D struct {
	Size, Stride int

	arg         []int // the input row of each output element's maximum
	bn, t, c, o int
}

// NewMaxPool1D pools windows of size steps; stride ≤ 0 means size.
func NewMaxPool1D(size, stride int) *MaxPool1D {
	if size < 1 {
		panic("train: MaxPool1D size must be at least 1")
	}
	if stride <= 0 {
		stride = size
	}
	return &MaxPool1D{Size: size, Stride: stride}
}

// Forward takes the maxima (the first one on ties).
func (l *MaxPool1D) Forward(in *Batch, train bool) *Batch {
	bn, t, c := seqDims(in, "MaxPool1D")
	if t < l.Size {
		panic(fmt.Sprintf("train: MaxPool1D: %d steps, fewer than the pool size %d", t, l.Size))
	}
	tOut := (t-l.Size)/l.Stride + 1
	x := seqData(in.X)
	y := mat64(bn*tOut, c)
	yd := y.RawMatrix().Data
	arg := make([]int, bn*tOut*c)
	for b := 0; b < bn; b++ {
		for o := 0; o < tOut; o++ {
			base := b*t + o*l.Stride
			for k := 0; k < c; k++ {
				best, bi := x[base*c+k], base
				for s := 1; s < l.Size; s++ {
					if v := x[(base+s)*c+k]; v > best {
						best, bi = v, base+s
					}
				}
				i := (b*tOut+o)*c + k
				yd[i], arg[i] = best, bi
			}
		}
	}
	l.arg, l.bn, l.t, l.c, l.o = arg, bn, t, c, tOut
	return &Batch{X: y, B: bn, T: tOut}
}

// Backward routes each output's gradient to its maximum.
func (l *MaxPool1D) Backward(dout *mat.Dense) *mat.Dense {
	d := seqData(dout)
	dx := mat64(l.bn*l.t, l.c)
	dxd := dx.RawMatrix().Data
	for i, r := range l.arg {
		dxd[r*l.c+i%l.c] += d[i]
	}
	return dx
}

// Params: none.
func (l *MaxPool1D) Params() []*Param { return nil }

// Export writes a MaxPool1D node.
func (l *MaxPool1D) Export(e *Exporter, in string) (string, error) {
	return e.Node("maxpool", "MaxPool1D", []string{in}, IntAttr("size", int64(l.Size)), IntAttr("stride", int64(l.Stride))), nil
}

// GlobalAveragePool1D is the mean over the time axis: [B·T, C] → [B, C].
// With a mask (Batch.Mask) only the valid steps count, and a row without
// any gives 0, as the engine.
type GlobalAveragePool1D struct {
	// MaskName is the graph value ([B, T] f32) Export passes as the mask;
	// empty exports an unmasked pool. Set it when training with masks.
	MaskName string

	w        []float64 // per step: its weight in its row's mean
	bn, t, c int
}

// Forward averages each example's (valid) steps.
func (l *GlobalAveragePool1D) Forward(in *Batch, train bool) *Batch {
	bn, t, c := seqDims(in, "GlobalAveragePool1D")
	x := seqData(in.X)
	w := make([]float64, bn*t)
	for b := 0; b < bn; b++ {
		n := 0
		for s := 0; s < t; s++ {
			if in.Mask == nil || in.Mask[b*t+s] != 0 {
				n++
			}
		}
		for s := 0; s < t && n > 0; s++ {
			if in.Mask == nil || in.Mask[b*t+s] != 0 {
				w[b*t+s] = 1 / float64(n)
			}
		}
	}
	y := mat64(bn, c)
	yd := y.RawMatrix().Data
	for b := 0; b < bn; b++ {
		r := yd[b*c : (b+1)*c]
		for s := 0; s < t; s++ {
			if ws := w[b*t+s]; ws != 0 {
				for k, v := range x[(b*t+s)*c : (b*t+s+1)*c] {
					r[k] += ws * v
				}
			}
		}
	}
	l.w, l.bn, l.t, l.c = w, bn, t, c
	return &Batch{X: y, B: bn}
}

// Backward spreads each row's gradient over its valid steps.
func (l *GlobalAveragePool1D) Backward(dout *mat.Dense) *mat.Dense {
	d := seqData(dout)
	dx := mat64(l.bn*l.t, l.c)
	dxd := dx.RawMatrix().Data
	for b := 0; b < l.bn; b++ {
		for s := 0; s < l.t; s++ {
			if ws := l.w[b*l.t+s]; ws != 0 {
				r := dxd[(b*l.t+s)*l.c : (b*l.t+s+1)*l.c]
				for k, v := range d[b*l.c : (b+1)*l.c] {
					r[k] = ws * v
				}
			}
		}
	}
	return dx
}

// Params: none.
func (l *GlobalAveragePool1D) Params() []*Param { return nil }

// Export writes a GlobalAveragePool1D node (with the mask when MaskName
// is set).
func (l *GlobalAveragePool1D) Export(e *Exporter, in string) (string, error) {
	ins := []string{in}
	if l.MaskName != "" {
		ins = append(ins, l.MaskName)
	}
	return e.Node("gap", "GlobalAveragePool1D", ins), nil
}
