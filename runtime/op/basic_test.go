package op

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/runtime/internal/kernel"
	"github.com/edgerun/edgerun/runtime/quant"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// basicNode makes a node whose inputs are all dynamic.
func basicNode(op string, inputs int, attrs map[string]Attr) *Node {
	n := &Node{Name: strings.ToLower(op), Op: op, Attrs: attrs, Outputs: 1}
	for i := 0; i < inputs; i++ {
		n.Inputs = append(n.Inputs, dyn(fmt.Sprintf("x%d", i)))
	}
	return n
}

func basicStr(s string) Attr  { return Attr{Kind: AttrString, String: s} }
func basicInt(v int64) Attr   { return Attr{Kind: AttrInt, Int: v} }
func basicFlt(v float64) Attr { return Attr{Kind: AttrFloat, Float: v} }

// basicPlanErr builds the node and returns the Plan error for inputs of
// the given descs (constant slots are filled in).
func basicPlanErr(t *testing.T, n *Node, descs ...Desc) error {
	t.Helper()
	k, err := Build(n)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	full := make([]Desc, len(n.Inputs))
	for i, slot := range n.Inputs {
		if slot.Const != nil {
			full[i] = Desc{slot.Const.T.DType, slot.Const.T.Shape}
		} else if i < len(descs) {
			full[i] = descs[i]
		}
	}
	_, _, err = k.Plan(full)
	return err
}

// basicCheck compares got with a float64 reference within tol (absolute
// or relative, whichever is larger).
func basicCheck(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i, g := range got {
		w := want[i]
		if d := math.Abs(float64(g) - w); d > tol*math.Max(1, math.Abs(w)) || math.IsNaN(float64(g)) != math.IsNaN(w) {
			t.Fatalf("%s[%d] = %v, want %v (|diff| %.3g)", what, i, g, w, d)
		}
	}
}

func basicRange(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i)
	}
	return v
}

func TestEmbedding(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const v, d = 7, 5
	table := randF32(rng, v*d, 1)
	qt, scales := quant.SymmetricRows(table, v, d)
	f32Table := f32Const("table", tensor.Shape{v, d}, table)
	i8Table := Input{Name: "table", Present: true, Const: &Const{Name: "table",
		T: &tensor.Tensor{DType: tensor.I8, Shape: tensor.Shape{v, d}, I8: qt}, Scales: scales, Axis: 0}}
	idsList := []int64{0, 6, 3, 3, 1, 5}
	for _, tc := range []struct {
		name string
		ids  *tensor.Tensor
	}{
		{"i32[2,3]", tensor.NewI32(tensor.Shape{2, 3}, []int32{0, 6, 3, 3, 1, 5})},
		{"i64[6]", tensor.NewI64(tensor.Shape{6}, idsList)},
		{"i64[1,2,3]", tensor.NewI64(tensor.Shape{1, 2, 3}, idsList)},
	} {
		for _, q := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s,int8=%v", tc.name, q), func(t *testing.T) {
				tab := f32Table
				if q {
					tab = i8Table
				}
				n := &Node{Name: "e", Op: "Embedding", Inputs: []Input{dyn("ids"), tab}, Outputs: 1}
				out := runNode(t, n, 1, tc.ids)[0]
				wantShape := append(append(tensor.Shape{}, tc.ids.Shape...), d)
				if !out.Shape.Equal(wantShape) {
					t.Fatalf("shape %v, want %v", out.Shape, wantShape)
				}
				want := make([]float64, 0, len(idsList)*d)
				for _, id := range idsList {
					for j := 0; j < d; j++ {
						if q {
							// The product of an int8 and a float32 is exact in float64.
							want = append(want, float64(float32(float64(qt[int(id)*d+j])*float64(scales[id]))))
						} else {
							want = append(want, float64(table[int(id)*d+j]))
						}
					}
				}
				basicCheck(t, "y", out.F32, want, 0)
				if q { // and close to the f32 table: half a quantization step
					for i, id := range idsList {
						for j := 0; j < d; j++ {
							if diff := math.Abs(float64(out.F32[i*d+j] - table[int(id)*d+j])); diff > float64(scales[id])/2+1e-7 {
								t.Fatalf("int8 row %d col %d off by %g (scale %g)", id, j, diff, scales[id])
							}
						}
					}
				}
			})
		}
	}
	t.Run("scalar id", func(t *testing.T) {
		n := &Node{Name: "e", Op: "Embedding", Inputs: []Input{dyn("ids"), f32Table}, Outputs: 1}
		out := runNode(t, n, 1, tensor.NewI64(tensor.Shape{}, []int64{4}))[0]
		if !out.Shape.Equal(tensor.Shape{d}) {
			t.Fatalf("shape %v, want [%d]", out.Shape, d)
		}
		basicCheck(t, "y", out.F32, []float64{float64(table[20]), float64(table[21]), float64(table[22]), float64(table[23]), float64(table[24])}, 0)
	})
	t.Run("bad ids", func(t *testing.T) {
		for _, tab := range []Input{f32Table, i8Table} {
			n := &Node{Name: "e", Op: "Embedding", Inputs: []Input{dyn("ids"), tab}, Outputs: 1}
			k, err := Build(n)
			if err != nil {
				t.Fatal(err)
			}
			for _, ids := range []*tensor.Tensor{
				tensor.NewI32(tensor.Shape{1, 3}, []int32{1, 7, 2}),
				tensor.NewI32(tensor.Shape{2}, []int32{-1, 0}),
				tensor.NewI64(tensor.Shape{2}, []int64{0, 1 << 40}),
				tensor.NewI64(tensor.Shape{1}, []int64{math.MinInt64}),
			} {
				_, err := runKernel(k, n, 1, ids)
				if err == nil {
					t.Fatalf("ids %v%v accepted", ids.I32, ids.I64)
				}
				var bad int64
				for _, id := range append(append([]int64{}, ids.I64...), basicI64s(ids.I32)...) {
					if id < 0 || id >= v {
						bad = id
						break
					}
				}
				if msg := err.Error(); !strings.Contains(msg, fmt.Sprint(bad)) || !strings.Contains(msg, "size 7") {
					t.Errorf("error %q does not name id %d and vocabulary size 7", msg, bad)
				}
			}
		}
	})
	t.Run("build and plan errors", func(t *testing.T) {
		for name, n := range map[string]*Node{
			"table not const": basicNode("Embedding", 2, nil),
			"table rank 1":    {Name: "e", Op: "Embedding", Inputs: []Input{dyn("ids"), f32Const("t", tensor.Shape{7}, make([]float32, 7))}},
			"int8 no scales": {Name: "e", Op: "Embedding", Inputs: []Input{dyn("ids"), {Name: "t", Present: true, Const: &Const{Name: "t",
				T: &tensor.Tensor{DType: tensor.I8, Shape: tensor.Shape{v, d}, I8: qt}, Axis: -1, Scales: []float32{1}}}}},
			"i32 table": {Name: "e", Op: "Embedding", Inputs: []Input{dyn("ids"), {Name: "t", Present: true, Const: &Const{Name: "t",
				T: tensor.NewI32(tensor.Shape{1, 1}, nil), Axis: -1}}}},
			"short table":  {Name: "e", Op: "Embedding", Inputs: []Input{dyn("ids"), f32Const("t", tensor.Shape{7, 5}, make([]float32, 34))}},
			"one input":    {Name: "e", Op: "Embedding", Inputs: []Input{dyn("ids")}},
			"an attribute": {Name: "e", Op: "Embedding", Inputs: []Input{dyn("ids"), f32Table}, Attrs: map[string]Attr{"pad": basicInt(0)}},
		} {
			if _, err := Build(n); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
		n := &Node{Name: "e", Op: "Embedding", Inputs: []Input{dyn("ids"), f32Table}}
		if err := basicPlanErr(t, n, Desc{tensor.F32, tensor.Shape{2, 3}}); err == nil || !strings.Contains(err.Error(), "i32 or i64") {
			t.Errorf("f32 ids: err = %v", err)
		}
	})
}

