package op

import (
	"math"
	"testing"

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
