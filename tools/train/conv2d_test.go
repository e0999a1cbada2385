package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
	"gonum.org/v1/gonum/mat"
)

// imgBatch is a random image batch of bn images of h×w pixels × c channels.
func imgBatch(rng *rand.Rand, bn, h, w, c int) *Batch {
	x := make([]float64, bn*h*w*c)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return &Batch{X: mat.NewDense(bn, h*w*c, x), B: bn, H: h, W: w}
}

// imgCheckGrads is seqCheckGrads at 1e-5: the image layers' outputs are
// many, so the MSE's gradients for some inputs are near 1e-5, where the
// central differences' rounding (about 1e-11 on a loss near 1) alone is
// a relative 1e-6. A wrong gradient is off by far more.
func imgCheckGrads(t *testing.T, name string, rng *rand.Rand, layers []Layer, b *Batch) {
	t.Helper()
	seqCheckGrads(t, name, rng, layers, b, 1e-5)
}

// TestAxisGeometry: "same" gives ceil(n/s) outputs with the odd padding
// step after, as TensorFlow; "valid" none.
func TestAxisGeometry(t *testing.T) {
	for _, tc := range []struct {
		n, k, s, d int
		same       bool
		out, pad   int
		ok         bool
		desc       string
	}{
		{28, 3, 1, 1, true, 28, 1, true, "3 same"},
		{28, 2, 1, 1, true, 28, 0, true, "2 same: the padding after"},
		{28, 4, 1, 1, true, 28, 1, true, "4 same: 1 before, 2 after"},
		{7, 3, 2, 1, true, 4, 1, true, "odd n, stride 2"},
		{8, 3, 2, 1, true, 4, 0, true, "even n, stride 2: 0 before, 1 after"},
		{5, 3, 1, 2, true, 5, 2, true, "dilated"},
		{28, 3, 1, 1, false, 26, 0, true, "valid"},
		{7, 3, 2, 1, false, 3, 0, true, "valid stride 2"},
		{2, 3, 1, 1, false, 0, 0, false, "too small"},
	} {
		out, pad, ok := axisGeometry(tc.n, tc.k, tc.s, tc.d, tc.same)
		if out != tc.out || pad != tc.pad || ok != tc.ok {
			t.Errorf("%s: got %d, %d, %v; want %d, %d, %v", tc.desc, out, pad, ok, tc.out, tc.pad, tc.ok)
		}
	}
}

