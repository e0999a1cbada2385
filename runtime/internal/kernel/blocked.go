package kernel

// gemmI8Blocked is the portable GemmI8 of 32-bit CPUs and the SWAR
// loop's edge columns and long rows: the reference loop computed four
// output columns at a time, so each activation byte is loaded once per
// four multiply-adds. Integer sums are exact, so it equals gemmI8Generic
// bit for bit.
func gemmI8Blocked(c []int32, a []uint8, m int, w *MatI8, n0, n1 int) {
	k, n := w.K, w.N
	if m == 0 || n1 <= n0 {
		return
	}
	_ = c[(m-1)*n+n1-1]
	if w.grouped {
		gemmI8Generic(c, a, m, w, n0, n1)
		return
	}
	for i := 0; i < m; i++ {
		row := a[i*k : (i+1)*k]
		j := n0
		for ; j+4 <= n1; j += 4 {
			w0 := w.Data[j*k : (j+1)*k]
			w1 := w.Data[(j+1)*k : (j+2)*k]
			w2 := w.Data[(j+2)*k : (j+3)*k]
			w3 := w.Data[(j+3)*k : (j+4)*k]
			w0, w1, w2, w3 = w0[:len(row)], w1[:len(row)], w2[:len(row)], w3[:len(row)]
			var s0, s1, s2, s3 int32
			for p, v := range row {
				x := int32(v)
				s0 += x * int32(w0[p])
				s1 += x * int32(w1[p])
				s2 += x * int32(w2[p])
				s3 += x * int32(w3[p])
			}
			out := c[i*n+j : i*n+j+4]
			out[0], out[1], out[2], out[3] = s0, s1, s2, s3
		}
		for ; j < n1; j++ {
			col := w.Data[j*k : (j+1)*k]
			col = col[:len(row)]
			var s int32
			for p, v := range row {
				s += int32(v) * int32(col[p])
			}
			c[i*n+j] = s
		}
	}
}

// gemmF32Blocked is the portable GemmF32: four output columns at a time,
// each summed in the reference order p = 0..K-1 with no fused
// multiply-add, so it equals gemmF32Generic bit for bit.
func gemmF32Blocked(c []float32, a []float32, m int, w *MatF32, n0, n1 int) {
	k, n := w.K, w.N
	if m == 0 || n1 <= n0 {
		return
	}
	_ = c[(m-1)*n+n1-1]
	for i := 0; i < m; i++ {
		row := a[i*k : (i+1)*k]
		j := n0
		for ; j+4 <= n1; j += 4 {
			w0 := w.Data[j*k : (j+1)*k][:len(row)]
			w1 := w.Data[(j+1)*k : (j+2)*k][:len(row)]
			w2 := w.Data[(j+2)*k : (j+3)*k][:len(row)]
			w3 := w.Data[(j+3)*k : (j+4)*k][:len(row)]
			var s0, s1, s2, s3 float32
			for p, v := range row {
				s0 += float32(v * w0[p])
				s1 += float32(v * w1[p])
				s2 += float32(v * w2[p])
				s3 += float32(v * w3[p])
			}
			out := c[i*n+j : i*n+j+4]
			out[0], out[1], out[2], out[3] = s0, s1, s2, s3
		}
		for ; j < n1; j++ {
			col := w.Data[j*k : (j+1)*k][:len(row)]
			var s float32
			for p, v := range row {
				s += float32(v * col[p])
			}
			c[i*n+j] = s
		}
	}
}
