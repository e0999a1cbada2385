package op

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/runtime/internal/kernel"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// pad2D is a test's padding choice: mode "valid", "same", "explicit"
// (p: top, left, bottom, right) or "default" (no attribute: valid).
type pad2D struct {
	mode string
	p    [4]int
}

func (p pad2D) String() string {
	if p.mode == "explicit" {
		return fmt.Sprint(p.p)
	}
	return p.mode
}

// attrs adds p's padding attribute.
func (p pad2D) attrs(a map[string]Attr) map[string]Attr {
	switch p.mode {
	case "same", "valid":
		a["padding"] = Attr{Kind: AttrString, String: p.mode}
	case "explicit":
		a["padding"] = Attr{Kind: AttrInts, Ints: []int64{int64(p.p[0]), int64(p.p[1]), int64(p.p[2]), int64(p.p[3])}}
	}
	return a
}

// geomRef is one axis of the expected geometry, from the catalog's
// definitions: the output size (< 1: no output) and the padding before
// the first cell. lo and hi are the explicit padding.
func geomRef(mode string, n, k, s, d, lo, hi int) (out, before int) {
	span := (k-1)*d + 1
	if mode == "same" {
		out = int(math.Ceil(float64(n) / float64(s)))
		total := max((out-1)*s+span-n, 0)
		return out, total / 2 // the odd step after
	}
	if mode != "explicit" {
		lo, hi = 0, 0
	}
	num := n + lo + hi - span
	if num < 0 {
		return 0, lo
	}
	return int(math.Floor(float64(num)/float64(s))) + 1, lo
}

// conv2DCase is one Conv2D/DepthwiseConv2D configuration.
type conv2DCase struct {
	b, h, w, c, f, kh, kw, sh, sw, dh, dw int
	pad                                   pad2D
	act                                   string
	bias, q                               bool
}

func (tc conv2DCase) String() string {
	return fmt.Sprintf("B=%d,H=%d,W=%d,C=%d,F=%d,K=%dx%d,strides=%d,%d,dil=%d,%d,pad=%s,%q,bias=%v,int8=%v",
		tc.b, tc.h, tc.w, tc.c, tc.f, tc.kh, tc.kw, tc.sh, tc.sw, tc.dh, tc.dw, tc.pad, tc.act, tc.bias, tc.q)
}

// geom is the expected output size and leading padding of the case.
func (tc conv2DCase) geom() (hOut, wOut, top, left int) {
	hOut, top = geomRef(tc.pad.mode, tc.h, tc.kh, tc.sh, tc.dh, tc.pad.p[0], tc.pad.p[2])
	wOut, left = geomRef(tc.pad.mode, tc.w, tc.kw, tc.sw, tc.dw, tc.pad.p[1], tc.pad.p[3])
	return
}

// node makes the case's node of op (Conv2D or DepthwiseConv2D) with the
// given filters and bias inputs.
func (tc conv2DCase) node(op string, w, b Input) *Node {
	attrs := map[string]Attr{"activation": {Kind: AttrString, String: tc.act}}
	if tc.sh != 1 || tc.sw != 1 || tc.b%2 == 0 { // the default [1, 1] when absent
		attrs["strides"] = Attr{Kind: AttrInts, Ints: []int64{int64(tc.sh), int64(tc.sw)}}
	}
	if tc.dh != 1 || tc.dw != 1 || tc.b%2 == 1 {
		attrs["dilations"] = Attr{Kind: AttrInts, Ints: []int64{int64(tc.dh), int64(tc.dw)}}
	}
	in := []Input{dyn("x"), w}
	if b.Present {
		in = append(in, b)
	}
	return &Node{Name: "conv", Op: op, Attrs: tc.pad.attrs(attrs), Inputs: in, Outputs: 1}
}

// conv2DRef is a direct float64 Conv2D (depthwise: each channel with
// its own filter, w [C, Kh, Kw]) from the definition: output (oh, ow)'s
// window starts at input (oh·sh − top, ow·sw − left), cells outside the
// input are zeros.
func conv2DRef(tc conv2DCase, depthwise bool, x, w, b []float32) []float64 {
	hOut, wOut, top, left := tc.geom()
	f := tc.f
	if depthwise {
		f = tc.c
	}
	y := make([]float64, tc.b*hOut*wOut*f)
	for bi := 0; bi < tc.b; bi++ {
		for oh := 0; oh < hOut; oh++ {
			for ow := 0; ow < wOut; ow++ {
				for fi := 0; fi < f; fi++ {
					s := 0.0
					if b != nil {
						s = float64(b[fi])
					}
					for i := 0; i < tc.kh; i++ {
						for j := 0; j < tc.kw; j++ {
							ih, iw := oh*tc.sh-top+i*tc.dh, ow*tc.sw-left+j*tc.dw
							if ih < 0 || ih >= tc.h || iw < 0 || iw >= tc.w {
								continue
							}
							xAt := func(ci int) float64 { return float64(x[((bi*tc.h+ih)*tc.w+iw)*tc.c+ci]) }
							if depthwise {
								s += xAt(fi) * float64(w[(fi*tc.kh+i)*tc.kw+j])
								continue
							}
							for ci := 0; ci < tc.c; ci++ {
								s += xAt(ci) * float64(w[((fi*tc.kh+i)*tc.kw+j)*tc.c+ci])
							}
						}
					}
					y[((bi*hOut+oh)*wOut+ow)*f+fi] = cvRefAct(s, tc.act)
				}
			}
		}
	}
	return y
}

