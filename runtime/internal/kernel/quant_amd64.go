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

// quantRowsAVX2 quantizes rows 0, 1, … of m > 0 consecutive rows of
// k > 0 floats of x into q (nothing past m·k elements is read or
// written) and stores row i's scale in xs[i] and its zero point, as a
// float32, in xz[i], each row as quantizeRowU8Generic would, up to the
// first row holding a NaN: it returns that row's index, the row
// untouched, or m. Rows of ±0 get scale 1, zero point 0 and zeros, as the
// reference gives them. Reference: QuantizeRowsU8 over
// quantizeRowU8Generic.
//
//go:noescape
func quantRowsAVX2(q []uint8, x []float32, m, k int, xs, xz []float32) (done int)

// quantizeRowsU8AVX2 is QuantizeRowsU8 with AVX2, one assembly call for
// the rows up to the next holding a NaN, which the reference quantizes;
// it equals QuantizeRowsU8 over quantizeRowU8Generic bit for bit.
func quantizeRowsU8AVX2(q []uint8, x []float32, m, k int, xs, xz []float32) {
	quantizeRowsAsm(q, x, m, k, xs, xz, func(q []uint8, x []float32, m int, xs, xz []float32) int {
		return quantRowsAVX2(q, x, m, k, xs, xz)
	})
}

// quantizeRowsAsm is QuantizeRowsU8 through rows, an assembly kernel that
// quantizes rows of k up to the first holding a NaN and returns how many
// it did; the reference takes that row, and rows goes on after it.
func quantizeRowsAsm(q []uint8, x []float32, m, k int, xs, xz []float32, rows func(q []uint8, x []float32, m int, xs, xz []float32) int) {
	if m <= 0 {
		return
	}
	if k <= 0 {
		quantizeRowsVia(quantizeRowU8Generic)(q, x, m, k, xs, xz)
		return
	}
	q, x, xs, xz = q[:m*k], x[:m*k], xs[:m], xz[:m]
	raceRead(x)
	raceWrite(q)
	raceWrite(xs)
	raceWrite(xz)
	for i := 0; i < m; i++ {
		i += rows(q[i*k:], x[i*k:], m-i, xs[i:], xz[i:])
		if i < m {
			s, z := quantizeRowU8Generic(q[i*k:(i+1)*k], x[i*k:(i+1)*k])
			xs[i], xz[i] = s, float32(z)
		}
	}
}

func dequantRowAVX2Tiles(dst []float32, acc []int32, sx float32, zx int32, scales []float32, rowSum []int32, bias []float32) {
	dequantRowAsm(dst, acc, sx, zx, scales, rowSum, bias, dequantRowAVX2)
}
