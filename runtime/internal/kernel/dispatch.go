package kernel

import (
	"fmt"
	"reflect"
)

// Impl is one implementation of the kernels. All share one signature per
// kernel, so the engine calls through the table without knowing which
// instruction set runs.
type Impl struct {
	Name          string
	GemmI8        func(c []int32, a []uint8, m int, w *MatI8, n0, n1 int)
	GemmF32       func(c []float32, a []float32, m int, w *MatF32, n0, n1 int)
	QuantizeRowU8 func(dst []uint8, x []float32) (float32, int32)
	DotF32        func(a, b []float32) float32
	AxpyF32       func(alpha float32, x, y []float32)
	ExpSlice      func(dst, src []float32)
	SigmoidSlice  func(dst, src []float32)
	TanhSlice     func(dst, src []float32)
	DequantRow    func(dst []float32, acc []int32, sx float32, zx int32, scales []float32, rowSum []int32, bias []float32)
	DotsF32       func(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int, alpha float32)
	MixF32        func(o []float32, ldo int, p []float32, ldp int, v []float32, ldv int, m, n, k int)
	GELUSlice     func(dst, src, tmp []float32)
	SoftmaxF32    func(p []float32)
	LayerNormRow  func(dst, src, gamma, beta []float32, eps float32)
	ReluSlice     func(x []float32)
	GemmI8F32     func(y []float32, acc []int32, a []uint8, m int, w *MatI8, n0, n1 int, xs, xz, scales, bias []float32, ldb int, relu bool)
	DotsI8        func(acc []int32, a []int8, ra []int32, b []int8, rb []int32, d int)
	LSTMCell      func(g, h, c []float32)

	// SoftmaxStridedF32 is SoftmaxF32 on rows at a stride.
	SoftmaxStridedF32 func(p []float32, ld, n, rows int)
	// LayerNormRows is LayerNormRow on consecutive rows of d.
	LayerNormRows func(dst, src, gamma, beta []float32, d int, eps float32)
	// AddLayerNormRows is a residual add, then LayerNormRow, on
	// consecutive rows of d.
	AddLayerNormRows func(dst, y, x, gamma, beta []float32, d int, eps float32)

	geluScratch bool // GELUSlice is geluVia: it uses tmp
	// ScaleI8F32 dequantizes an int8 row with one scale.
	ScaleI8F32 func(dst []float32, q []int8, s float32)
	// QuantizeRowsU8 is QuantizeRowU8 on m consecutive rows of k.
	QuantizeRowsU8 func(q []uint8, x []float32, m, k int, xs, xz []float32)

	// tilePanelI8, when set (avx512vnni), packs one 16-row panel of int8
	// weights into the tile layout and takes its rows' sums on the way
	// (tilePanelI8Z's contract); packI8 uses it through tileSumsI8.
	tilePanelI8 func(dst, src []int8, k int, sum, prefix []int32) bool
	// rowSumsI8 is rowSums, through assembly on amd64 with AVX2 (the
	// default is the portable loop); packI8 uses it for the matrices
	// tilePanelI8 does not take.
	rowSumsI8 func(w []int8, n, k int, sum, prefix []int32) bool
}

// impls lists the implementations usable on this CPU, weakest first: the
// portable one, then what the architecture's CPU features allow.
var impls = withDefaults(append([]Impl{{
	Name:          "generic",
	GemmI8:        gemmI8Portable,
	GemmF32:       gemmF32Blocked,
	QuantizeRowU8: quantizeRowU8Generic,
	DotF32:        dotF32Generic,
	AxpyF32:       axpyF32Generic,
	ExpSlice:      expSliceGeneric,
	SigmoidSlice:  sigmoidSliceGeneric,
	TanhSlice:     tanhSliceGeneric,
	DequantRow:    dequantRowGeneric,
	LayerNormRow:  layerNormGeneric,
	ReluSlice:     reluSliceGeneric,
	DotsI8:        dotsI8Generic,
	ScaleI8F32:    scaleI8F32Generic,
}}, archImpls()...))

