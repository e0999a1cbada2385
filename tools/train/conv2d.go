package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/edgerun/edgerun/format"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Image layers (ToImage, Conv2D, DepthwiseConv2D, MaxPool2D, AvgPool2D,
// GlobalAveragePool2D, GlobalMaxPool2D, Flatten) take a Batch of B images
// of H×W pixels (Batch.H, Batch.W): X has B rows of H·W·C values, each
// image's pixels in row-major order with the channels last (pixel (y, x),
// channel k at column (y·W + x)·C + k), the host form of the engine's
// NHWC value [B, H, W, C]. C is X's columns / (H·W). ToImage makes flat
// rows (pixels of a CSV) into images; Flatten or a global pool makes
// images into feature rows again. Dense applies to whole rows: put a
// Flatten or a global pool between the image layers and a Dense.
//
// Conv2D and the pools keep their outputs and input gradients in buffers
// reused from batch to batch (valid until the layer's next Forward or
// Backward, which is how a training step uses them): on a 28×28 CNN,
// fresh memory for every batch cost more than the arithmetic.

// imgDims checks that in is an image batch and returns B, H, W and C.
func imgDims(in *Batch, who string) (b, h, w, c int) {
	r, cols := in.X.Dims()
	if in.H <= 0 || in.W <= 0 || in.B != r || cols%(in.H*in.W) != 0 || cols == 0 {
		panic(fmt.Sprintf("train: %s needs an image batch (B rows of H·W·C values), got %d×%d with B=%d, H=%d, W=%d", who, r, cols, in.B, in.H, in.W))
	}
	return r, in.H, in.W, cols / (in.H * in.W)
}

// axisGeometry is one spatial axis of a windowed op: n positions, a
// window of k taps d apart, stride s. "same" gives ceil(n/s) outputs with
// the odd padding step after (TensorFlow); "valid" no padding. ok is
// false when no window fits.
func axisGeometry(n, k, s, d int, same bool) (out, padBefore int, ok bool) {
	span := d*(k-1) + 1
	if same {
		out = (n + s - 1) / s
		total := max((out-1)*s+span-n, 0)
		return out, total / 2, n > 0
	}
	if n < span {
		return 0, 0, false
	}
	return (n-span)/s + 1, 0, true
}

// window2 is a 2D windowed op's geometry on one input size.
type window2 struct {
	kh, kw, sh, sw, dh, dw int
	h, w, c                int // input
	oh, ow                 int // output
	pt, pl                 int // padding before (top, left)
}

// newWindow2 computes the geometry; ok is false when no window fits.
func newWindow2(h, w, c, kh, kw, sh, sw, dh, dw int, padding string) (window2, bool) {
	g := window2{kh: kh, kw: kw, sh: sh, sw: sw, dh: dh, dw: dw, h: h, w: w, c: c}
	var ok1, ok2 bool
	g.oh, g.pt, ok1 = axisGeometry(h, kh, sh, dh, padding == "same")
	g.ow, g.pl, ok2 = axisGeometry(w, kw, sw, dw, padding == "same")
	return g, ok1 && ok2
}

// im2col writes, for images lo..hi-1 of x, one row of Kh·Kw·C values
// per output pixel (tap (i, j), channel k at (i·Kw + j)·C + k; zeros
// for padding) into cols.
func (g *window2) im2col(cols, x []float64, lo, hi int) {
	c, row, seg := g.c, g.kh*g.kw*g.c, g.kw*g.c
	for b := lo; b < hi; b++ {
		for oy := 0; oy < g.oh; oy++ {
			for ox := 0; ox < g.ow; ox++ {
				dst := cols[((b*g.oh+oy)*g.ow+ox)*row:][:row]
				ix0 := ox*g.sw - g.pl
				for i := 0; i < g.kh; i++ {
					d := dst[i*seg : (i+1)*seg]
					iy := oy*g.sh - g.pt + i*g.dh
					if iy < 0 || iy >= g.h {
						clear(d)
						continue
					}
					base := (b*g.h + iy) * g.w
					if g.dw == 1 { // the taps are consecutive pixels
						j0 := min(max(0, -ix0), g.kw)
						j1 := max(min(g.kw, g.w-ix0), j0)
						clear(d[:j0*c])
						copy(d[j0*c:j1*c], x[(base+ix0+j0)*c:(base+ix0+j1)*c])
						clear(d[j1*c:])
						continue
					}
					for j := 0; j < g.kw; j++ {
						dj := d[j*c : (j+1)*c]
						if ix := ix0 + j*g.dw; ix >= 0 && ix < g.w {
							copy(dj, x[(base+ix)*c:(base+ix+1)*c])
						} else {
							clear(dj)
						}
					}
				}
			}
		}
	}
}