// conv2DCases are the random configurations of the Conv2D and depthwise
// tests, after fixed ones that make sure of the features the catalog
// names: strides 2, dilation 2, "same" with even and odd kernels,
// asymmetric explicit padding, 1×1 kernels (the pointwise path and a
// strided one), batches above 1, windows larger than the input.
func conv2DCases(rng *rand.Rand, n int) []conv2DCase {
	acts := []string{"", "relu", "gelu", "tanh", "leaky_relu", "sigmoid"}
	cases := []conv2DCase{
		{b: 2, h: 6, w: 5, c: 3, f: 4, kh: 3, kw: 3, sh: 2, sw: 2, dh: 1, dw: 1, pad: pad2D{mode: "same"}, act: "relu", bias: true},
		{b: 1, h: 7, w: 7, c: 2, f: 3, kh: 2, kw: 2, sh: 1, sw: 1, dh: 1, dw: 1, pad: pad2D{mode: "same"}},
		{b: 3, h: 7, w: 6, c: 2, f: 3, kh: 4, kw: 2, sh: 2, sw: 3, dh: 1, dw: 1, pad: pad2D{mode: "same"}, bias: true},
		{b: 2, h: 9, w: 8, c: 3, f: 2, kh: 3, kw: 3, sh: 1, sw: 1, dh: 2, dw: 2, pad: pad2D{mode: "same"}, act: "gelu"},
		{b: 2, h: 9, w: 8, c: 3, f: 2, kh: 3, kw: 2, sh: 1, sw: 2, dh: 2, dw: 3, pad: pad2D{mode: "valid"}},
		{b: 2, h: 5, w: 6, c: 4, f: 3, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pad: pad2D{mode: "explicit", p: [4]int{2, 0, 1, 3}}, act: "tanh", bias: true},
		{b: 3, h: 4, w: 5, c: 6, f: 5, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, pad: pad2D{mode: "valid"}, act: "relu", bias: true},
		{b: 2, h: 4, w: 5, c: 6, f: 5, kh: 1, kw: 1, sh: 1, sw: 1, dh: 3, dw: 1, pad: pad2D{mode: "same"}, act: "gelu"},
		{b: 2, h: 5, w: 5, c: 3, f: 4, kh: 1, kw: 1, sh: 2, sw: 2, dh: 1, dw: 1, pad: pad2D{mode: "default"}},
		{b: 2, h: 3, w: 3, c: 2, f: 2, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, pad: pad2D{mode: "explicit", p: [4]int{1, 1, 0, 2}}, bias: true},
		{b: 1, h: 2, w: 2, c: 2, f: 2, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pad: pad2D{mode: "same"}},                             // kernel larger than the input
		{b: 1, h: 2, w: 3, c: 2, f: 2, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pad: pad2D{mode: "valid"}},                            // no output: an error
		{b: 2, h: 1, w: 1, c: 5, f: 3, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pad: pad2D{mode: "same"}, act: "sigmoid", bias: true}, // a 1×1 output: one row a sample
		{b: 2, h: 2, w: 2, c: 2, f: 2, kh: 2, kw: 2, sh: 1, sw: 1, dh: 1, dw: 1, pad: pad2D{mode: "explicit", p: [4]int{3, 0, 0, 3}}},  // windows all padding
	}
	for range n {
		tc := conv2DCase{b: 1 + rng.IntN(3), h: 1 + rng.IntN(9), w: 1 + rng.IntN(9), c: 1 + rng.IntN(5), f: 1 + rng.IntN(6),
			kh: 1 + rng.IntN(5), kw: 1 + rng.IntN(5), sh: 1 + rng.IntN(3), sw: 1 + rng.IntN(3), dh: 1 + rng.IntN(2), dw: 1 + rng.IntN(2),
			act: acts[rng.IntN(len(acts))], bias: rng.IntN(3) != 0}
		switch rng.IntN(4) {
		case 0:
			tc.pad.mode = "same"
		case 1:
			tc.pad.mode = "valid"
		case 2:
			tc.pad.mode = "default"
		default:
			tc.pad.mode = "explicit"
			for i := range tc.pad.p {
				tc.pad.p[i] = rng.IntN(4)
			}
		}
		cases = append(cases, tc)
	}
	// Every case in f32 and int8.
	out := make([]conv2DCase, 0, 2*len(cases))
	for _, tc := range cases {
		out = append(out, tc)
		tc.q = true
		out = append(out, tc)
	}
	return out
}

// conv2DInputs makes the case's input, filters and bias: filters [F, Kh,
// Kw, C] (depthwise: [C, Kh, Kw]) of scale 1/√(fan-in); int8 ones
// quantized per filter (channel), w then the dequantized values.
func conv2DInputs(rng *rand.Rand, tc conv2DCase, depthwise bool) (x *tensor.Tensor, wIn, bIn Input, w, b []float32) {
	x = tensor.NewF32(tensor.Shape{tc.b, tc.h, tc.w, tc.c}, randF32(rng, tc.b*tc.h*tc.w*tc.c, 1))
	rows, fanIn, shape := tc.f, tc.kh*tc.kw*tc.c, tensor.Shape{tc.f, tc.kh, tc.kw, tc.c}
	if depthwise {
		rows, fanIn, shape = tc.c, tc.kh*tc.kw, tensor.Shape{tc.c, tc.kh, tc.kw}
	}
	w = randF32(rng, rows*fanIn, 1/math.Sqrt(float64(fanIn)))
	wIn = f32Const("w", shape, w)
	if tc.q {
		wIn, w = cvI8RowsConst("w", shape, w, rows, fanIn)
	}
	bIn = absent
	if tc.bias {
		b = randF32(rng, rows, 0.5)
		bIn = f32Const("b", tensor.Shape{rows}, b)
	}
	return x, wIn, bIn, w, b
}

// sample returns sample i of an image batch x as a batch of one.
func sample(x *tensor.Tensor, i int) *tensor.Tensor {
	n := x.Shape[1] * x.Shape[2] * x.Shape[3]
	return tensor.NewF32(tensor.Shape{1, x.Shape[1], x.Shape[2], x.Shape[3]}, append([]float32(nil), x.F32[i*n:(i+1)*n]...))
}

// checkConv2DCase runs one case of Conv2D or DepthwiseConv2D: the output
// shape, the same bits with 1 and 3 workers and for each sample run
// alone, and the float64 reference (on the dequantized filters for int8)
// within tol. It returns the largest relative error.
func checkConv2DCase(t *testing.T, rng *rand.Rand, tc conv2DCase, depthwise bool, tol float64) float64 {
	t.Helper()
	opName, f := "Conv2D", tc.f
	if depthwise {
		opName, f = "DepthwiseConv2D", tc.c
	}
	x, wIn, bIn, w, b := conv2DInputs(rng, tc, depthwise)
	node := tc.node(opName, wIn, bIn)
	name := opName + " " + tc.String()
	hOut, wOut, _, _ := tc.geom()
	if hOut < 1 || wOut < 1 {
		k, err := Build(node)
		if err != nil {
			t.Fatal(name, err)
		}
		if _, _, err := k.Plan([]Desc{{tensor.F32, x.Shape}, {}, {}}); err == nil || !strings.Contains(err.Error(), "smaller than the window") {
			t.Fatalf("%s: no output: Plan error %v", name, err)
		}
		return 0
	}
	y1 := runNode(t, node, 1, x)[0]
	if !y1.Shape.Equal(tensor.Shape{tc.b, hOut, wOut, f}) {
		t.Fatalf("%s: output shape %v, want [%d %d %d %d]", name, y1.Shape, tc.b, hOut, wOut, f)
	}
	y3 := runNode(t, node, 3, x)[0]
	cvCheckSameBits(t, name, y1.F32, y3.F32)
	per := hOut * wOut * f
	for i := 0; i < tc.b && tc.b > 1; i++ {
		yi := runNode(t, node, 1, sample(x, i))[0]
		cvCheckSameBits(t, fmt.Sprintf("%s: sample %d alone", name, i), y1.F32[i*per:(i+1)*per], yi.F32)
	}
	want := conv2DRef(tc, depthwise, x.F32, w, b)
	cvCheckClose(t, name, y1.F32, want, tol)
	worst := 0.0
	for i, v := range y1.F32 {
		worst = max(worst, math.Abs(float64(v)-want[i])/(1+math.Abs(want[i])))
	}
	return worst
}

func TestConv2D(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	worst := map[bool]float64{}
	cases := conv2DCases(rng, 150)
	for _, tc := range cases {
		tol := cvTolF32
		if tc.q {
			tol = cvTolInt8
		}
		worst[tc.q] = max(worst[tc.q], checkConv2DCase(t, rng, tc, false, tol))
	}
	t.Logf("%d cases; worst error f32 %.3g (tolerance %g), int8 %.3g (tolerance %g)", len(cases), worst[false], cvTolF32, worst[true], cvTolInt8)
}

