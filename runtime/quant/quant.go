// Package quant is the quantization arithmetic of edgerun: the host
// trainer quantizes weights with it, and it is the reference the device
// kernels (runtime/internal/kernel's QuantizeRowU8 and DequantRow) are
// tested against bit for bit. It imports nothing of edgerun; the engine
// does not import it.
//
// Quantization v1:
//   - weights: int8, symmetric, one scale per output channel (row of an
//     N×K matrix): scale = max|w| / 127, q = round(w / scale) in -127..127
//     (-128 is never produced);
//   - embedding tables: the same, one scale per row;
//   - activations: uint8, asymmetric, one scale and zero point per row,
//     computed at run time (QuantizeRowU8);
//   - accumulation in int32; dequantization
//     y = (sx·sw) · (acc − zx·Σw) + bias, with Σw precomputed per channel.
//
// Rounding is half to even everywhere; float products are rounded to
// float32 explicitly so no architecture fuses them differently.
package quant

import (
	"math"
)

// Round rounds half to even and saturates to [lo, hi].
func Round(x float32, lo, hi int32) int32 {
	r := math.RoundToEven(float64(x))
	if r < float64(lo) {
		return lo
	}
	if r > float64(hi) {
		return hi
	}
	return int32(r)
}

// SymmetricRows quantizes w (n rows of k) to int8 with one scale per row.
// An all-zero row gets scale 1.
func SymmetricRows(w []float32, n, k int) (q []int8, scales []float32) {
	q = make([]int8, n*k)
	scales = make([]float32, n)
	for r := 0; r < n; r++ {
		row := w[r*k : (r+1)*k]
		var m float32
		for _, v := range row {
			m = max(m, float32(math.Abs(float64(v))))
		}
		s := float32(1)
		if m > 0 {
			s = m / 127
		}
		scales[r] = s
		inv := 1 / s
		for i, v := range row {
			q[r*k+i] = int8(Round(float32(v*inv), -127, 127))
		}
	}
	return q, scales
}

// RowU8 is the reference activation quantizer (the kernel package has the
// fast one and must match it): the row's range, widened to include 0, is
// mapped onto 0..255.
//
//	lo = min(x, 0), hi = max(x, 0); scale = (hi − lo) / 255
//	zp = round(−lo / scale); q = clamp(round(x / scale) + zp, 0, 255)
func RowU8(dst []uint8, x []float32) (scale float32, zp int32) {
	lo, hi := float32(0), float32(0)
	for _, v := range x {
		lo = min(lo, v)
		hi = max(hi, v)
	}
	if hi == lo {
		clear(dst[:len(x)])
		return 1, 0
	}
	scale = float32(hi-lo) / 255
	inv := 1 / scale
	zp = Round(float32(-lo*inv), 0, 255)
	for i, v := range x {
		dst[i] = uint8(max(0, min(255, Round(float32(v*inv), -1<<30, 1<<30)+zp)))
	}
	return scale, zp
}

// Dequantize turns one int32 accumulator back into a real value:
// (sx·sw)·(acc − zx·rowSum) + bias.
func Dequantize(acc int32, sx float32, zx int32, sw float32, rowSum int32, bias float32) float32 {
	return float32(float32(sx*sw)*float32(acc-zx*rowSum)) + bias
}
