package op

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/runtime/tensor"
)

func layerNormNode(gamma, beta []float32, eps *float64) *Node {
	d := len(gamma)
	n := &Node{Name: "ln", Op: "LayerNorm", Outputs: 1, Inputs: []Input{dyn("x"),
		f32Const("gamma", tensor.Shape{d}, gamma), f32Const("beta", tensor.Shape{len(beta)}, beta)}}
	if eps != nil {
		n.Attrs = map[string]Attr{"epsilon": {Kind: AttrFloat, Float: *eps}}
	}
	return n
}

// layerNormRef normalizes rows of d in float64 (two-pass mean and biased
// variance).
func layerNormRef(x, gamma, beta []float32, d int, eps float64) []float64 {
	y := make([]float64, len(x))
	for r := 0; r < len(x); r += d {
		mean, vr := 0.0, 0.0
		for i := 0; i < d; i++ {
			mean += float64(x[r+i])
		}
		mean /= float64(d)
		for i := 0; i < d; i++ {
			c := float64(x[r+i]) - mean
			vr += c * c
		}
		vr /= float64(d)
		for i := 0; i < d; i++ {
			y[r+i] = (float64(x[r+i])-mean)/math.Sqrt(vr+eps)*float64(gamma[i]) + float64(beta[i])
		}
	}
	return y
}

func TestLayerNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, d := range []int{1, 3, 8, 16} {
		for _, lead := range []tensor.Shape{{}, {1}, {5}, {2, 3}, {2, 0}} {
			for _, epsAttr := range []float64{-1, 1e-3, 0.5} { // -1: absent (1e-5)
				for _, offset := range []float64{0, 100} { // a large mean tests the two-pass variance
					gamma, beta := randF32(rng, d, 1), randF32(rng, d, 1)
					var eps *float64
					e := 1e-5
					if epsAttr >= 0 {
						eps, e = &epsAttr, epsAttr
					}
					shape := append(append(tensor.Shape(nil), lead...), d)
					x := randF32(rng, shape.NumElements(), 1)
					for i := range x {
						x[i] += float32(offset)
					}
					node := layerNormNode(gamma, beta, eps)
					name := fmt.Sprintf("shape=%v,eps=%g,offset=%g", shape, e, offset)
					xt := tensor.NewF32(shape, x)
					y1 := runNode(t, node, 1, xt)[0]
					if !y1.Shape.Equal(shape) {
						t.Fatalf("%s: output shape %v", name, y1.Shape)
					}
					// The float32 input's rounding at offset 100 is amplified by
					// 1/std (about 1): f32 tolerance still holds.
					cvCheckClose(t, name, y1.F32, layerNormRef(x, gamma, beta, d, float64(float32(e))), cvTolF32)
					y3 := runNode(t, node, 3, xt)[0]
					cvCheckSameBits(t, name, y1.F32, y3.F32)
					newCVRig(t, node, 1, false, xt).noAllocs(t)
				}
			}
		}
	}
}

// TestLayerNormConstant: a constant row has variance 0 and normalizes to
// beta, not NaN, for any epsilon > 0.
func TestLayerNormConstant(t *testing.T) {
	gamma, beta := []float32{2, 3, 4}, []float32{0.5, -1, 0}
	y := runNode(t, layerNormNode(gamma, beta, nil), 1, tensor.NewF32(tensor.Shape{2, 3}, []float32{7, 7, 7, -1, -1, -1}))[0]
	if fmt.Sprint(y.F32) != "[0.5 -1 0 0.5 -1 0]" {
		t.Errorf("constant rows: %v, want beta twice", y.F32)
	}
}

func TestLayerNormErrors(t *testing.T) {
	g := []float32{1, 1, 1}
	neg, big, nan := -1e-5, 2.0, math.NaN()
	for _, n := range []*Node{
		layerNormNode(g, []float32{0, 0}, nil),
		layerNormNode(g, g, &neg),
		layerNormNode(g, g, &big),
		layerNormNode(g, g, &nan),
		{Name: "ln", Op: "LayerNorm", Inputs: []Input{dyn("x"), f32Const("gamma", tensor.Shape{3}, g)}},
		{Name: "ln", Op: "LayerNorm", Inputs: []Input{dyn("x"), dyn("gamma"), f32Const("beta", tensor.Shape{3}, g)}},
		{Name: "ln", Op: "LayerNorm", Inputs: []Input{dyn("x"), f32Const("gamma", tensor.Shape{1, 3}, g), f32Const("beta", tensor.Shape{3}, g)}},
		{Name: "ln", Op: "LayerNorm", Attrs: map[string]Attr{"epsilon": {Kind: AttrString, String: "1e-5"}},
			Inputs: []Input{dyn("x"), f32Const("gamma", tensor.Shape{3}, g), f32Const("beta", tensor.Shape{3}, g)}},
	} {
		if _, err := Build(n); err == nil {
			t.Errorf("bad LayerNorm %v %v built", n.Inputs, n.Attrs)
		} else {
			t.Log(err)
		}
	}
	node := layerNormNode(g, g, nil)
	for _, tc := range []struct {
		in   Desc
		want string
	}{
		{Desc{tensor.F32, tensor.Shape{2, 4}}, "input is f32[2,4], want f32 [..., 3]"},
		{Desc{tensor.F32, tensor.Shape{}}, "want f32 [..., 3]"},
		{Desc{tensor.I64, tensor.Shape{3}}, "input is i64[3]"},
	} {
		if got := cvPlanErr(t, node, tc.in); !strings.Contains(got, tc.want) {
			t.Errorf("Plan(%v) error %q, want %q", tc.in, got, tc.want)
		}
	}
}