func TestDepthwiseConv2D(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	worst := 0.0
	cases := conv2DCases(rng, 150)
	for _, tc := range cases {
		// Int8 filters are dequantized at build and run in f32: the f32
		// tolerance against the dequantized values.
		worst = max(worst, checkConv2DCase(t, rng, tc, true, cvTolF32))
	}
	t.Logf("%d cases; worst error %.3g (tolerance %g)", len(cases), worst, cvTolF32)
}

// TestConv2DSame pins the "same" geometry on hand-computed sums: an
// all-ones kernel over a 4×4 image of 1…16 (one channel) sums the window
// cells inside the image.
func TestConv2DSame(t *testing.T) {
	img := make([]float32, 16)
	for i := range img {
		img[i] = float32(i + 1)
	}
	x := tensor.NewF32(tensor.Shape{1, 4, 4, 1}, img)
	for _, tc := range []struct {
		kh, kw, s int
		want      []float32
	}{
		// Even kernel: no padding on top/left, one row and column after.
		{2, 2, 1, []float32{14, 18, 22, 12, 30, 34, 38, 20, 46, 50, 54, 28, 27, 29, 31, 16}},
		// 3×3, stride 2: ceil(4/2) = 2 outputs, total padding 1 (after).
		{3, 3, 2, []float32{54, 45, 72, 54}},
		// 1×3, stride 2: rows 0 and 2, windows at columns 0..2 and 2..4.
		{1, 3, 2, []float32{6, 7, 30, 23}},
	} {
		w := make([]float32, tc.kh*tc.kw)
		for i := range w {
			w[i] = 1
		}
		for _, op := range []string{"Conv2D", "DepthwiseConv2D"} {
			shape := tensor.Shape{1, tc.kh, tc.kw, 1}
			if op == "DepthwiseConv2D" {
				shape = shape[:3]
			}
			node := &Node{Name: "c", Op: op, Inputs: []Input{dyn("x"), f32Const("w", shape, w)}, Outputs: 1,
				Attrs: map[string]Attr{"padding": {Kind: AttrString, String: "same"}, "strides": {Kind: AttrInts, Ints: []int64{int64(tc.s), int64(tc.s)}}}}
			y := runNode(t, node, 1, x)[0]
			if fmt.Sprint(y.F32) != fmt.Sprint(tc.want) {
				t.Errorf("%s %dx%d stride %d: %v, want %v", op, tc.kh, tc.kw, tc.s, y.F32, tc.want)
			}
		}
	}
	// Max pooling, "same", 2×2 stride 2 over 3×3: the last window holds
	// only the cell inside the image.
	x3 := tensor.NewF32(tensor.Shape{1, 3, 3, 1}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9})
	for op, want := range map[string]string{"MaxPool2D": "[5 6 8 9]", "AvgPool2D": "[3 4.5 7.5 9]"} {
		node := &Node{Name: "p", Op: op, Inputs: []Input{dyn("x")}, Outputs: 1,
			Attrs: map[string]Attr{"size": {Kind: AttrInts, Ints: []int64{2, 2}}, "padding": {Kind: AttrString, String: "same"}}}
		if y := runNode(t, node, 1, x3)[0]; fmt.Sprint(y.F32) != want {
			t.Errorf("%s same: %v, want %s", op, y.F32, want)
		}
	}
}

// TestConv2DBlocks runs Conv2D with im2col blocks of a few rows, blocks
// whose size does not divide the rows, and one block for all: the same
// bits (each row's product is its own, whatever block it is in).
func TestConv2DBlocks(t *testing.T) {
	defer func(v int) { conv2DBlock = v }(conv2DBlock)
	rng := rand.New(rand.NewPCG(25, 26))
	for _, q := range []bool{false, true} {
		tc := conv2DCase{b: 2, h: 9, w: 7, c: 5, f: 7, kh: 3, kw: 2, sh: 1, sw: 2, dh: 2, dw: 1, pad: pad2D{mode: "same"}, act: "gelu", bias: true, q: q}
		x, wIn, bIn, _, _ := conv2DInputs(rng, tc, false)
		node := tc.node("Conv2D", wIn, bIn)
		var ref []float32
		for _, blk := range []int{1 << 18, 30, 31 * 30, 7 * 30} { // K = 30: 1, 31 and 7 rows a block
			conv2DBlock = blk
			k, err := Build(node)
			if err != nil {
				t.Fatal(err)
			}
			_, sc, err := k.Plan([]Desc{{tensor.F32, x.Shape}})
			if err != nil {
				t.Fatal(err)
			}
			if rows := min(blk/30, 2*9*4); sc.F32 < rows*30 || sc.F32 > rows*30+2*rows {
				t.Errorf("int8=%v, block %d: F32 scratch %d, want %d im2col floats (and 2 a row for int8)", q, blk, sc.F32, rows*30)
			}
			y := runNode(t, node, 3, x)[0].F32
			if ref == nil {
				ref = y
				continue
			}
			cvCheckSameBits(t, fmt.Sprintf("int8=%v, block %d", q, blk), ref, y)
		}
	}
}

// TestConv2DLarge is big enough for the GEMM (Conv2D) and the rows
// (DepthwiseConv2D) to be handed out to workers.
func TestConv2DLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	for _, depthwise := range []bool{false, true} {
		for _, q := range []bool{false, true} {
			for _, kh := range []int{1, 3} {
				for _, act := range []string{"relu", "gelu"} {
					tc := conv2DCase{b: 2, h: 24, w: 20, c: 32, f: 48, kh: kh, kw: kh, sh: 1, sw: 1, dh: 1, dw: 1, pad: pad2D{mode: "same"}, act: act, bias: true, q: q}
					x, wIn, bIn, w, b := conv2DInputs(rng, tc, depthwise)
					opName := map[bool]string{false: "Conv2D", true: "DepthwiseConv2D"}[depthwise]
					node := tc.node(opName, wIn, bIn)
					y1 := runNode(t, node, 1, x)[0].F32
					y3 := runNode(t, node, 3, x)[0].F32
					cvCheckSameBits(t, opName+" "+tc.String(), y1, y3)
					tol := cvTolF32
					if q && !depthwise {
						tol = cvTolInt8
					}
					cvCheckClose(t, opName+" "+tc.String(), y1, conv2DRef(tc, depthwise, x.F32, w, b), tol)
				}
			}
		}
	}
}

// TestConv2DInt8Off runs int8 filters through the f32 fallback: the
// dequantized weights at f32 precision, on both paths.
func TestConv2DInt8Off(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	for _, kh := range []int{1, 3} {
		tc := conv2DCase{b: 2, h: 6, w: 5, c: 3, f: 4, kh: kh, kw: kh, sh: 1, sw: 1, dh: 1, dw: 1, pad: pad2D{mode: "same"}, bias: true, q: true}
		x, wIn, bIn, deq, b := conv2DInputs(rng, tc, false)
		y := newCVRig(t, tc.node("Conv2D", wIn, bIn), 1, true, x).run(t)
		cvCheckClose(t, "int8 off", y, conv2DRef(tc, false, x.F32, deq, b), cvTolF32)
	}
}

