//go:build amd64 && gc && !noasm && !purego

package kernel

// minMaxAVX2 returns the smallest and largest element of x, len(x) a
// multiple of 8 and > 0. Reference: quantizeRowU8Generic's first loop.
//
//go:noescape
func minMaxAVX2(x []float32) (lo, hi float32)

// quantRowAVX2 computes, for len(x) a multiple of 8,
//
//	for i, v := range x { dst[i] = uint8(clamp(roundEven(float32(v*inv)) + zp, 0, 255)) }
//
// Reference: quantizeRowU8Generic.
//
//go:noescape
func quantRowAVX2(dst []uint8, x []float32, inv float32, zp int32)

// dequantRowAVX2 computes, for len(dst) a multiple of 8,
//
//	dst[j] = float32(sx*scales[j]) * float32(acc[j]-zx*rowSum[j]) (+ bias[j] if bias is not empty)
//
// Reference: dequantRowGeneric.
//
//go:noescape
func dequantRowAVX2(dst []float32, acc []int32, scales []float32, rowSum []int32, bias []float32, sx float32, zx int32)

// quantizeRowU8AVX2 is QuantizeRowU8 with the min/max and the rounding
// loop in AVX2; it equals quantizeRowU8Generic bit for bit.
func quantizeRowU8AVX2(dst []uint8, x []float32) (float32, int32) {
	n := len(x) &^ 7
	lo, hi := float32(0), float32(0)
	if n > 0 {
		raceRead(x[:n])
		l, h := minMaxAVX2(x[:n])
		lo, hi = min(lo, l), max(hi, h)
	}
	for _, v := range x[n:] {
		lo = min(lo, v)
		hi = max(hi, v)
	}
	if hi == lo || lo != lo || hi != hi {
		return quantizeRowU8Generic(dst, x) // constant or NaN rows: the reference decides
	}
	scale := float32(hi-lo) / 255
	inv := 1 / scale
	zp := Round255(float32(-lo * inv))
	if n > 0 {
		raceWrite(dst[:n])
		quantRowAVX2(dst[:n], x[:n], inv, zp)
	}
	for i := n; i < len(x); i++ {
		q := roundEven32(float32(x[i]*inv)) + zp
		dst[i] = uint8(max(0, min(255, q)))
	}
	return scale, zp
}

func dequantRowAVX2Tiles(dst []float32, acc []int32, sx float32, zx int32, scales []float32, rowSum []int32, bias []float32) {
	n := len(dst) &^ 7
	if n > 0 {
		b := bias
		if b != nil {
			b = b[:n]
			raceRead(b)
		}
		raceRead(acc[:n])
		raceRead(scales[:n])
		raceRead(rowSum[:n])
		raceWrite(dst[:n])
		dequantRowAVX2(dst[:n], acc[:n], scales[:n], rowSum[:n], b, sx, zx)
	}
	if n < len(dst) {
		var b []float32
		if bias != nil {
			b = bias[n:]
		}
		dequantRowGeneric(dst[n:], acc[n:], sx, zx, scales[n:], rowSum[n:], b)
	}
}