// TestConv2DDirect: Conv2D's im2col product equals the convolution
// written out tap by tap.
func TestConv2DDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, pad := range []string{"same", "valid"} {
		for _, k := range [][2]int{{3, 3}, {2, 4}, {1, 1}} {
			for _, st := range [][2]int{{1, 1}, {2, 2}, {1, 2}} {
				for _, dil := range [][2]int{{1, 1}, {2, 1}} {
					l := NewConv2D(rng, 3, 4, k[0], k[1], pad, st[0], st[1], Linear)
					l.DilationH, l.DilationW = dil[0], dil[1]
					for i := range l.B.W {
						l.B.W[i] = rng.NormFloat64()
					}
					b := imgBatch(rng, 2, 7, 6, 3)
					out := l.Forward(b, false)
					g, _ := l.window(7, 6)
					x := b.X.RawMatrix().Data
					got := out.X.RawMatrix().Data
					worst := 0.0
					for bi := 0; bi < 2; bi++ {
						for oy := 0; oy < g.oh; oy++ {
							for ox := 0; ox < g.ow; ox++ {
								for f := 0; f < 4; f++ {
									s := l.B.W[f]
									for i := 0; i < k[0]; i++ {
										for j := 0; j < k[1]; j++ {
											iy, ix := oy*st[0]-g.pt+i*dil[0], ox*st[1]-g.pl+j*dil[1]
											if iy < 0 || iy >= 7 || ix < 0 || ix >= 6 {
												continue
											}
											for c := 0; c < 3; c++ {
												s += x[((bi*7+iy)*6+ix)*3+c] * l.W.W[((f*k[0]+i)*k[1]+j)*3+c]
											}
										}
									}
									worst = max(worst, abs(s-got[((bi*g.oh+oy)*g.ow+ox)*4+f]))
								}
							}
						}
					}
					if worst > 1e-12 || out.H != g.oh || out.W != g.ow {
						t.Errorf("pad=%s k=%v st=%v dil=%v: off by %g, out %d×%d", pad, k, st, dil, worst, out.H, out.W)
					}
				}
			}
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestConv2DGradients: Conv2D over "same"/"valid" padding, odd and even
// kernels, strides, dilations and activations matches finite
// differences in its weights, bias and input (batches of 2).
func TestConv2DGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, pad := range []string{"same", "valid"} {
		for _, k := range [][2]int{{3, 3}, {2, 2}, {4, 3}, {1, 3}} {
			for _, st := range [][2]int{{1, 1}, {2, 2}, {2, 1}} {
				for _, act := range []Activation{Linear, Tanh, GELU} {
					dil := 1
					if k == [2]int{3, 3} && act == Tanh {
						dil = 2
					}
					l := NewConv2D(rng, 3, 4, k[0], k[1], pad, st[0], st[1], act)
					l.DilationH, l.DilationW = dil, dil
					name := fmt.Sprintf("k=%v,pad=%s,stride=%v,dil=%d,%v", k, pad, st, dil, act)
					imgCheckGrads(t, name, rng, []Layer{l}, imgBatch(rng, 2, 7, 6, 3))
				}
			}
		}
	}
}

// TestConv2DNoInputGrad: a first layer without the input gradient
// returns nil and the same parameter gradients.
func TestConv2DNoInputGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	b := imgBatch(rng, 3, 6, 6, 1)
	var grads [2][]float64
	for i, skip := range []bool{false, true} {
		l := NewConv2D(rand.New(rand.NewPCG(1, 1)), 1, 4, 3, 3, "same", 1, 1, ReLU)
		l.NoInputGrad = skip
		out := l.Forward(b, true)
		dx := l.Backward(out.X)
		if (dx == nil) != skip {
			t.Errorf("NoInputGrad %v: input gradient %v", skip, dx)
		}
		grads[i] = append(append([]float64(nil), l.W.G...), l.B.G...)
	}
	for i := range grads[0] {
		if grads[0][i] != grads[1][i] {
			t.Fatalf("parameter gradient %d: %v with the input gradient, %v without", i, grads[0][i], grads[1][i])
		}
	}
}

// TestDepthwiseConv2DGradients: DepthwiseConv2D likewise.
func TestDepthwiseConv2DGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for _, pad := range []string{"same", "valid"} {
		for _, k := range [][2]int{{3, 3}, {2, 2}, {2, 3}} {
			for _, st := range [][2]int{{1, 1}, {2, 2}, {1, 2}} {
				for _, act := range []Activation{Linear, Tanh} {
					l := NewDepthwiseConv2D(rng, 3, k[0], k[1], pad, st[0], st[1], act)
					if act == Tanh && st == [2]int{1, 1} {
						l.DilationH = 2
					}
					name := fmt.Sprintf("k=%v,pad=%s,stride=%v,dil=%d,%v", k, pad, st, l.DilationH, act)
					imgCheckGrads(t, name, rng, []Layer{l}, imgBatch(rng, 2, 7, 6, 3))
				}
			}
		}
	}
}

