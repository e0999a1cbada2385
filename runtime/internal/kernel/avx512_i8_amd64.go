//go:build amd64 && gc && !noasm && !purego

package kernel

// gemmI8Z computes one register tile of GemmI8 with AVX-512 VNNI
// (512-bit VPDPBUSD) over the tile layout (tileI8): for rows ≤ 6 and
// panels ≤ i8zMaxPanels[rows], with kq = ⌊K/4⌋, lda = K, ldc = N and
// ps = tilePanelStride(K),
//
//	for i < rows, l < 16·panels, keep(l):
//	  c[i*ldc+l] = Σ_{p<4kq} int32(a[i*lda+p]) * int32(b[(l/16)·ps + (p/4)·64 + (l%16)·4 + p%4])
//	               + Σ_{q: tmask bit q} int32(a[i*lda+4kq+q]) * int32(b[(l/16)·ps + kq·64 + (l%16)·4 + q])
//
// where tmask = 2^(K mod 4) − 1 selects the K tail (which b holds at
// step kq), and keep(l) is bit l of masks&0xffff for the first panel,
// bit l%16 of masks>>16 for the last, true between (one panel: the low
// mask only). Lanes not kept are neither computed into c nor stored, and
// no byte of a past row rows−1's K bytes is read. Reference:
// gemmI8Generic, through gemmI8Tiled.
//
//go:noescape
func gemmI8Z(c []int32, a []uint8, b []int8, rows, panels, kq int, tmask uint64, lda, ldc, ps int, masks uint64)

// gemvI8Z computes one row of GemmI8 with AVX-512 VNNI over panels > 0
// consecutive panels of the tile layout (tileI8), one panel at a time, so
// the weights stream sequentially: with kq, tmask, ps and masks as for
// gemmI8Z (masks&0xffff for the first panel, masks>>16 for the last),
//
//	for l < 16·panels, keep(l): c[l] = Σ_{p<K} int32(a[p]) * int32(w[panel l/16][p][l%16])
//
// Reference: gemmI8Generic, through gemmI8Tiled.
//
//go:noescape
func gemvI8Z(c []int32, a []uint8, b []int8, panels, kq int, tmask uint64, ps int, masks uint64)

// i8zMaxPanels is, per row count, the widest tile gemmI8Z has (its
// generator has the same table).
var i8zMaxPanels = [...]int{0, 8, 8, 6, 5, 4, 4}

// avx512Int8 sets the int8 kernels of the avx512vnni implementation. The
// GEMM reads the tile layout, which packI8 writes while this
// implementation is in use; other layouts go to base's GEMM.
func avx512Int8(im *Impl) {
	base := im.GemmI8
	im.GemmI8 = func(c []int32, a []uint8, m int, w *MatI8, n0, n1 int) {
		if !w.tiled {
			base(c, a, m, w, n0, n1)
			return
		}
		gemmI8Tiled(c, a, m, w, n0, n1)
	}
}

// gemmI8Tiled is GemmI8 over the tile layout: one row by gemvI8Z; more
// rows in balanced blocks
// of at most 6, the panels covering [n0, n1) in groups as wide as the
// block's tile allows (first and last panel masked to the range); panel
// groups outside, row blocks inside, so a group's weights stay in cache
// while every row block passes over them.
func gemmI8Tiled(c []int32, a []uint8, m int, w *MatI8, n0, n1 int) {
	k, n := w.K, w.N
	if m <= 0 || n1 <= n0 {
		return
	}
	_ = c[(m-1)*n+n1-1]
	_ = c[n0]
	_ = a[m*k-1]
	ps := tilePanelStride(k)
	kq := k / 4
	tmask := uint64(1)<<(k%4) - 1
	nb := (m + 5) / 6 // row blocks
	rmax := (m + nb - 1) / nb
	pw := i8zMaxPanels[rmax]
	p0, p1 := n0/16, (n1+15)/16
	_ = w.Data[p1*ps-1]
	raceRead(a[:m*k])
	raceRead(w.Data[p0*ps : p1*ps])
	raceWriteCols(c, m, n, n0, n1)
	if m == 1 {
		lo, hi := n0-16*p0, n1-16*(p1-1)
		first := uint64(0xffff) << lo & 0xffff
		gemvI8Z(c[16*p0:], a, w.Data[p0*ps:], p1-p0, kq, tmask, ps, first|(uint64(1)<<hi-1)<<16)
		return
	}
	for pg := p0; pg < p1; pg += pw {
		np := min(pw, p1-pg)
		lo := max(n0-16*pg, 0)
		hi := min(n1-16*(pg+np-1), 16)
		first := uint64(0xffff) << lo & 0xffff
		last := uint64(1)<<hi - 1
		if np == 1 {
			first &= last
		}
		masks := first | last<<16
		b := w.Data[pg*ps:]
		for i0, blk := 0, 0; i0 < m; blk++ {
			r := m / nb
			if blk < m%nb {
				r++
			}
			gemmI8Z(c[i0*n+16*pg:], a[i0*k:], b, r, np, kq, tmask, k, n, ps, masks)
			i0 += r
		}
	}
}