// col2im adds the rows of dcols back over the windows they came from,
// into dx, for images lo..hi-1.
func (g *window2) col2im(dx, dcols []float64, lo, hi int) {
	c, row := g.c, g.kh*g.kw*g.c
	for b := lo; b < hi; b++ {
		for oy := 0; oy < g.oh; oy++ {
			for ox := 0; ox < g.ow; ox++ {
				src := dcols[((b*g.oh+oy)*g.ow+ox)*row:][:row]
				ix0 := ox*g.sw - g.pl
				for i := 0; i < g.kh; i++ {
					iy := oy*g.sh - g.pt + i*g.dh
					if iy < 0 || iy >= g.h {
						continue
					}
					base := (b*g.h + iy) * g.w
					for j := 0; j < g.kw; j++ {
						if ix := ix0 + j*g.dw; ix >= 0 && ix < g.w {
							d := dx[(base+ix)*c : (base+ix+1)*c]
							for k, v := range src[(i*g.kw+j)*c : (i*g.kw+j+1)*c] {
								d[k] += v
							}
						}
					}
				}
			}
		}
	}
}

// parallelFor runs fn over [0, n) in contiguous chunks on up to
// GOMAXPROCS goroutines when work (a rough count of operations) pays for
// them. Callers give each index its own outputs, so the results do not
// depend on the split.
func parallelFor(n, work int, fn func(lo, hi int)) {
	p := min(runtime.GOMAXPROCS(0), n)
	if p <= 1 || work < 1<<16 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for i := 0; i < p; i++ {
		lo, hi := i*n/p, (i+1)*n/p
		wg.Go(func() { fn(lo, hi) })
	}
	wg.Wait()
}

// grow returns buf resized to n (reallocated when too small).
func grow(buf []float64, n int) []float64 {
	if cap(buf) < n {
		return make([]float64, n)
	}
	return buf[:n]
}

// general views v as a rows × cols row-major BLAS matrix.
func general(rows, cols int, v []float64) blas64.General {
	return blas64.General{Rows: rows, Cols: cols, Stride: cols, Data: v}
}

// heUniform fills p with He-uniform values for fanIn (ReLU-like
// activations).
func (p *Param) heUniform(rng *rand.Rand, fanIn int) {
	lim := math.Sqrt(6 / float64(fanIn))
	for i := range p.W {
		p.W[i] = (rng.Float64()*2 - 1) * lim
	}
}

// initConv fills a convolution's weights: He-uniform before ReLU-like
// activations, else Glorot-uniform.
func initConv(p *Param, rng *rand.Rand, act Activation, fanIn, fanOut int) {
	switch act {
	case ReLU, LeakyReLU, GELU:
		p.heUniform(rng, fanIn)
	default:
		p.glorot(rng, fanIn, fanOut)
	}
}

// checkPadding panics unless padding is "same" or "valid".
func checkPadding(who, padding string) {
	if padding != "same" && padding != "valid" {
		panic(fmt.Sprintf("train: %s padding %q, want \"same\" or \"valid\"", who, padding))
	}
}