func basicI64s(v []int32) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

func TestPadMask(t *testing.T) {
	ids := []int64{5, 0, 3, 0, 0, 0, 1, 2, 3}
	for _, pad := range []int64{0, 3} {
		want := make([]float64, len(ids))
		for i, id := range ids {
			if id != pad {
				want[i] = 1
			}
		}
		attrs := map[string]Attr{}
		if pad != 0 {
			attrs["pad"] = basicInt(pad)
		}
		n := basicNode("PadMask", 1, attrs)
		out := runNode(t, n, 1, tensor.NewI64(tensor.Shape{3, 3}, ids))[0]
		basicCheck(t, "mask i64", out.F32, want, 0)
		out = runNode(t, n, 1, tensor.NewI32(tensor.Shape{3, 3}, []int32{5, 0, 3, 0, 0, 0, 1, 2, 3}))[0]
		basicCheck(t, "mask i32", out.F32, want, 0)
		if !out.Shape.Equal(tensor.Shape{3, 3}) {
			t.Errorf("shape %v", out.Shape)
		}
	}
	n := basicNode("PadMask", 1, nil)
	if err := basicPlanErr(t, n, Desc{tensor.I64, tensor.Shape{9}}); err == nil {
		t.Error("rank-1 ids accepted")
	}
	if err := basicPlanErr(t, n, Desc{tensor.F32, tensor.Shape{3, 3}}); err == nil {
		t.Error("f32 ids accepted")
	}
	if _, err := Build(basicNode("PadMask", 1, map[string]Attr{"pad": basicStr("0")})); err == nil {
		t.Error("string pad accepted")
	}
}

// basicSeqPoolRef is the float64 reference of SeqPool.
func basicSeqPoolRef(x, mask []float32, b, t, d int, mode string) []float64 {
	y := make([]float64, b*d)
	for i := 0; i < b; i++ {
		for j := 0; j < d; j++ {
			acc, n := 0.0, 0
			if mode == "max" {
				acc = math.Inf(-1)
			}
			for s := 0; s < t; s++ {
				if mask != nil && mask[i*t+s] == 0 {
					continue
				}
				v := float64(x[(i*t+s)*d+j])
				if mode == "max" {
					acc = math.Max(acc, v)
				} else {
					acc += v
				}
				n++
			}
			switch {
			case n == 0:
				acc = 0
			case mode == "mean":
				acc /= float64(n)
			}
			y[i*d+j] = acc
		}
	}
	return y
}