// withDefaults fills the kernels an architecture does not provide with the
// portable ones, so every Impl is complete.
func withDefaults(l []Impl) []Impl {
	g := l[0]
	for i := range l {
		im := &l[i]
		orDefault(&im.GemmI8, g.GemmI8)
		orDefault(&im.GemmF32, g.GemmF32)
		orDefault(&im.QuantizeRowU8, g.QuantizeRowU8)
		orDefault(&im.DotF32, g.DotF32)
		orDefault(&im.AxpyF32, g.AxpyF32)
		orDefault(&im.ExpSlice, g.ExpSlice)
		orDefault(&im.SigmoidSlice, g.SigmoidSlice)
		orDefault(&im.TanhSlice, g.TanhSlice)
		orDefault(&im.DequantRow, g.DequantRow)
		orDefault(&im.LayerNormRow, g.LayerNormRow)
		orDefault(&im.ReluSlice, g.ReluSlice)
		orDefault(&im.DotsI8, g.DotsI8)
		orDefault(&im.ScaleI8F32, g.ScaleI8F32)
		if im.rowSumsI8 == nil {
			im.rowSumsI8 = rowSums
		}
		// The attention loops, GELU and softmax default to the Impl's own
		// dot, axpy, tanh and exp.
		if im.DotsF32 == nil {
			im.DotsF32 = dotsVia(im.DotF32)
		}
		if im.MixF32 == nil {
			im.MixF32 = mixVia(im.AxpyF32)
		}
		if im.GELUSlice == nil {
			im.GELUSlice = geluVia(im.TanhSlice)
			im.geluScratch = true
		}
		if im.SoftmaxF32 == nil {
			im.SoftmaxF32 = softmaxVia(im.ExpSlice)
		}
		// The fused int8 GEMM defaults to the Impl's own GEMM, dequantizer
		// and ReLU.
		if im.GemmI8F32 == nil {
			im.GemmI8F32 = gemmI8F32Via(im.GemmI8, im.DequantRow, im.ReluSlice)
		}
		// Softmax over strided rows defaults to the Impl's own SoftmaxF32.
		if im.SoftmaxStridedF32 == nil {
			im.SoftmaxStridedF32 = softmaxStridedVia(im.SoftmaxF32)
		}
		if im.LayerNormRows == nil {
			im.LayerNormRows = layerNormRowsVia(im.LayerNormRow)
		}
		if im.AddLayerNormRows == nil {
			im.AddLayerNormRows = addLayerNormRowsVia(im.AxpyF32, im.LayerNormRows)
		}
		// The multi-row quantizer defaults to the Impl's own row quantizer.
		if im.QuantizeRowsU8 == nil {
			im.QuantizeRowsU8 = quantizeRowsVia(im.QuantizeRowU8)
		}
		// The LSTM cell defaults to the Impl's own sigmoid and tanh.
		if im.LSTMCell == nil {
			im.LSTMCell = lstmCellVia(im.SigmoidSlice, im.TanhSlice)
		}
	}
	return l
}

// orDefault sets the function *f to def when it is nil. (A nil func
// stored in an interface is not a nil interface, so reflect decides.)
func orDefault[F any](f *F, def F) {
	if reflect.ValueOf(*f).IsNil() {
		*f = def
	}
}

// impl is the implementation in use: the strongest unless a test chose.
var impl = &impls[len(impls)-1]

// Impls returns the implementations usable on this CPU, weakest first.
func Impls() []Impl { return append([]Impl(nil), impls...) }

// Current names the implementation in use.
func Current() string { return impl.Name }

// Use selects an implementation by name for tests and benchmarks and
// returns a function that restores the previous one. It is not safe to
// call while kernels run.
func Use(name string) (restore func(), err error) {
	for i := range impls {
		if impls[i].Name == name {
			prev := impl
			impl = &impls[i]
			return func() { impl = prev }, nil
		}
	}
	return nil, fmt.Errorf("kernel: no implementation %q on this CPU", name)
}
