//go:build amd64 && gc && !noasm && !purego

package kernel

// avx512Float sets the f32 kernels of the avx512vnni implementation.
func avx512Float(im *Impl) {
	im.GemmF32 = gemmF32AVX512Tiles
	im.ExpSlice = expSliceAVX512
	im.SigmoidSlice = sigmoidSliceAVX512
	im.TanhSlice = tanhSliceAVX512
	im.GELUSlice = geluSliceAVX512
	im.SoftmaxF32 = softmaxAVX512
	im.ReluSlice = reluSliceAVX512
	im.AxpyF32 = axpyF32AVX512Tiles
	im.LayerNormRow = layerNormAVX512
	im.MixF32 = mixF32AVX512Tiles
	im.ScaleI8F32 = scaleI8F32Via(scaleI8F32AVX512, 16)
}

// gemmF32AVX512 and gemmF32AVX512C compute, for full 4×6 tiles only (m a
// multiple of 4, n a multiple of 6, k a multiple of 16 and > 0),
//
//	for i < m, j < n: c[i*ldc+j] = Σ_{p<k} a[i*lda+p] * b[j*ldb+p]
//
// with 512-bit FMA and 16-lane partial sums (see the assembly for the
// exact order); gemmF32AVX512 loops over rows outside, gemmF32AVX512C
// over columns, with the same bits. Reference: gemmF32Generic, through
// gemmF32AVX512Tiles.
//
//go:noescape
func gemmF32AVX512(c []float32, a []float32, b []float32, m, n, k, lda, ldb, ldc int)

//go:noescape
func gemmF32AVX512C(c []float32, a []float32, b []float32, m, n, k, lda, ldb, ldc int)

// gemmF32AVX512R5 to gemmF32AVX512R8 are gemmF32AVX512 for R×3 tiles, R
// = 5..8 (m a multiple of R, n a multiple of 3), rows in the outer loop,
// with the same bits.
//
//go:noescape
func gemmF32AVX512R5(c []float32, a []float32, b []float32, m, n, k, lda, ldb, ldc int)

//go:noescape
func gemmF32AVX512R6(c []float32, a []float32, b []float32, m, n, k, lda, ldb, ldc int)

//go:noescape
func gemmF32AVX512R7(c []float32, a []float32, b []float32, m, n, k, lda, ldb, ldc int)

//go:noescape
func gemmF32AVX512R8(c []float32, a []float32, b []float32, m, n, k, lda, ldb, ldc int)

// gemvF32AVX512 computes, for any n and k a multiple of 16 (> 0),
//
//	for j < n: c[j*incc] = Σ_{p<k} x[p] * b[j*ldb+p]
//
// with the same per-output order as gemmF32AVX512. Reference:
// gemmF32Generic, through gemmF32AVX512Tiles.
//
//go:noescape
func gemvF32AVX512(c []float32, x []float32, b []float32, n, k, ldb, incc int)

// gemvF32AVX512R2 and gemvF32AVX512R3 compute, for r = 2 and 3 rows, any n
// and k a multiple of 16 (> 0),
//
//	for i < r, j < n: c[i*ldc+j] = Σ_{p<k} a[i*lda+p] * b[j*ldb+p]
//
// loading each weight vector once for the r rows, with the same
// per-output order as gemmF32AVX512. Reference: gemmF32Generic, through
// gemmF32AVX512Tiles.
//
//go:noescape
func gemvF32AVX512R2(c []float32, a []float32, b []float32, n, k, lda, ldb, ldc int)

//go:noescape
func gemvF32AVX512R3(c []float32, a []float32, b []float32, n, k, lda, ldb, ldc int)

