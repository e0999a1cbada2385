package kernel

// ScaleI8F32 sets dst[j] = float32(q[j]) · s for j < len(q) (one rounding:
// the conversion is exact), the dequantization of one int8 row with a
// per-row scale, such as an embedding table's row. dst must be at least
// as long as q.
func ScaleI8F32(dst []float32, q []int8, s float32) { impl.ScaleI8F32(dst, q, s) }

// scaleI8F32Generic is the reference ScaleI8F32.
func scaleI8F32Generic(dst []float32, q []int8, s float32) {
	dst = dst[:len(q)]
	for j, v := range q {
		dst[j] = float32(v) * s
	}
}