// TestPool2DGradients: the pools (valid and same, overlapping and not)
// pass their gradients back exactly, alone and in small CNNs ending in a
// Dense through Flatten or a global pool.
func TestPool2DGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	for _, tc := range []struct {
		name   string
		layers []Layer
	}{
		{"maxpool2", []Layer{NewMaxPool2D(2, 2, "valid", 0, 0)}},
		{"maxpool2-same", []Layer{NewMaxPool2D(2, 2, "same", 0, 0)}},
		{"maxpool3/2-same", []Layer{NewMaxPool2D(3, 3, "same", 2, 2)}},
		{"maxpool3x2/1", []Layer{NewMaxPool2D(3, 2, "valid", 1, 1)}},
		{"avgpool2", []Layer{NewAvgPool2D(2, 2, "valid", 0, 0)}},
		{"avgpool2-same", []Layer{NewAvgPool2D(2, 2, "same", 0, 0)}},
		{"avgpool3/2-same", []Layer{NewAvgPool2D(3, 3, "same", 2, 2)}},
		{"avgpool2x3/1", []Layer{NewAvgPool2D(2, 3, "valid", 1, 1)}},
		{"gap2d", []Layer{&GlobalAveragePool2D{}}},
		{"gmp2d", []Layer{&GlobalMaxPool2D{}}},
		{"flatten", []Layer{&Flatten{}, NewDense(rng, 7*6*3, 2, Tanh)}},
		{"conv-pool-conv-gap-dense", []Layer{NewConv2D(rng, 3, 5, 3, 3, "same", 1, 1, Tanh), NewMaxPool2D(2, 2, "same", 0, 0),
			NewConv2D(rng, 5, 4, 3, 3, "same", 1, 1, GELU), &GlobalAveragePool2D{}, NewDense(rng, 4, 2, Linear)}},
		{"conv-avg-dw-gmp-dense", []Layer{NewConv2D(rng, 3, 4, 2, 2, "valid", 1, 1, Tanh), NewAvgPool2D(2, 2, "valid", 1, 1),
			NewDepthwiseConv2D(rng, 4, 3, 3, "same", 2, 2, Tanh), &GlobalMaxPool2D{}, NewDense(rng, 4, 3, Linear)}},
		{"conv-pool-flatten-dense", []Layer{NewConv2D(rng, 3, 4, 3, 3, "same", 1, 1, Tanh), NewMaxPool2D(2, 2, "valid", 0, 0),
			&Flatten{}, NewDense(rng, 3*3*4, 5, Tanh), NewDense(rng, 5, 2, Linear)}},
	} {
		imgCheckGrads(t, tc.name, rng, tc.layers, imgBatch(rng, 3, 7, 6, 3))
	}
	// From flat rows: ToImage first.
	b := randBatch(rng, 3, 6*5)
	imgCheckGrads(t, "toimage-conv-pool-flatten-dense", rng, []Layer{&ToImage{H: 6, W: 5, C: 1},
		NewConv2D(rng, 1, 3, 3, 3, "same", 1, 1, Tanh), NewMaxPool2D(2, 2, "same", 0, 0), &Flatten{}, NewDense(rng, 3*3*3, 2, Linear)}, b)
}

// TestFlattenSequence: Flatten turns a sequence batch of B·T rows into B
// rows of T·C, and its gradient back.
func TestFlattenSequence(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	imgCheckGrads(t, "conv1d-flatten-dense", rng, []Layer{NewConv1D(rng, 3, 4, 3, "same", 1, 1, Tanh), &Flatten{}, NewDense(rng, 5*4, 2, Linear)},
		seqBatch(rng, 2, 5, 3, nil))
}

// imgEngineRun exports the layers (input "x": [-1, H, W, C] for an image
// batch, [-1, F] for flat rows), runs the file through the device engine
// on b and returns the host's and the engine's outputs and the names of
// the tensors written int8.
func imgEngineRun(t *testing.T, layers []Layer, b *Batch, int8 bool) (host []float64, dev []float32, quantized []string) {
	t.Helper()
	out := b
	for _, l := range layers {
		out = l.Forward(out, false)
	}
	host = append([]float64(nil), seqData(out.X)...)
	_, c := b.X.Dims()
	inShape := []int64{-1, int64(c)}
	tshape := tensor.Shape{b.B, c}
	if b.H > 0 {
		ch := c / (b.H * b.W)
		inShape = []int64{-1, int64(b.H), int64(b.W), int64(ch)}
		tshape = tensor.Shape{b.B, b.H, b.W, ch}
	}
	_, oc := out.X.Dims()
	outShape := []int64{-1, int64(oc)}
	if out.H > 0 {
		outShape = []int64{-1, int64(out.H), int64(out.W), int64(oc / (out.H * out.W))}
	}
	e := NewExporter(int8)
	e.M.Graph.Inputs = []format.ValueInfo{{Name: "x", DType: format.F32, Shape: inShape}}
	y, err := NewSequential(layers...).Export(e, "x")
	if err != nil {
		t.Fatal(err)
	}
	e.M.Graph.Outputs = []format.ValueInfo{{Name: y, DType: format.F32, Shape: outShape}}
	e.M.Metadata.Task = "test"
	fm, err := e.Finish()
	if err != nil {
		t.Fatal(err)
	}
	em, err := engine.Load(fm)
	if err != nil {
		t.Fatal(err)
	}
	s := em.NewSession()
	defer s.Close()
	res, err := s.Run([]*tensor.Tensor{tensor.NewF32(tshape, f32(seqData(b.X)))})
	if err != nil {
		t.Fatal(err)
	}
	if got := res[0].Shape; len(got) != len(outShape) || got[0] != b.B || got.NumElements() != len(host) {
		t.Fatalf("engine output %v, host %v with %d values", got, outShape, len(host))
	}
	return host, append([]float32(nil), res[0].F32...), e.Quantized
}

