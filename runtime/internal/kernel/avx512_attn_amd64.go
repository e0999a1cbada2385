//go:build amd64 && gc && !noasm && !purego

package kernel

// The assembly behind these declarations, attn_avx512_amd64.s, is generated
// with avo by _genx86 (attn_avx512.go, `make generate`).

// avx512Attn sets the attention kernels of the avx512vnni implementation
// that have 512-bit versions with the reference's bits.
func avx512Attn(im *Impl) {
	im.DotsF32 = dotsF32AVX512Tiles
	im.SoftmaxF32 = softmaxAttnAVX512
	im.SoftmaxStridedF32 = softmaxStridedAVX512
	im.LayerNormRows = layerNormRowsAVX512
	im.AddLayerNormRows = addLayerNormRowsAVX512
}

// addLayerNormRowsAVX512 is AddLayerNormRows four rows a call
// (addLayerNorm4RowsAVX512: the add inside the norm's first pass) when d
// is a multiple of 16 and the four rows' x rows are one row or
// consecutive; other groups go through the Impl's AxpyF32 and
// LayerNormRows.
func addLayerNormRowsAVX512(dst, y, x, gamma, beta []float32, d int, eps float32) {
	if d <= 0 || len(x) < d || len(x)%d != 0 || d%16 != 0 {
		addLayerNormRowsAVX512Via(dst, y, x, gamma, beta, d, eps)
		return
	}
	n := len(y) / d
	dst, gamma, beta = dst[:n*d], gamma[:d], beta[:d]
	g := 0
	for ; g+4 <= n; g += 4 {
		o := g * d % len(x)
		ldx := d
		if len(x) == d {
			ldx = 0
		} else if o+4*d > len(x) {
			addLayerNormRowsAVX512Each(dst, y, x, gamma, beta, d, eps, g, g+4)
			continue
		}
		raceRead(y[g*d : (g+4)*d])
		raceRead(x[o : o+ldx*3+d])
		raceRead(gamma)
		raceRead(beta)
		raceWrite(dst[g*d : (g+4)*d])
		addLayerNorm4RowsAVX512(dst[g*d:], y[g*d:], x[o:], gamma, beta, ldx, d, float32(d), eps)
	}
	addLayerNormRowsAVX512Each(dst, y, x, gamma, beta, d, eps, g, n)
}

// addLayerNormRowsAVX512Each is addLayerNormRowsAVX512Via on rows [r0, r1)
// one at a time, each with its own row of x.
func addLayerNormRowsAVX512Each(dst, y, x, gamma, beta []float32, d int, eps float32, r0, r1 int) {
	for r := r0; r < r1; r++ {
		o := r * d % len(x)
		addLayerNormRowsAVX512Via(dst[r*d:(r+1)*d], y[r*d:(r+1)*d], x[o:o+d], gamma, beta, d, eps)
	}
}

// layerNormRowsAVX512 is LayerNormRows four rows a call
// (layerNorm4RowsAVX512) when d is a multiple of 16, so that the rows'
// dependent sums and divisions overlap; the other rows go through
// layerNormAVX512 one by one.
func layerNormRowsAVX512(dst, src, gamma, beta []float32, d int, eps float32) {
	if d <= 0 {
		return
	}
	rows := len(src) / d
	r := 0
	if d%16 == 0 && rows >= 4 {
		dst, gamma, beta = dst[:rows*d], gamma[:d], beta[:d]
		raceRead(src[:rows*d])
		raceRead(gamma)
		raceRead(beta)
		raceWrite(dst)
		for ; r+4 <= rows; r += 4 {
			layerNorm4RowsAVX512(dst[r*d:], src[r*d:], gamma, beta, d, float32(d), eps)
		}
	}
	for ; r < rows; r++ {
		layerNormAVX512(dst[r*d:][:d], src[r*d:][:d], gamma, beta, eps)
	}
}

// layerNorm4RowsAVX512 is layerNormAVX512 on the four rows src[r*n:][:n]
// into dst[r*n:][:n], r < 4, for n > 0 a multiple of 16 (nd = n), their
// passes interleaved. Reference: layerNormGeneric on each row.
//
//go:noescape
func layerNorm4RowsAVX512(dst, src, gamma, beta []float32, n int, nd, eps float32)

// addLayerNorm4RowsAVX512 is AddLayerNormRows on four rows of n (a
// multiple of 16, nd = n) with x's rows ldx floats apart (0 or n), their
// passes interleaved; dst may be y. Reference: addLayerNormRowsVia.
//
//go:noescape
func addLayerNorm4RowsAVX512(dst, y, x, gamma, beta []float32, ldx, n int, nd, eps float32)

// addLayerNormRowsAVX512Via is AddLayerNormRows through the AVX-512
// AxpyF32 and LayerNormRows.
var addLayerNormRowsAVX512Via = addLayerNormRowsVia(axpyF32AVX512Tiles, layerNormRowsAVX512)