// ints64 converts ints for an attribute.
func ints64(v ...int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

// ToImage makes flat rows of H·W·C values (pixels in row-major order,
// channels last) an image batch; its export is a Reshape to
// [B, H, W, C].
type ToImage struct {
	H, W, C int
}

// Forward marks the rows as images.
func (l *ToImage) Forward(in *Batch, train bool) *Batch {
	r, c := in.X.Dims()
	if l.H <= 0 || l.W <= 0 || l.C <= 0 || c != l.H*l.W*l.C || in.T > 1 {
		panic(fmt.Sprintf("train: ToImage %d×%d×%d needs rows of %d values, got %d×%d (T=%d)", l.H, l.W, l.C, l.H*l.W*l.C, r, c, in.T))
	}
	return &Batch{X: in.X, B: r, H: l.H, W: l.W}
}

// Backward passes the gradient through.
func (l *ToImage) Backward(dout *mat.Dense) *mat.Dense { return dout }

// Params: none.
func (l *ToImage) Params() []*Param { return nil }

// Export writes a Reshape to [B, H, W, C] (the batch dimension copied).
func (l *ToImage) Export(e *Exporter, in string) (string, error) {
	return e.Node("reshape", "Reshape", []string{in}, IntsAttr("shape", 0, int64(l.H), int64(l.W), int64(l.C))), nil
}

// Flatten makes each example one row: an image batch's rows lose their
// H and W, a sequence batch's B·T rows of C become B rows of T·C. Its
// export is the engine's Flatten ([B, ...] → [B, prod(...)]).
type Flatten struct {
	r, c int // the last input's dims
}

// Forward reshapes to B rows.
func (l *Flatten) Forward(in *Batch, train bool) *Batch {
	r, c := in.X.Dims()
	l.r, l.c = r, c
	bn := in.B
	if bn <= 0 {
		bn = r
	}
	if r == bn {
		return &Batch{X: in.X, B: bn}
	}
	return &Batch{X: mat.NewDense(bn, r*c/bn, seqData(in.X)), B: bn}
}

// Backward reshapes the gradient to the input's dims.
func (l *Flatten) Backward(dout *mat.Dense) *mat.Dense {
	if r, _ := dout.Dims(); r == l.r {
		return dout
	}
	return mat.NewDense(l.r, l.c, seqData(dout))
}

// Params: none.
func (l *Flatten) Params() []*Param { return nil }

// Export writes a Flatten node.
func (l *Flatten) Export(e *Exporter, in string) (string, error) {
	return e.Node("flatten", "Flatten", []string{in}), nil
}

// Conv2D is the engine's Conv2D: y = act(conv2d(x, W) + b) over images,
// channels last, zero padding. W is [F, Kh, Kw, C] (F filters of Kh×Kw
// taps by C channels); the output has F channels.
//
// Its output and input gradient are reused buffers (see above).
type Conv2D struct {
	W, B                 *Param
	StrideH, StrideW     int
	DilationH, DilationW int
	// Padding is "same" (H' = ceil(H/StrideH), the odd padding step at the
	// bottom/right, as TensorFlow) or "valid" (no padding).
	Padding string
	Act     Activation
	// NoInputGrad skips the gradient with respect to the input (Backward
	// returns nil): for a model's first layer, whose input is data.
	NoInputGrad bool

	// The last Forward: the im2col matrix, the pre-activation and
	// output, the geometry; the rest is scratch.
	cols, z, y        []float64
	wt, dz, dcols, dx []float64
	part              []float64
	g                 window2
	bn                int
}

// NewConv2D makes a Conv2D of f filters of kh×kw taps over c channels,
// He-uniform (ReLU-like activations) or Glorot-uniform weights (fan-in
// kh·kw·c, fan-out kh·kw·f) and zero bias. padding is "same" or "valid";
// strides below 1 mean 1. Set DilationH/DilationW for dilated kernels.
func NewConv2D(rng *rand.Rand, c, f, kh, kw int, padding string, strideH, strideW int, act Activation) *Conv2D {
	checkPadding("Conv2D", padding)
	l := &Conv2D{W: newParam("w", true, f, kh, kw, c), B: newParam("b", false, f),
		StrideH: max(strideH, 1), StrideW: max(strideW, 1), DilationH: 1, DilationW: 1, Padding: padding, Act: act}
	initConv(l.W, rng, act, kh*kw*c, kh*kw*f)
	return l
}

// Filters, KernelH, KernelW and Channels are F, Kh, Kw and C.
func (l *Conv2D) Filters() int  { return l.W.Shape[0] }
func (l *Conv2D) KernelH() int  { return l.W.Shape[1] }
func (l *Conv2D) KernelW() int  { return l.W.Shape[2] }
func (l *Conv2D) Channels() int { return l.W.Shape[3] }

// Geometry returns the output size for an input of h×w pixels, as the
// engine computes it; ok is false when no window fits.
func (l *Conv2D) Geometry(h, w int) (oh, ow int, ok bool) {
	g, ok := l.window(h, w)
	return g.oh, g.ow, ok
}

func (l *Conv2D) window(h, w int) (window2, bool) {
	return newWindow2(h, w, l.Channels(), l.KernelH(), l.KernelW(), max(l.StrideH, 1), max(l.StrideW, 1),
		max(l.DilationH, 1), max(l.DilationW, 1), l.Padding)
}

// smallK is the window length (Kh·Kw·C) below which the products run in
// this file's kernels rather than gonum's, whose dot products and axpys
// that short cost more in calls than in arithmetic (a first layer on
// grayscale pixels has 9).
const smallK = 32

// Forward gathers the windows into an im2col matrix [B·H'·W', Kh·Kw·C]
// and multiplies it by W viewed as [F, Kh·Kw·C]: the product's rows are
// the output pixels, its columns the filters, NHWC as it stands.
func (l *Conv2D) Forward(in *Batch, train bool) *Batch {
	bn, h, w, c := imgDims(in, "Conv2D")
	if c != l.Channels() {
		panic(fmt.Sprintf("train: Conv2D has %d input channels, got %d", l.Channels(), c))
	}
	checkPadding("Conv2D", l.Padding)
	g, ok := l.window(h, w)
	if !ok {
		panic(fmt.Sprintf("train: Conv2D: a %d×%d image is smaller than the (dilated) %d×%d kernel", h, w, l.KernelH(), l.KernelW()))
	}
	f, row := l.Filters(), l.KernelH()*l.KernelW()*c
	rows := bn * g.oh * g.ow
	x := seqData(in.X)
	l.cols = grow(l.cols, rows*row)
	cols := l.cols
	parallelFor(bn, rows*row, func(lo, hi int) { g.im2col(cols, x, lo, hi) })
	l.y = grow(l.y, rows*f)
	y, z := l.y, l.y
	if l.Act != Linear {
		l.z = grow(l.z, rows*f)
		z = l.z
	}
	// The bias in every row: one row, then copies doubling.
	copy(z, l.B.W)
	for n := f; n < len(z); n *= 2 {
		copy(z[n:], z[:n])
	}
	if row < smallK {
		parallelFor(rows, rows*row*f, func(lo, hi int) { addMulNT(lo, hi, f, row, cols, l.W.W, z) })
	} else {
		// W as [Kh·Kw·C, F]: the product then runs along the filters and
		// skips the windows' zeros (padding, ReLU).
		l.wt = grow(l.wt, len(l.W.W))
		for o := 0; o < f; o++ {
			for i, v := range l.W.W[o*row : (o+1)*row] {
				l.wt[i*f+o] = v
			}
		}
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, general(rows, row, cols), general(row, f, l.wt), 1, general(rows, f, z))
	}
	if l.Act != Linear {
		l.Act.apply(y, z)
	}
	l.g, l.bn = g, bn
	return &Batch{X: mat.NewDense(bn, g.oh*g.ow*f, y), B: bn, H: g.oh, W: g.ow}
}