// imgCheckExport fails unless the engine's output matches the host's
// within tol (f32), or within tol·max(1, max |host|) (int8).
func imgCheckExport(t *testing.T, name string, layers []Layer, b *Batch, int8 bool, tol float64) {
	t.Helper()
	host, dev, _ := imgEngineRun(t, layers, b, int8)
	worst, scale := 0.0, 1.0
	for i, v := range host {
		worst = max(worst, math.Abs(v-float64(dev[i])))
		scale = max(scale, math.Abs(v))
	}
	if int8 {
		tol *= scale
	}
	if worst > tol {
		t.Errorf("%s (int8 %v): engine differs from host by %.3g (tolerance %.3g)", name, int8, worst, tol)
	}
}

// randBias sets the layers' biases to small random values.
func randBias(rng *rand.Rand, ps ...*Param) {
	for _, p := range ps {
		for i := range p.W {
			p.W[i] = rng.NormFloat64() * 0.1
		}
	}
}

// TestConv2DExport: Conv2D exported f32 and run by the engine gives the
// host's outputs within 1e-4, for odd and even kernels, both paddings,
// strides, dilations and every fused activation; int8 within 3 % of the
// output's scale.
func TestConv2DExport(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, pad := range []string{"same", "valid"} {
		for _, k := range [][2]int{{1, 1}, {3, 3}, {2, 2}, {4, 3}} {
			for _, st := range [][2]int{{1, 1}, {2, 2}, {1, 3}} {
				for _, act := range []Activation{Linear, ReLU, LeakyReLU, Sigmoid, Tanh, GELU} {
					l := NewConv2D(rng, 3, 5, k[0], k[1], pad, st[0], st[1], act)
					if act == Tanh {
						l.DilationH, l.DilationW = 2, 1
					}
					randBias(rng, l.B)
					name := fmt.Sprintf("k=%v,pad=%s,stride=%v,dil=%d×%d,%v", k, pad, st, l.DilationH, l.DilationW, act)
					b := imgBatch(rng, 3, 9, 8, 3)
					imgCheckExport(t, name, []Layer{l}, b, false, 1e-4)
					if act == ReLU || act == Linear {
						imgCheckExport(t, name, []Layer{l}, b, true, 0.03)
					}
				}
			}
		}
	}
	// A wide first layer (Kh·Kw·C ≥ smallK takes gonum's product).
	l := NewConv2D(rng, 8, 6, 3, 3, "same", 1, 1, ReLU)
	randBias(rng, l.B)
	imgCheckExport(t, "c=8", []Layer{l}, imgBatch(rng, 2, 6, 7, 8), false, 1e-4)
	imgCheckExport(t, "c=8", []Layer{l}, imgBatch(rng, 2, 6, 7, 8), true, 0.03)
}

