//go:build amd64 && gc && !noasm && !purego

package kernel

// The assembly behind these declarations, quant_avx2_amd64.s, is generated with
// avo by _genx86 (quant_avx2.go, `make generate`).

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
	return quantizeRowAsm(dst, x, minMaxAVX2, quantRowAVX2)
}

func dequantRowAVX2Tiles(dst []float32, acc []int32, sx float32, zx int32, scales []float32, rowSum []int32, bias []float32) {
	dequantRowAsm(dst, acc, sx, zx, scales, rowSum, bias, dequantRowAVX2)
}
