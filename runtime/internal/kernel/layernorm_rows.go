package kernel

// LayerNormRows is LayerNormRow on each whole row of d values of src
// (len(src)/d rows, dst as long; dst may be src), bit for bit.
func LayerNormRows(dst, src, gamma, beta []float32, d int, eps float32) {
	impl.LayerNormRows(dst, src, gamma, beta, d, eps)
}

// layerNormRowsVia is LayerNormRows through one LayerNormRow.
func layerNormRowsVia(row func(dst, src, gamma, beta []float32, eps float32)) func(dst, src, gamma, beta []float32, d int, eps float32) {
	return func(dst, src, gamma, beta []float32, d int, eps float32) {
		if d <= 0 {
			return
		}
		for r := 0; r+d <= len(src); r += d {
			row(dst[r:r+d], src[r:r+d], gamma, beta, eps)
		}
	}
}