// pool2DRef is a direct float64 max or mean pool over the window's cells
// inside the input.
func pool2DRef(x []float32, bn, h, w, c, kh, kw, sh, sw int, mode string, avg bool) (y []float64, hOut, wOut int) {
	hOut, top := geomRef(mode, h, kh, sh, 1, 0, 0)
	wOut, left := geomRef(mode, w, kw, sw, 1, 0, 0)
	if hOut < 1 || wOut < 1 {
		return nil, hOut, wOut
	}
	for bi := 0; bi < bn; bi++ {
		for oh := 0; oh < hOut; oh++ {
			for ow := 0; ow < wOut; ow++ {
				for ci := 0; ci < c; ci++ {
					s, m, n := 0.0, math.Inf(-1), 0
					for i := 0; i < kh; i++ {
						for j := 0; j < kw; j++ {
							ih, iw := oh*sh-top+i, ow*sw-left+j
							if ih < 0 || ih >= h || iw < 0 || iw >= w {
								continue
							}
							v := float64(x[((bi*h+ih)*w+iw)*c+ci])
							s, m, n = s+v, math.Max(m, v), n+1
						}
					}
					if avg {
						m = s / float64(n)
					}
					y = append(y, m)
				}
			}
		}
	}
	return y, hOut, wOut
}

func TestPool2D(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	cases := 0
	for _, avg := range []bool{false, true} {
		opName := map[bool]string{false: "MaxPool2D", true: "AvgPool2D"}[avg]
		for range 200 {
			bn, h, w, c := 1+rng.IntN(3), 1+rng.IntN(9), 1+rng.IntN(9), 1+rng.IntN(6)
			kh, kw := 1+rng.IntN(4), 1+rng.IntN(4)
			sh, sw := 0, 0 // the default: the size
			attrs := map[string]Attr{"size": {Kind: AttrInts, Ints: []int64{int64(kh), int64(kw)}}}
			if rng.IntN(3) != 0 {
				sh, sw = 1+rng.IntN(3), 1+rng.IntN(3)
				attrs["strides"] = Attr{Kind: AttrInts, Ints: []int64{int64(sh), int64(sw)}}
			}
			mode := []string{"same", "valid", "default"}[rng.IntN(3)]
			if mode != "default" {
				attrs["padding"] = Attr{Kind: AttrString, String: mode}
			}
			name := fmt.Sprintf("%s B=%d,H=%d,W=%d,C=%d,size=%dx%d,strides=%d,%d,%s", opName, bn, h, w, c, kh, kw, sh, sw, mode)
			if sh == 0 {
				sh, sw = kh, kw
			}
			node := &Node{Name: "pool", Op: opName, Attrs: attrs, Inputs: []Input{dyn("x")}, Outputs: 1}
			x := tensor.NewF32(tensor.Shape{bn, h, w, c}, randF32(rng, bn*h*w*c, 1))
			want, hOut, wOut := pool2DRef(x.F32, bn, h, w, c, kh, kw, sh, sw, mode, avg)
			if hOut < 1 || wOut < 1 {
				if got := cvPlanErr(t, node, Desc{tensor.F32, x.Shape}); !strings.Contains(got, "smaller than the window") {
					t.Fatalf("%s: no output: Plan error %q", name, got)
				}
				continue
			}
			cases++
			y1 := runNode(t, node, 1, x)[0]
			if !y1.Shape.Equal(tensor.Shape{bn, hOut, wOut, c}) {
				t.Fatalf("%s: shape %v, want [%d %d %d %d]", name, y1.Shape, bn, hOut, wOut, c)
			}
			if !avg { // the max is one of the values: exact
				for i, v := range y1.F32 {
					if float64(v) != want[i] {
						t.Fatalf("%s: [%d] = %v, want %v", name, i, v, want[i])
					}
				}
			}
			cvCheckClose(t, name, y1.F32, want, cvTolF32)
			cvCheckSameBits(t, name, y1.F32, runNode(t, node, 3, x)[0].F32)
			per := hOut * wOut * c
			for i := 0; i < bn && bn > 1; i++ {
				cvCheckSameBits(t, name+" sample alone", y1.F32[i*per:(i+1)*per], runNode(t, node, 1, sample(x, i))[0].F32)
			}
		}
	}
	t.Logf("%d cases with an output", cases)
}

// TestPool2DLarge hands rows out to workers.
func TestPool2DLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	x := tensor.NewF32(tensor.Shape{2, 40, 36, 24}, randF32(rng, 2*40*36*24, 1))
	for _, avg := range []bool{false, true} {
		opName := map[bool]string{false: "MaxPool2D", true: "AvgPool2D"}[avg]
		node := &Node{Name: "pool", Op: opName, Inputs: []Input{dyn("x")}, Outputs: 1, Attrs: map[string]Attr{
			"size": {Kind: AttrInts, Ints: []int64{3, 3}}, "strides": {Kind: AttrInts, Ints: []int64{1, 1}}, "padding": {Kind: AttrString, String: "same"}}}
		y1 := runNode(t, node, 1, x)[0].F32
		cvCheckSameBits(t, opName, y1, runNode(t, node, 3, x)[0].F32)
		want, _, _ := pool2DRef(x.F32, 2, 40, 36, 24, 3, 3, 1, 1, "same", avg)
		cvCheckClose(t, opName, y1, want, cvTolF32)
	}
}

func TestGlobalPool2D(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	for _, isMax := range []bool{false, true} {
		opName := map[bool]string{false: "GlobalAveragePool2D", true: "GlobalMaxPool2D"}[isMax]
		for _, hw := range [][2]int{{0, 3}, {4, 0}, {1, 1}, {3, 5}, {8, 8}} {
			for _, c := range []int{1, 3, 16} {
				bn, h, w := 3, hw[0], hw[1]
				x := tensor.NewF32(tensor.Shape{bn, h, w, c}, randF32(rng, bn*h*w*c, 1))
				want := make([]float64, bn*c)
				for bi := 0; bi < bn; bi++ {
					for ci := 0; ci < c; ci++ {
						s, m := 0.0, math.Inf(-1)
						for p := 0; p < h*w; p++ {
							v := float64(x.F32[(bi*h*w+p)*c+ci])
							s, m = s+v, math.Max(m, v)
						}
						switch {
						case h*w == 0:
						case isMax:
							want[bi*c+ci] = m
						default:
							want[bi*c+ci] = s / float64(h*w)
						}
					}
				}
				node := &Node{Name: "g", Op: opName, Inputs: []Input{dyn("x")}, Outputs: 1}
				name := fmt.Sprintf("%s H=%d,W=%d,C=%d", opName, h, w, c)
				y := runNode(t, node, 1, x)[0]
				if !y.Shape.Equal(tensor.Shape{bn, c}) {
					t.Fatalf("%s: shape %v", name, y.Shape)
				}
				cvCheckClose(t, name, y.F32, want, cvTolF32)
				for i := range bn {
					cvCheckSameBits(t, name+" sample alone", y.F32[i*c:(i+1)*c], runNode(t, node, 1, sample(x, i))[0].F32)
				}
				newCVRig(t, node, 1, false, x).noAllocs(t)
			}
		}
	}
}

