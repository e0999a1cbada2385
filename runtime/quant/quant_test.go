package quant

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSymmetricRowsRange: weights are always in −127..127 (never −128,
// which the AVX2 kernel's saturation argument relies on), and dequantize
// to within half a step of the input.
func TestSymmetricRowsRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for trial := 0; trial < 200; trial++ {
		n, k := 1+rng.IntN(9), 1+rng.IntN(70)
		w := make([]float32, n*k)
		for i := range w {
			w[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(6)-3)))
			if rng.IntN(10) == 0 {
				w[i] = -w[i] * 1e3 // an outlier
			}
		}
		q, sc := SymmetricRows(w, n, k)
		for i, v := range q {
			if v < -127 {
				t.Fatalf("weight %d quantized to %d", i, v)
			}
			if d := math.Abs(float64(float32(v)*sc[i/k] - w[i])); d > float64(sc[i/k])/2*1.0001 {
				t.Fatalf("weight %d: %v → %d × %v (error %v)", i, w[i], v, sc[i/k], d)
			}
		}
	}
}

func TestRowU8(t *testing.T) {
	x := []float32{-1, 0, 0.5, 2}
	q := make([]uint8, len(x))
	s, z := RowU8(q, x)
	for i, v := range x {
		if d := math.Abs(float64(s*float32(int32(q[i])-z) - v)); d > float64(s)/2*1.0001 {
			t.Errorf("x[%d]=%v → %d (scale %v, zp %d)", i, v, q[i], s, z)
		}
	}
	if q[1] != uint8(z) {
		t.Errorf("zero maps to %d, zero point %d", q[1], z)
	}
}
