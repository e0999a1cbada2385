package kernel

import "math"

// The activation functions below are written in float32 with every
// product rounded explicitly (float32(x*y)), so the compiler fuses
// nothing into FMA and the results are the same bits on amd64, arm64 and
// every other architecture. (Go's math.Exp has assembly versions on some
// architectures that differ in the last bit.)

const (
	ln2Hi = float32(0.693359375)
	ln2Lo = float32(-2.12194440e-4)
	log2e = float32(1.44269504088896341)
)

// Exp returns e**x in float32 (Cephes expf: range reduction by ln 2 and a
// degree-5 polynomial; relative error below 2e-7 over the whole range).
func Exp(x float32) float32 {
	switch {
	case x != x:
		return x
	case x > 88.72283:
		return float32(math.Inf(1))
	case x < -103.97208:
		return 0
	}
	t := float32(x*log2e) + 0.5
	n := int32(t) // truncates toward zero: make it floor
	if float32(n) > t {
		n--
	}
	fx := float32(n)
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
	// y · 2ⁿ: exact (a power-of-two scaling) while the result is normal.
	switch {
	case n > 127:
		return float32(y*2) * math.Float32frombits(uint32(n-1+127)<<23)
	case n >= -126:
		return y * math.Float32frombits(uint32(n+127)<<23)
	}
	return float32(math.Ldexp(float64(y), int(n))) // subnormal results: round once
}

// Sigmoid is 1 / (1 + e**-x).
func Sigmoid(x float32) float32 {
	if x >= 0 {
		return 1 / (1 + Exp(-x))
	}
	e := Exp(x)
	return e / (1 + e)
}

// Tanh is (e**2x - 1) / (e**2x + 1), computed stably.
func Tanh(x float32) float32 {
	if x > 9 {
		return 1
	}
	if x < -9 {
		return -1
	}
	if x > -0.625 && x < 0.625 { // small x: odd polynomial (Cephes tanhf)
		z := float32(x * x)
		p := float32(-5.70498872745e-3)
		p = float32(p*z) + 2.06390887954e-2
		p = float32(p*z) - 5.37397155531e-2
		p = float32(p*z) + 1.33314422036e-1
		p = float32(p*z) - 3.33332819422e-1
		return float32(float32(p*z)*x) + x
	}
	e := Exp(2 * x)
	return (e - 1) / (e + 1)
}

// GELU is the tanh approximation x/2 · (1 + tanh(√(2/π)·(x + 0.044715x³))).
func GELU(x float32) float32 {
	u := float32(0.7978845608 * float32(x+float32(0.044715*float32(float32(x*x)*x))))
	return float32(0.5*x) * (1 + Tanh(u))
}
