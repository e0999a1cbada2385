package op

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/edgerun/edgerun/runtime/internal/kernel"
	"github.com/edgerun/edgerun/runtime/quant"
	"github.com/edgerun/edgerun/runtime/tensor"
)

func TestFuseEmbeddingDot(t *testing.T) {
	const v, d = 7, 5
	mk := func(seed float32) (*Const, []float32) {
		w := make([]float32, v*d)
		for i := range w {
			w[i] = float32(math.Sin(float64(seed + float32(i))))
		}
		q, sc := quant.SymmetricRows(w, v, d)
		return &Const{Name: "t", T: &tensor.Tensor{DType: tensor.I8, Shape: tensor.Shape{v, d}, I8: q}, Scales: sc, Axis: 0}, w
	}
	ca, wa := mk(1)
	cb, wb := mk(2)
	ea, _ := Build(&Node{Name: "a", Op: "Embedding", Inputs: []Input{dyn("ia"), {Name: "t", Present: true, Const: ca}}})
	eb, _ := Build(&Node{Name: "b", Op: "Embedding", Inputs: []Input{dyn("ib"), {Name: "t", Present: true, Const: cb}}})
	dot, _ := Build(&Node{Name: "dot", Op: "Dot", Inputs: []Input{dyn("x"), dyn("y")}})
	f := FuseEmbeddingDot(ea, eb, dot)
	if f == nil {
		t.Fatal("not fused")
	}
	ia := tensor.NewI64(tensor.Shape{4}, []int64{0, 3, 6, 2})
	ib := tensor.NewI32(tensor.Shape{4}, []int32{6, 3, 0, 5})
	node := &Node{Name: "f", Inputs: []Input{dyn("ia"), dyn("ib")}}
	out, err := runKernel(f, node, 1, ia, ib)
	if err != nil {
		t.Fatal(err)
	}
	if !out[0].Shape.Equal(tensor.Shape{4, 1}) {
		t.Fatalf("shape %v", out[0].Shape)
	}
	for i := range 4 {
		var want float64
		for k := 0; k < d; k++ {
			want += float64(wa[int(ia.I64[i])*d+k]) * float64(wb[int(ib.I32[i])*d+k])
		}
		if math.Abs(float64(out[0].F32[i])-want) > 0.03 {
			t.Errorf("row %d: %v, want %v", i, out[0].F32[i], want)
		}
	}
	bad := tensor.NewI64(tensor.Shape{4}, []int64{0, 7, 0, 0})
	if _, err := runKernel(f, node, 1, bad, ib); err == nil {
		t.Error("out-of-range id accepted")
	}
	// f32 tables are not fused.
	cf := &Const{Name: "f", T: tensor.NewF32(tensor.Shape{v, d}, wa), Axis: -1}
	ef, _ := Build(&Node{Name: "a", Op: "Embedding", Inputs: []Input{dyn("ia"), {Name: "f", Present: true, Const: cf}}})
	if FuseEmbeddingDot(ef, eb, dot) != nil {
		t.Error("fused an f32 table")
	}
}

// TestFuseAddLayerNorm checks the fused residual add and layer norm bit
// for bit against Add then LayerNorm, on every kernel implementation, for
// b of a's shape, a row, a block of rows and a scalar, with the output
// apart from the inputs and in place of a or b.
func TestFuseAddLayerNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	for _, d := range []int{5, 16, 128} {
		gamma, beta := randF32(rng, d, 1), randF32(rng, d, 0.5)
		lnNode := layerNormNode(gamma, beta, nil)
		ln, err := Build(lnNode)
		if err != nil {
			t.Fatal(err)
		}
		add, err := Build(basicNode("Add", 2, nil))
		if err != nil {
			t.Fatal(err)
		}
		f := FuseAddLayerNorm(add, ln)
		if f == nil {
			t.Fatal("not fused")
		}
		if FuseAddLayerNorm(ln, add) != nil {
			t.Error("LayerNorm then Add fused")
		}
		if mul, _ := Build(basicNode("Mul", 2, nil)); FuseAddLayerNorm(mul, ln) != nil {
			t.Error("Mul fused as Add")
		}
		aShape := tensor.Shape{2, 3, d}
		for _, bShape := range []tensor.Shape{aShape, {3, d}, {d}, {1}, {}} {
			for _, im := range kernel.Impls() {
				restore, err := kernel.Use(im.Name)
				if err != nil {
					t.Fatal(err)
				}
				a := randF32(rng, aShape.NumElements(), 2)
				b := randF32(rng, bShape.NumElements(), 2)
				sum := runNode(t, basicNode("Add", 2, nil), 1, tensor.NewF32(aShape, a), tensor.NewF32(bShape, b))[0]
				want := runNode(t, lnNode, 1, sum)[0]
				for _, where := range []string{"apart", "a", "b"} {
					if where == "b" && !bShape.Equal(aShape) {
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
					in := []*tensor.Tensor{tensor.NewF32(aShape, ac), tensor.NewF32(bShape, bc)}
					descs := []Desc{{tensor.F32, aShape}, {tensor.F32, bShape}}
					od, _, err := f.Plan(descs)
					if err != nil || !od[0].Shape.Equal(aShape) {
						t.Fatalf("plan: %v %v", od, err)
					}
					if err := f.Run(&Ctx{}, in, []*tensor.Tensor{tensor.NewF32(aShape, y)}); err != nil {
						t.Fatal(err)
					}
					cvCheckSameBits(t, fmt.Sprintf("%s d=%d b=%v out=%s", im.Name, d, bShape, where), y, want.F32)
					if len(b) < d {
						continue
					}
					// The rows in blocks as workers take them: blocks
					// that start inside b's rows and wrap around them.
					ac, bc = append([]float32(nil), a...), append([]float32(nil), b...)
					y = make([]float32, len(a))
					switch where {
					case "a":
						y = ac
					case "b":
						y = bc
					}
					st := addLayerNormState{f: f.(*addLayerNorm), a: ac, b: bc, y: y, inPlace: where == "b"}
					for _, r := range [][2]int{{0, 1}, {1, 5}, {5, 6}} {
						st.rows(r[0], r[1])
					}
					cvCheckSameBits(t, fmt.Sprintf("%s d=%d b=%v out=%s in blocks", im.Name, d, bShape, where), y, want.F32)
				}
				restore()
			}
		}
		// Plan refuses what Add or LayerNorm refuses.
		if _, _, err := f.Plan([]Desc{{tensor.F32, tensor.Shape{2, d + 1}}, {tensor.F32, tensor.Shape{d + 1}}}); err == nil {
			t.Error("row width other than gamma's accepted")
		}
		if _, _, err := f.Plan([]Desc{{tensor.F32, tensor.Shape{2, d}}, {tensor.F32, tensor.Shape{2}}}); err == nil {
			t.Error("prefix-shaped b accepted")
		}
	}
}