// addMulNT adds rows lo..hi-1 of a·bᵀ to c (a [m, k], b [n, k], c [m, n],
// row-major) with a 2×4 register tile. Each element is its dot product
// summed in k order and then added, whatever the rows' split.
func addMulNT(lo, hi, n, k int, a, b, c []float64) {
	r := lo
	for ; r+2 <= hi; r += 2 {
		a0 := a[r*k : (r+1)*k]
		a1 := a[(r+1)*k : (r+2)*k]
		a1 = a1[:len(a0)]
		c0 := c[r*n : (r+1)*n]
		c1 := c[(r+1)*n : (r+2)*n]
		c1 = c1[:len(c0)]
		j := 0
		for ; j+4 <= n; j += 4 {
			b0 := b[j*k : (j+1)*k]
			b0 = b0[:len(a0)]
			b1 := b[(j+1)*k : (j+2)*k]
			b1 = b1[:len(a0)]
			b2 := b[(j+2)*k : (j+3)*k]
			b2 = b2[:len(a0)]
			b3 := b[(j+3)*k : (j+4)*k]
			b3 = b3[:len(a0)]
			var s00, s01, s02, s03, s10, s11, s12, s13 float64
			for i, x0 := range a0 {
				x1 := a1[i]
				w0, w1, w2, w3 := b0[i], b1[i], b2[i], b3[i]
				s00 += x0 * w0
				s01 += x0 * w1
				s02 += x0 * w2
				s03 += x0 * w3
				s10 += x1 * w0
				s11 += x1 * w1
				s12 += x1 * w2
				s13 += x1 * w3
			}
			c0[j] += s00
			c0[j+1] += s01
			c0[j+2] += s02
			c0[j+3] += s03
			c1[j] += s10
			c1[j+1] += s11
			c1[j+2] += s12
			c1[j+3] += s13
		}
		for ; j < n; j++ {
			bj := b[j*k : (j+1)*k]
			bj = bj[:len(a0)]
			var s0, s1 float64
			for i, w := range bj {
				s0 += a0[i] * w
				s1 += a1[i] * w
			}
			c0[j] += s0
			c1[j] += s1
		}
	}
	for ; r < hi; r++ {
		ar := a[r*k : (r+1)*k]
		cr := c[r*n : (r+1)*n]
		for j := range cr {
			bj := b[j*k : (j+1)*k]
			bj = bj[:len(ar)]
			var s float64
			for i, w := range bj {
				s += ar[i] * w
			}
			cr[j] += s
		}
	}
}

// tnChunk is the rows of each partial sum of addMulTN: fixed, so the
// bits do not depend on the number of threads.
const tnChunk = 1024

// addMulTN adds aᵀ·b to c (a [m, n], b [m, k], c [n, k]) for short rows
// of b: partial sums over chunks of tnChunk rows, in parallel, then added
// in chunk order. part is scratch, returned grown.
func addMulTN(m, n, k int, a, b, c, part []float64) []float64 {
	nc := (m + tnChunk - 1) / tnChunk
	part = grow(part, nc*n*k)
	clear(part)
	parallelFor(nc, m*n*k, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			p := part[ch*n*k : (ch+1)*n*k]
			for r := ch * tnChunk; r < min((ch+1)*tnChunk, m); r++ {
				br := b[r*k : (r+1)*k]
				for j, d := range a[r*n : (r+1)*n] {
					if d == 0 {
						continue
					}
					pj := p[j*k : (j+1)*k]
					pj = pj[:len(br)]
					for i, v := range br {
						pj[i] += d * v
					}
				}
			}
		}
	})
	for ch := 0; ch < nc; ch++ {
		for i, v := range part[ch*n*k : (ch+1)*n*k] {
			c[i] += v
		}
	}
	return part
}

// Backward accumulates dW = dZᵀ·cols and db, and scatters dZ·W back over
// the windows into dX.
func (l *Conv2D) Backward(dout *mat.Dense) *mat.Dense {
	g, f := l.g, l.Filters()
	row := g.kh * g.kw * g.c
	rows := l.bn * g.oh * g.ow
	dz := seqData(dout)
	if l.Act != Linear {
		l.dz = grow(l.dz, rows*f)
		copy(l.dz, dz)
		dz = l.dz
		l.Act.grad(dz, l.z, l.y)
	}
	if row < smallK {
		l.part = addMulTN(rows, f, row, dz, l.cols, l.W.G, l.part)
	} else {
		blas64.Gemm(blas.Trans, blas.NoTrans, 1, general(rows, f, dz), general(rows, row, l.cols), 1, general(f, row, l.W.G))
	}
	for i := 0; i < rows; i++ {
		for j, v := range dz[i*f : (i+1)*f] {
			l.B.G[j] += v
		}
	}
	if l.NoInputGrad {
		return nil
	}
	l.dcols = grow(l.dcols, rows*row)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, general(rows, f, dz), general(f, row, l.W.W), 0, general(rows, row, l.dcols))
	l.dx = grow(l.dx, l.bn*g.h*g.w*g.c)
	dx, dcols := l.dx, l.dcols
	clear(dx)
	parallelFor(l.bn, rows*row, func(lo, hi int) { g.col2im(dx, dcols, lo, hi) })
	return mat.NewDense(l.bn, g.h*g.w*g.c, dx)
}

