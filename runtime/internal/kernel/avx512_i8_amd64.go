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

// gemmI8ZF computes GemmI8F32 over the tile layout in one call: the
// m = big·(q+1) + (nb−big)·q rows (0 ≤ big < nb, 1 ≤ q, and q+1 ≤ 6 when
// big > 0, else q ≤ 6) against groups ≥ 1 consecutive panel groups of
// panels panels each but the last, of lastPanels (both ≤ i8zMaxPanels of
// the largest block; b, c, sc, rs and bias given at the first group's
// first panel, row 0). The groups go outside; per group the rows go in
// nb blocks, the big ones of q+1 rows first, each one gemmI8Z register
// tile with
// GemmI8F32's epilogue applied to the accumulator registers: c is float32
// (row length ldc), and for the kept lanes of row i and column l (l
// counted from the group's first panel)
//
//	c[i*ldc+l] = float32(sx[i]·sc[l]) · float32(acc − int32(xz[i])·rs[l]) (+ bias[i*ldb+l] when len(bias) > 0)
//	c[i*ldc+l] = max(c[i*ldc+l], 0) when relu
//
// where int32(xz[i]) truncates, as Go's conversion, and the kept lanes are
// gemmI8Z's with masks for the first group, lastMasks for the last (one
// group: masks) and all lanes of the groups between. sc, rs and bias are
// read only in the kept lanes. Reference: gemmI8F32Via over
// gemmI8Generic, dequantRowGeneric, reluSliceGeneric.
//
//go:noescape
func gemmI8ZF(c []float32, a []uint8, b []int8, q, big, nb, groups, panels, lastPanels, kq int, tmask uint64, lda, ldc, ps int, masks, lastMasks uint64, sc []float32, rs []int32, bias []float32, ldb int, sx, xz []float32, relu bool)

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

// gemvI8ZPF is gemvI8Z with the weight stream prefetched 2 KiB ahead, for
// weights that do not fit in L2.
//
//go:noescape
func gemvI8ZPF(c []int32, a []uint8, b []int8, panels, kq int, tmask uint64, ps int, masks uint64)

// minMaxZ returns min(0, x...), max(0, x...) and whether an element of
// x is NaN (lo and hi are then unspecified), for any len(x), with tmask =
// 2^(len(x) mod 16) − 1 selecting the last partial chunk (nothing past x
// is read). Reference: the min/max loop of quantizeRowU8Generic.
//
//go:noescape
func minMaxZ(x []float32, tmask uint64) (lo, hi float32, nan bool)

// quantRowZ computes, for any len(x) (dst at least as long; tmask as for
// minMaxZ, and nothing past len(x) elements is read or written),
//
//	for i, v := range x { dst[i] = uint8(clamp(roundEven(float32(v*inv)) + zp, 0, 255)) }
//
// The conversion rounds to nearest even; out-of-range and NaN products
// give the integer indefinite, which clamps to 0, as on AVX2.
// Reference: quantizeRowU8Generic.
//
//go:noescape
func quantRowZ(dst []uint8, x []float32, inv float32, zp int32, tmask uint64)

// dequantRowZ computes, for any len(dst) (the others at least as long,
// bias empty or at least as long; tmask = 2^(len(dst) mod 16) − 1),
//
//	for j := range dst { dst[j] = float32(sx*scales[j]) * float32(acc[j]-zx*rowSum[j]) (+ bias[j]) }
//
// Reference: dequantRowGeneric.
//
//go:noescape
func dequantRowZ(dst []float32, acc []int32, scales []float32, rowSum []int32, bias []float32, sx float32, zx int32, tmask uint64)

// quantRowsZ quantizes rows 0, 1, … of m > 0 consecutive rows of k > 0
// floats of x into q (tmask = 2^(k mod 16) − 1; nothing past m·k
// elements is read or written) and stores row i's scale in xs[i] and its
// zero point, as a float32, in xz[i], each row as quantizeRowU8Generic
// would, up to the first row holding a NaN: it returns that row's index,
// the row untouched, or m. Rows of ±0 get scale 1, zero point 0 and zeros,
// as the reference gives them. Reference: QuantizeRowsU8 over
// quantizeRowU8Generic.
//
//go:noescape
func quantRowsZ(q []uint8, x []float32, m, k int, xs, xz []float32, tmask uint64) (done int)

// tailMask16 selects the last n mod 16 lanes of a 16-lane loop.
func tailMask16(n int) uint64 { return uint64(1)<<(n%16) - 1 }