// softmaxStridedAVX512 is SoftmaxStridedF32 four rows a call
// (softmax4RowsAVX512) when n is a multiple of 16 and the rows do not
// overlap, so that the rows' reductions overlap; the other rows, and any
// four holding a NaN, go through softmaxAttnAVX512 one by one.
func softmaxStridedAVX512(p []float32, ld, n, rows int) {
	r := 0
	if n > 0 && n%16 == 0 && ld >= n && rows >= 4 && len(p) >= (rows-1)*ld+n {
		raceWrite(p[:(rows-1)*ld+n])
		for ; r+4 <= rows; r += 4 {
			if softmax4RowsAVX512(p[r*ld:], ld, n) {
				for i := range 4 {
					softmaxAttnAVX512(p[(r+i)*ld:][:n])
				}
			}
		}
	}
	for ; r < rows; r++ {
		softmaxAttnAVX512(p[r*ld:][:n])
	}
}

// softmax4RowsAVX512 is softmaxRowAVX512 on the four rows p[i*ld:][:n],
// i < 4, for n > 0 a multiple of 16 and ld ≥ n, their passes interleaved:
// with a NaN in any of them it reports true and leaves p unchanged.
// Reference: softmaxLoop on each row.
//
//go:noescape
func softmax4RowsAVX512(p []float32, ld, n int) (nan bool)

// softmaxAttnAVX512 is SoftmaxF32 in one assembly call
// (softmaxRowAVX512) instead of softmaxAVX512's three, and with the
// row's tail (len(p) mod 8 values) in masked vector lanes instead of up to
// seven scalar Exp calls: attention rows are short, and under a padding
// mask of any length, so calls and scalar tails cost as much as the
// vector work. A NaN goes to the reference loop, which propagates it.
// It serves every SoftmaxF32 caller of the avx512vnni implementation.
func softmaxAttnAVX512(p []float32) {
	if len(p) == 0 {
		return
	}
	raceWrite(p)
	if softmaxRowAVX512(p) {
		softmaxLoop(expSliceAVX512, p)
	}
}

// softmaxRowAVX512 is SoftmaxF32 for len(p) > 0: the three passes of
// softmaxAVX512 (maxF32AVX512, expSubSumAVX512, divF32AVX512) in one call
// with their bits (the exponential is exp16 for x ≤ 0: y·2ⁿ in one
// VSCALEFPS, no overflow fix-up); the last len(p) mod 16 values stay in masked
// lanes of a register through the passes, those past the 8-multiple
// prefix added to the sum in order. With a NaN in p it reports true and
// leaves p unchanged. Reference: softmaxLoop.
//
//go:noescape
func softmaxRowAVX512(p []float32) (nan bool)

// dotsF32AVX512 computes, for mt·4 rows of a and nt·8 rows of b (mt, nt >
// 0, k a multiple of 8 and > 0), in 4×8 tiles,
//
//	c[i*ldc+j] = float32(dot(a[i*lda:][:k], b[j*ldb:][:k]) * alpha)
//
// where dot is DotF32's: eight lane sums of separately rounded products,
// combined as ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)). A zmm accumulator
// carries two such dots (keys j and j+1 in its 256-bit halves), so the
// bits are dotsF32AVX2's. Reference: dotsLoop over dotF32Generic, through
// dotsF32AVX512Tiles.
//
//go:noescape
func dotsF32AVX512(c []float32, a []float32, b []float32, mt, nt, k, lda, ldb, ldc int, alpha float32)