func TestSeqPool(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const b, tt, d = 4, 5, 7
	x := randF32(rng, b*tt*d, 1)
	mask := []float32{
		1, 1, 1, 0, 0,
		0, 0, 0, 0, 0, // all masked
		1, 1, 1, 1, 1,
		0, 1, 0, 1, 0,
	}
	for _, mode := range []string{"", "mean", "max", "sum"} {
		for _, masked := range []bool{false, true} {
			t.Run(fmt.Sprintf("mode=%q,mask=%v", mode, masked), func(t *testing.T) {
				attrs := map[string]Attr{}
				if mode != "" {
					attrs["mode"] = basicStr(mode)
				}
				n := basicNode("SeqPool", 1, attrs)
				in := []*tensor.Tensor{tensor.NewF32(tensor.Shape{b, tt, d}, x)}
				var m []float32
				if masked {
					n.Inputs = append(n.Inputs, dyn("mask"))
					in = append(in, tensor.NewF32(tensor.Shape{b, tt}, mask))
					m = mask
				} else if mode == "max" {
					n.Inputs = append(n.Inputs, absent) // absent optional mask
					in = append(in, nil)
				}
				out := runNode(t, n, 1, in...)[0]
				if !out.Shape.Equal(tensor.Shape{b, d}) {
					t.Fatalf("shape %v", out.Shape)
				}
				ref := mode
				if ref == "" {
					ref = "mean"
				}
				basicCheck(t, "y", out.F32, basicSeqPoolRef(x, m, b, tt, d, ref), 1e-6)
				if masked {
					for j := 0; j < d; j++ {
						if out.F32[d+j] != 0 {
							t.Fatalf("all-masked row: y[1][%d] = %v, want 0", j, out.F32[d+j])
						}
					}
				}
			})
		}
	}
	t.Run("T=0", func(t *testing.T) {
		out := runNode(t, basicNode("SeqPool", 1, map[string]Attr{"mode": basicStr("max")}), 1, tensor.NewF32(tensor.Shape{2, 0, 3}, nil))[0]
		basicCheck(t, "y", out.F32, make([]float64, 6), 0)
	})
	if _, err := Build(basicNode("SeqPool", 1, map[string]Attr{"mode": basicStr("median")})); err == nil {
		t.Error("mode median accepted")
	}
	n := basicNode("SeqPool", 2, nil)
	for _, descs := range [][]Desc{
		{{tensor.F32, tensor.Shape{2, 3}}, {}},
		{{tensor.I64, tensor.Shape{2, 3, 4}}, {}},
		{{tensor.F32, tensor.Shape{2, 3, 4}}, {tensor.F32, tensor.Shape{2, 4}}},
		{{tensor.F32, tensor.Shape{2, 3, 4}}, {tensor.I64, tensor.Shape{2, 3}}},
	} {
		if err := basicPlanErr(t, n, descs...); err == nil {
			t.Errorf("plan %v accepted", descs)
		}
	}
}

func TestActivations(t *testing.T) {
	x := []float32{0, 1, -1, 0.5, -0.5, 3, -3, 10, -10, 20, -20, 88, -88, 0.001, -0.001, 2.5, -2.5, 0.1, -0.1, 7, -7, 40, -40, 1e-8, -1e-8, 0.62, -0.62, 0.63, -0.63, 4, -4, 15, -15, 100, -100, 6.5, -6.5}
	gelu := func(v float64) float64 {
		return 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
	}
	for _, tc := range []struct {
		op    string
		attrs map[string]Attr
		ref   func(float64) float64
	}{
		{"Relu", nil, func(v float64) float64 { return math.Max(v, 0) }},
		{"LeakyRelu", nil, func(v float64) float64 { return math.Max(v, 0.01*v) }},
		{"LeakyRelu", map[string]Attr{"alpha": basicFlt(0.2)}, func(v float64) float64 { return math.Max(v, 0.2*v) }},
		{"LeakyRelu", map[string]Attr{"alpha": basicInt(0)}, func(v float64) float64 { return math.Max(v, 0) }},
		{"Sigmoid", nil, func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }},
		{"Tanh", nil, math.Tanh},
		{"Gelu", nil, gelu},
	} {
		t.Run(fmt.Sprintf("%s%v", tc.op, tc.attrs), func(t *testing.T) {
			want := make([]float64, len(x))
			for i, v := range x {
				want[i] = tc.ref(float64(v))
			}
			out := runNode(t, basicNode(tc.op, 1, tc.attrs), 1, tensor.NewF32(tensor.Shape{len(x)}, x))[0]
			basicCheck(t, "y", out.F32, want, 2e-6)
			// any shape, including a scalar
			out = runNode(t, basicNode(tc.op, 1, tc.attrs), 1, tensor.NewF32(tensor.Shape{}, []float32{-0.75}))[0]
			basicCheck(t, "scalar", out.F32, []float64{tc.ref(-0.75)}, 2e-6)
		})
	}
	if _, err := Build(basicNode("Relu", 1, map[string]Attr{"alpha": basicFlt(0.1)})); err == nil {
		t.Error("Relu with alpha accepted")
	}
	if _, err := Build(basicNode("LeakyRelu", 1, map[string]Attr{"alpha": basicStr("x")})); err == nil {
		t.Error("string alpha accepted")
	}
	if err := basicPlanErr(t, basicNode("Tanh", 1, nil), Desc{tensor.I64, tensor.Shape{3}}); err == nil {
		t.Error("i64 input accepted")
	}
}

func basicSoftmaxRef(x []float32, d int) []float64 {
	y := make([]float64, len(x))
	for off := 0; off < len(x); off += d {
		m := math.Inf(-1)
		for _, v := range x[off : off+d] {
			m = math.Max(m, float64(v))
		}
		s := 0.0
		for j, v := range x[off : off+d] {
			y[off+j] = math.Exp(float64(v) - m)
			s += y[off+j]
		}
		for j := range x[off : off+d] {
			y[off+j] /= s
		}
	}
	return y
}