// Params are W and b.
func (l *Conv2D) Params() []*Param { return []*Param{l.W, l.B} }

// convAttrs are Conv2D's and DepthwiseConv2D's attributes.
func convAttrs(padding string, sh, sw, dh, dw int, act Activation) []format.Attr {
	attrs := []format.Attr{
		IntsAttr("strides", ints64(max(sh, 1), max(sw, 1))...),
		StrAttr("padding", padding),
		IntsAttr("dilations", ints64(max(dh, 1), max(dw, 1))...),
	}
	if a := act.String(); a != "" {
		attrs = append(attrs, StrAttr("activation", a))
	}
	return attrs
}

// Export writes a Conv2D node with the activation fused (W int8 per
// filter when quantizing).
func (l *Conv2D) Export(e *Exporter, in string) (string, error) {
	name := e.Unique("conv2d")
	w := e.Matrix(name+"/w", l.W)
	b := e.Vector(name+"/b", l.B.W)
	return e.NodeNamed(name, "Conv2D", []string{in, w, b},
		convAttrs(l.Padding, l.StrideH, l.StrideW, l.DilationH, l.DilationW, l.Act)...), nil
}

// DepthwiseConv2D is the engine's DepthwiseConv2D (channel multiplier
// 1): each channel convolved with its own Kh×Kw kernel,
// y = act(depthwise(x, W) + b). W is [C, Kh, Kw], b [C].
type DepthwiseConv2D struct {
	W, B                 *Param
	StrideH, StrideW     int
	DilationH, DilationW int
	// Padding is "same" or "valid", as Conv2D's.
	Padding string
	Act     Activation

	x, z, y []float64
	g       window2
	bn      int
}

// NewDepthwiseConv2D makes a DepthwiseConv2D over c channels with kh×kw
// kernels, He- or Glorot-uniform weights (fan-in and fan-out kh·kw) and
// zero bias.
func NewDepthwiseConv2D(rng *rand.Rand, c, kh, kw int, padding string, strideH, strideW int, act Activation) *DepthwiseConv2D {
	checkPadding("DepthwiseConv2D", padding)
	l := &DepthwiseConv2D{W: newParam("w", true, c, kh, kw), B: newParam("b", false, c),
		StrideH: max(strideH, 1), StrideW: max(strideW, 1), DilationH: 1, DilationW: 1, Padding: padding, Act: act}
	initConv(l.W, rng, act, kh*kw, kh*kw)
	return l
}

// Channels, KernelH and KernelW are C, Kh and Kw.
func (l *DepthwiseConv2D) Channels() int { return l.W.Shape[0] }
func (l *DepthwiseConv2D) KernelH() int  { return l.W.Shape[1] }
func (l *DepthwiseConv2D) KernelW() int  { return l.W.Shape[2] }

func (l *DepthwiseConv2D) window(h, w int) (window2, bool) {
	return newWindow2(h, w, l.Channels(), l.KernelH(), l.KernelW(), max(l.StrideH, 1), max(l.StrideW, 1),
		max(l.DilationH, 1), max(l.DilationW, 1), l.Padding)
}

// tapsLast is W as [Kh, Kw, C]: a tap's weights for every channel in a run.
func (l *DepthwiseConv2D) tapsLast() []float64 {
	c, kk := l.Channels(), l.KernelH()*l.KernelW()
	t := make([]float64, len(l.W.W))
	for k := 0; k < c; k++ {
		for i := 0; i < kk; i++ {
			t[i*c+k] = l.W.W[k*kk+i]
		}
	}
	return t
}

// each calls fn for every tap of output pixel (oy, ox) of image b that
// falls inside the image, with the tap's index i·Kw + j and the input
// pixel's index.
func (g *window2) each(b, oy, ox int, fn func(tap, px int)) {
	for i := 0; i < g.kh; i++ {
		iy := oy*g.sh - g.pt + i*g.dh
		if iy < 0 || iy >= g.h {
			continue
		}
		for j := 0; j < g.kw; j++ {
			if ix := ox*g.sw - g.pl + j*g.dw; ix >= 0 && ix < g.w {
				fn(i*g.kw+j, (b*g.h+iy)*g.w+ix)
			}
		}
	}
}

// Forward convolves each channel with its kernel.
func (l *DepthwiseConv2D) Forward(in *Batch, train bool) *Batch {
	bn, h, w, c := imgDims(in, "DepthwiseConv2D")
	if c != l.Channels() {
		panic(fmt.Sprintf("train: DepthwiseConv2D has %d channels, got %d", l.Channels(), c))
	}
	checkPadding("DepthwiseConv2D", l.Padding)
	g, ok := l.window(h, w)
	if !ok {
		panic(fmt.Sprintf("train: DepthwiseConv2D: a %d×%d image is smaller than the (dilated) %d×%d kernel", h, w, l.KernelH(), l.KernelW()))
	}
	x := seqData(in.X)
	wt := l.tapsLast()
	z := make([]float64, bn*g.oh*g.ow*c)
	parallelFor(bn, len(z)*g.kh*g.kw, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					o := z[((b*g.oh+oy)*g.ow+ox)*c:][:c]
					copy(o, l.B.W)
					g.each(b, oy, ox, func(tap, px int) {
						ws, xs := wt[tap*c:(tap+1)*c], x[px*c:(px+1)*c]
						for k := range o {
							o[k] += ws[k] * xs[k]
						}
					})
				}
			}
		}
	})
	y := z
	if l.Act != Linear {
		y = make([]float64, len(z))
		l.Act.apply(y, z)
	}
	l.x, l.z, l.y, l.g, l.bn = x, z, y, g, bn
	return &Batch{X: mat.NewDense(bn, g.oh*g.ow*c, y), B: bn, H: g.oh, W: g.ow}
}