// TestDepthwiseConv2DExport: DepthwiseConv2D likewise.
func TestDepthwiseConv2DExport(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	for _, pad := range []string{"same", "valid"} {
		for _, k := range [][2]int{{3, 3}, {2, 2}, {1, 3}} {
			for _, st := range [][2]int{{1, 1}, {2, 2}, {2, 1}} {
				for _, act := range []Activation{Linear, ReLU, Tanh, GELU} {
					l := NewDepthwiseConv2D(rng, 4, k[0], k[1], pad, st[0], st[1], act)
					if act == Tanh {
						l.DilationH, l.DilationW = 1, 2
					}
					randBias(rng, l.B)
					name := fmt.Sprintf("k=%v,pad=%s,stride=%v,dil=%d×%d,%v", k, pad, st, l.DilationH, l.DilationW, act)
					b := imgBatch(rng, 2, 8, 9, 4)
					imgCheckExport(t, name, []Layer{l}, b, false, 1e-4)
					if act == Linear {
						imgCheckExport(t, name, []Layer{l}, b, true, 0.03)
					}
				}
			}
		}
	}
}

// TestPool2DExport: the pools, Flatten and ToImage, alone and in small
// CNNs, exported f32 (and int8 for the CNNs) give the host's outputs.
func TestPool2DExport(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	for _, tc := range []struct {
		name   string
		layers []Layer
	}{
		{"maxpool2", []Layer{NewMaxPool2D(2, 2, "valid", 0, 0)}},
		{"maxpool2-same", []Layer{NewMaxPool2D(2, 2, "same", 0, 0)}},
		{"maxpool3/2-same", []Layer{NewMaxPool2D(3, 3, "same", 2, 2)}},
		{"maxpool3x2/1x2", []Layer{NewMaxPool2D(3, 2, "valid", 1, 2)}},
		{"avgpool2", []Layer{NewAvgPool2D(2, 2, "valid", 0, 0)}},
		{"avgpool2-same", []Layer{NewAvgPool2D(2, 2, "same", 0, 0)}},
		{"avgpool3/2-same", []Layer{NewAvgPool2D(3, 3, "same", 2, 2)}},
		{"avgpool2x3/1", []Layer{NewAvgPool2D(2, 3, "valid", 1, 1)}},
		{"gap2d", []Layer{&GlobalAveragePool2D{}}},
		{"gmp2d", []Layer{&GlobalMaxPool2D{}}},
		{"flatten-dense", []Layer{&Flatten{}, NewDense(rng, 7*9*3, 4, Linear)}},
	} {
		imgCheckExport(t, tc.name, tc.layers, imgBatch(rng, 3, 7, 9, 3), false, 1e-4)
	}
	for _, tc := range []struct {
		name   string
		layers []Layer
	}{
		{"toimage-conv-pool-conv-pool-flatten-dense", []Layer{&ToImage{H: 12, W: 10, C: 1}, NewConv2D(rng, 1, 8, 3, 3, "same", 1, 1, ReLU), NewMaxPool2D(2, 2, "valid", 0, 0),
			NewConv2D(rng, 8, 8, 3, 3, "same", 1, 1, ReLU), NewMaxPool2D(2, 2, "valid", 0, 0), &Flatten{}, NewDense(rng, 3*2*8, 16, ReLU), NewDense(rng, 16, 3, Linear)}},
		{"toimage-conv-dw-avg-gap-dense", []Layer{&ToImage{H: 12, W: 10, C: 1}, NewConv2D(rng, 1, 6, 3, 3, "valid", 1, 1, ReLU),
			NewDepthwiseConv2D(rng, 6, 3, 3, "same", 2, 2, ReLU), NewAvgPool2D(2, 2, "same", 0, 0), &GlobalAveragePool2D{}, NewDense(rng, 6, 3, Linear)}},
		{"toimage-conv-gmp-dense", []Layer{&ToImage{H: 12, W: 10, C: 1}, NewConv2D(rng, 1, 6, 5, 5, "same", 2, 2, GELU), &GlobalMaxPool2D{}, NewDense(rng, 6, 3, Linear)}},
	} {
		for _, l := range tc.layers {
			if c, ok := l.(*Conv2D); ok {
				randBias(rng, c.B)
			}
		}
		b := randBatch(rng, 4, 12*10)
		imgCheckExport(t, tc.name, tc.layers, b, false, 1e-4)
		imgCheckExport(t, tc.name, tc.layers, b, true, 0.05)
	}
}

