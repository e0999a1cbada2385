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

// i8TableInput quantizes a random [v, d] table per row.
func i8TableInput(rng *rand.Rand, v, d int) (Input, []int8, []float32) {
	q, sc := quant.SymmetricRows(randF32(rng, v*d, 1), v, d)
	return Input{Name: "t", Present: true, Const: &Const{Name: "t",
		T: &tensor.Tensor{DType: tensor.I8, Shape: tensor.Shape{v, d}, I8: q}, Scales: sc, Axis: 0}}, q, sc
}

// TestEmbeddingI8OneWide checks an int8 table one value wide (a bias
// table), whose lookup has its own loop: the bits of q·scale for i32 and
// i64 ids, and an error naming the bad id and the vocabulary size.
func TestEmbeddingI8OneWide(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 1))
	const v = 9
	tab, q, sc := i8TableInput(rng, v, 1)
	n := &Node{Name: "e", Op: "Embedding", Inputs: []Input{dyn("ids"), tab}, Outputs: 1}
	ids := []int64{0, 8, 3, 3, 5, 1, 7}
	for _, in := range []*tensor.Tensor{
		tensor.NewI64(tensor.Shape{7}, ids),
		tensor.NewI32(tensor.Shape{7}, []int32{0, 8, 3, 3, 5, 1, 7}),
	} {
		out := runNode(t, n, 1, in)[0]
		if !out.Shape.Equal(tensor.Shape{7, 1}) {
			t.Fatalf("shape %v", out.Shape)
		}
		for i, id := range ids {
			if want := float32(float32(q[id]) * sc[id]); math.Float32bits(out.F32[i]) != math.Float32bits(want) {
				t.Errorf("%s id %d: %v, want %v", in.DType, id, out.F32[i], want)
			}
		}
	}
	k, err := Build(n)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in  *tensor.Tensor
		bad int64
	}{
		{tensor.NewI32(tensor.Shape{3}, []int32{1, 9, 2}), 9},
		{tensor.NewI32(tensor.Shape{2}, []int32{0, -1}), -1},
		{tensor.NewI64(tensor.Shape{2}, []int64{0, 1<<32 + 1}), 1<<32 + 1},
		{tensor.NewI64(tensor.Shape{1}, []int64{math.MinInt64}), math.MinInt64},
	} {
		_, err := runKernel(k, n, 1, c.in)
		if err == nil {
			t.Fatalf("bad id %d accepted", c.bad)
		}
		if msg := err.Error(); !strings.Contains(msg, fmt.Sprint(c.bad)) || !strings.Contains(msg, "size 9") {
			t.Errorf("error %q does not name id %d and size 9", msg, c.bad)
		}
	}
}

// TestFuseEmbeddingDotBits checks the fused int8 embedding dot bit for bit
// against the scalar formula sa·sb·Σ qa·qb, on every kernel implementation,
// over more pairs than one chunk and row widths with and without a vector
// tail, and that a bad id in a later chunk, on either side, is an error
// naming its position.
func TestFuseEmbeddingDotBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 2))
	const va, vb, n = 9, 13, 600
	dot, err := Build(&Node{Name: "dot", Op: "Dot", Inputs: []Input{dyn("x"), dyn("y")}})
	if err != nil {
		t.Fatal(err)
	}
	node := &Node{Name: "f", Inputs: []Input{dyn("ia"), dyn("ib")}}
	for _, d := range []int{1, 5, 16, 32, 37} {
		ta, qa, sa := i8TableInput(rng, va, d)
		tb, qb, sb := i8TableInput(rng, vb, d)
		ea, _ := Build(&Node{Name: "a", Op: "Embedding", Inputs: []Input{dyn("ia"), ta}})
		eb, _ := Build(&Node{Name: "b", Op: "Embedding", Inputs: []Input{dyn("ib"), tb}})
		f := FuseEmbeddingDot(ea, eb, dot)
		if f == nil {
			t.Fatal("not fused")
		}
		ia, ib := make([]int64, n), make([]int32, n)
		for i := range n {
			ia[i], ib[i] = int64(rng.IntN(va)), int32(rng.IntN(vb))
		}
		want := make([]float32, n)
		for i := range n {
			var s int32
			for k := range d {
				s += int32(qa[int(ia[i])*d+k]) * int32(qb[int(ib[i])*d+k])
			}
			want[i] = float32(float32(sa[ia[i]]*sb[ib[i]]) * float32(s))
		}
		for _, im := range kernel.Impls() {
			restore, err := kernel.Use(im.Name)
			if err != nil {
				t.Fatal(err)
			}
			out, err := runKernel(f, node, 1, tensor.NewI64(tensor.Shape{n}, ia), tensor.NewI32(tensor.Shape{n}, ib))
			restore()
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				if math.Float32bits(out[0].F32[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s d=%d pair %d: %v, want %v", im.Name, d, i, out[0].F32[i], want[i])
				}
			}
		}
		badA := append([]int64(nil), ia...)
		badA[300] = 1<<32 + 1
		badB := append([]int32(nil), ib...)
		badB[301] = -2
		for _, c := range []struct {
			a   []int64
			b   []int32
			msg string
		}{
			{badA, ib, "position 300"},
			{ia, badB, "position 301"},
		} {
			_, err := runKernel(f, node, 1, tensor.NewI64(tensor.Shape{n}, c.a), tensor.NewI32(tensor.Shape{n}, c.b))
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("d=%d: error %v, want one naming %s", d, err, c.msg)
			}
		}
	}
}
