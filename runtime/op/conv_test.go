package op

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/runtime/quant"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// Tolerances of the conv, norm and attention tests, relative to 1 + |want|
// against float64 references. f32: rounding of sums of at most a few
// hundred terms. int8: the reference uses the dequantized weights, so what
// remains is the per-row uint8 activation step (range/255, here about
// 0.03 for unit-normal inputs) times weights of size 1/√K; the worst
// case of TestConv1D measured over 12 seeds is 0.014. Attention has its
// own, looser int8 tolerance (mhaTolInt8).
const (
	cvTolF32  = 1e-4
	cvTolInt8 = 0.05
)

// cvRig is one planned kernel with its inputs, outputs and context, for
// tests that run it more than once (allocations) or with Int8Off.
type cvRig struct {
	k   Kernel
	ctx *Ctx
	in  []*tensor.Tensor
	out []*tensor.Tensor
}

func newCVRig(t testing.TB, n *Node, workers int, int8Off bool, in ...*tensor.Tensor) *cvRig {
	t.Helper()
	if int8Off {
		withDequant(n)
	}
	k, err := Build(n)
	if err != nil {
		t.Fatal(err)
	}
	full, descs := slotInputs(n, in)
	r := &cvRig{k: k, in: full}
	od, sc, err := k.Plan(descs)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range od {
		o := tensor.NewF32(d.Shape, nil)
		for j := range o.F32 {
			o.F32[j] = 1e30
		}
		r.out = append(r.out, o)
	}
	r.ctx = &Ctx{Par: testPool{workers}, F32: make([]float32, sc.F32), U8: make([]uint8, sc.U8), I32: make([]int32, sc.I32), Int8Off: int8Off}
	for i := range r.ctx.F32 {
		r.ctx.F32[i] = -7e29
	}
	if s, ok := k.(Stateful); ok {
		r.ctx.State = s.NewState()
	}
	return r
}

func (r *cvRig) run(t testing.TB) []float32 {
	t.Helper()
	if err := r.k.Run(r.ctx, r.in, r.out); err != nil {
		t.Fatal(err)
	}
	return r.out[0].F32
}

// noAllocs fails when one Run allocates.
func (r *cvRig) noAllocs(t *testing.T) {
	t.Helper()
	var err error
	if a := testing.AllocsPerRun(20, func() { err = r.k.Run(r.ctx, r.in, r.out) }); a != 0 {
		t.Errorf("Run allocates %v times", a)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// cvI8RowsConst quantizes w (rows × cols, stored with shape) per row and
// returns the int8 constant and the dequantized weights the int8 kernel
// really multiplies by.
func cvI8RowsConst(name string, shape tensor.Shape, w []float32, rows, cols int) (Input, []float32) {
	q, sc := quant.SymmetricRows(w, rows, cols)
	deq := make([]float32, len(q))
	for i, v := range q {
		deq[i] = float32(v) * sc[i/cols]
	}
	return Input{Name: name, Present: true, Const: &Const{Name: name, T: &tensor.Tensor{DType: tensor.I8, Shape: shape, I8: q}, Scales: sc, Axis: 0}}, deq
}

// cvCheckClose fails when |got − want| > tol·(1 + |want|) anywhere.
func cvCheckClose(t testing.TB, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i, v := range got {
		if d := math.Abs(float64(v) - want[i]); !(d <= tol*(1+math.Abs(want[i]))) {
			t.Fatalf("%s: [%d] = %v, want %v (|diff| %.3g, tol %.3g)", what, i, v, want[i], d, tol*(1+math.Abs(want[i])))
		}
	}
}

// cvCheckSameBits fails unless a and b are the same float32 bits.
func cvCheckSameBits(t testing.TB, what string, a, b []float32) {
	t.Helper()
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("%s: [%d] = %v with 1 worker, %v with 3", what, i, a[i], b[i])
		}
	}
}