func TestSoftmaxLastAxis(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, shape := range []tensor.Shape{{1}, {13}, {3, 13}, {2, 3, 5}, {4, 1}} {
		x := randF32(rng, shape.NumElements(), 3)
		out := runNode(t, basicNode("Softmax", 1, nil), 1, tensor.NewF32(shape, x))[0]
		basicCheck(t, fmt.Sprint(shape), out.F32, basicSoftmaxRef(x, shape[len(shape)-1]), 1e-6)
	}
	// Stability: huge logits must not overflow.
	x := []float32{1000, 1001, 1002, -1000, 50, 88.8, 89, 90}
	out := runNode(t, basicNode("Softmax", 1, map[string]Attr{"axis": basicInt(-1)}), 1, tensor.NewF32(tensor.Shape{2, 4}, x))[0]
	basicCheck(t, "large", out.F32, basicSoftmaxRef(x, 4), 1e-6)
	for r := 0; r < 2; r++ {
		s := 0.0
		for _, v := range out.F32[r*4 : r*4+4] {
			s += float64(v)
		}
		if math.Abs(s-1) > 1e-6 {
			t.Errorf("row %d sums to %v", r, s)
		}
	}
	// Empty last axis.
	runNode(t, basicNode("Softmax", 1, nil), 1, tensor.NewF32(tensor.Shape{3, 0}, nil))
	for _, axis := range []int64{0, 1, -2} {
		if _, err := Build(basicNode("Softmax", 1, map[string]Attr{"axis": basicInt(axis)})); err == nil {
			t.Errorf("axis %d accepted", axis)
		}
	}
	if err := basicPlanErr(t, basicNode("Softmax", 1, nil), Desc{tensor.F32, tensor.Shape{}}); err == nil {
		t.Error("scalar accepted")
	}
}

func TestAddMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, tc := range []struct{ a, b tensor.Shape }{
		{tensor.Shape{3, 5, 7}, tensor.Shape{3, 5, 7}},
		{tensor.Shape{3, 5, 7}, tensor.Shape{5, 7}},
		{tensor.Shape{3, 5, 7}, tensor.Shape{7}},
		{tensor.Shape{3, 5, 7}, tensor.Shape{}},
		{tensor.Shape{3, 5, 7}, tensor.Shape{1}},
		{tensor.Shape{4, 1}, tensor.Shape{4, 1}},
		{tensor.Shape{4, 1}, tensor.Shape{1}},
		{tensor.Shape{}, tensor.Shape{}},
		{tensor.Shape{}, tensor.Shape{1}},
		{tensor.Shape{2, 0}, tensor.Shape{0}},
	} {
		a := randF32(rng, tc.a.NumElements(), 2)
		b := randF32(rng, tc.b.NumElements(), 2)
		for _, op := range []string{"Add", "Mul"} {
			name := fmt.Sprintf("%s,a=%v,b=%v", op, tc.a, tc.b)
			out := runNode(t, basicNode(op, 2, nil), 1, tensor.NewF32(tc.a, a), tensor.NewF32(tc.b, b))[0]
			if !out.Shape.Equal(tc.a) {
				t.Fatalf("%s: shape %v", name, out.Shape)
			}
			want := make([]float64, len(a))
			for i, v := range a {
				w := float64(b[i%len(b)])
				// Double rounding through float64 is exact for one + or ×
				// of float32 values, so the results must match bit for bit.
				if op == "Add" {
					want[i] = float64(float32(float64(v) + w))
				} else {
					want[i] = float64(float32(float64(v) * w))
				}
			}
			basicCheck(t, name, out.F32, want, 0)
		}
	}
	// b as a model constant (a learned bias).
	n := &Node{Name: "add", Op: "Add", Inputs: []Input{dyn("a"), f32Const("b", tensor.Shape{3}, []float32{1, 2, 3})}}
	out := runNode(t, n, 1, tensor.NewF32(tensor.Shape{2, 3}, basicRange(6)))[0]
	basicCheck(t, "const b", out.F32, []float64{1, 3, 5, 4, 6, 8}, 0)

	for _, tc := range []struct{ a, b Desc }{
		{Desc{tensor.F32, tensor.Shape{3, 5}}, Desc{tensor.F32, tensor.Shape{3}}},       // prefix, not suffix
		{Desc{tensor.F32, tensor.Shape{3, 5}}, Desc{tensor.F32, tensor.Shape{1, 3, 5}}}, // longer than a
		{Desc{tensor.F32, tensor.Shape{3, 5}}, Desc{tensor.F32, tensor.Shape{1, 5}}},    // no size-1 broadcasting
		{Desc{tensor.F32, tensor.Shape{3, 5}}, Desc{tensor.I64, tensor.Shape{5}}},
		{Desc{tensor.I32, tensor.Shape{3, 5}}, Desc{tensor.F32, tensor.Shape{5}}},
		{Desc{tensor.F32, tensor.Shape{3, 5}}, Desc{}},
	} {
		for _, op := range []string{"Add", "Mul"} {
			err := basicPlanErr(t, basicNode(op, 2, nil), tc.a, tc.b)
			if err == nil {
				t.Errorf("%s %v %v accepted", op, tc.a, tc.b)
			}
		}
	}
	if _, err := Build(basicNode("Add", 3, nil)); err == nil {
		t.Error("Add with 3 inputs accepted")
	}
}