// dotsF32AVX512Tiles is DotsF32 with AVX-512. For 8 ≤ k ≤ dotsTK,
// dotsF32AVX512T (one key per lane) does every output when k is not a
// multiple of 8, when m < 4, and when m, n ≥ 16 with k ≤ 64 or m ≥ 64:
// there it took, interleaved with the 4×8 tiles on one core, 0.78× their
// time for 16×64×32 (the attention op's block of a 32-wide head),
// 0.67× for 64×64×32, 0.64× for 16×64×16, 0.91× for 16×64×64 and 0.86×
// for 64×64×128. It loses with fewer rows to share each Kᵀ block
// (4×64×32 1.17×, 8×64×64 1.10×), with partly empty lanes (16×8×32
// 1.67×) and for long rows with few queries (16×16×128 1.08×).
// Otherwise the assembly does the 4×8 tiles, the last columns (n mod 8
// keys, as padding masks leave them) through dotsEdgeAVX512, and the
// last rows (m mod 4) go through dotsF32AVX512T, or dotsF32AVX2Tiles (the
// same bits) for k > dotsTK; dotsF32AVX2Tiles does every output for k < 8
// not a multiple of 8.
func dotsF32AVX512Tiles(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int, alpha float32) {
	if m <= 0 || n <= 0 {
		return
	}
	checkStrided("DotsF32 a", len(a), m, k, lda)
	checkStrided("DotsF32 b", len(b), n, k, ldb)
	checkStrided("DotsF32 c", len(c), m, n, ldc)
	mf, nf := m&^3, n&^7
	if k >= 8 && k <= dotsTK && (k&7 != 0 || mf == 0 || m >= 16 && n >= 16 && (k <= 64 || m >= 64)) {
		dotsF32AVX512T(c, ldc, a, lda, b, ldb, m, n, k, alpha)
		return
	}
	if k == 0 || k&7 != 0 || mf == 0 {
		dotsF32AVX2Tiles(c, ldc, a, lda, b, ldb, m, n, k, alpha)
		return
	}
	raceRead(a[:stridedLen(mf, k, lda)])
	if nf > 0 {
		raceRead(b[:stridedLen(nf, k, ldb)])
		for i := 0; i < mf; i++ {
			raceWrite(c[i*ldc:][:nf])
		}
		dotsF32AVX512(c, a, b, mf/4, nf/8, k, lda, ldb, ldc, alpha)
	}
	if nf < n {
		if k <= dotsEdgeK {
			dotsEdgeAVX512(c[nf:], ldc, a, lda, b[nf*ldb:], ldb, mf, n-nf, k, alpha)
		} else {
			dotsF32AVX2Tiles(c[nf:], ldc, a, lda, b[nf*ldb:], ldb, mf, n-nf, k, alpha)
		}
	}
	if mf < m {
		if k <= dotsTK {
			dotsF32AVX512T(c[mf*ldc:], ldc, a[mf*lda:], lda, b, ldb, m-mf, n, k, alpha)
		} else {
			dotsF32AVX2Tiles(c[mf*ldc:], ldc, a[mf*lda:], lda, b, ldb, m-mf, n, k, alpha)
		}
	}
}

// dotsEdgeK bounds the row length dotsEdgeAVX512 copies (its buffer is
// on the stack).
const dotsEdgeK = 128

// dotsEdgeAVX512 is DotsF32 for n < 8 keys, m a multiple of 4 and k a
// multiple of 8 up to dotsEdgeK: the keys are copied into a zero-padded
// block of eight, dotsF32AVX512 computes the 4×8 tiles into a buffer,
// and the first n columns are copied out. Every output is one dot
// computed on its own, so the padding changes no bit of the kept ones.
func dotsEdgeAVX512(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int, alpha float32) {
	var kb [8 * dotsEdgeK]float32
	for j := 0; j < n; j++ {
		copy(kb[j*k:][:k], b[j*ldb:][:k])
	}
	const rowsPer = 16
	var cb [rowsPer * 8]float32
	for i0 := 0; i0 < m; i0 += rowsPer {
		rows := min(rowsPer, m-i0)
		dotsF32AVX512(cb[:], a[i0*lda:], kb[:8*k], rows/4, 1, k, lda, k, 8, alpha)
		for r := 0; r < rows; r++ {
			copy(c[(i0+r)*ldc:][:n], cb[r*8:][:n])
		}
	}
}

// dotsTAVX512 computes, for m, n > 0 and 8 ≤ k ≤ dotsTK,
//
//	c[i*ldc+j] = float32(dot(a[i*lda:][:k], b[j*ldb:][:k]) * alpha)
//
// with dot DotF32's, one key per vector lane: for each block of 16 keys
// (the last n mod 16 a block of their own, its lanes masked) it writes
// their Kᵀ into its frame once, and every query row's 16 scores come
// from it as eight lane-sum registers combined ((s0+s4)+(s2+s6)) +
// ((s1+s5)+(s3+s7)) elementwise, without horizontal sums, then the k mod
// 8 tail added in order. Reference: dotsLoop over dotF32Generic, through
// dotsF32AVX512T.
//
//go:noescape
func dotsTAVX512(c, a, b []float32, m, n, k, lda, ldb, ldc int, alpha float32)

// dotsTK bounds the row length dotsTAVX512 takes: its Kᵀ block, 16·k
// floats, is in its frame (_genx86's dotsTK).
const dotsTK = 128

// dotsF32AVX512T is DotsF32 through dotsTAVX512 for operands whose
// lengths the caller has checked, m, n > 0 and 8 ≤ k ≤ dotsTK.
func dotsF32AVX512T(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int, alpha float32) {
	raceRead(a[:stridedLen(m, k, lda)])
	raceRead(b[:stridedLen(n, k, ldb)])
	for i := 0; i < m; i++ {
		raceWrite(c[i*ldc:][:n])
	}
	dotsTAVX512(c, a, b, m, n, k, lda, ldb, ldc, alpha)
}
