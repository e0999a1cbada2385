//go:build amd64 && gc && !noasm && !purego

package kernel

import "golang.org/x/sys/cpu"

// The assembly behind these declarations, gemm_vnni_amd64.s, is generated with
// avo by _genx86 (gemm_vnni.go, `make generate`).

// gemmI8VNNI computes, for full 2×4 tiles only (m even, n a multiple of
// 4, k a multiple of 32 and > 0), with the 32-byte block q of weight row
// j at b[j*ldb+q*bs:] (bs = 32: row-major; ldb = 32, bs = 256: a group
// of the grouped layout, n ≤ 8),
//
//	for i < m, j < n: c[i*ldc+j] = Σ_{p<k} int32(a[i*lda+p]) * int32(w[j][p])
//
// with AVX-VNNI (VEX VPDPBUSD). Reference: gemmI8Generic, through
// gemmI8VNNITiles.
//
//go:noescape
func gemmI8VNNI(c []int32, a []uint8, b []int8, m, n, k, lda, ldb, ldc, bs int)

// gemvI8VNNI computes, for n a multiple of 4 and k a multiple of 32 (> 0),
//
//	for j < n: c[j] = Σ_{p<k} int32(a[p]) * int32(b[j*ldb+p])
//
// Reference: gemmI8Generic, through gemmI8VNNITiles.
//
//go:noescape
func gemvI8VNNI(c []int32, a []uint8, b []int8, n, k, ldb int)

// gemvI8VNNIRows8 computes, for n a multiple of 8 and k a multiple of 32
// (> 0), from p holding n/8 groups of the grouped layout (groupRows8),
// each 8·k bytes of interleaved blocks followed by skip bytes of K tails,
//
//	for j < n: c[j] = Σ_{p<k} int32(a[p]) * int32(w[j][p])
//
// Reference: gemmI8Generic, through gemmI8VNNITiles.
//
//go:noescape
func gemvI8VNNIRows8(c []int32, a []uint8, p []int8, n, k, skip int)

// vnniImpl is the AVX-VNNI implementation, when the CPU and OS have it.
func vnniImpl(base Impl) []Impl {
	if !cpu.X86.HasAVXVNNI || !cpu.X86.HasAVX2 {
		return nil
	}
	base.Name = "avxvnni"
	base.GemmI8 = gemmI8VNNITiles
	return []Impl{base}
}

// gemmI8VNNITiles is GemmI8 with AVX-VNNI: assembly on the full tiles over
// the 32-multiple prefix of K, Go on the K tail and the edges. VPDPBUSD
// takes the activations as they are, so there is no shift to undo.
// Matrices packed under this implementation are grouped (groupRows8);
// their last N mod 8 rows, and matrices packed elsewhere, are row-major.
func gemmI8VNNITiles(c []int32, a []uint8, m int, w *MatI8, n0, n1 int) {
	if w.tiled { // the avx512vnni layout
		gemmI8Generic(c, a, m, w, n0, n1)
		return
	}
	if !w.grouped {
		gemmI8x86Tiles(c, a, m, w, n0, n1, true)
		return
	}
	if m == 0 || n1 <= n0 {
		return
	}
	n8 := w.N &^ 7
	if n0 < n8 {
		gemmI8Grouped(c, a, m, w, n0, min(n1, n8))
	}
	if n1 > n8 {
		gemmI8x86Tiles(c, a, m, w, max(n0, n8), n1, true)
	}
}

// gemmI8Grouped is GemmI8 with AVX-VNNI over columns [n0, n1) of the
// grouped rows (n1 ≤ N rounded down to 8): per whole group of 8 columns,
// the GEMM on pairs of rows; for the odd last row, one GEMV over all the
// whole groups (one sequential stream); a group cut by n0 or n1 is
// computed whole into a scratch; then Go adds the K tails.
func gemmI8Grouped(c []int32, a []uint8, m int, w *MatI8, n0, n1 int) {
	k, n := w.K, w.N
	_ = c[(m-1)*n+n1-1]
	kf := k &^ 31
	gs := 8 * k // bytes a group
	mf := m &^ 1
	raceRead(a[:m*k])
	raceRead(w.Data[n0&^7*k : (n1+7)&^7*k])
	raceWriteCols(c, m, n, n0, n1)
	ga, gb := (n0+7)/8, n1/8 // the whole groups
	for g := ga; g < gb; g++ {
		if mf > 0 {
			gemmI8VNNI(c[8*g:], a, w.Data[g*gs:(g+1)*gs], mf, 8, kf, k, 32, n, 256)
		}
	}
	if mf < m && ga < gb {
		gemvI8VNNIRows8(c[mf*n+8*ga:], a[mf*k:mf*k+kf], w.Data[ga*gs:gb*gs], 8*(gb-ga), kf, 8*(k-kf))
	}
	if n0 < 8*ga {
		groupPart(c, a, m, w, n0/8, n0, min(n1, 8*ga))
	}
	if gb >= ga && 8*gb < n1 {
		groupPart(c, a, m, w, gb, 8*gb, n1)
	}
	if kf < k { // the K tails
		tl := k - kf
		for j := n0; j < n1; j++ {
			col := w.Data[j/8*gs+8*kf+j%8*tl:][:tl]
			for i := 0; i < m; i++ {
				row := a[i*k+kf : (i+1)*k][:tl]
				s := c[i*n+j]
				for p, v := range row {
					s += int32(v) * int32(col[p])
				}
				c[i*n+j] = s
			}
		}
	}
}

// groupPart sets columns [j0, j1) of group g (over the K prefix): the
// whole group into a scratch, 64 rows at a time, keeping those columns.
func groupPart(c []int32, a []uint8, m int, w *MatI8, g, j0, j1 int) {
	k, n := w.K, w.N
	kf := k &^ 31
	blk := w.Data[g*8*k : (g+1)*8*k]
	var tmp [64 * 8]int32
	for i0 := 0; i0 < m; i0 += 64 {
		rows := min(64, m-i0)
		rf := rows &^ 1
		if rf > 0 {
			gemmI8VNNI(tmp[:], a[i0*k:], blk, rf, 8, kf, k, 32, 8, 256)
		}
		if rf < rows {
			gemvI8VNNIRows8(tmp[rf*8:], a[(i0+rf)*k:(i0+rf)*k+kf], blk, 8, kf, 0)
		}
		for r := range rows {
			copy(c[(i0+r)*n+j0:(i0+r)*n+j1], tmp[r*8+j0-8*g:])
		}
	}
}
