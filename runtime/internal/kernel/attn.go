package kernel

import "math"

// The attention core: scores Q·Kᵀ and the mix P·V over rows read in place
// (Q, K and V are column blocks of one [T, 3D] projection, so their rows
// are strided). Both are defined through DotF32 and AxpyF32, output by
// output, so a tiled kernel and the loop below give the same bits, and an
// int8 model's attention is identical on every implementation.

// DotsF32 sets, for i < m and j < n,
//
//	c[i*ldc+j] = float32(DotF32(a[i*lda:][:k], b[j*ldb:][:k]) * alpha)
//
// bit for bit.
func DotsF32(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int, alpha float32) {
	impl.DotsF32(c, ldc, a, lda, b, ldb, m, n, k, alpha)
}

// MixF32 sets, for i < m, o[i*ldo:][:k] to Σ_{j<n} p[i*ldp+j]·v[j*ldv:][:k]
// accumulated as clearing the row and calling
// AxpyF32(p[i*ldp+j], v[j*ldv:][:k], row) for j = 0, 1, …, n−1 does, bit
// for bit. n = 0 clears the rows.
func MixF32(o []float32, ldo int, p []float32, ldp int, v []float32, ldv int, m, n, k int) {
	impl.MixF32(o, ldo, p, ldp, v, ldv, m, n, k)
}

// SoftmaxF32 sets p to softmax(p) in place, bit for bit as
//
//	mx := max over p (from −Inf; NaN if any is NaN)
//	p[j] = Exp(p[j] − mx)
//	sum := the eight lane sums of p's 8-multiple prefix, l = j mod 8,
//	       combined as ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)), then the
//	       tail added in order (DotF32's order)
//	p[j] = p[j] / sum
func SoftmaxF32(p []float32) { impl.SoftmaxF32(p) }

// SoftmaxStridedF32 is SoftmaxF32 on each of rows rows of n values at a
// stride of ld floats, p[r*ld:][:n], in order, bit for bit.
func SoftmaxStridedF32(p []float32, ld, n, rows int) { impl.SoftmaxStridedF32(p, ld, n, rows) }

// softmaxStridedVia is SoftmaxStridedF32 through one SoftmaxF32.
func softmaxStridedVia(softmax func(p []float32)) func(p []float32, ld, n, rows int) {
	return func(p []float32, ld, n, rows int) {
		for r := range rows {
			softmax(p[r*ld:][:n])
		}
	}
}

// softmaxVia is SoftmaxF32 around an implementation's Exp slice.
func softmaxVia(exp func(dst, src []float32)) func(p []float32) {
	return func(p []float32) { softmaxLoop(exp, p) }
}

// softmaxLoop is the reference SoftmaxF32 with exp as the Exp slice.
func softmaxLoop(exp func(dst, src []float32), p []float32) {
	if len(p) == 0 {
		return
	}
	mx := float32(math.Inf(-1))
	for _, s := range p {
		mx = max(mx, s)
	}
	for j := range p {
		p[j] -= mx
	}
	exp(p, p)
	sum := sumF32(p)
	for j := range p {
		p[j] /= sum
	}
}

// dotsLoop is DotsF32 through one dot kernel: the reference and the
// default for implementations without a tiled version.
func dotsLoop(dot func(a, b []float32) float32, c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int, alpha float32) {
	for i := 0; i < m; i++ {
		row := a[i*lda:][:k]
		cr := c[i*ldc:][:n]
		for j := range cr {
			cr[j] = float32(dot(row, b[j*ldb:][:k]) * alpha)
		}
	}
}

// mixLoop is MixF32 through one axpy kernel.
func mixLoop(axpy func(alpha float32, x, y []float32), o []float32, ldo int, p []float32, ldp int, v []float32, ldv int, m, n, k int) {
	for i := 0; i < m; i++ {
		row := o[i*ldo:][:k]
		clear(row)
		for j, pj := range p[i*ldp:][:n] {
			axpy(pj, v[j*ldv:][:k], row)
		}
	}
}

// dotsVia and mixVia make the loops an Impl's kernels, over that Impl's
// own DotF32 and AxpyF32.
func dotsVia(dot func(a, b []float32) float32) func(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int, alpha float32) {
	return func(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int, alpha float32) {
		dotsLoop(dot, c, ldc, a, lda, b, ldb, m, n, k, alpha)
	}
}

func mixVia(axpy func(alpha float32, x, y []float32)) func(o []float32, ldo int, p []float32, ldp int, v []float32, ldv int, m, n, k int) {
	return func(o []float32, ldo int, p []float32, ldp int, v []float32, ldv int, m, n, k int) {
		mixLoop(axpy, o, ldo, p, ldp, v, ldv, m, n, k)
	}
}