// gemvF32AVX512Few computes r rows of a (r ≥ 0) against n rows of b as
// gemvF32AVX512 would row by row, three or two rows at a time so the
// weights stream once per three rows.
func gemvF32AVX512Few(c []float32, a []float32, b []float32, r, n, k, lda, ldb, ldc int) {
	for r > 0 {
		step := 3
		switch r {
		case 1:
			gemvF32AVX512(c, a, b, n, k, ldb, 1)
			return
		case 2, 4:
			step = 2
			gemvF32AVX512R2(c, a, b, n, k, lda, ldb, ldc)
		default:
			gemvF32AVX512R3(c, a, b, n, k, lda, ldb, ldc)
		}
		if r -= step; r > 0 {
			c, a = c[step*ldc:], a[step*lda:]
		}
	}
}

// f32PanelBytes512 bounds the weight panel gemmF32AVX512 streams for
// each 4-row block, or the activation panel gemmF32AVX512C streams for
// each 6-column block, so it stays in L2 with room for the rest (every
// AVX-512 core has at least 1 MiB of L2).
const f32PanelBytes512 = 512 << 10

// gemmF32AVX512Tiles is GemmF32 with AVX-512: the assembly does the
// tiles over the 16-float prefix of K, gemvF32AVX512 the columns outside
// the tiles, gemvF32AVX512Few the rows outside them, Go adds the K tail.
// Results differ from gemmF32Generic by rounding only (FMA and lane-wise
// partial sums; TestGemmF32AVX512 bounds it), but every output is
// computed the same way wherever it lies in [n0, n1), whichever tile and
// loop order compute it, so splitting the columns between workers never
// changes a bit.
//
// The tile choice (one thread on Zen 4, BenchmarkGemmF32AVX512 runs every
// one):
//   - 5 to 7 rows, k ≤ 2048: one m×3 tile row (gemmF32AVX512RNRows)
//     streams the weights once; about 1.5 times as fast as a 4×6 tile row
//     plus the rows left over at 5, 6 and 7×1024×1024, 1.2 times at
//     7×2048×1024.
//   - 8 to 63 rows, at most three left over (m mod 8 < 4), eight
//     activation rows in two thirds of L1 (k ≤ 1024): 8×3 tiles
//     (gemmF32AVX512R8Rows), each weight vector serving eight rows; 15–20%
//     faster than the 4×6 tiles at 8×1024×1024, 7–15% at 16 and 32 rows,
//     even or up to 5% slower at 128×512×512 and 256×256×256, even or
//     slower at k ≥ 1536 or with four or more rows left over. With 12 to 15 rows, 8×3 tiles on
//     the first eight rows and the choice here again on the rest (about 8%
//     faster at 12×1024×1024).
//   - at least 16 rows, six weight rows in half of L1 (k ≤ 1024): 4×6
//     tiles with the columns in the outer loop (gemmF32AVX512Cols), each
//     weight block read from memory once and the activations, in row
//     panels that fit L2, streaming four vectors per 24 FMAs.
//   - otherwise 4×6 tiles with the rows in the outer loop
//     (gemmF32AVX512Rows), column panels that fit L2. With 8 rows this
//     order was about twice as fast as the columns outside, with 32 rows
//     the columns outside about 10% faster.
func gemmF32AVX512Tiles(c []float32, a []float32, m int, w *MatF32, n0, n1 int) {
	switch {
	case m >= 5 && m < 8 && w.K <= 2048:
		gemmF32AVX512RNRows(c, a, m, w, n0, n1)
	case m >= 8 && m < 64 && m%8 < 4 && 8*4*w.K <= l1R8:
		gemmF32AVX512R8Rows(c, a, m, w, n0, n1)
	case m >= 8 && m < 16 && 8*4*w.K <= l1R8:
		gemmF32AVX512R8Rows(c, a, 8, w, n0, n1)
		gemmF32AVX512Tiles(c[8*w.N:], a[8*w.K:], m-8, w, n0, n1)
	case m >= 16 && 6*4*w.K <= l1Half512:
		gemmF32AVX512Cols(c, a, m, w, n0, n1)
	default:
		gemmF32AVX512Rows(c, a, m, w, n0, n1)
	}
}

// l1Half512 is half the L1 data cache of the smallest AVX-512 core the
// loop order choice assumes (48 KiB), l1R8 two thirds of it.
const (
	l1Half512 = 24 << 10
	l1R8      = 32 << 10
)

