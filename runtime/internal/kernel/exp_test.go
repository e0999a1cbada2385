package kernel

import (
	"math"
	"testing"
)

// expLdexp is Exp as first written (math.Floor and math.Ldexp): the fast
// version must give the same bits everywhere.
func expLdexp(x float32) float32 {
	switch {
	case x != x:
		return x
	case x > 88.72283:
		return float32(math.Inf(1))
	case x < -103.97208:
		return 0
	}
	fx := float32(math.Floor(float64(float32(x*log2e) + 0.5)))
	x = x - float32(fx*ln2Hi)
	x = x - float32(fx*ln2Lo)
	z := float32(x * x)
	y := float32(1.9875691500e-4)
	y = float32(y*x) + 1.3981999507e-3
	y = float32(y*x) + 8.3334519073e-3
	y = float32(y*x) + 4.1665795894e-2
	y = float32(y*x) + 1.6666665459e-1
	y = float32(y*x) + 5.0000001201e-1
	y = float32(y*z) + x + 1
	return float32(math.Ldexp(float64(y), int(fx)))
}

func TestExpBits(t *testing.T) {
	for x := float32(-104); x <= 89; x = math.Nextafter32(x, 100) {
		if a, b := Exp(x), expLdexp(x); math.Float32bits(a) != math.Float32bits(b) {
			t.Fatalf("Exp(%v) = %v, reference %v", x, a, b)
		}
		// Stepping every float would take minutes: jump ahead.
		x += float32(math.Abs(float64(x))) * 1e-5
	}
}

func BenchmarkExp(b *testing.B) {
	x := float32(-3)
	var s float32
	for b.Loop() {
		s += Exp(x)
		x += 1e-6
	}
	_ = s
}