// cvRefAct is the float64 activation of the references.
func cvRefAct(s float64, act string) float64 {
	switch act {
	case "relu":
		return math.Max(s, 0)
	case "leaky_relu":
		if s < 0 {
			return 0.01 * s
		}
	case "sigmoid":
		return 1 / (1 + math.Exp(-s))
	case "tanh":
		return math.Tanh(s)
	case "gelu":
		return 0.5 * s * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(s+0.044715*s*s*s)))
	}
	return s
}

// convRef is a direct float64 convolution: window o starts at input step
// o·stride − padL, steps outside [0, T) are zeros.
func convRef(x, w, b []float32, bn, t, c, f, kw, stride, dil, padL, tOut int, act string) []float64 {
	y := make([]float64, bn*tOut*f)
	for bi := 0; bi < bn; bi++ {
		for o := 0; o < tOut; o++ {
			for fi := 0; fi < f; fi++ {
				s := 0.0
				if b != nil {
					s = float64(b[fi])
				}
				for j := 0; j < kw; j++ {
					p := o*stride - padL + j*dil
					if p < 0 || p >= t {
						continue
					}
					for ci := 0; ci < c; ci++ {
						s += float64(x[(bi*t+p)*c+ci]) * float64(w[(fi*kw+j)*c+ci])
					}
				}
				y[(bi*tOut+o)*f+fi] = cvRefAct(s, act)
			}
		}
	}
	return y
}

// convGeom is the expected output length and left padding: "same" as in
// Keras (ceil(T/stride) outputs, the odd padding step on the right),
// otherwise the catalog's formula (tOut < 1: no window fits).
func convGeom(pad string, t, kw, stride, dil int) (tOut, padL int) {
	span := dil*(kw-1) + 1
	switch pad {
	case "same":
		tOut = int(math.Ceil(float64(t) / float64(stride)))
		return tOut, max((tOut-1)*stride+span-t, 0) / 2
	case "valid":
		pad = "0"
	}
	var p int
	fmt.Sscan(pad, &p)
	n := t + 2*p - span
	if n < 0 {
		return 0, p
	}
	return n/stride + 1, p
}

func convNode(w, b Input, pad string, stride, dil int, act string) *Node {
	attrs := map[string]Attr{
		"stride":     {Kind: AttrInt, Int: int64(stride)},
		"dilation":   {Kind: AttrInt, Int: int64(dil)},
		"activation": {Kind: AttrString, String: act},
	}
	switch pad {
	case "same", "valid":
		attrs["padding"] = Attr{Kind: AttrString, String: pad}
	case "default":
	default:
		var p int64
		fmt.Sscan(pad, &p)
		attrs["padding"] = Attr{Kind: AttrInt, Int: p}
	}
	in := []Input{dyn("x"), w}
	if b.Present {
		in = append(in, b)
	}
	return &Node{Name: "conv", Op: "Conv1D", Attrs: attrs, Inputs: in, Outputs: 1}
}

