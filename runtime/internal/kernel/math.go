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

// The rational approximation of Tanh: tanh(x) ≈ x·P(x²)/Q(x²) on
// [−9, 9], P and Q of degree 4 with P(0) = Q(0) = 1, fitted for the
// least maximum relative error (2.2e-8 in exact arithmetic; 3.1e-8 with
// the coefficients rounded to float32).
const (
	tanhP1 = float32(0.13383996)    // 0x3e090d58
	tanhP2 = float32(0.0034990152)  // 0x3b654fbc
	tanhP3 = float32(2.0661577e-05) // 0x37ad5266
	tanhP4 = float32(1.3420253e-08) // 0x32668ee6
	tanhQ1 = float32(0.4671732)     // 0x3eef3153
	tanhQ2 = float32(0.02589028)    // 0x3cd417da
	tanhQ3 = float32(0.00032910696) // 0x39ac8bfd
	tanhQ4 = float32(7.8049067e-07) // 0x355182e9
)

// Sigmoid is 1 / (1 + e**-x), computed as 0.5 + 0.5·Tanh(0.5·x). Its
// absolute error against the exact value is below 1.7e-7 everywhere
// (relative error below 1.7e-7 for x ≥ 0); for very negative x it returns
// 0 or a few ulps of 1 instead of the tiny exact value (e.g. 0 for
// x ≤ −18), so its relative error there is large. The result is in [0, 1].
func Sigmoid(x float32) float32 {
	return float32(0.5*Tanh(float32(0.5*x))) + 0.5
}

// Tanh is the hyperbolic tangent: x clamped to [−9, 9], then the odd
// rational x·P(x²)/Q(x²) with one division, clamped to [−1, 1]. Its
// absolute and relative errors against the exact value are below 3.4e-7
// (about 5 ulps near ±1); Tanh(±0) = ±0, tiny x (subnormals included) give
// x, ±Inf give ±1 and NaN gives NaN.
func Tanh(x float32) float32 {
	// The rational is exactly ±1 at ±9, so returning ±1 beyond is the same
	// as clamping x (which the vector kernels do), and cheaper here.
	switch {
	case x >= 9:
		return 1
	case x <= -9:
		return -1
	}
	z := float32(x * x)
	p := float32(tanhP4*z) + tanhP3
	p = float32(p*z) + tanhP2
	p = float32(p*z) + tanhP1
	p = float32(p*z) + 1
	q := float32(tanhQ4*z) + tanhQ3
	q = float32(q*z) + tanhQ2
	q = float32(q*z) + tanhQ1
	q = float32(q*z) + 1
	return min(max(float32(x*p)/q, -1), 1)
}

// GELU is the tanh approximation x/2 · (1 + tanh(√(2/π)·(x + 0.044715x³))).
func GELU(x float32) float32 {
	u := float32(0.7978845608 * float32(x+float32(0.044715*float32(float32(x*x)*x))))
	return float32(0.5*x) * (1 + Tanh(u))
}