// quantizeRowU8Z is QuantizeRowU8 with AVX-512 (masked tails, no Go
// loop); it equals quantizeRowU8Generic bit for bit: the scale and zero
// point come from the same float32 expressions, and constant or NaN rows
// go to the reference.
func quantizeRowU8Z(dst []uint8, x []float32) (float32, int32) {
	if len(x) == 0 {
		return quantizeRowU8Generic(dst, x)
	}
	dst = dst[:len(x)]
	raceRead(x)
	tm := tailMask16(len(x))
	lo, hi, nan := minMaxZ(x, tm)
	if nan || hi == lo {
		return quantizeRowU8Generic(dst, x)
	}
	scale := float32(hi-lo) / 255
	inv := 1 / scale
	zp := Round255(float32(-lo * inv))
	raceWrite(dst)
	quantRowZ(dst, x, inv, zp, tm)
	return scale, zp
}

// quantizeRowsU8Z is QuantizeRowsU8 with AVX-512, one assembly call for
// the rows up to the next holding a NaN, which the reference quantizes;
// it equals QuantizeRowsU8 over quantizeRowU8Generic bit for bit.
func quantizeRowsU8Z(q []uint8, x []float32, m, k int, xs, xz []float32) {
	tm := tailMask16(max(k, 0))
	quantizeRowsAsm(q, x, m, k, xs, xz, func(q []uint8, x []float32, m int, xs, xz []float32) int {
		return quantRowsZ(q, x, m, k, xs, xz, tm)
	})
}

// dequantRowZ512 is DequantRow with AVX-512; it equals dequantRowGeneric
// bit for bit.
func dequantRowZ512(dst []float32, acc []int32, sx float32, zx int32, scales []float32, rowSum []int32, bias []float32) {
	n := len(dst)
	acc, scales, rowSum = acc[:n], scales[:n], rowSum[:n]
	if bias != nil {
		bias = bias[:n]
	}
	if n == 0 {
		return
	}
	raceRead(acc)
	raceRead(scales)
	raceRead(rowSum)
	if len(bias) > 0 {
		raceRead(bias)
	}
	raceWrite(dst)
	dequantRowZ(dst, acc, scales, rowSum, bias, sx, zx, tailMask16(n))
}

// i8zMaxPanels is, per row count, the widest tile gemmI8Z has (its
// generator has the same table).
var i8zMaxPanels = [...]int{0, 8, 8, 6, 5, 4, 4}

// avx512Int8 sets the int8 kernels of the avx512vnni implementation: the
// GEMM, the row quantizer and the dequantizer. The GEMM reads the tile layout, which packI8 writes while this
// implementation is in use; other layouts go to base's GEMM.
func avx512Int8(im *Impl) {
	im.QuantizeRowU8 = quantizeRowU8Z
	im.QuantizeRowsU8 = quantizeRowsU8Z
	im.DequantRow = dequantRowZ512
	im.tilePanelI8 = tilePanelI8Checked
	avx512LSTM(im) // the LSTM step's cell, which follows its GemmI8F32
	base := im.GemmI8
	im.GemmI8 = func(c []int32, a []uint8, m int, w *MatI8, n0, n1 int) {
		if !w.tiled {
			base(c, a, m, w, n0, n1)
			return
		}
		gemmI8Tiled(c, a, m, w, n0, n1)
	}
	gemm := im.GemmI8
	two := gemmI8F32Via(gemm, dequantRowZ512, reluSliceAVX512)
	im.GemmI8F32 = func(y []float32, acc []int32, a []uint8, m int, w *MatI8, n0, n1 int, xs, xz, scales, bias []float32, ldb int, relu bool) {
		if !w.tiled || m == 1 {
			two(y, acc, a, m, w, n0, n1, xs, xz, scales, bias, ldb, relu)
			return
		}
		gemmI8F32Tiled(y, a, m, w, n0, n1, xs, xz, scales, bias, ldb, relu)
	}
}

// gemmI8F32Tiled is GemmI8F32 over the tile layout through one gemmI8ZF
// call, with gemmI8Tiled's blocking (panel groups outside, balanced row
// blocks of at most 6 inside, both looped in the kernel); one row goes
// through the two-pass path (gemvI8Z streams its weights faster than the
// 1×8 tiles).
func gemmI8F32Tiled(y []float32, a []uint8, m int, w *MatI8, n0, n1 int, xs, xz, scales, bias []float32, ldb int, relu bool) {
	k, n := w.K, w.N
	if m <= 0 || n1 <= n0 {
		return
	}
	ps := tilePanelStride(k)
	if n0 < 0 || n1 > n || len(a) < m*k || len(y) < (m-1)*n+n1 || len(w.Data) < (n+15)/16*ps ||
		len(xs) < m || len(xz) < m || len(scales) < n1 || len(w.RowSum) < n1 || ldb < 0 || len(bias) > 0 && len(bias) < (m-1)*ldb+n1 {
		panic("kernel: GemmI8F32: slice too short or column range out of bounds")
	}
	kq := k / 4
	tmask := uint64(1)<<(k%4) - 1
	nb := (m + 5) / 6 // row blocks
	rmax := (m + nb - 1) / nb
	pw := i8zMaxPanels[rmax]
	p0, p1 := n0/16, (n1+15)/16
	raceRead(a[:m*k])
	raceRead(w.Data[p0*ps : p1*ps])
	raceRead(xs[:m])
	raceRead(xz[:m])
	raceRead(scales[n0:n1])
	raceRead(w.RowSum[n0:n1])
	if len(bias) > 0 {
		raceRead(bias[n0 : (m-1)*ldb+n1])
	}
	raceWriteCols(y, m, n, n0, n1)
	groups := (p1 - p0 + pw - 1) / pw
	pl := p0 + (groups-1)*pw // the last group's first panel
	np := min(pw, p1-p0)
	var bs []float32
	if len(bias) > 0 {
		bs = bias[16*p0:]
	}
	gemmI8ZF(y[16*p0:], a, w.Data[p0*ps:], m/nb, m%nb, nb, groups, np, p1-pl, kq, tmask, k, n, ps,
		panelMasks(n0, n1, p0, np), panelMasks(n0, n1, pl, p1-pl),
		scales[16*p0:], w.RowSum[16*p0:], bs, ldb, xs, xz, relu)
}

