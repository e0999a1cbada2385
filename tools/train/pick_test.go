package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestPickDense: the picked outputs are the Dense outputs' picked
// columns, and a gradient on them gives the gradients the Dense layer
// gets from the same gradient placed in those columns.
func TestPickDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	p := NewPickDense(rng, 5, 7)
	for i := range p.B.W {
		p.B.W[i] = rng.NormFloat64()
	}
	x := mat.NewDense(6, 5, nil)
	for i := range 6 {
		for j := range 5 {
			x.Set(i, j, rng.NormFloat64())
		}
	}
	pick := []int{3, -1, 0, 6, 3, 2}
	full := p.Dense.Forward(&Batch{X: x}, true).X
	got := p.Forward(&Batch{X: x, Pick: pick}, true).X
	dout := mat.NewDense(6, 1, nil)
	dfull := mat.NewDense(6, 7, nil)
	for i, k := range pick {
		if k < 0 {
			if got.At(i, 0) != 0 {
				t.Errorf("row %d: unpicked output %v", i, got.At(i, 0))
			}
			continue
		}
		if d := got.At(i, 0) - full.At(i, k); math.Abs(d) > 1e-12 {
			t.Errorf("row %d: %v, Dense %v", i, got.At(i, 0), full.At(i, k))
		}
		g := rng.NormFloat64()
		dout.Set(i, 0, g)
		dfull.Set(i, k, g)
	}
	dx := p.Backward(dout)
	gw, gb := append([]float64(nil), p.W.G...), append([]float64(nil), p.B.G...)
	zeroGrads(p.Params())
	p.Dense.Forward(&Batch{X: x}, true)
	dxf := p.Dense.Backward(dfull)
	for i := range gw {
		if math.Abs(gw[i]-p.W.G[i]) > 1e-12 {
			t.Fatalf("dW[%d] %v, Dense %v", i, gw[i], p.W.G[i])
		}
	}
	for i := range gb {
		if math.Abs(gb[i]-p.B.G[i]) > 1e-12 {
			t.Fatalf("db[%d] %v, Dense %v", i, gb[i], p.B.G[i])
		}
	}
	if !mat.EqualApprox(dx, dxf, 1e-12) {
		t.Errorf("dx %v, Dense %v", mat.Formatted(dx), mat.Formatted(dxf))
	}
}
