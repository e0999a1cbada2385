package kernel

// QuantizeRowsU8 quantizes m consecutive rows of k activations each, bit
// for bit as QuantizeRowU8 on every row x[i*k:][:k] into q[i*k:][:k],
// storing xs[i] = scale and xz[i] = float32(zero point) (exact: 0 to 255),
// as the int8 GEMM's callers keep them. q and x hold at least m·k
// elements, xs and xz at least m.
func QuantizeRowsU8(q []uint8, x []float32, m, k int, xs, xz []float32) {
	impl.QuantizeRowsU8(q, x, m, k, xs, xz)
}

// quantizeRowsVia is QuantizeRowsU8 through one QuantizeRowU8 a row; over
// quantizeRowU8Generic it is the reference.
func quantizeRowsVia(row func(dst []uint8, x []float32) (float32, int32)) func(q []uint8, x []float32, m, k int, xs, xz []float32) {
	return func(q []uint8, x []float32, m, k int, xs, xz []float32) {
		for i := range m {
			s, z := row(q[i*k:][:k], x[i*k:][:k])
			xs[i], xz[i] = s, float32(z)
		}
	}
}