// TestConv2DNoAllocs: a steady-state Run of every 2D operator allocates
// nothing (one worker, so GELU uses the planned scratch).
func TestConv2DNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(37, 38))
	for _, depthwise := range []bool{false, true} {
		for _, q := range []bool{false, true} {
			for _, kh := range []int{1, 3} {
				for _, act := range []string{"gelu", "relu", "sigmoid"} {
					opName := map[bool]string{false: "Conv2D", true: "DepthwiseConv2D"}[depthwise]
					tc := conv2DCase{b: 2, h: 7, w: 6, c: 4, f: 6, kh: kh, kw: kh, sh: 1, sw: 1, dh: 1, dw: 1, pad: pad2D{mode: "same"}, act: act, bias: true, q: q}
					x, wIn, bIn, _, _ := conv2DInputs(rng, tc, depthwise)
					t.Run(fmt.Sprintf("%s,int8=%v,k=%d,%s", opName, q, kh, act), func(t *testing.T) {
						newCVRig(t, tc.node(opName, wIn, bIn), 1, false, x).noAllocs(t)
					})
				}
			}
		}
	}
	x := tensor.NewF32(tensor.Shape{2, 9, 8, 5}, randF32(rng, 2*9*8*5, 1))
	for _, opName := range []string{"MaxPool2D", "AvgPool2D"} {
		node := &Node{Name: "p", Op: opName, Inputs: []Input{dyn("x")}, Outputs: 1, Attrs: map[string]Attr{
			"size": {Kind: AttrInts, Ints: []int64{3, 2}}, "padding": {Kind: AttrString, String: "same"}}}
		newCVRig(t, node, 1, false, x).noAllocs(t)
	}
}

// TestConv2DPerSample: the engine may run every 2D operator in slices of
// the batch.
func TestConv2DPerSample(t *testing.T) {
	d := []Desc{{tensor.F32, tensor.Shape{2, 5, 5, 3}}}
	for _, k := range []PerSample{&conv2D{}, &depthwise2D{}, &pool2D{}, globalPool2D{}} {
		if !k.PerSample(d) {
			t.Errorf("%T is not PerSample", k)
		}
	}
	for _, name := range []string{"Conv2D", "DepthwiseConv2D", "MaxPool2D", "AvgPool2D", "GlobalAveragePool2D", "GlobalMaxPool2D"} {
		if d := Lookup(name); d == nil || d.Doc == "" {
			t.Errorf("%s is not registered with a Doc", name)
		}
	}
}