// Backward accumulates dW and db (per image, then summed in image order,
// so the bits do not depend on the number of threads) and dX.
func (l *DepthwiseConv2D) Backward(dout *mat.Dense) *mat.Dense {
	g, c := l.g, l.Channels()
	kk := g.kh * g.kw
	dz := make([]float64, l.bn*g.oh*g.ow*c)
	copy(dz, seqData(dout))
	if l.Act != Linear {
		l.Act.grad(dz, l.z, l.y)
	}
	wt := l.tapsLast()
	dx := make([]float64, l.bn*g.h*g.w*c)
	part := make([]float64, l.bn*(kk+1)*c) // per image: dW as [Kh, Kw, C], then db
	parallelFor(l.bn, len(dz)*kk, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			pw := part[b*(kk+1)*c : (b+1)*(kk+1)*c]
			pb := pw[kk*c:]
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					d := dz[((b*g.oh+oy)*g.ow+ox)*c:][:c]
					for k, v := range d {
						pb[k] += v
					}
					g.each(b, oy, ox, func(tap, px int) {
						ws, xs := wt[tap*c:(tap+1)*c], l.x[px*c:(px+1)*c]
						gw, gx := pw[tap*c:(tap+1)*c], dx[px*c:(px+1)*c]
						for k, v := range d {
							gw[k] += v * xs[k]
							gx[k] += v * ws[k]
						}
					})
				}
			}
		}
	})
	for b := 0; b < l.bn; b++ {
		pw := part[b*(kk+1)*c : (b+1)*(kk+1)*c]
		for k := 0; k < c; k++ {
			for t := 0; t < kk; t++ {
				l.W.G[k*kk+t] += pw[t*c+k]
			}
			l.B.G[k] += pw[kk*c+k]
		}
	}
	return mat.NewDense(l.bn, g.h*g.w*c, dx)
}

// Params are W and b.
func (l *DepthwiseConv2D) Params() []*Param { return []*Param{l.W, l.B} }

// Export writes a DepthwiseConv2D node with the activation fused (W int8
// per channel when quantizing).
func (l *DepthwiseConv2D) Export(e *Exporter, in string) (string, error) {
	name := e.Unique("dwconv2d")
	w := e.Matrix(name+"/w", l.W)
	b := e.Vector(name+"/b", l.B.W)
	return e.NodeNamed(name, "DepthwiseConv2D", []string{in, w, b},
		convAttrs(l.Padding, l.StrideH, l.StrideW, l.DilationH, l.DilationW, l.Act)...), nil
}

// pool2 is what MaxPool2D and AvgPool2D share: the window, its strides
// and padding.
type pool2 struct {
	SizeH, SizeW     int
	StrideH, StrideW int
	// Padding is "valid" or "same" (padded taps are left out: of the
	// maximum, and of the average's count).
	Padding string
}

func newPool2(who string, kh, kw int, padding string, sh, sw int) pool2 {
	if kh < 1 || kw < 1 {
		panic(fmt.Sprintf("train: %s size %d×%d, want at least 1×1", who, kh, kw))
	}
	checkPadding(who, padding)
	if sh <= 0 {
		sh = kh
	}
	if sw <= 0 {
		sw = kw
	}
	return pool2{SizeH: kh, SizeW: kw, StrideH: sh, StrideW: sw, Padding: padding}
}

func (p *pool2) window(who string, in *Batch) (window2, int) {
	bn, h, w, c := imgDims(in, who)
	checkPadding(who, p.Padding)
	g, ok := newWindow2(h, w, c, p.SizeH, p.SizeW, max(p.StrideH, 1), max(p.StrideW, 1), 1, 1, p.Padding)
	if !ok || g.oh == 0 || g.ow == 0 {
		panic(fmt.Sprintf("train: %s: a %d×%d image is smaller than the %d×%d window", who, h, w, p.SizeH, p.SizeW))
	}
	return g, bn
}

func (p *pool2) export(e *Exporter, base, op, in string) string {
	return e.Node(base, op, []string{in},
		IntsAttr("size", int64(p.SizeH), int64(p.SizeW)),
		IntsAttr("strides", int64(max(p.StrideH, 1)), int64(max(p.StrideW, 1))),
		StrAttr("padding", p.Padding))
}

// MaxPool2D is the engine's MaxPool2D: the maximum of each channel over
// windows of SizeH×SizeW pixels every StrideH×StrideW. Its output and
// input gradient are reused buffers.
type MaxPool2D struct {
	pool2

	arg   []int32 // the input element of each output's maximum
	y, dx []float64
	g     window2
	bn    int
}

// NewMaxPool2D pools kh×kw windows; strides ≤ 0 mean the size.
func NewMaxPool2D(kh, kw int, padding string, strideH, strideW int) *MaxPool2D {
	return &MaxPool2D{pool2: newPool2("MaxPool2D", kh, kw, padding, strideH, strideW)}
}

