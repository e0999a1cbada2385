package kernel

// GemmI8F32 computes output columns [n0, n1) of the m rows of y (row
// length w.N) as GemmI8 followed by DequantRow and, when relu is set,
// ReluSlice, bit for bit:
//
//	c = a · wᵀ (int32, as GemmI8)
//	y[i][j] = float32(xs[i]·scales[j]) · float32(c[i][j] − int32(xz[i])·w.RowSum[j]) (+ bias[i·ldb+j])
//	y[i][j] = max(y[i][j], 0) when relu
//
// xs and xz hold the m rows' activation scales and zero points (xz as
// float32 integers, as QuantizeRowU8's callers keep them); scales are
// indexed by column (len ≥ n1); bias, empty for none, holds row i's
// biases from i·ldb (ldb ≥ 0: 0 shares one row of per-column biases among
// all rows; len ≥ (m−1)·ldb+n1). bias may be y itself (same first
// element, ldb = w.N): every element reads its bias before it is written
// and no other element reads it. acc is scratch
// of at least (m−1)·w.N+n1 int32 that an implementation may use (its
// columns [n0, n1) are then overwritten with c); implementations that
// dequantize in registers leave it alone. Other columns of y are not
// written.
func GemmI8F32(y []float32, acc []int32, a []uint8, m int, w *MatI8, n0, n1 int, xs, xz, scales, bias []float32, ldb int, relu bool) {
	impl.GemmI8F32(y, acc, a, m, w, n0, n1, xs, xz, scales, bias, ldb, relu)
}

// gemmI8F32Via is GemmI8F32 in two passes over acc: the GEMM, then per
// row the dequantizer and the ReLU.
func gemmI8F32Via(gemm func(c []int32, a []uint8, m int, w *MatI8, n0, n1 int),
	deq func(dst []float32, acc []int32, sx float32, zx int32, scales []float32, rowSum []int32, bias []float32),
	relu func(x []float32)) func(y []float32, acc []int32, a []uint8, m int, w *MatI8, n0, n1 int, xs, xz, scales, bias []float32, ldb int, doRelu bool) {
	return func(y []float32, acc []int32, a []uint8, m int, w *MatI8, n0, n1 int, xs, xz, scales, bias []float32, ldb int, doRelu bool) {
		if m <= 0 || n1 <= n0 {
			return
		}
		n := w.N
		gemm(acc, a, m, w, n0, n1)
		for i := range m {
			var b []float32
			if len(bias) > 0 {
				b = bias[i*ldb+n0 : i*ldb+n1]
			}
			row := y[i*n+n0 : i*n+n1]
			deq(row, acc[i*n+n0:i*n+n1], xs[i], int32(xz[i]), scales[n0:n1], w.RowSum[n0:n1], b)
			if doRelu {
				relu(row)
			}
		}
	}
}