func TestConcat(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	shapes := func(base tensor.Shape, ax int, sizes ...int) []tensor.Shape {
		var out []tensor.Shape
		for _, s := range sizes {
			sh := append(tensor.Shape{}, base...)
			sh[ax] = s
			out = append(out, sh)
		}
		return out
	}
	for _, tc := range []struct {
		axis   int64
		ax     int
		shapes []tensor.Shape
	}{
		{-1, 2, shapes(tensor.Shape{2, 3, 0}, 2, 1, 4, 2)},
		{2, 2, shapes(tensor.Shape{2, 3, 0}, 2, 3, 5)},
		{0, 0, shapes(tensor.Shape{0, 3, 2}, 0, 1, 2, 3)},
		{1, 1, shapes(tensor.Shape{2, 0, 3}, 1, 1, 4, 2)},
		{-2, 1, shapes(tensor.Shape{2, 0, 3}, 1, 2, 0, 3)},
		{-1, 0, shapes(tensor.Shape{0}, 0, 3, 5)},
		{-1, 1, shapes(tensor.Shape{3, 0}, 1, 4)},
	} {
		t.Run(fmt.Sprintf("axis=%d,%v", tc.axis, tc.shapes), func(t *testing.T) {
			var in []*tensor.Tensor
			for _, s := range tc.shapes {
				in = append(in, tensor.NewF32(s, randF32(rng, s.NumElements(), 1)))
			}
			attrs := map[string]Attr{"axis": basicInt(tc.axis)}
			if tc.axis == -1 {
				attrs = nil // the default
			}
			out := runNode(t, basicNode("Concat", len(in), attrs), 1, in...)[0]
			// reference: y[o, off_k + j, i] = x_k[o, j, i]
			ws := append(tensor.Shape{}, tc.shapes[0]...)
			ws[tc.ax] = 0
			for _, s := range tc.shapes {
				ws[tc.ax] += s[tc.ax]
			}
			if !out.Shape.Equal(ws) {
				t.Fatalf("shape %v, want %v", out.Shape, ws)
			}
			outer, inner := ws[:tc.ax].NumElements(), ws[tc.ax+1:].NumElements()
			want := make([]float64, ws.NumElements())
			base := 0
			for _, x := range in {
				n := x.Shape[tc.ax]
				for o := 0; o < outer; o++ {
					for j := 0; j < n; j++ {
						for i := 0; i < inner; i++ {
							want[(o*ws[tc.ax]+base+j)*inner+i] = float64(x.F32[(o*n+j)*inner+i])
						}
					}
				}
				base += n
			}
			basicCheck(t, "y", out.F32, want, 0)
		})
	}
	n := basicNode("Concat", 2, map[string]Attr{"axis": basicInt(1)})
	for _, descs := range [][]Desc{
		{{tensor.F32, tensor.Shape{2, 3}}, {tensor.F32, tensor.Shape{3, 3}}},    // other dim differs
		{{tensor.F32, tensor.Shape{2, 3}}, {tensor.F32, tensor.Shape{2, 3, 1}}}, // rank differs
		{{tensor.F32, tensor.Shape{2}}, {tensor.F32, tensor.Shape{2}}},          // axis out of range
		{{tensor.F32, tensor.Shape{2, 3}}, {tensor.I64, tensor.Shape{2, 3}}},
		{{tensor.F32, tensor.Shape{}}, {tensor.F32, tensor.Shape{}}},
	} {
		if err := basicPlanErr(t, n, descs...); err == nil {
			t.Errorf("plan %v accepted", descs)
		}
	}
	if _, err := Build(basicNode("Concat", 0, nil)); err == nil {
		t.Error("no inputs accepted")
	}
	if _, err := Build(&Node{Name: "c", Op: "Concat", Inputs: []Input{dyn("a"), absent}}); err == nil {
		t.Error("absent input accepted")
	}
}