func TestConv2DErrors(t *testing.T) {
	ints := func(v ...int64) Attr { return Attr{Kind: AttrInts, Ints: v} }
	str := func(v string) Attr { return Attr{Kind: AttrString, String: v} }
	w4 := f32Const("w", tensor.Shape{2, 3, 3, 4}, make([]float32, 72))
	w3 := f32Const("w", tensor.Shape{4, 3, 3}, make([]float32, 36))
	conv := func(attrs map[string]Attr, in ...Input) *Node {
		return &Node{Name: "c", Op: "Conv2D", Attrs: attrs, Inputs: append([]Input{dyn("x")}, in...), Outputs: 1}
	}
	dw := func(attrs map[string]Attr, in ...Input) *Node {
		return &Node{Name: "d", Op: "DepthwiseConv2D", Attrs: attrs, Inputs: append([]Input{dyn("x")}, in...), Outputs: 1}
	}
	pool := func(op string, attrs map[string]Attr) *Node {
		return &Node{Name: "p", Op: op, Attrs: attrs, Inputs: []Input{dyn("x")}, Outputs: 1}
	}
	size2 := func(more map[string]Attr) map[string]Attr {
		a := map[string]Attr{"size": ints(2, 2)}
		for k, v := range more {
			a[k] = v
		}
		return a
	}
	i8 := func(shape tensor.Shape, scales []float32, axis int) Input {
		return Input{Name: "w", Present: true, Const: &Const{Name: "w", T: &tensor.Tensor{DType: tensor.I8, Shape: shape, I8: make([]int8, shape.NumElements())}, Scales: scales, Axis: axis}}
	}
	// A window of 128 cells dilated by 2²⁴ spans more than 2³¹: more
	// than an int holds on 32-bit ARM.
	wTall := f32Const("w", tensor.Shape{1, 128, 1, 1}, make([]float32, 128))
	for _, tc := range []struct {
		n    *Node
		want string
	}{
		{conv(nil), "takes 2 to 3 inputs"},
		{conv(nil, dyn("w")), "must be a model constant"},
		{conv(nil, f32Const("w", tensor.Shape{2, 36}, make([]float32, 72))), "want rank 4"},
		{conv(nil, f32Const("w", tensor.Shape{0, 3, 3, 4}, nil)), "every dimension at least 1"},
		{conv(nil, f32Const("w", tensor.Shape{2, 3, 3, 0}, nil)), "every dimension at least 1"},
		{conv(nil, w4, f32Const("b", tensor.Shape{3}, make([]float32, 3))), "has 3 values, want 2"},
		{conv(nil, w4, f32Const("b", tensor.Shape{1, 2}, make([]float32, 2))), "want rank 1"},
		{conv(nil, i8(tensor.Shape{2, 3, 3, 4}, []float32{1}, -1)), "quantized per row"},
		{conv(nil, Input{Name: "w", Present: true, Const: &Const{Name: "w", T: tensor.NewI32(tensor.Shape{2, 3, 3, 4}, nil)}}), "want f32 or i8"},
		{conv(nil, f32Const("w", tensor.Shape{2, 3, 3, 4}, make([]float32, 7))), "filters"},
		{conv(map[string]Attr{"strides": ints(0, 1)}, w4), "strides = [0 1]: value 0 is out of range, want 1 to 16777216"},
		{conv(map[string]Attr{"strides": ints(1, 1<<24+1)}, w4), "out of range"},
		{conv(map[string]Attr{"strides": ints(-1, 1)}, w4), "out of range"},
		{conv(map[string]Attr{"strides": ints(2)}, w4), "strides = [2] has 1 values, want 2"},
		{conv(map[string]Attr{"strides": ints(1, 1, 1)}, w4), "want 2"},
		{conv(map[string]Attr{"strides": {Kind: AttrInt, Int: 2}}, w4), "must be a list of 2 ints"},
		{conv(map[string]Attr{"dilations": ints(1, 0)}, w4), "dilations = [1 0]"},
		{conv(map[string]Attr{"dilations": ints(1<<40, 1)}, w4), "out of range"},
		{conv(map[string]Attr{"dilations": ints(1<<24, 1)}, wTall), "exceeds 1073741824"},
		{conv(map[string]Attr{"padding": str("full")}, w4), `padding = "full", want "same", "valid" or ints`},
		{conv(map[string]Attr{"padding": {Kind: AttrInt, Int: 1}}, w4), "padding = 1 (an int)"},
		{conv(map[string]Attr{"padding": ints(1, 1)}, w4), "has 2 values, want 4"},
		{conv(map[string]Attr{"padding": ints(0, -1, 0, 0)}, w4), "value -1 is out of range, want 0"},
		{conv(map[string]Attr{"padding": ints(0, 0, 1<<25, 0)}, w4), "out of range"},
		{conv(map[string]Attr{"activation": str("swish")}, w4), "unknown activation"},
		{conv(map[string]Attr{"alpha": str("x")}, w4), "must be a float"},
		{conv(map[string]Attr{"groups": ints(2)}, w4), "no attribute \"groups\""},
		{conv(map[string]Attr{"stride": ints(2, 2)}, w4), "no attribute \"stride\""},
		{dw(nil, f32Const("w", tensor.Shape{2, 3, 3, 4}, make([]float32, 72))), "want rank 3"},
		{dw(nil, f32Const("w", tensor.Shape{4, 0, 3}, nil)), "every dimension at least 1"},
		{dw(nil, w3, f32Const("b", tensor.Shape{2}, make([]float32, 2))), "has 2 values, want 4"},
		{dw(nil, i8(tensor.Shape{4, 3, 3}, []float32{1}, -1)), "quantized per channel (axis 0, 4 scales)"},
		{dw(nil, i8(tensor.Shape{4, 3, 3}, []float32{1, 1, 1}, 1)), "quantized per channel"},
		{dw(nil, Input{Name: "w", Present: true, Const: &Const{Name: "w", T: tensor.NewI32(tensor.Shape{4, 3, 3}, nil)}}), "want f32 or i8"},
		{dw(nil, f32Const("w", tensor.Shape{4, 3, 3}, make([]float32, 5))), "filters"},
		{dw(map[string]Attr{"strides": ints(1, 0)}, w3), "out of range"},
		{dw(map[string]Attr{"padding": ints(1, 1, 1)}, w3), "want 4"},
		{pool("MaxPool2D", nil), "attribute size is required"},
		{pool("AvgPool2D", map[string]Attr{"size": ints(2)}), "want 2"},
		{pool("AvgPool2D", map[string]Attr{"size": ints(0, 2)}), "out of range"},
		{pool("MaxPool2D", map[string]Attr{"size": ints(2, 1<<24+1)}), "out of range"},
		{pool("MaxPool2D", map[string]Attr{"size": {Kind: AttrInt, Int: 2}}), "must be a list of 2 ints"},
		{pool("MaxPool2D", size2(map[string]Attr{"strides": ints(2, 0)})), "out of range"},
		{pool("MaxPool2D", size2(map[string]Attr{"padding": ints(0, 0, 0, 0)})), `want "same" or "valid"`},
		{pool("AvgPool2D", size2(map[string]Attr{"padding": str("full")})), `padding = "full"`},
		{pool("AvgPool2D", size2(map[string]Attr{"dilations": ints(1, 1)})), "no attribute"},
		{&Node{Name: "p", Op: "MaxPool2D", Attrs: size2(nil), Inputs: []Input{dyn("x"), dyn("y")}}, "takes 1 inputs"},
		{&Node{Name: "g", Op: "GlobalMaxPool2D", Inputs: []Input{dyn("x"), dyn("m")}}, "takes 1 inputs"},
		{&Node{Name: "g", Op: "GlobalAveragePool2D", Inputs: []Input{dyn("x")}, Attrs: map[string]Attr{"size": ints(2, 2)}}, "no attribute"},
	} {
		_, err := Build(tc.n)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: Build error %v, want %q", tc.n.Op, tc.n.Attrs, err, tc.want)
		} else if !strings.Contains(err.Error(), `node "`+tc.n.Name+`"`) {
			t.Errorf("error %q does not name the node", err)
		}
	}

	f32 := func(s ...int) Desc { return Desc{tensor.F32, s} }
	for _, tc := range []struct {
		n    *Node
		in   []Desc
		want string
	}{
		{conv(nil, w4), []Desc{f32(1, 5, 5, 3)}, "input is f32[1,5,5,3], want f32 [B, H, W, 4]"},
		{conv(nil, w4), []Desc{f32(5, 5, 4)}, "want f32 [B, H, W, 4]"},
		{conv(nil, w4), []Desc{f32(1, 1, 5, 5, 4)}, "want f32 [B, H, W, 4]"},
		{conv(nil, w4), []Desc{{tensor.I32, tensor.Shape{1, 5, 5, 4}}}, "want f32"},
		{conv(nil, w4), []Desc{f32(1, -1, 5, 4)}, "want f32"},
		{conv(nil, w4), []Desc{}, "want f32"},
		{conv(nil, w4), []Desc{f32(1, 2, 5, 4)}, "input height 2 (2 with padding) is smaller than the window's 3"},
		{conv(nil, w4), []Desc{f32(1, 5, 2, 4)}, "input width 2"},
		{conv(map[string]Attr{"dilations": ints(3, 1)}, w4), []Desc{f32(1, 6, 6, 4)}, "smaller than the window's 7 (size 3, dilation 3)"},
		{conv(map[string]Attr{"padding": ints(1, 0, 0, 0)}, w4), []Desc{f32(1, 1, 5, 4)}, "input height 1 (2 with padding)"},
		{conv(map[string]Attr{"padding": str("same")}, w4), []Desc{f32(1, 0, 5, 4)}, "input height is 0"},
		{conv(map[string]Attr{"padding": str("same")}, w4), []Desc{f32(1, 5, 0, 4)}, "input width is 0"},
		{conv(map[string]Attr{"padding": ints(1<<24, 0, 1<<24, 0)}, w4), []Desc{f32(1, 1<<30, 5, 4)}, "exceeds 1073741824"},
		{conv(map[string]Attr{"padding": str("same")}, w4), []Desc{f32(1, 1<<30+1, 5, 4)}, "exceeds 1073741824"},
		{dw(nil, w3), []Desc{f32(1, 5, 5, 3)}, "want f32 [B, H, W, 4]"},
		{dw(nil, w3), []Desc{f32(1, 5, 2, 4)}, "smaller than the window"},
		{pool("MaxPool2D", size2(nil)), []Desc{f32(1, 1, 5, 4)}, "input height 1 (1 with padding) is smaller than the window's 2"},
		{pool("AvgPool2D", size2(nil)), []Desc{f32(1, 5, 4)}, "want f32 [B, H, W, C]"},
		{pool("AvgPool2D", size2(map[string]Attr{"padding": str("same")})), []Desc{f32(1, 0, 4, 4)}, "input height is 0"},
		{&Node{Name: "g", Op: "GlobalAveragePool2D", Inputs: []Input{dyn("x")}}, []Desc{f32(2, 5, 3)}, "want f32 [B, H, W, C]"},
		{&Node{Name: "g", Op: "GlobalMaxPool2D", Inputs: []Input{dyn("x")}}, []Desc{{tensor.I64, tensor.Shape{2, 5, 3, 1}}}, "want f32"},
	} {
		if got := cvPlanErr(t, tc.n, tc.in...); !strings.Contains(got, tc.want) {
			t.Errorf("%s %v on %v: Plan error %q, want %q", tc.n.Op, tc.n.Attrs, tc.in, got, tc.want)
		}
	}
	// Shapes that fit plan fine, empty batches and padding-only windows too.
	for _, tc := range []struct {
		n  *Node
		in Desc
	}{
		{conv(map[string]Attr{"padding": str("same")}, w4), f32(1, 1, 1, 4)},
		{conv(nil, w4), f32(0, 3, 3, 4)},
		{conv(map[string]Attr{"padding": ints(5, 5, 5, 5)}, w4), f32(1, 1, 1, 4)},
		{dw(map[string]Attr{"padding": ints(0, 2, 0, 0)}, w3), f32(1, 3, 1, 4)},
		{pool("MaxPool2D", size2(map[string]Attr{"padding": str("same")})), f32(1, 1, 1, 4)},
		{&Node{Name: "g", Op: "GlobalMaxPool2D", Inputs: []Input{dyn("x")}}, f32(2, 0, 0, 3)},
	} {
		if got := cvPlanErr(t, tc.n, tc.in); got != "" {
			t.Errorf("%s %v on %v: %s", tc.n.Op, tc.n.Attrs, tc.in, got)
		}
	}
}

