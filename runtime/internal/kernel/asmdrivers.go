//go:build (amd64 || arm64) && gc && !noasm && !purego

package kernel

// The Go halves of the vector kernels, shared by every architecture: the
// assembly does the prefix a whole number of vectors long, Go the tail in
// the reference's order, so each equals its portable twin bit for bit.
// The amd64 and arm64 files pass their own assembly.

// quantizeRowAsm is QuantizeRowU8 with an assembly min/max and rounding
// loop over the 8-multiple prefix.
func quantizeRowAsm(dst []uint8, x []float32,
	minMax func(x []float32) (lo, hi float32),
	quantRow func(dst []uint8, x []float32, inv float32, zp int32)) (float32, int32) {
	n := len(x) &^ 7
	lo, hi := float32(0), float32(0)
	if n > 0 {
		raceRead(x[:n])
		l, h := minMax(x[:n])
		lo, hi = min(lo, l), max(hi, h)
	}
	for _, v := range x[n:] {
		lo = min(lo, v)
		hi = max(hi, v)
	}
	if hi == lo || lo != lo || hi != hi {
		return quantizeRowU8Generic(dst, x) // constant or NaN rows: the reference decides
	}
	dst = dst[:len(x)]
	scale := float32(hi-lo) / 255
	inv := 1 / scale
	zp := Round255(float32(-lo * inv))
	if n > 0 {
		raceWrite(dst[:n])
		quantRow(dst[:n], x[:n], inv, zp)
	}
	for i := n; i < len(x); i++ {
		q := roundEven32(float32(x[i]*inv)) + zp
		dst[i] = uint8(max(0, min(255, q)))
	}
	return scale, zp
}

// dequantRowAsm is DequantRow with an assembly loop over the 8-multiple
// prefix.
func dequantRowAsm(dst []float32, acc []int32, sx float32, zx int32, scales []float32, rowSum []int32, bias []float32,
	kern func(dst []float32, acc []int32, scales []float32, rowSum []int32, bias []float32, sx float32, zx int32)) {
	acc, scales, rowSum = acc[:len(dst)], scales[:len(dst)], rowSum[:len(dst)]
	if bias != nil {
		bias = bias[:len(dst)]
	}
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
		kern(dst[:n], acc[:n], scales[:n], rowSum[:n], b, sx, zx)
	}
	if n < len(dst) {
		var b []float32
		if bias != nil {
			b = bias[n:]
		}
		dequantRowGeneric(dst[n:], acc[n:], sx, zx, scales[n:], rowSum[n:], b)
	}
}

// dotAsm is DotF32 with an assembly loop over the 8-multiple prefix.
func dotAsm(a, b []float32, kern func(a, b []float32) float32) float32 {
	n := len(a) &^ 7
	b = b[:len(a)]
	if n == 0 {
		return dotF32Generic(a, b)
	}
	raceRead(a[:n])
	raceRead(b[:n])
	s := kern(a[:n], b[:n])
	for i := n; i < len(a); i++ {
		s += float32(a[i] * b[i])
	}
	return s
}

// axpyAsm is AxpyF32 with an assembly loop over the 8-multiple prefix.
func axpyAsm(alpha float32, x, y []float32, kern func(alpha float32, x, y []float32)) {
	n := len(x) &^ 7
	y = y[:len(x)]
	if n > 0 {
		raceRead(x[:n])
		raceWrite(y[:n])
		kern(alpha, x[:n], y[:n])
	}
	for i := n; i < len(x); i++ {
		y[i] += float32(alpha * x[i])
	}
}

// lanesAsm runs an elementwise assembly kernel on the prefix a multiple
// of lanes long and the scalar function on the tail.
func lanesAsm(dst, src []float32, lanes int, kern func(dst, src []float32), scalar func(float32) float32) {
	dst = dst[:len(src)]
	n := len(src) / lanes * lanes
	if n > 0 {
		raceRead(src[:n])
		raceWrite(dst[:n])
		kern(dst[:n], src[:n])
	}
	for i := n; i < len(src); i++ {
		dst[i] = scalar(src[i])
	}
}

// gemmF32Asm is GemmF32 around an architecture's f32 assembly: gemm does
// the 4-row by tileN-column tiles over the 8-float prefix of K, in column
// panels of at most panelBytes of weights (so they stay in L2); gemv the
// rows and columns outside the tiles; Go adds the K tail. Results differ
// from gemmF32Generic by rounding only (FMA and lane-wise partial sums;
// TestGemmF32 bounds it), but every output is computed the same way
// wherever it lies in [n0, n1), so splitting the columns between workers
// never changes a bit.
func gemmF32Asm(c []float32, a []float32, m int, w *MatF32, n0, n1 int, tileN, panelBytes int,
	gemm func(c []float32, a []float32, b []float32, m, n, k, lda, ldb, ldc int),
	gemv func(c []float32, x []float32, b []float32, n, k, ldb, incc int)) {
	k, n := w.K, w.N
	if m == 0 || n1 <= n0 {
		return
	}
	if n0 < 0 || n1 > n || len(a) < m*k || len(c) < (m-1)*n+n1 || len(w.Data) < n*k {
		panic("kernel: GemmF32: slice too short or column range out of bounds")
	}
	kf := k &^ 7
	if kf == 0 {
		gemmF32Blocked(c, a, m, w, n0, n1)
		return
	}
	raceRead(a[:m*k])
	raceRead(w.Data[n0*k : n1*k])
	raceWriteCols(c, m, n, n0, n1)

	mf := m &^ 3
	nf := (n1 - n0) / tileN * tileN
	if mf > 0 && nf > 0 {
		panel := max(tileN, panelBytes/(4*k)/tileN*tileN)
		for j := n0; j < n0+nf; j += panel {
			cols := min(panel, n0+nf-j)
			gemm(c[j:], a, w.Data[j*k:], mf, cols, kf, k, k, n)
		}
	}
	if mf > 0 {
		for j := n0 + nf; j < n1; j++ { // columns outside the tiles
			gemv(c[j:], w.Data[j*k:(j+1)*k], a, mf, kf, k, n)
		}
	}
	for i := mf; i < m; i++ { // rows outside the tiles
		gemv(c[i*n+n0:], a[i*k:(i+1)*k], w.Data[n0*k:], n1-n0, kf, k, 1)
	}
	if kf < k {
		for i := 0; i < m; i++ {
			row := a[i*k+kf : (i+1)*k]
			for j := n0; j < n1; j++ {
				col := w.Data[j*k+kf : (j+1)*k][:len(row)]
				s := c[i*n+j]
				for p, v := range row {
					s += float32(v * col[p])
				}
				c[i*n+j] = s
			}
		}
	}
}
