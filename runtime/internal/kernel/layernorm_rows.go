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

// AddLayerNormRows computes, for each whole row r of d values of y,
// t = y[r*d:][:d] + x's row (AxpyF32(1, x's row, t) after copying y's
// row into t: the same operations and operand order), then
// LayerNormRow(dst[r*d:][:d], t, gamma, beta, eps): a residual add and
// the norm after it. x's row for row r starts at r*d mod len(x) (x holds
// whole rows: one for every row of y, or fewer repeated). dst may be y;
// it must not otherwise overlap y or x. A partial last row of y is left
// alone.
func AddLayerNormRows(dst, y, x, gamma, beta []float32, d int, eps float32) {
	impl.AddLayerNormRows(dst, y, x, gamma, beta, d, eps)
}

// addLayerNormRowsVia is AddLayerNormRows through AxpyF32 on each row,
// then LayerNormRows on four rows at a time, in place in dst.
func addLayerNormRowsVia(axpy func(alpha float32, x, y []float32), rows func(dst, src, gamma, beta []float32, d int, eps float32)) func(dst, y, x, gamma, beta []float32, d int, eps float32) {
	return func(dst, y, x, gamma, beta []float32, d int, eps float32) {
		if d <= 0 || len(x) < d || len(x)%d != 0 {
			if d > 0 && len(y) >= d {
				panic("kernel: AddLayerNormRows: x does not hold whole rows")
			}
			return
		}
		n := len(y) / d
		for g0 := 0; g0 < n; g0 += 4 {
			g1 := min(g0+4, n)
			for r := g0; r < g1; r++ {
				t := dst[r*d : (r+1)*d]
				if ys := y[r*d : (r+1)*d]; &t[0] != &ys[0] {
					copy(t, ys)
				}
				o := r * d % len(x)
				axpy(1, x[o:o+d], t)
			}
			rows(dst[g0*d:g1*d], dst[g0*d:g1*d], gamma, beta, d, eps)
		}
	}
}