// gemmF32AVX512Rows is gemmF32AVX512Tiles with rows in the outer loop.
func gemmF32AVX512Rows(c []float32, a []float32, m int, w *MatF32, n0, n1 int) {
	gemmF32AsmLanes(c, a, m, w, n0, n1, 16, 4, 6, f32PanelBytes512, gemmF32AVX512, gemvF32AVX512, gemvF32AVX512Few)
}

// gemmF32AVX512R8Rows is gemmF32AVX512Tiles with 8×3 tiles.
func gemmF32AVX512R8Rows(c []float32, a []float32, m int, w *MatF32, n0, n1 int) {
	gemmF32AsmLanes(c, a, m, w, n0, n1, 16, 8, 3, f32PanelBytes512, gemmF32AVX512R8, gemvF32AVX512, gemvF32AVX512Few)
}

// gemmF32AVX512RNRows is gemmF32AVX512Tiles for 5 to 8 rows (other m go
// to gemmF32AVX512R8Rows) in one m×3 tile row.
func gemmF32AVX512RNRows(c []float32, a []float32, m int, w *MatF32, n0, n1 int) {
	var gemm func(c []float32, a []float32, b []float32, m, n, k, lda, ldb, ldc int)
	switch m {
	case 5:
		gemm = gemmF32AVX512R5
	case 6:
		gemm = gemmF32AVX512R6
	case 7:
		gemm = gemmF32AVX512R7
	default:
		gemmF32AVX512R8Rows(c, a, m, w, n0, n1)
		return
	}
	gemmF32AsmLanes(c, a, m, w, n0, n1, 16, m, 3, f32PanelBytes512, gemm, gemvF32AVX512, gemvF32AVX512Few)
}

// gemmF32AVX512Cols is gemmF32AVX512Tiles with columns in the outer loop.
func gemmF32AVX512Cols(c []float32, a []float32, m int, w *MatF32, n0, n1 int) {
	gemmF32AsmLanes(c, a, m, w, n0, n1, 16, 4, 6, -f32PanelBytes512, gemmF32AVX512C, gemvF32AVX512, gemvF32AVX512Few)
}