// span is the input rows (or columns) of window o along an axis: the
// window starts at o·s − pad, and padding is left out.
func span(o, s, pad, k, n int) (lo, hi int) {
	start := o*s - pad
	return max(start, 0), min(start+k, n)
}

// Forward takes the maxima (the first in row-major order on ties).
func (l *MaxPool2D) Forward(in *Batch, train bool) *Batch {
	g, bn := l.window("MaxPool2D", in)
	c := g.c
	x := seqData(in.X)
	if bn*g.h*g.w*c > math.MaxInt32 {
		panic("train: MaxPool2D: the batch has more than 2³¹ values")
	}
	n := bn * g.oh * g.ow * c
	l.y = grow(l.y, n)
	if cap(l.arg) < n {
		l.arg = make([]int32, n)
	}
	y, arg := l.y, l.arg[:n]
	parallelFor(bn, n*g.kh*g.kw, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			for oy := 0; oy < g.oh; oy++ {
				y0, y1 := span(oy, g.sh, g.pt, g.kh, g.h)
				for ox := 0; ox < g.ow; ox++ {
					x0, x1 := span(ox, g.sw, g.pl, g.kw, g.w)
					o := ((b*g.oh+oy)*g.ow + ox) * c
					yo, ao := y[o:o+c], arg[o:o+c]
					p0 := ((b*g.h+y0)*g.w + x0) * c
					copy(yo, x[p0:p0+c])
					for k := range ao {
						ao[k] = int32(p0 + k)
					}
					for iy := y0; iy < y1; iy++ {
						for ix := x0; ix < x1; ix++ {
							p := ((b*g.h+iy)*g.w + ix) * c
							if p == p0 {
								continue
							}
							xs := x[p : p+c]
							xs = xs[:len(yo)]
							for k, v := range xs {
								if v > yo[k] {
									yo[k], ao[k] = v, int32(p+k)
								}
							}
						}
					}
				}
			}
		}
	})
	l.arg, l.g, l.bn = arg, g, bn
	return &Batch{X: mat.NewDense(bn, g.oh*g.ow*c, y), B: bn, H: g.oh, W: g.ow}
}

// Backward routes each output's gradient to its maximum.
func (l *MaxPool2D) Backward(dout *mat.Dense) *mat.Dense {
	g := l.g
	d := seqData(dout)
	l.dx = grow(l.dx, l.bn*g.h*g.w*g.c)
	dx, arg := l.dx, l.arg
	clear(dx)
	per := g.oh * g.ow * g.c
	parallelFor(l.bn, len(d), func(lo, hi int) {
		for i := lo * per; i < hi*per; i++ {
			dx[arg[i]] += d[i]
		}
	})
	return mat.NewDense(l.bn, g.h*g.w*g.c, dx)
}

// Params: none.
func (l *MaxPool2D) Params() []*Param { return nil }

// Export writes a MaxPool2D node.
func (l *MaxPool2D) Export(e *Exporter, in string) (string, error) {
	return l.export(e, "maxpool2d", "MaxPool2D", in), nil
}

// AvgPool2D is the engine's AvgPool2D: the mean of each channel over
// windows of SizeH×SizeW pixels every StrideH×StrideW; with "same"
// padding the padded taps do not count. Its output and input gradient
// are reused buffers.
type AvgPool2D struct {
	pool2

	y, dx []float64
	g     window2
	bn    int
}

// NewAvgPool2D pools kh×kw windows; strides ≤ 0 mean the size.
func NewAvgPool2D(kh, kw int, padding string, strideH, strideW int) *AvgPool2D {
	return &AvgPool2D{pool2: newPool2("AvgPool2D", kh, kw, padding, strideH, strideW)}
}

// Forward averages the windows.
func (l *AvgPool2D) Forward(in *Batch, train bool) *Batch {
	g, bn := l.window("AvgPool2D", in)
	c := g.c
	x := seqData(in.X)
	l.y = grow(l.y, bn*g.oh*g.ow*c)
	y := l.y
	clear(y)
	parallelFor(bn, len(y)*g.kh*g.kw, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			for oy := 0; oy < g.oh; oy++ {
				y0, y1 := span(oy, g.sh, g.pt, g.kh, g.h)
				for ox := 0; ox < g.ow; ox++ {
					x0, x1 := span(ox, g.sw, g.pl, g.kw, g.w)
					yo := y[((b*g.oh+oy)*g.ow+ox)*c:][:c]
					for iy := y0; iy < y1; iy++ {
						for ix := x0; ix < x1; ix++ {
							xs := x[((b*g.h+iy)*g.w+ix)*c:][:len(yo)]
							for k, v := range xs {
								yo[k] += v
							}
						}
					}
					inv := 1 / float64((y1-y0)*(x1-x0))
					for k := range yo {
						yo[k] *= inv
					}
				}
			}
		}
	})
	l.g, l.bn = g, bn
	return &Batch{X: mat.NewDense(bn, g.oh*g.ow*c, y), B: bn, H: g.oh, W: g.ow}
}

