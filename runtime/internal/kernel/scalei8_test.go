package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestScaleI8F32 checks every implementation against the reference, bit
// for bit: lengths around the 8-, 16- and 64-value steps, every int8
// value, scales that overflow, underflow, are zero, negative, NaN or
// infinite, and a dst longer than q (left alone past len(q)).
func TestScaleI8F32(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	scales := []float32{0.0123, -3.5, 0, float32(math.Copysign(0, -1)), 1e-45, 3e38, float32(math.Inf(1)), float32(math.NaN()), 1}
	for _, im := range Impls() {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 127, 128, 200, 256, 300} {
			q := make([]int8, n)
			for i := range q {
				q[i] = int8(rng.IntN(256) - 128)
			}
			if n >= 3 {
				q[0], q[1], q[2] = -128, 127, 0
			}
			for _, s := range scales {
				want := make([]float32, n+5)
				got := make([]float32, n+5)
				for i := range want {
					want[i], got[i] = -7, -7
				}
				scaleI8F32Generic(want, q, s)
				im.ScaleI8F32(got, q, s)
				for i := range want {
					if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
						t.Fatalf("%s n=%d s=%g: dst[%d] = %g (%#x), want %g (%#x)", im.Name, n, s, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
					}
				}
			}
		}
	}
}

func BenchmarkScaleI8F32(b *testing.B) {
	q := make([]int8, 128)
	dst := make([]float32, 128)
	for i := range q {
		q[i] = int8(i*7 - 300)
	}
	for _, im := range Impls() {
		b.Run(im.Name, func(b *testing.B) {
			for b.Loop() {
				im.ScaleI8F32(dst, q, 0.013)
			}
		})
	}
}
