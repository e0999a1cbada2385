package audio

import "math"

// Log32 returns the natural logarithm of x in float32 with the same bits
// on every architecture (math.Log is assembly on amd64 and Go elsewhere,
// and arm64 may fuse its multiply-adds): within 1 ulp of the correctly
// rounded value for every positive normal or subnormal x (TestLog32).
// Log32(0) = −Inf, Log32(+Inf) = +Inf, Log32 of a negative number or NaN
// is NaN.
//
// x = m·2^e with m in [√½, √2); with s = (m−1)/(m+1), log m = 2·atanh s
// = 2s + s·(2s²/3 + 2s⁴/5 + …), |s| ≤ 0.1716, the series in float64 to
// s¹⁵, then e·ln2 added and the sum rounded once to float32.
func Log32(x float32) float32 {
	switch {
	case x != x || x < 0:
		return float32(math.NaN())
	case x == 0:
		return float32(math.Inf(-1))
	case math.IsInf(float64(x), 1):
		return x
	}
	b := math.Float32bits(x)
	e := int(b>>23) - 127
	if b>>23 == 0 { // subnormal: scale into the normal range
		b = math.Float32bits(x * (1 << 23))
		e = int(b>>23) - 127 - 23
	}
	m := float64(math.Float32frombits(b&0x007fffff | 0x3f800000)) // [1, 2)
	if m > math.Sqrt2 {
		m /= 2
		e++
	}
	s := (m - 1) / (m + 1)
	z := s * s
	// 2/3, 2/5, …, 2/15 in Horner form, each product rounded on its own
	// (float64(a*b): no fused multiply-add).
	p := 2.0 / 15
	for _, c := range [...]float64{2.0 / 13, 2.0 / 11, 2.0 / 9, 2.0 / 7, 2.0 / 5, 2.0 / 3} {
		p = float64(p*z) + c
	}
	lm := 2*s + float64(float64(s*z)*p)
	return float32(float64(float64(e)*math.Ln2) + lm)
}