// TestConv2DScratchBounded: Conv2D's scratch is a block of im2col rows,
// not the whole image's receptive fields, however large the image (a
// 3×3 window makes nine times the input) or the padding (saturated sizes
// are refused by the engine, never wrapped).
func TestConv2DScratchBounded(t *testing.T) {
	w := f32Const("w", tensor.Shape{8, 3, 3, 16}, make([]float32, 8*3*3*16))
	node := &Node{Name: "c", Op: "Conv2D", Inputs: []Input{dyn("x"), w}, Outputs: 1,
		Attrs: map[string]Attr{"padding": {Kind: AttrString, String: "same"}}}
	k, err := Build(node)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []tensor.Shape{{1, 512, 512, 16}, {64, 1 << 12, 1 << 12, 16}} {
		od, sc, err := k.Plan([]Desc{{tensor.F32, s}})
		if err != nil {
			t.Fatal(err)
		}
		if !od[0].Shape.Equal(tensor.Shape{s[0], s[1], s[2], 8}) || sc.F32 > conv2DBlock+144 || sc.U8 != 0 || sc.I32 != 0 {
			t.Errorf("%v: output %v, scratch %+v", s, od[0].Shape, sc)
		}
	}
}

// BenchmarkConv2D: a 28×28×16 image through 32 filters of 3×3, "same",
// batch 1 (an MNIST-sized CNN's second layer), with int8 and f32 filters;
// and the depthwise and pointwise halves of a separable layer.
func BenchmarkConv2D(b *testing.B) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, bc := range []struct {
		name      string
		depthwise bool
		k         int
		q         bool
	}{
		{"3x3/int8", false, 3, true},
		{"3x3/f32", false, 3, false},
		{"1x1/int8", false, 1, true},
		{"depthwise3x3/f32", true, 3, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tc := conv2DCase{b: 1, h: 28, w: 28, c: 16, f: 32, kh: bc.k, kw: bc.k, sh: 1, sw: 1, dh: 1, dw: 1, pad: pad2D{mode: "same"}, act: "relu", bias: true, q: bc.q}
			x, wIn, bIn, _, _ := conv2DInputs(rng, tc, bc.depthwise)
			opName := map[bool]string{false: "Conv2D", true: "DepthwiseConv2D"}[bc.depthwise]
			r := newCVRig(b, tc.node(opName, wIn, bIn), 1, false, x)
			r.run(b)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := r.k.Run(r.ctx, r.in, r.out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestConv2DHostile builds, plans and (when the sizes are small enough
// to allocate) runs the 2D operators on random mixes of hostile
// attributes (0, negative, 2²⁴ and past it, 2⁴⁰, wrong kinds and
// lengths) and shapes (0, huge, mismatched channels, wrong ranks): an
// error or a result, never a panic, and a planned output shape is what
// Run fills.
func TestConv2DHostile(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	vals := []int64{0, 1, 2, 3, 5, -1, 1 << 24, 1<<24 + 1, 1 << 30, 1 << 40}
	pick := func() int64 { return vals[rng.IntN(len(vals))] }
	small := func() int64 { return int64(rng.IntN(4)) }
	intsAttr := func(n int) Attr {
		v := make([]int64, n)
		for i := range v {
			if rng.IntN(3) == 0 {
				v[i] = pick()
			} else {
				v[i] = 1 + small()
			}
		}
		return Attr{Kind: AttrInts, Ints: v}
	}
	attr := func(name string) Attr {
		switch r := rng.IntN(10); {
		case r == 0:
			return Attr{Kind: AttrInt, Int: pick()}
		case r == 1:
			return intsAttr(1 + rng.IntN(5))
		case name == "padding" && r < 5:
			return Attr{Kind: AttrString, String: []string{"same", "valid", "full", ""}[rng.IntN(4)]}
		case name == "padding":
			return intsAttr(4)
		}
		return intsAttr(2)
	}
	dims := []int{0, 1, 2, 3, 4, 7, 1 << 20, 1 << 30}
	dim := func() int {
		if rng.IntN(4) == 0 {
			return dims[rng.IntN(len(dims))]
		}
		return 1 + rng.IntN(6)
	}
	ops := []string{"Conv2D", "DepthwiseConv2D", "MaxPool2D", "AvgPool2D", "GlobalAveragePool2D", "GlobalMaxPool2D"}
	built, planned, ran := 0, 0, 0
	for n := range 20000 {
		opName := ops[n%len(ops)]
		node := &Node{Name: "h", Op: opName, Attrs: map[string]Attr{}, Inputs: []Input{dyn("x")}, Outputs: 1}
		c := 1 + rng.IntN(4)
		kh, kw := 1+rng.IntN(4), 1+rng.IntN(4)
		switch opName {
		case "Conv2D", "DepthwiseConv2D":
			shape := tensor.Shape{1 + rng.IntN(3), kh, kw, c}
			rows := shape[0]
			if opName == "DepthwiseConv2D" {
				shape, rows = tensor.Shape{c, kh, kw}, c
			}
			w := randF32(rng, shape.NumElements(), 0.5)
			wIn := f32Const("w", shape, w)
			if rng.IntN(2) == 0 {
				wIn, _ = cvI8RowsConst("w", shape, w, rows, shape.NumElements()/rows)
			}
			node.Inputs = append(node.Inputs, wIn)
			if rng.IntN(2) == 0 {
				nb := rows
				if rng.IntN(8) == 0 {
					nb++
				}
				node.Inputs = append(node.Inputs, f32Const("b", tensor.Shape{nb}, randF32(rng, nb, 0.5)))
			}
			for _, a := range []string{"strides", "padding", "dilations", "activation"} {
				if rng.IntN(2) == 0 {
					node.Attrs[a] = attr(a)
				}
			}
			if a, ok := node.Attrs["activation"]; ok {
				node.Attrs["activation"] = Attr{Kind: AttrString, String: []string{"relu", "gelu", "swish"}[int(uint(a.Int)%3)]}
			}
		case "MaxPool2D", "AvgPool2D":
			for _, a := range []string{"size", "strides", "padding"} {
				if a == "size" && rng.IntN(8) != 0 || rng.IntN(2) == 0 {
					node.Attrs[a] = attr(a)
				}
			}
		}
		k, err := Build(node)
		if err != nil {
			continue
		}
		built++
		shape := tensor.Shape{dim(), dim(), dim(), c}
		if rng.IntN(8) == 0 {
			shape[3] = dim()
		}
		if rng.IntN(16) == 0 {
			shape = shape[:3]
		}
		var od []Desc
		var sc Scratch
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("%s %v on %v: Plan panicked: %v", opName, node.Attrs, shape, r)
				}
			}()
			od, sc, err = k.Plan([]Desc{{tensor.F32, shape}, {}, {}})
		}()
		if err != nil {
			continue
		}
		planned++
		const most = 1 << 16
		if len(shape) != 4 || satMul(shape...) > most || satMul(od[0].Shape...) > most ||
			satMul(max(shape[0], 1), max(shape[1], 1), max(shape[2], 1)) > most || max(sc.F32, sc.U8, sc.I32) > 1<<22 {
			continue // the engine's limits refuse these before Run
		}
		x := tensor.NewF32(shape, randF32(rng, shape.NumElements(), 1))
		var outs []*tensor.Tensor
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("%s %v on %v: Run panicked: %v", opName, node.Attrs, shape, r)
				}
			}()
			outs, err = runKernel(k, node, 1+rng.IntN(3), x)
		}()
		if err != nil {
			t.Fatalf("%s %v on %v: planned, then Run: %v", opName, node.Attrs, shape, err)
		}
		for _, v := range outs[0].F32 {
			if v == 1e30 {
				t.Fatalf("%s %v on %v: an output left unwritten", opName, node.Attrs, shape)
			}
		}
		ran++
	}
	t.Logf("built %d, planned %d, ran %d", built, planned, ran)
}