func TestConv1D(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	acts := []string{"", "relu", "gelu", "tanh", "leaky_relu", "sigmoid"}
	cases, worst := 0, 0.0
	for _, tl := range []int{1, 5, 8} {
		for _, c := range []int{1, 3, 8} {
			for _, kw := range []int{1, 3, 5} {
				for _, stride := range []int{1, 2} {
					for _, dil := range []int{1, 2} {
						for _, pad := range []string{"same", "valid", "1", "default"} {
							for _, q := range []bool{false, true} {
								cases++
								bn, f := 1+cases%2, 1+cases%4
								act := acts[cases%len(acts)]
								x := randF32(rng, bn*tl*c, 1)
								w := randF32(rng, f*kw*c, 1/math.Sqrt(float64(kw*c)))
								wIn := f32Const("w", tensor.Shape{f, kw, c}, w)
								if q {
									wIn, w = cvI8RowsConst("w", tensor.Shape{f, kw, c}, w, f, kw*c)
								}
								var b []float32
								bIn := absent
								if cases%3 != 0 {
									b = randF32(rng, f, 0.5)
									bIn = f32Const("b", tensor.Shape{f}, b)
								}
								node := convNode(wIn, bIn, pad, stride, dil, act)
								name := fmt.Sprintf("B=%d,T=%d,C=%d,F=%d,Kw=%d,stride=%d,dil=%d,pad=%s,%q,int8=%v", bn, tl, c, f, kw, stride, dil, pad, act, q)
								p := pad
								if p == "default" {
									p = "0"
								}
								tOut, padL := convGeom(p, tl, kw, stride, dil)
								xt := tensor.NewF32(tensor.Shape{bn, tl, c}, x)
								if tOut < 1 {
									k, err := Build(node)
									if err != nil {
										t.Fatal(name, err)
									}
									if _, _, err := k.Plan([]Desc{{tensor.F32, xt.Shape}, {}, {}}); err == nil || !strings.Contains(err.Error(), "shorter") {
										t.Fatalf("%s: input shorter than the window: Plan error %v", name, err)
									}
									continue
								}
								y1 := runNode(t, node, 1, xt)[0]
								if !y1.Shape.Equal(tensor.Shape{bn, tOut, f}) {
									t.Fatalf("%s: output shape %v, want [%d %d %d]", name, y1.Shape, bn, tOut, f)
								}
								y3 := runNode(t, node, 3, xt)[0]
								cvCheckSameBits(t, name, y1.F32, y3.F32)
								want := convRef(x, w, b, bn, tl, c, f, kw, stride, dil, padL, tOut, act)
								tol := cvTolF32
								if q {
									tol = cvTolInt8
									for i, v := range y1.F32 {
										worst = max(worst, math.Abs(float64(v)-want[i])/(1+math.Abs(want[i])))
									}
								}
								cvCheckClose(t, name, y1.F32, want, tol)
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d cases; worst int8 error %.3g (tolerance %g)", cases, worst, cvTolInt8)
}

// TestConv1DSame pins the "same" geometry on hand-computed sums.
func TestConv1DSame(t *testing.T) {
	x := tensor.NewF32(tensor.Shape{1, 5, 1}, []float32{1, 2, 3, 4, 5})
	for _, tc := range []struct {
		kw, stride, dil int
		want            []float32
	}{
		{2, 1, 1, []float32{3, 5, 7, 9, 5}},        // even width: the extra zero on the right
		{3, 1, 1, []float32{3, 6, 9, 12, 9}},       // one zero each side
		{3, 2, 1, []float32{3, 9, 9}},              // ceil(5/2) outputs, windows at -1, 1, 3
		{3, 1, 2, []float32{4, 6, 9, 6, 8}},        // dilated span 5: two zeros each side
		{1, 2, 1, []float32{1, 3, 5}},              // pointwise, strided
		{4, 3, 1, []float32{1 + 2 + 3, 3 + 4 + 5}}, // total pad 2: 1 left, 1 right
	} {
		w := make([]float32, tc.kw)
		for i := range w {
			w[i] = 1
		}
		node := convNode(f32Const("w", tensor.Shape{1, tc.kw, 1}, w), absent, "same", tc.stride, tc.dil, "")
		y := runNode(t, node, 1, x)[0]
		if fmt.Sprint(y.F32) != fmt.Sprint(tc.want) {
			t.Errorf("Kw=%d stride=%d dilation=%d: %v, want %v", tc.kw, tc.stride, tc.dil, y.F32, tc.want)
		}
	}
}

// TestConv1DLarge is big enough for the GEMM to split among workers.
func TestConv1DLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	bn, tl, c, f, kw := 2, 64, 32, 64, 5
	for _, q := range []bool{false, true} {
		x := randF32(rng, bn*tl*c, 1)
		w := randF32(rng, f*kw*c, 1/math.Sqrt(float64(kw*c)))
		b := randF32(rng, f, 0.5)
		wIn := f32Const("w", tensor.Shape{f, kw, c}, w)
		if q {
			wIn, w = cvI8RowsConst("w", tensor.Shape{f, kw, c}, w, f, kw*c)
		}
		node := convNode(wIn, f32Const("b", tensor.Shape{f}, b), "same", 1, 2, "relu")
		xt := tensor.NewF32(tensor.Shape{bn, tl, c}, x)
		y1 := runNode(t, node, 1, xt)[0].F32
		y3 := runNode(t, node, 3, xt)[0].F32
		cvCheckSameBits(t, "large", y1, y3)
		tol := cvTolF32
		if q {
			tol = cvTolInt8
		}
		_, padL := convGeom("same", tl, kw, 1, 2)
		cvCheckClose(t, "large", y1, convRef(x, w, b, bn, tl, c, f, kw, 1, 2, padL, tl, "relu"), tol)
	}
}

// TestConv1DInt8Off runs int8 filters through the f32 fallback: the
// dequantized weights at f32 precision.
func TestConv1DInt8Off(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	bn, tl, c, f, kw := 2, 7, 3, 5, 3
	x := randF32(rng, bn*tl*c, 1)
	wIn, deq := cvI8RowsConst("w", tensor.Shape{f, kw, c}, randF32(rng, f*kw*c, 0.3), f, kw*c)
	node := convNode(wIn, absent, "valid", 2, 1, "")
	y := newCVRig(t, node, 1, true, tensor.NewF32(tensor.Shape{bn, tl, c}, x)).run(t)
	cvCheckClose(t, "int8 off", y, convRef(x, deq, nil, bn, tl, c, f, kw, 2, 1, 0, 3, ""), cvTolF32)
}

func TestConv1DNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, q := range []bool{false, true} {
		for _, pad := range []string{"same", "default"} {
			for _, kw := range []int{1, 3} {
				bn, tl, c, f := 2, 9, 4, 6
				w := randF32(rng, f*kw*c, 0.3)
				wIn := f32Const("w", tensor.Shape{f, kw, c}, w)
				if q {
					wIn, _ = cvI8RowsConst("w", tensor.Shape{f, kw, c}, w, f, kw*c)
				}
				node := convNode(wIn, f32Const("b", tensor.Shape{f}, randF32(rng, f, 1)), pad, 1, 1, "gelu")
				newCVRig(t, node, 1, false, tensor.NewF32(tensor.Shape{bn, tl, c}, randF32(rng, bn*tl*c, 1))).noAllocs(t)
			}
		}
	}
}

func TestMaxPool1D(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, tl := range []int{1, 5, 8} {
		for _, c := range []int{1, 3, 16} {
			for _, size := range []int{1, 2, 3} {
				for _, stride := range []int{0, 1, 2} { // 0: the default, size
					bn := 2
					attrs := map[string]Attr{"size": {Kind: AttrInt, Int: int64(size)}}
					s := size
					if stride > 0 {
						attrs["stride"] = Attr{Kind: AttrInt, Int: int64(stride)}
						s = stride
					}
					node := &Node{Name: "pool", Op: "MaxPool1D", Attrs: attrs, Inputs: []Input{dyn("x")}, Outputs: 1}
					x := tensor.NewF32(tensor.Shape{bn, tl, c}, randF32(rng, bn*tl*c, 1))
					name := fmt.Sprintf("T=%d,C=%d,size=%d,stride=%d", tl, c, size, stride)
					if tl < size {
						k, err := Build(node)
						if err != nil {
							t.Fatal(err)
						}
						if _, _, err := k.Plan([]Desc{{tensor.F32, x.Shape}}); err == nil {
							t.Fatalf("%s: T < size planned", name)
						}
						continue
					}
					tOut := (tl-size)/s + 1
					var want []float32
					for b := 0; b < bn; b++ {
						for o := 0; o < tOut; o++ {
							for ci := 0; ci < c; ci++ {
								m := math.Inf(-1)
								for j := 0; j < size; j++ {
									m = math.Max(m, float64(x.F32[(b*tl+o*s+j)*c+ci]))
								}
								want = append(want, float32(m))
							}
						}
					}
					y := runNode(t, node, 3, x)[0]
					if !y.Shape.Equal(tensor.Shape{bn, tOut, c}) || fmt.Sprint(y.F32) != fmt.Sprint(want) {
						t.Fatalf("%s: %v %v, want [%d %d %d] %v", name, y.Shape, y.F32, bn, tOut, c, want)
					}
					newCVRig(t, node, 1, false, x).noAllocs(t)
				}
			}
		}
	}
}

func TestGlobalAveragePool1D(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, tl := range []int{0, 1, 5, 8} {
		for _, c := range []int{1, 3, 16} {
			for _, masked := range []bool{false, true} {
				bn := 3
				x := tensor.NewF32(tensor.Shape{bn, tl, c}, randF32(rng, bn*tl*c, 1))
				node := &Node{Name: "gap", Op: "GlobalAveragePool1D", Inputs: []Input{dyn("x")}, Outputs: 1}
				in := []*tensor.Tensor{x}
				var mask []float32
				if masked {
					// Row 0 all valid, row 1 none, row 2 random.
					mask = make([]float32, bn*tl)
					for i := 0; i < tl; i++ {
						mask[i] = 1
						if rng.IntN(2) == 0 || i == 0 {
							mask[2*tl+i] = 1
						}
					}
					node.Inputs = append(node.Inputs, dyn("mask"))
					in = append(in, tensor.NewF32(tensor.Shape{bn, tl}, mask))
				}
				want := make([]float64, bn*c)
				for b := 0; b < bn; b++ {
					n := 0
					for s := 0; s < tl; s++ {
						if mask != nil && mask[b*tl+s] == 0 {
							continue
						}
						n++
						for ci := 0; ci < c; ci++ {
							want[b*c+ci] += float64(x.F32[(b*tl+s)*c+ci])
						}
					}
					for ci := 0; ci < c && n > 0; ci++ {
						want[b*c+ci] /= float64(n)
					}
				}
				name := fmt.Sprintf("T=%d,C=%d,mask=%v", tl, c, masked)
				y := runNode(t, node, 1, in...)[0]
				if !y.Shape.Equal(tensor.Shape{bn, c}) {
					t.Fatalf("%s: shape %v", name, y.Shape)
				}
				cvCheckClose(t, name, y.F32, want, cvTolF32)
				newCVRig(t, node, 1, false, in...).noAllocs(t)
			}
		}
	}
}

// cvPlanErr builds the node and plans it for the descs, returning the
// error text ("" when Plan succeeded).
func cvPlanErr(t *testing.T, n *Node, in ...Desc) string {
	t.Helper()
	k, err := Build(n)
	if err != nil {
		t.Fatalf("%s: build: %v", n.Op, err)
	}
	if _, _, err := k.Plan(in); err != nil {
		return err.Error()
	}
	return ""
}

func TestConvPoolErrors(t *testing.T) {
	w := f32Const("w", tensor.Shape{2, 3, 4}, make([]float32, 24))
	conv := func(attrs map[string]Attr, in ...Input) *Node {
		return &Node{Name: "c", Op: "Conv1D", Attrs: attrs, Inputs: append([]Input{dyn("x")}, in...), Outputs: 1}
	}
	i := func(v int64) Attr { return Attr{Kind: AttrInt, Int: v} }
	str := func(v string) Attr { return Attr{Kind: AttrString, String: v} }
	badBuild := []*Node{
		conv(nil),
		conv(nil, dyn("w")),
		conv(nil, f32Const("w", tensor.Shape{2, 12}, make([]float32, 24))),
		conv(nil, w, f32Const("b", tensor.Shape{3}, make([]float32, 3))),
		conv(map[string]Attr{"stride": i(0)}, w),
		conv(map[string]Attr{"dilation": i(-1)}, w),
		// A dilated window of 2²⁴·(2²⁴−1)+1: more than an int holds on
		// 32-bit ARM.
		conv(map[string]Attr{"dilation": i(1 << 24)}, f32Const("w", tensor.Shape{1, 1 << 24, 1}, make([]float32, 1<<24))),
		conv(map[string]Attr{"padding": i(-1)}, w),
		conv(map[string]Attr{"padding": str("full")}, w),
		conv(map[string]Attr{"padding": str("causal")}, w),
		conv(map[string]Attr{"padding": {Kind: AttrFloat, Float: 1}}, w),
		conv(map[string]Attr{"activation": str("swish")}, w),
		conv(map[string]Attr{"groups": i(2)}, w),
		conv(nil, Input{Name: "w", Present: true, Const: &Const{Name: "w", T: &tensor.Tensor{DType: tensor.I8, Shape: tensor.Shape{2, 3, 4}, I8: make([]int8, 24)}, Scales: []float32{1}, Axis: -1}}),
		{Name: "p", Op: "MaxPool1D", Inputs: []Input{dyn("x")}},
		{Name: "p", Op: "MaxPool1D", Inputs: []Input{dyn("x")}, Attrs: map[string]Attr{"size": i(0)}},
		{Name: "p", Op: "MaxPool1D", Inputs: []Input{dyn("x")}, Attrs: map[string]Attr{"size": i(2), "stride": i(0)}},
		{Name: "p", Op: "MaxPool1D", Inputs: []Input{dyn("x")}, Attrs: map[string]Attr{"size": str("2")}},
		{Name: "g", Op: "GlobalAveragePool1D", Inputs: []Input{dyn("x"), dyn("m"), dyn("z")}},
	}
	for j, n := range badBuild {
		if _, err := Build(n); err == nil {
			t.Errorf("bad node %d (%s %v) built", j, n.Op, n.Attrs)
		} else {
			t.Logf("%d: %v", j, err)
		}
	}
	f32 := func(s ...int) Desc { return Desc{tensor.F32, s} }
	for _, tc := range []struct {
		n    *Node
		in   []Desc
		want string
	}{
		{conv(nil, w), []Desc{f32(2, 5, 3)}, "want f32 [B, T, 4]"},
		{conv(nil, w), []Desc{f32(5, 4)}, "want f32 [B, T, 4]"},
		{conv(nil, w), []Desc{{tensor.I32, tensor.Shape{1, 5, 4}}}, "want f32"},
		{conv(nil, w), []Desc{}, "want f32"},
		{conv(nil, w), []Desc{f32(1, 2, 4)}, "shorter than the dilated kernel width 3"},
		{conv(map[string]Attr{"dilation": i(3)}, w), []Desc{f32(1, 6, 4)}, "shorter than the dilated kernel width 7"},
		{&Node{Name: "p", Op: "MaxPool1D", Inputs: []Input{dyn("x")}, Attrs: map[string]Attr{"size": i(2)}}, []Desc{f32(2, 5)}, "want f32 [B, T, C]"},
		{&Node{Name: "g", Op: "GlobalAveragePool1D", Inputs: []Input{dyn("x"), dyn("m")}}, []Desc{f32(2, 5, 3), f32(2, 4)}, "mask is f32[2,4], want f32 [2, 5]"},
		{&Node{Name: "g", Op: "GlobalAveragePool1D", Inputs: []Input{dyn("x"), dyn("m")}}, []Desc{f32(2, 5, 3), {tensor.I32, tensor.Shape{2, 5}}}, "mask is i32"},
	} {
		if got := cvPlanErr(t, tc.n, tc.in...); !strings.Contains(got, tc.want) {
			t.Errorf("%s %v: Plan error %q, want %q", tc.n.Op, tc.in, got, tc.want)
		}
	}
	// The same shapes plan fine when they fit.
	if got := cvPlanErr(t, conv(map[string]Attr{"padding": str("same")}, w), f32(1, 1, 4)); got != "" {
		t.Errorf("same padding, T=1: %s", got)
	}
}