// Backward spreads each output's gradient evenly over its window's taps.
func (l *AvgPool2D) Backward(dout *mat.Dense) *mat.Dense {
	g, c := l.g, l.g.c
	d := seqData(dout)
	l.dx = grow(l.dx, l.bn*g.h*g.w*c)
	dx := l.dx
	clear(dx)
	parallelFor(l.bn, len(d)*g.kh*g.kw, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			for oy := 0; oy < g.oh; oy++ {
				y0, y1 := span(oy, g.sh, g.pt, g.kh, g.h)
				for ox := 0; ox < g.ow; ox++ {
					x0, x1 := span(ox, g.sw, g.pl, g.kw, g.w)
					do := d[((b*g.oh+oy)*g.ow+ox)*c:][:c]
					inv := 1 / float64((y1-y0)*(x1-x0))
					for iy := y0; iy < y1; iy++ {
						for ix := x0; ix < x1; ix++ {
							dxs := dx[((b*g.h+iy)*g.w+ix)*c:][:len(do)]
							for k, v := range do {
								dxs[k] += v * inv
							}
						}
					}
				}
			}
		}
	})
	return mat.NewDense(l.bn, g.h*g.w*c, dx)
}

// Params: none.
func (l *AvgPool2D) Params() []*Param { return nil }

// Export writes an AvgPool2D node.
func (l *AvgPool2D) Export(e *Exporter, in string) (string, error) {
	return l.export(e, "avgpool2d", "AvgPool2D", in), nil
}

// GlobalAveragePool2D is the mean of each channel over the image:
// [B, H·W·C] → [B, C].
type GlobalAveragePool2D struct {
	dx        []float64 // reused, as Conv2D's
	bn, hw, c int
}

// Forward averages each image's pixels.
func (l *GlobalAveragePool2D) Forward(in *Batch, train bool) *Batch {
	bn, h, w, c := imgDims(in, "GlobalAveragePool2D")
	x := seqData(in.X)
	hw := h * w
	y := make([]float64, bn*c)
	inv := 1 / float64(hw)
	for b := 0; b < bn; b++ {
		yo := y[b*c : (b+1)*c]
		for p := 0; p < hw; p++ {
			for k, v := range x[(b*hw+p)*c : (b*hw+p+1)*c] {
				yo[k] += v
			}
		}
		for k := range yo {
			yo[k] *= inv
		}
	}
	l.bn, l.hw, l.c = bn, hw, c
	return &Batch{X: mat.NewDense(bn, c, y), B: bn}
}

// Backward spreads each image's gradient evenly over its pixels.
func (l *GlobalAveragePool2D) Backward(dout *mat.Dense) *mat.Dense {
	d := seqData(dout)
	l.dx = grow(l.dx, l.bn*l.hw*l.c)
	dx := l.dx
	inv := 1 / float64(l.hw)
	for b := 0; b < l.bn; b++ {
		do := d[b*l.c : (b+1)*l.c]
		for p := 0; p < l.hw; p++ {
			for k, v := range do {
				dx[(b*l.hw+p)*l.c+k] = v * inv
			}
		}
	}
	return mat.NewDense(l.bn, l.hw*l.c, dx)
}

// Params: none.
func (l *GlobalAveragePool2D) Params() []*Param { return nil }

// Export writes a GlobalAveragePool2D node.
func (l *GlobalAveragePool2D) Export(e *Exporter, in string) (string, error) {
	return e.Node("gap2d", "GlobalAveragePool2D", []string{in}), nil
}

// GlobalMaxPool2D is the maximum of each channel over the image:
// [B, H·W·C] → [B, C].
type GlobalMaxPool2D struct {
	arg       []int
	dx        []float64 // reused, as Conv2D's
	bn, hw, c int
}

// Forward takes each image's maxima (the first pixel on ties).
func (l *GlobalMaxPool2D) Forward(in *Batch, train bool) *Batch {
	bn, h, w, c := imgDims(in, "GlobalMaxPool2D")
	x := seqData(in.X)
	hw := h * w
	y := make([]float64, bn*c)
	arg := make([]int, bn*c)
	for b := 0; b < bn; b++ {
		yo, ao := y[b*c:(b+1)*c], arg[b*c:(b+1)*c]
		for p := 0; p < hw; p++ {
			for k, v := range x[(b*hw+p)*c : (b*hw+p+1)*c] {
				if p == 0 || v > yo[k] {
					yo[k], ao[k] = v, (b*hw+p)*c+k
				}
			}
		}
	}
	l.arg, l.bn, l.hw, l.c = arg, bn, hw, c
	return &Batch{X: mat.NewDense(bn, c, y), B: bn}
}

// Backward routes each gradient to its maximum.
func (l *GlobalMaxPool2D) Backward(dout *mat.Dense) *mat.Dense {
	d := seqData(dout)
	l.dx = grow(l.dx, l.bn*l.hw*l.c)
	dx := l.dx
	clear(dx)
	for i, a := range l.arg {
		dx[a] += d[i]
	}
	return mat.NewDense(l.bn, l.hw*l.c, dx)
}

// Params: none.
func (l *GlobalMaxPool2D) Params() []*Param { return nil }

// Export writes a GlobalMaxPool2D node.
func (l *GlobalMaxPool2D) Export(e *Exporter, in string) (string, error) {
	return e.Node("gmp2d", "GlobalMaxPool2D", []string{in}), nil
}
