//go:build amd64 && gc && !noasm && !purego

package kernel

import "math"

// The assembly behind these declarations, attn_avx2_amd64.s, is generated with
// avo by _genx86 (attn_avx2.go, `make generate`).

// dotsF32AVX2 computes, for mt·4 rows of a and nt·3 rows of b (mt, nt > 0,
// k a multiple of 8 and > 0), in 4×3 tiles,
//
//	c[i*ldc+j] = float32(dot(a[i*lda:][:k], b[j*ldb:][:k]) * alpha)
//
// where dot is dotF32AVX2's: eight lane sums of separately rounded
// products, combined as ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)).
// Reference: dotsLoop over dotF32Generic, through dotsF32AVX2Tiles.
//
//go:noescape
func dotsF32AVX2(c []float32, a []float32, b []float32, mt, nt, k, lda, ldb, ldc int, alpha float32)

// mixF32AVX2 computes, for mt·4 rows and kt·16 columns (mt, kt > 0; any
// n ≥ 0), in 4×16 tiles,
//
//	o[i*ldo+c] = 0, then o[i*ldo+c] += float32(p[i*ldp+j] * v[j*ldv+c]) for j = 0..n−1
//
// Reference: mixLoop over axpyF32Generic, through mixF32AVX2Tiles.
//
//go:noescape
func mixF32AVX2(o []float32, p []float32, v []float32, mt, n, kt, ldo, ldp, ldv int)

// dotsF32AVX2Tiles is DotsF32 on AVX2: the assembly does the 4×3 tiles
// when k is a multiple of 8, dotF32AVX2Tiles the edge rows and columns
// (and every output when k is not).
func dotsF32AVX2Tiles(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int, alpha float32) {
	if m <= 0 || n <= 0 {
		return
	}
	checkStrided("DotsF32 a", len(a), m, k, lda)
	checkStrided("DotsF32 b", len(b), n, k, ldb)
	checkStrided("DotsF32 c", len(c), m, n, ldc)
	mf, nf := m&^3, n/3*3
	if k == 0 || k&7 != 0 {
		mf, nf = 0, 0
	}
	if mf > 0 && nf > 0 {
		raceRead(a[:stridedLen(mf, k, lda)])
		raceRead(b[:stridedLen(nf, k, ldb)])
		for i := 0; i < mf; i++ {
			raceWrite(c[i*ldc:][:nf])
		}
		dotsF32AVX2(c, a, b, mf/4, nf/3, k, lda, ldb, ldc, alpha)
		if nf < n {
			dotsLoop(dotF32AVX2Tiles, c[nf:], ldc, a, lda, b[nf*ldb:], ldb, mf, n-nf, k, alpha)
		}
	} else {
		mf = 0
	}
	if mf < m {
		dotsLoop(dotF32AVX2Tiles, c[mf*ldc:], ldc, a[mf*lda:], lda, b, ldb, m-mf, n, k, alpha)
	}
}

// mixF32AVX2Tiles is MixF32 on AVX2: the assembly does the 4-row by
// 16-column tiles, axpyF32AVX2Tiles the edge rows and columns.
func mixF32AVX2Tiles(o []float32, ldo int, p []float32, ldp int, v []float32, ldv int, m, n, k int) {
	if m <= 0 || k <= 0 {
		return
	}
	checkStrided("MixF32 o", len(o), m, k, ldo)
	checkStrided("MixF32 p", len(p), m, n, ldp)
	checkStrided("MixF32 v", len(v), n, k, ldv)
	mf, kf := m&^3, k&^15
	if mf > 0 && kf > 0 {
		raceRead(p[:stridedLen(mf, n, ldp)])
		raceRead(v[:stridedLen(n, kf, ldv)])
		for i := 0; i < mf; i++ {
			raceWrite(o[i*ldo:][:kf])
		}
		mixF32AVX2(o, p, v, mf/4, n, kf/16, ldo, ldp, ldv)
		if kf < k {
			mixLoop(axpyF32AVX2Tiles, o[kf:], ldo, p, ldp, v[min(kf, len(v)):], ldv, mf, n, k-kf) // v may be empty when n = 0
		}
	} else {
		mf = 0
	}
	if mf < m {
		mixLoop(axpyF32AVX2Tiles, o[mf*ldo:], ldo, p[min(mf*ldp, len(p)):], ldp, v, ldv, m-mf, n, k)
	}
}

// sumF32AVX2, sumSqDevAVX2 and normRowAVX2 are the passes of
// LayerNormRow over a multiple of 8 elements (see the assembly).
//
//go:noescape
func sumF32AVX2(p []float32) float32

//go:noescape
func sumSqDevAVX2(p []float32, mean float32) float32

//go:noescape
func normRowAVX2(dst, src, gamma, beta []float32, mean, den float32)

// layerNormAVX2 is LayerNormRow with the vector passes on the 8-multiple
// prefix and Go on the tail, in the reference's order.
func layerNormAVX2(dst, src, gamma, beta []float32, eps float32) {
	layerNormX86(dst, src, gamma, beta, eps, normRowAVX2)
}

// layerNormX86 is LayerNormRow with the two AVX2 sums (their lane order
// fixes the bits; wider vectors would not shorten their dependent adds)
// and the normalization pass norm, all on the 8-multiple prefix, and Go
// on the tail, in the reference's order.
func layerNormX86(dst, src, gamma, beta []float32, eps float32, norm func(dst, src, gamma, beta []float32, mean, den float32)) {
	n := len(src) &^ 7
	if n == 0 {
		layerNormGeneric(dst, src, gamma, beta, eps)
		return
	}
	dst, gamma, beta = dst[:len(src)], gamma[:len(src)], beta[:len(src)]
	raceRead(src[:n])
	raceRead(gamma[:n])
	raceRead(beta[:n])
	nd := float32(len(src))
	sum := sumF32AVX2(src[:n])
	for _, v := range src[n:] {
		sum += v
	}
	mean := sum / nd
	ss := sumSqDevAVX2(src[:n], mean)
	for _, v := range src[n:] {
		c := v - mean
		ss += float32(c * c)
	}
	den := float32(math.Sqrt(float64(ss/nd + eps)))
	raceWrite(dst[:n])
	norm(dst, src[:n], gamma, beta, mean, den)
	normRow(dst[n:], src[n:], gamma[n:], beta[n:], mean, den)
}

// stridedLen is the length a slice needs to hold rows rows of width
// width at stride ld (0 for no rows).
func stridedLen(rows, width, ld int) int {
	if rows <= 0 || width <= 0 {
		return 0
	}
	return (rows-1)*ld + width
}

// checkStrided panics when a kernel's operands are too short or their
// strides overlap rows: a programming error in the caller, never input.
func checkStrided(name string, s int, rows, width, ld int) {
	if rows > 0 && width > 0 && (ld < width || s < stridedLen(rows, width, ld)) {
		panic("kernel: " + name + ": slice too short or stride below the row width")
	}
}