// gemmF32AsmLanes is gemmF32Asm for kernels whose K step is lanes floats
// and whose tiles are tileM rows by tileN columns. A positive panelBytes
// splits the tiled columns into panels of at most that many bytes of
// weights (for a kernel with rows in the outer loop); a negative one
// splits the tiled rows into panels of at most −panelBytes bytes of
// activations (for one with columns in the outer loop). gemv does the
// columns outside the tiles and, when few is nil, the rows outside them one
// by one; few, when given, does those rows together.
func gemmF32AsmLanes(c []float32, a []float32, m int, w *MatF32, n0, n1 int, lanes, tileM, tileN, panelBytes int,
	gemm func(c []float32, a []float32, b []float32, m, n, k, lda, ldb, ldc int),
	gemv func(c []float32, x []float32, b []float32, n, k, ldb, incc int),
	few func(c []float32, a []float32, b []float32, r, n, k, lda, ldb, ldc int)) {
	k, n := w.K, w.N
	if m == 0 || n1 <= n0 {
		return
	}
	if n0 < 0 || n1 > n || len(a) < m*k || len(c) < (m-1)*n+n1 || len(w.Data) < n*k {
		panic("kernel: GemmF32: slice too short or column range out of bounds")
	}
	kf := k / lanes * lanes
	if kf == 0 {
		gemmF32Blocked(c, a, m, w, n0, n1)
		return
	}
	raceRead(a[:m*k])
	raceRead(w.Data[n0*k : n1*k])
	raceWriteCols(c, m, n, n0, n1)

	mf := m / tileM * tileM
	nf := (n1 - n0) / tileN * tileN
	if mf > 0 && nf > 0 {
		if panelBytes > 0 {
			panel := max(tileN, panelBytes/(4*k)/tileN*tileN)
			for j := n0; j < n0+nf; j += panel {
				cols := min(panel, n0+nf-j)
				gemm(c[j:], a, w.Data[j*k:], mf, cols, kf, k, k, n)
			}
		} else { // row panels
			panel := max(tileM, -panelBytes/(4*k)/tileM*tileM)
			for i := 0; i < mf; i += panel {
				rows := min(panel, mf-i)
				gemm(c[i*n+n0:], a[i*k:], w.Data[n0*k:], rows, nf, kf, k, k, n)
			}
		}
	}
	if mf > 0 {
		for j := n0 + nf; j < n1; j++ { // columns outside the tiles
			gemv(c[j:], w.Data[j*k:(j+1)*k], a, mf, kf, k, n)
		}
	}
	if few != nil && mf < m { // rows outside the tiles
		few(c[mf*n+n0:], a[mf*k:], w.Data[n0*k:], m-mf, n1-n0, kf, k, k, n)
	} else {
		for i := mf; i < m; i++ {
			gemv(c[i*n+n0:], a[i*k:(i+1)*k], w.Data[n0*k:], n1-n0, kf, k, 1)
		}
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

// The elementwise kernels below take a length that is a multiple of 8
// (not 16): they do 16 floats at a time and a last half vector under a
// mask, so the 8-lane Go drivers of the AVX2 kernels serve them and the
// split between assembly and Go tail is the same.

// expAVX512 computes, for len(src) a multiple of 8,
//
//	for i := range src { dst[i] = Exp(src[i]) }
//
// bit for bit. Reference: Exp.
//
//go:noescape
func expAVX512(dst, src []float32)

// sigmoidAVX512 computes, for len(src) a multiple of 8,
//
//	for i := range src { dst[i] = Sigmoid(src[i]) }
//
// bit for bit. Reference: Sigmoid.
//
//go:noescape
func sigmoidAVX512(dst, src []float32)

// tanhAVX512 computes, for len(src) a multiple of 8,
//
//	for i := range src { dst[i] = Tanh(src[i]) }
//
// bit for bit. Reference: Tanh.
//
//go:noescape
func tanhAVX512(dst, src []float32)

// geluAVX512 computes, for len(src) a multiple of 8,
//
//	for i := range src { dst[i] = GELU(src[i]) }
//
// bit for bit, in one pass. Reference: GELU.
//
//go:noescape
func geluAVX512(dst, src []float32)

// maxF32AVX512, expSubSumAVX512 and divF32AVX512 are the three passes of
// SoftmaxF32 over a multiple of 8 elements, with the results of
// maxF32AVX2, expSubSumAVX2 and divF32AVX2 (see the assembly).
//
//go:noescape
func maxF32AVX512(p []float32) (mx float32, nan bool)

//go:noescape
func expSubSumAVX512(p []float32, mx float32) (sum float32)

//go:noescape
func divF32AVX512(p []float32, d float32)

// reluAVX512 computes, for len(x) a multiple of 8, x[i] = max(x[i], 0).
// Reference: reluSliceGeneric.
//
//go:noescape
func reluAVX512(x []float32)

// axpyF32AVX512 computes, for len(x) a multiple of 8,
//
//	for i, v := range x { y[i] += float32(alpha * v) }
//
// Reference: axpyF32Generic.
//
//go:noescape
func axpyF32AVX512(alpha float32, x, y []float32)

func expSliceAVX512(dst, src []float32)     { vec8(dst, src, expAVX512, Exp) }
func sigmoidSliceAVX512(dst, src []float32) { vec8(dst, src, sigmoidAVX512, Sigmoid) }
func tanhSliceAVX512(dst, src []float32)    { vec8(dst, src, tanhAVX512, Tanh) }

// geluSliceAVX512 is GELUSlice in one vector pass; it needs no tmp.
func geluSliceAVX512(dst, src, _ []float32) { vec8(dst[:len(src)], src, geluAVX512, GELU) }

func axpyF32AVX512Tiles(alpha float32, x, y []float32) { axpyAsm(alpha, x, y, axpyF32AVX512) }

func reluSliceAVX512(x []float32) {
	n := len(x) &^ 7
	if n > 0 {
		raceWrite(x[:n])
		reluAVX512(x[:n])
	}
	reluSliceGeneric(x[n:])
}

// softmaxAVX512 is SoftmaxF32 with the vector passes on the 8-multiple
// prefix and Go on the tail, in the reference's order. A NaN anywhere
// goes to the reference loop, which propagates it.
func softmaxAVX512(p []float32) {
	n := len(p) &^ 7
	if n == 0 {
		softmaxLoop(expSliceAVX512, p)
		return
	}
	raceWrite(p[:n])
	mx, nan := maxF32AVX512(p[:n])
	for _, s := range p[n:] {
		nan = nan || s != s
		mx = max(mx, s)
	}
	if nan {
		softmaxLoop(expSliceAVX512, p)
		return
	}
	sum := expSubSumAVX512(p[:n], mx)
	for j := n; j < len(p); j++ {
		p[j] = Exp(p[j] - mx)
		sum += p[j]
	}
	divF32AVX512(p[:n], sum)
	for j := n; j < len(p); j++ {
		p[j] /= sum
	}
}

// normRowAVX512 is normRowAVX2 with 512-bit vectors: for len(src) a
// multiple of 8 (the others at least as long),
// dst[i] = float32(float32((src[i]−mean)/den)·gamma[i]) + beta[i].
// Reference: normRow.
//
//go:noescape
func normRowAVX512(dst, src, gamma, beta []float32, mean, den float32)

// layerNormAVX512 is LayerNormRow with the two sums of layerNormAVX2
// (their lane order makes them one dependent add per 8 floats, which
// wider vectors do not shorten) and the normalization pass in 512 bits.
func layerNormAVX512(dst, src, gamma, beta []float32, eps float32) {
	layerNormX86(dst, src, gamma, beta, eps, normRowAVX512)
}

// mixF32AVX512 computes, for mt·4 rows of p and kt·32 columns of v (mt,
// kt > 0, n ≥ 0), in 4×32 tiles,
//
//	o[i*ldo+c] = 0, then o[i*ldo+c] += float32(p[i*ldp+j] * v[j*ldv+c]) for j = 0..n−1
//
// Reference: mixLoop over axpyF32Generic, through mixF32AVX512Tiles.
//
//go:noescape
func mixF32AVX512(o []float32, p []float32, v []float32, mt, n, kt, ldo, ldp, ldv int)

// mixF32AVX512Tiles is MixF32 with AVX-512: the assembly does the 4-row
// by 32-column tiles, mixF32AVX2Tiles the edge rows and columns (every
// output the same sum in the same order either way).
func mixF32AVX512Tiles(o []float32, ldo int, p []float32, ldp int, v []float32, ldv int, m, n, k int) {
	if m <= 0 || k <= 0 {
		return
	}
	checkStrided("MixF32 o", len(o), m, k, ldo)
	checkStrided("MixF32 p", len(p), m, n, ldp)
	checkStrided("MixF32 v", len(v), n, k, ldv)
	mf, kf := m&^3, k&^31
	if mf > 0 && kf > 0 {
		raceRead(p[:stridedLen(mf, n, ldp)])
		raceRead(v[:stridedLen(n, kf, ldv)])
		for i := 0; i < mf; i++ {
			raceWrite(o[i*ldo:][:kf])
		}
		mixF32AVX512(o, p, v, mf/4, n, kf/32, ldo, ldp, ldv)
		if kf < k {
			mixF32AVX2Tiles(o[kf:], ldo, p, ldp, v[min(kf, len(v)):], ldv, mf, n, k-kf) // v may be empty when n = 0
		}
	} else {
		mf = 0
	}
	if mf < m {
		mixF32AVX2Tiles(o[mf*ldo:], ldo, p[min(mf*ldp, len(p)):], ldp, v, ldv, m-mf, n, k)
	}
}