// TestConv2DInt8Export: int8 export quantizes Conv2D's and
// DepthwiseConv2D's weights (per filter, per channel), unless the layer
// is kept f32.
func TestConv2DInt8Export(t *testing.T) {
	rng := rand.New(rand.NewPCG(37, 38))
	layers := []Layer{NewConv2D(rng, 2, 4, 3, 3, "same", 1, 1, ReLU), NewDepthwiseConv2D(rng, 4, 3, 3, "same", 1, 1, ReLU), &GlobalAveragePool2D{}}
	_, _, q := imgEngineRun(t, layers, imgBatch(rng, 2, 5, 5, 2), true)
	if strings.Join(q, " ") != "conv2d/w dwconv2d/w" {
		t.Errorf("quantized %v", q)
	}
	e := NewExporter(true)
	e.KeepF32 = map[string]bool{"conv2d": true}
	if _, err := NewSequential(layers...).Export(e, "x"); err != nil {
		t.Fatal(err)
	}
	if strings.Join(e.Quantized, " ") != "dwconv2d/w" {
		t.Errorf("KeepF32 conv2d: quantized %v", e.Quantized)
	}
	for _, tn := range e.M.Tensors {
		if tn.Name == "dwconv2d/w" && (tn.Quant == nil || len(tn.Quant.Scales) != 4 || tn.Quant.Axis != 0) {
			t.Errorf("dwconv2d/w: quant %+v, want 4 scales on axis 0", tn.Quant)
		}
	}
}

// TestConv2DBatchSplit: a batch large enough to run on several
// goroutines gives, image for image, the bits of the images run alone,
// forward and backward (input and parameter gradients summed).
func TestConv2DBatchSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(39, 40))
	mk := func() []Layer {
		r := rand.New(rand.NewPCG(41, 42))
		return []Layer{NewConv2D(r, 3, 8, 3, 3, "same", 1, 1, ReLU), NewMaxPool2D(2, 2, "same", 0, 0),
			NewDepthwiseConv2D(r, 8, 3, 3, "same", 1, 1, Tanh), NewAvgPool2D(3, 3, "same", 2, 2),
			NewConv2D(r, 8, 6, 2, 2, "valid", 1, 1, GELU)}
	}
	const bn, h, w, c = 48, 15, 14, 3
	b := imgBatch(rng, bn, h, w, c)
	whole := NewSequential(mk()...)
	out := whole.Forward(b, true)
	_, oc := out.Dims()
	dout := seqTargets(rng, bn*oc)
	zeroGrads(whole.Params())
	gotY := append([]float64(nil), seqData(out)...)
	d := mat.NewDense(bn, oc, append([]float64(nil), dout...))
	var dx *mat.Dense = d
	for i := len(whole.Layers) - 1; i >= 0; i-- {
		dx = whole.Layers[i].Backward(dx)
	}
	gotDX := append([]float64(nil), seqData(dx)...)
	one := NewSequential(mk()...)
	x := b.X.RawMatrix().Data
	for i := 0; i < bn; i++ {
		bi := &Batch{X: mat.NewDense(1, h*w*c, x[i*h*w*c:(i+1)*h*w*c]), B: 1, H: h, W: w}
		yi := seqData(one.Forward(bi, true))
		for j, v := range yi {
			if v != gotY[i*oc+j] {
				t.Fatalf("image %d: output %d is %v alone, %v in the batch", i, j, v, gotY[i*oc+j])
			}
		}
		di := mat.NewDense(1, oc, append([]float64(nil), dout[i*oc:(i+1)*oc]...))
		for k := len(one.Layers) - 1; k >= 0; k-- {
			di = one.Layers[k].Backward(di)
		}
		for j, v := range seqData(di) {
			if v != gotDX[i*h*w*c+j] {
				t.Fatalf("image %d: input gradient %d is %v alone, %v in the batch", i, j, v, gotDX[i*h*w*c+j])
			}
		}
	}
	// Parameter gradients: the batch's sums against the images' (order
	// differs, so within rounding).
	for pi, p := range whole.Params() {
		q := one.Params()[pi]
		for j := range p.G {
			if math.Abs(p.G[j]-q.G[j]) > 1e-9*max(1, math.Abs(q.G[j])) {
				t.Fatalf("param %d (%s) element %d: batch %v, images %v", pi, p.Name, j, p.G[j], q.G[j])
			}
		}
	}
}