// gemvI8ZMaxBytes is the most weight bytes one row reads through
// gemvI8Z's single sequential stream; past it the row goes through
// gemmI8Z's 1×8 tiles, eight panel streams at once. Measured on Zen 4,
// one thread, interleaved: at 4 MiB (1×4096×1024) the two are even, at
// 8 MiB and 16 MiB (from DRAM) the eight streams are 15–30% faster, below
// 4 MiB the single stream is as fast or faster (less per-group overhead).
const gemvI8ZMaxBytes = 4 << 20

// gemvI8ZL2Bytes is the L2 size of the smallest AVX-512 core assumed
// (1 MiB): past it gemvI8Z's weights come from L3 or memory and the
// prefetching gemvI8ZPF goes instead. Measured on Zen 4 with edgerun bench
// (separate processes, interleaved): at 1×4096×1024 prefetching 2 KiB ahead
// was about 10% faster, at 1×1024×1024 (1 MiB, from L2) about 10% slower.
const gemvI8ZL2Bytes = 1 << 20

// gemmI8Tiled is GemmI8 over the tile layout: one row by gemvI8Z (up to
// gemvI8ZMaxBytes of weights); more rows, or one row over more weights,
// in balanced blocks
// of at most 6, the panels covering [n0, n1) in groups as wide as the
// block's tile allows (first and last panel masked to the range); panel
// groups outside, row blocks inside, so a group's weights stay in cache
// while every row block passes over them.
func gemmI8Tiled(c []int32, a []uint8, m int, w *MatI8, n0, n1 int) {
	k, n := w.K, w.N
	if m <= 0 || n1 <= n0 {
		return
	}
	ps := tilePanelStride(k)
	if n0 < 0 || n1 > n || len(a) < m*k || len(c) < (m-1)*n+n1 || len(w.Data) < (n+15)/16*ps {
		panic("kernel: GemmI8: slice too short or column range out of bounds")
	}
	kq := k / 4
	tmask := uint64(1)<<(k%4) - 1
	nb := (m + 5) / 6 // row blocks
	rmax := (m + nb - 1) / nb
	pw := i8zMaxPanels[rmax]
	p0, p1 := n0/16, (n1+15)/16
	raceRead(a[:m*k])
	raceRead(w.Data[p0*ps : p1*ps])
	raceWriteCols(c, m, n, n0, n1)
	if m == 1 && (p1-p0)*ps <= gemvI8ZMaxBytes {
		lo, hi := n0-16*p0, n1-16*(p1-1)
		first := uint64(0xffff) << lo & 0xffff
		gemv := gemvI8Z
		if (p1-p0)*ps > gemvI8ZL2Bytes {
			gemv = gemvI8ZPF
		}
		gemv(c[16*p0:], a, w.Data[p0*ps:], p1-p0, kq, tmask, ps, first|(uint64(1)<<hi-1)<<16)
		return
	}
	for pg := p0; pg < p1; pg += pw {
		np := min(pw, p1-pg)
		masks := panelMasks(n0, n1, pg, np)
		b := w.Data[pg*ps:]
		for i0, blk := 0, 0; i0 < m; blk++ {
			r := m/nb + b2i(blk < m%nb) // m rows in even blocks of at most nb
			gemmI8Z(c[i0*n+16*pg:], a[i0*k:], b, r, np, kq, tmask, k, n, ps, masks)
			i0 += r
		}
	}
}

// panelMasks is the store masks of the tile kernels for the np panels
// from panel pg, over output columns [n0, n1): the first panel's in bits
// 0–15, the last one's in bits 16–31 (one panel: both in the low half).
func panelMasks(n0, n1, pg, np int) uint64 {
	lo := max(n0-16*pg, 0)
	hi := min(n1-16*(pg+np-1), 16)
	first := uint64(0xffff) << lo & 0xffff
	last := uint64(1)<<hi - 1
	if np == 1 {
		first &= last
	}
	return first | last<<16
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