// TestConv2DSameBits pins the bits of every 2D operator on fixed inputs
// (FNV-1a of the output's float32 bits), so that the qemu runs (arm64,
// armv7) check that they compute exactly what amd64 does: DepthwiseConv2D
// and the pools are plain float32 Go with rounded products, int8 Conv2D
// is exact integer sums with the kernels' FMA-free epilogue, on every
// kernel implementation; f32 Conv2D is pinned on the portable kernels
// only (vector ones may fuse multiply-adds, see the engine's golden test).
func TestConv2DSameBits(t *testing.T) {
	// Inputs without libm (NormFloat64 may round differently where math
	// is assembly): multiples of 1/64 in [-2, 2), and of 1/256 for filters.
	rng := rand.New(rand.NewPCG(45, 46))
	vals := func(n int, den float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.IntN(256)-128) / den
		}
		return v
	}
	x := tensor.NewF32(tensor.Shape{2, 9, 8, 6}, vals(2*9*8*6, 64))
	wConv := vals(5*3*3*6, 256)
	wDW := vals(6*3*2, 128)
	bias5, bias6 := vals(5, 64), vals(6, 64)
	qConv, _ := cvI8RowsConst("w", tensor.Shape{5, 3, 3, 6}, wConv, 5, 54)
	qDW, _ := cvI8RowsConst("w", tensor.Shape{6, 3, 2}, wDW, 6, 6)
	conv := func(op string, w, b Input, act string, attrs map[string]Attr) *Node {
		attrs["activation"] = Attr{Kind: AttrString, String: act}
		return &Node{Name: "c", Op: op, Attrs: attrs, Inputs: []Input{dyn("x"), w, b}, Outputs: 1}
	}
	same := func() map[string]Attr { return map[string]Attr{"padding": {Kind: AttrString, String: "same"}} }
	strided := func() map[string]Attr {
		return map[string]Attr{"strides": {Kind: AttrInts, Ints: []int64{2, 1}}, "dilations": {Kind: AttrInts, Ints: []int64{1, 2}},
			"padding": {Kind: AttrInts, Ints: []int64{1, 0, 2, 1}}}
	}
	pool := func(op string) *Node {
		return &Node{Name: "p", Op: op, Inputs: []Input{dyn("x")}, Outputs: 1, Attrs: map[string]Attr{
			"size": {Kind: AttrInts, Ints: []int64{3, 2}}, "strides": {Kind: AttrInts, Ints: []int64{2, 1}}, "padding": {Kind: AttrString, String: "same"}}}
	}
	cases := []struct {
		name     string
		node     func() *Node
		want     uint64
		portable bool // pinned on the portable kernels only
	}{
		{"Conv2D int8 same relu", func() *Node { return conv("Conv2D", qConv, f32Const("b", tensor.Shape{5}, bias5), "relu", same()) }, 0xb8e1a2966d7e8e5a, false},
		{"Conv2D int8 strided gelu", func() *Node { return conv("Conv2D", qConv, f32Const("b", tensor.Shape{5}, bias5), "gelu", strided()) }, 0x41958d263b37d367, false},
		{"Conv2D f32 same tanh", func() *Node {
			return conv("Conv2D", f32Const("w", tensor.Shape{5, 3, 3, 6}, wConv), f32Const("b", tensor.Shape{5}, bias5), "tanh", same())
		}, 0x78c49e0c3f8de825, true},
		{"DepthwiseConv2D f32 same gelu", func() *Node {
			return conv("DepthwiseConv2D", f32Const("w", tensor.Shape{6, 3, 2}, wDW), f32Const("b", tensor.Shape{6}, bias6), "gelu", same())
		}, 0x18f9bbd66ca27b06, false},
		{"DepthwiseConv2D int8 strided sigmoid", func() *Node { return conv("DepthwiseConv2D", qDW, absent, "sigmoid", strided()) }, 0xa2256364a0f5ba98, false},
		{"MaxPool2D", func() *Node { return pool("MaxPool2D") }, 0x9fae21e74b001601, false},
		{"AvgPool2D", func() *Node { return pool("AvgPool2D") }, 0x6e91d6ae6ecc070f, false},
		{"GlobalAveragePool2D", func() *Node {
			return &Node{Name: "g", Op: "GlobalAveragePool2D", Inputs: []Input{dyn("x")}, Outputs: 1}
		}, 0x824a82a7ec925282, false},
		{"GlobalMaxPool2D", func() *Node { return &Node{Name: "g", Op: "GlobalMaxPool2D", Inputs: []Input{dyn("x")}, Outputs: 1} }, 0x0b833e8e7ff2a733, false},
	}
	for _, im := range kernel.Impls() {
		t.Run(im.Name, func(t *testing.T) {
			restore, err := kernel.Use(im.Name)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			for _, tc := range cases {
				if tc.portable && im.Name != "generic" {
					continue
				}
				for _, workers := range []int{1, 3} {
					y := runNode(t, tc.node(), workers, x)[0].F32
					h := fnv.New64a()
					var b [4]byte
					for _, v := range y {
						binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
						h.Write(b[:])
					}
					if got := h.Sum64(); got != tc.want {
						t.Errorf("%s, %d workers: FNV-1a %#x, want %#x", tc.name, workers, got, tc.want)
					}
				}
			}
		})
	}
}