func TestReshapeFlatten(t *testing.T) {
	x := basicRange(24)
	ints := func(v ...int64) map[string]Attr { return map[string]Attr{"shape": {Kind: AttrInts, Ints: v}} }
	for _, tc := range []struct {
		attrs map[string]Attr
		in    tensor.Shape
		want  tensor.Shape
	}{
		{ints(0, -1), tensor.Shape{2, 3, 4}, tensor.Shape{2, 12}},
		{ints(-1), tensor.Shape{2, 3, 4}, tensor.Shape{24}},
		{ints(4, 0, 2), tensor.Shape{2, 3, 4}, tensor.Shape{4, 3, 2}},
		{ints(0, 0, 2, 2), tensor.Shape{2, 3, 4}, tensor.Shape{2, 3, 2, 2}},
		{ints(1, 24), tensor.Shape{24}, tensor.Shape{1, 24}},
		{ints(), tensor.Shape{1, 1}, tensor.Shape{}},
	} {
		in := tensor.NewF32(tc.in, x[:tc.in.NumElements()])
		out := runNode(t, basicNode("Reshape", 1, tc.attrs), 1, in)[0]
		if !out.Shape.Equal(tc.want) {
			t.Errorf("reshape %v by %v: %v, want %v", tc.in, tc.attrs["shape"].Ints, out.Shape, tc.want)
		}
		want := make([]float64, tc.want.NumElements())
		for i := range want {
			want[i] = float64(i)
		}
		basicCheck(t, "reshape", out.F32, want, 0)
	}
	// Other dtypes (token ids) pass through.
	ids := runNode(t, basicNode("Reshape", 1, ints(-1, 2)), 1, tensor.NewI64(tensor.Shape{4}, []int64{9, 8, 7, 6}))[0]
	if !ids.Shape.Equal(tensor.Shape{2, 2}) || fmt.Sprint(ids.I64) != "[9 8 7 6]" {
		t.Errorf("i64 reshape: %v %v", ids.Shape, ids.I64)
	}
	for name, attrs := range map[string]map[string]Attr{
		"missing shape": nil,
		"two -1":        ints(-1, -1),
		"-2":            ints(-2, 12),
		"string shape":  {"shape": basicStr("2,12")},
	} {
		if _, err := Build(basicNode("Reshape", 1, attrs)); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	for _, tc := range []struct {
		attrs map[string]Attr
		in    tensor.Shape
	}{
		{ints(5, -1), tensor.Shape{2, 3, 4}},
		{ints(0, 0, 0, 0), tensor.Shape{2, 3, 4}},
		{ints(7, 3), tensor.Shape{2, 3, 4}},
		{ints(0, -1), tensor.Shape{0, 3}},
	} {
		if err := basicPlanErr(t, basicNode("Reshape", 1, tc.attrs), Desc{tensor.F32, tc.in}); err == nil {
			t.Errorf("reshape %v by %v accepted", tc.in, tc.attrs["shape"].Ints)
		}
	}

	for _, tc := range []struct{ in, want tensor.Shape }{
		{tensor.Shape{2, 3, 4}, tensor.Shape{2, 12}},
		{tensor.Shape{4}, tensor.Shape{4, 1}},
		{tensor.Shape{3, 1, 2, 1}, tensor.Shape{3, 2}},
	} {
		out := runNode(t, basicNode("Flatten", 1, nil), 1, tensor.NewF32(tc.in, x[:tc.in.NumElements()]))[0]
		if !out.Shape.Equal(tc.want) {
			t.Errorf("flatten %v: %v, want %v", tc.in, out.Shape, tc.want)
		}
		if fmt.Sprint(out.F32) != fmt.Sprint(x[:tc.in.NumElements()]) {
			t.Errorf("flatten %v changed the data: %v", tc.in, out.F32)
		}
	}
	if err := basicPlanErr(t, basicNode("Flatten", 1, nil), Desc{tensor.F32, tensor.Shape{}}); err == nil {
		t.Error("flatten of a scalar accepted")
	}
}

func TestDot(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, shape := range []tensor.Shape{{3, 7}, {2, 2, 5}, {1}, {33}, {4, 0}, {0, 3}} {
		u := randF32(rng, shape.NumElements(), 1)
		v := randF32(rng, shape.NumElements(), 1)
		out := runNode(t, basicNode("Dot", 2, nil), 1, tensor.NewF32(shape, u), tensor.NewF32(shape, v))[0]
		ws := append(tensor.Shape{}, shape...)
		ws[len(ws)-1] = 1
		if !out.Shape.Equal(ws) {
			t.Fatalf("dot %v: shape %v, want %v", shape, out.Shape, ws)
		}
		d := shape[len(shape)-1]
		want := make([]float64, ws.NumElements())
		for i := range want {
			for j := 0; j < d; j++ {
				want[i] += float64(u[i*d+j]) * float64(v[i*d+j])
			}
		}
		basicCheck(t, fmt.Sprint("dot ", shape), out.F32, want, 1e-6*math.Sqrt(float64(d)+1))
	}
	for _, descs := range [][]Desc{
		{{tensor.F32, tensor.Shape{3, 7}}, {tensor.F32, tensor.Shape{3, 6}}},
		{{tensor.F32, tensor.Shape{3, 7}}, {tensor.F32, tensor.Shape{7}}},
		{{tensor.F32, tensor.Shape{}}, {tensor.F32, tensor.Shape{}}},
		{{tensor.F32, tensor.Shape{3}}, {tensor.I32, tensor.Shape{3}}},
	} {
		if err := basicPlanErr(t, basicNode("Dot", 2, nil), descs...); err == nil {
			t.Errorf("dot %v accepted", descs)
		}
	}
}

func TestNormalize(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	const d = 5
	mean := randF32(rng, d, 3)
	std := []float32{0.5, 2, 1, 3.25, 1e-3}
	node := func(mean, std []float32) *Node {
		return &Node{Name: "norm", Op: "Normalize", Inputs: []Input{dyn("x"),
			f32Const("mean", tensor.Shape{len(mean)}, mean), f32Const("std", tensor.Shape{len(std)}, std)}}
	}
	for _, shape := range []tensor.Shape{{d}, {3, d}, {2, 3, d}} {
		x := randF32(rng, shape.NumElements(), 4)
		out := runNode(t, node(mean, std), 1, tensor.NewF32(shape, x))[0]
		want := make([]float64, len(x))
		for i, v := range x {
			want[i] = (float64(v) - float64(mean[i%d])) / float64(std[i%d])
		}
		basicCheck(t, fmt.Sprint(shape), out.F32, want, 1e-6)
	}
	for name, n := range map[string]*Node{
		"zero std":      node(mean, []float32{1, 1, 0, 1, 1}),
		"inf std":       node(mean, []float32{1, 1, float32(math.Inf(1)), 1, 1}),
		"size mismatch": node(mean, []float32{1, 1, 1}),
		"dynamic mean":  {Name: "norm", Op: "Normalize", Inputs: []Input{dyn("x"), dyn("mean"), f32Const("std", tensor.Shape{d}, std)}},
		"two inputs":    {Name: "norm", Op: "Normalize", Inputs: []Input{dyn("x"), f32Const("mean", tensor.Shape{d}, mean)}},
	} {
		if _, err := Build(n); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if err := basicPlanErr(t, node(mean, std), Desc{tensor.F32, tensor.Shape{3, d + 1}}); err == nil {
		t.Error("wrong width accepted")
	}
}

// TestRecommenderGraph runs the catalog's recommender graph,
// sigmoid(u·v + b_u + b_i), op by op against a float64 reference.
func TestRecommenderGraph(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	const users, items, dim = 11, 13, 9
	ue, ie := randF32(rng, users*dim, 0.5), randF32(rng, items*dim, 0.5)
	ub, ib := randF32(rng, users, 0.3), randF32(rng, items, 0.3)
	user := tensor.NewI64(tensor.Shape{4}, []int64{0, 10, 3, 3})
	item := tensor.NewI32(tensor.Shape{4}, []int32{12, 0, 5, 6})
	emb := func(name string, rows, cols int, tab []float32) *Node {
		return &Node{Name: name, Op: "Embedding", Inputs: []Input{dyn("ids"), f32Const(name, tensor.Shape{rows, cols}, tab)}}
	}
	u := runNode(t, emb("user_emb", users, dim, ue), 1, user)[0]
	v := runNode(t, emb("item_emb", items, dim, ie), 1, item)[0]
	dot := runNode(t, basicNode("Dot", 2, nil), 1, u, v)[0]
	bu := runNode(t, emb("user_bias", users, 1, ub), 1, user)[0]
	bi := runNode(t, emb("item_bias", items, 1, ib), 1, item)[0]
	s := runNode(t, basicNode("Add", 2, nil), 1, dot, bu)[0]
	s = runNode(t, basicNode("Add", 2, nil), 1, s, bi)[0]
	y := runNode(t, basicNode("Sigmoid", 1, nil), 1, s)[0]
	if !y.Shape.Equal(tensor.Shape{4, 1}) {
		t.Fatalf("score shape %v, want [4,1]", y.Shape)
	}
	want := make([]float64, 4)
	for r := range want {
		uid, iid := int(user.I64[r]), int(item.I32[r])
		z := float64(ub[uid]) + float64(ib[iid])
		for j := 0; j < dim; j++ {
			z += float64(ue[uid*dim+j]) * float64(ie[iid*dim+j])
		}
		want[r] = 1 / (1 + math.Exp(-z))
	}
	basicCheck(t, "score", y.F32, want, 1e-6)
}

// TestBasicRunNoAllocs plans every operator once and checks that Run
// allocates nothing.
func TestBasicRunNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	x3 := tensor.NewF32(tensor.Shape{3, 5, 7}, randF32(rng, 105, 1))
	mask := tensor.NewF32(tensor.Shape{3, 5}, []float32{1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1})
	ids := tensor.NewI64(tensor.Shape{3, 5}, []int64{1, 2, 0, 0, 0, 3, 4, 5, 6, 0, 1, 1, 1, 1, 1})
	qt, sc := quant.SymmetricRows(randF32(rng, 7*4, 1), 7, 4)
	i8Tab := Input{Name: "t", Present: true, Const: &Const{Name: "t", T: &tensor.Tensor{DType: tensor.I8, Shape: tensor.Shape{7, 4}, I8: qt}, Scales: sc, Axis: 0}}
	for _, tc := range []struct {
		n  *Node
		in []*tensor.Tensor
	}{
		{&Node{Name: "e", Op: "Embedding", Inputs: []Input{dyn("ids"), f32Const("t", tensor.Shape{7, 4}, randF32(rng, 28, 1))}}, []*tensor.Tensor{ids}},
		{&Node{Name: "e8", Op: "Embedding", Inputs: []Input{dyn("ids"), i8Tab}}, []*tensor.Tensor{tensor.NewI32(tensor.Shape{2}, []int32{6, 0})}},
		{basicNode("PadMask", 1, nil), []*tensor.Tensor{ids}},
		{basicNode("SeqPool", 2, nil), []*tensor.Tensor{x3, mask}},
		{basicNode("SeqPool", 2, map[string]Attr{"mode": basicStr("max")}), []*tensor.Tensor{x3, mask}},
		{basicNode("Relu", 1, nil), []*tensor.Tensor{x3}},
		{basicNode("LeakyRelu", 1, nil), []*tensor.Tensor{x3}},
		{basicNode("Sigmoid", 1, nil), []*tensor.Tensor{x3}},
		{basicNode("Tanh", 1, nil), []*tensor.Tensor{x3}},
		{basicNode("Gelu", 1, nil), []*tensor.Tensor{x3}},
		{basicNode("Softmax", 1, nil), []*tensor.Tensor{x3}},
		{basicNode("Add", 2, nil), []*tensor.Tensor{x3, tensor.NewF32(tensor.Shape{7}, randF32(rng, 7, 1))}},
		{basicNode("Mul", 2, nil), []*tensor.Tensor{x3, tensor.NewF32(tensor.Shape{1}, []float32{2})}},
		{basicNode("Concat", 2, map[string]Attr{"axis": basicInt(1)}), []*tensor.Tensor{x3, x3}},
		{basicNode("Reshape", 1, map[string]Attr{"shape": {Kind: AttrInts, Ints: []int64{0, -1}}}), []*tensor.Tensor{x3}},
		{basicNode("Flatten", 1, nil), []*tensor.Tensor{ids}},
		{basicNode("Dot", 2, nil), []*tensor.Tensor{x3, x3}},
		{&Node{Name: "n", Op: "Normalize", Inputs: []Input{dyn("x"), f32Const("m", tensor.Shape{7}, make([]float32, 7)), f32Const("s", tensor.Shape{7}, randF32(rng, 7, 1))}}, []*tensor.Tensor{x3}},
	} {
		t.Run(tc.n.Op, func(t *testing.T) {
			k, err := Build(tc.n)
			if err != nil {
				t.Fatal(err)
			}
			descs := make([]Desc, len(tc.n.Inputs))
			full := make([]*tensor.Tensor, len(tc.n.Inputs))
			for i, slot := range tc.n.Inputs {
				if slot.Const != nil {
					full[i] = slot.Const.T
				} else {
					full[i] = tc.in[i]
				}
				descs[i] = Desc{full[i].DType, full[i].Shape}
			}
			od, scr, err := k.Plan(descs)
			if err != nil {
				t.Fatal(err)
			}
			if scr != (Scratch{}) {
				t.Errorf("scratch %+v, want none", scr)
			}
			outs := make([]*tensor.Tensor, len(od))
			for i, d := range od {
				outs[i] = &tensor.Tensor{DType: d.DType, Shape: d.Shape}
				switch d.DType {
				case tensor.F32:
					outs[i].F32 = make([]float32, d.Shape.NumElements())
				case tensor.I64:
					outs[i].I64 = make([]int64, d.Shape.NumElements())
				}
			}
			ctx := &Ctx{Par: testPool{1}}
			if a := testing.AllocsPerRun(20, func() {
				if err := k.Run(ctx, full, outs); err != nil {
					t.Fatal(err)
				}
			}); a != 0 {
				t.Errorf("Run allocates %v times", a)
			}
		})
	}
}

func TestBasicRegistered(t *testing.T) {
	for _, name := range []string{"Embedding", "PadMask", "SeqPool", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Gelu",
		"Softmax", "Add", "Mul", "Concat", "Reshape", "Flatten", "Dot", "Normalize"} {
		d := Lookup(name)
		if d == nil {
			t.Errorf("%s is not registered", name)
			continue
		}
		if d.Doc == "" || d.Build == nil {
			t.Errorf("%s has no Doc or Build", name)
		}
	}
}

// TestAddVectorBits checks the vector paths of Add (same shapes, and b a
// suffix of a's shape) bit for bit against the scalar a + b on every
// kernel implementation, with the output apart from the inputs and in
// place of either.
func TestAddVectorBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	for _, im := range kernel.Impls() {
		restore, err := kernel.Use(im.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ rows, m int }{{1, 37}, {1, 256}, {3, 128}, {5, 19}} {
			a := randF32(rng, tc.rows*tc.m, 3)
			b := randF32(rng, tc.m, 3)
			if tc.rows == 1 {
				b = randF32(rng, len(a), 3)
			}
			want := make([]float32, len(a))
			for i, v := range a {
				want[i] = v + b[i%len(b)]
			}
			for _, where := range []string{"apart", "a", "b"} {
				if where == "b" && tc.rows != 1 {
					continue
				}
				ac, bc := append([]float32(nil), a...), append([]float32(nil), b...)
				y := make([]float32, len(a))
				switch where {
				case "a":
					y = ac
				case "b":
					y = bc
				}
				in := []*tensor.Tensor{tensor.NewF32(tensor.Shape{len(a)}, ac), tensor.NewF32(tensor.Shape{len(b)}, bc)}
				out := []*tensor.Tensor{tensor.NewF32(tensor.Shape{len(a)}, y)}
				if err := (binaryOp{}).Run(nil, in, out); err != nil {
					t.Fatal(err)
				}
				for i := range want {
					if math.Float32bits(y[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s rows=%d m=%d out=%s: y[%d] = %v, want %v", im.Name, tc.rows, tc.m, where, i, y[i], want[i])
					}
				}
			}
		}
		restore()
	}
}

// TestSeqPoolSumBits checks the vector sum of SeqPool bit for bit against
// the rows added one after another in float32, on every kernel.
func TestSeqPoolSumBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(73, 74))
	const b, tt, d = 3, 9, 40
	x := randF32(rng, b*tt*d, 2)
	for _, im := range kernel.Impls() {
		restore, err := kernel.Use(im.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range []string{"sum", "mean"} {
			out := runNode(t, basicNode("SeqPool", 1, map[string]Attr{"mode": basicStr(mode)}), 1, tensor.NewF32(tensor.Shape{b, tt, d}, x))[0]
			for i := 0; i < b; i++ {
				for j := 0; j < d; j++ {
					s := x[(i*tt)*d+j]
					for k := 1; k < tt; k++ {
						s += x[(i*tt+k)*d+j]
					}
					if mode == "mean" {
						s /= tt
					}
					if got := out.F32[i*d+j]; math.Float32bits(got) != math.Float32bits(s) {
						t.Fatalf("%s %s: y[%d][%d] = %v, want %v", im.Name, mode, i, j, got, s)
					}
				}
			}
		}
		restore()
	}
}
