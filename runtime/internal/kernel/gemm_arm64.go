//go:build arm64 && gc && !noasm && !purego

package kernel

import "golang.org/x/sys/cpu"

// The arm64 kernels are generated: gemm_neon_arm64.s and gemm_sdot_arm64.s
// (and the float kernels gemmf32_neon_arm64.s, quant_neon_arm64.s,
// vec_neon_arm64.s, act_neon_arm64.s, and RoofGOPS's roof_arm64.s) come
// from _gen (cd _gen && go generate), which encodes the instructions the Go assembler lacks
// (SMULL, SMLAL2, SADALP, SDOT, FADD, FMUL, FADDP, FCVTNS, ...) as WORDs
// checked against llvm-mc. Both shift the activations to int8 (a' = a − 128, an
// EOR with 0x80) and add back 128·bsum[j], so with bsum[j] = Σ_{p<k} b[j][p]
// they compute Σ a·b exactly.

// gemmI8NEON computes, for full 4×4 tiles only (m and n multiples of 4, k a
// multiple of 16, k > 0),
//
//	for i < m, j < n: c[i*ldc+j] = 128*bsum[j] + Σ_{p<k} int32(a[i*lda+p]−128) * int32(b[j*ldb+p])
//
// with SMULL/SMLAL2 into int16 lanes and SADALP into int32: weights must be
// in −127..127 (two products then stay within int16). Reference:
// gemmI8Generic, through gemmI8NEONTiles.
//
//go:noescape
func gemmI8NEON(c []int32, a []uint8, b []int8, bsum []int32, m, n, k, lda, ldb, ldc int)

// gemvI8NEON computes, for n a multiple of 4 and k a multiple of 16
// (> 0),
//
//	for j < n: c[j] = 128*bsum[j] + Σ_{p<k} int32(a[p]−128) * int32(b[j*ldb+p])
//
// Weights must be in −127..127. Reference: gemmI8Generic, through
// gemmI8NEONTiles.
//
//go:noescape
func gemvI8NEON(c []int32, a []uint8, b []int8, bsum []int32, n, k, ldb int)

// gemmI8SDOT computes, with SDOT (ARMv8.2 dot product), for full 4×4 tiles
// only (m and n multiples of 4, k a multiple of 16, k > 0),
//
//	for i < m, j < n: c[i*ldc+j] = 128*bsum[j] + Σ_{p<k} int32(a[i*lda+p]−128) * int32(b[j*ldb+p])
//
// exactly for every int8 weight, −128 included. Reference: gemmI8Generic,
// through gemmI8SDOTTiles.
//
//go:noescape
func gemmI8SDOT(c []int32, a []uint8, b []int8, bsum []int32, m, n, k, lda, ldb, ldc int)

// gemvI8SDOT computes, for n a multiple of 4 and k a multiple of 16
// (> 0),
//
//	for j < n: c[j] = 128*bsum[j] + Σ_{p<k} int32(a[p]−128) * int32(b[j*ldb+p])
//
// for every int8 weight. Reference: gemmI8Generic, through gemmI8SDOTTiles.
//
//go:noescape
func gemvI8SDOT(c []int32, a []uint8, b []int8, bsum []int32, n, k, ldb int)

// archImpls: Advanced SIMD is baseline on arm64, so "neon" is always
// there; "sdot" needs the dot product (FEAT_DotProd: Cortex-A76, Pi 5;
// not Pi 3/4). Both share the Advanced SIMD float kernels (f32 GEMM,
// quantize, dequantize, dot, axpy, activations); they differ in GemmI8.
func archImpls() []Impl {
	neon := Impl{
		Name:          "neon",
		GemmI8:        gemmI8NEONTiles,
		GemmF32:       gemmF32NEONTiles,
		QuantizeRowU8: quantizeRowU8NEON,
		DotF32:        dotF32NEONTiles,
		AxpyF32:       axpyF32NEONTiles,
		ExpSlice:      expSliceNEON,
		SigmoidSlice:  sigmoidSliceNEON,
		TanhSlice:     tanhSliceNEON,
		GELUSlice:     geluSliceNEON,
		DequantRow:    dequantRowNEONTiles,
	}
	out := []Impl{neon}
	if cpu.ARM64.HasASIMDDP {
		sdot := neon
		sdot.Name, sdot.GemmI8 = "sdot", gemmI8SDOTTiles
		out = append(out, sdot)
	}
	return out
}

// gemmI8NEONTiles is GemmI8 on ARMv8.0 Advanced SIMD. A matrix holding a
// −128 weight goes to the portable kernel (see gemmI8NEON).
func gemmI8NEONTiles(c []int32, a []uint8, m int, w *MatI8, n0, n1 int) {
	if w.hasMin128 {
		gemmI8SWAR(c, a, m, w, n0, n1)
		return
	}
	gemmI8ARM64Tiles(c, a, m, w, n0, n1, gemmI8NEON, gemvI8NEON)
}

// gemmI8SDOTTiles is GemmI8 with the ARMv8.2 dot product.
func gemmI8SDOTTiles(c []int32, a []uint8, m int, w *MatI8, n0, n1 int) {
	gemmI8ARM64Tiles(c, a, m, w, n0, n1, gemmI8SDOT, gemvI8SDOT)
}

// gemmI8ARM64Tiles runs an arm64 kernel pair: the assembly does the full
// 4×4 tiles (gemm) and the rows left over (gemv, one row at a time) over
// the 16-byte prefix of K, Go the K tail and the edge columns.
func gemmI8ARM64Tiles(c []int32, a []uint8, m int, w *MatI8, n0, n1 int,
	gemm func(c []int32, a []uint8, b []int8, bsum []int32, m, n, k, lda, ldb, ldc int),
	gemv func(c []int32, a []uint8, b []int8, bsum []int32, n, k, ldb int)) {
	k, n := w.K, w.N
	if m == 0 || n1 <= n0 {
		return
	}
	_ = c[(m-1)*n+n1-1]
	kv := k &^ 15 // the kernels' K
	kf := k &^ 31 // what prefixSum covers
	nf := (n1 - n0) &^ 3
	if kv == 0 || nf == 0 {
		gemmI8SWAR(c, a, m, w, n0, n1)
		return
	}
	a = a[:m*k]
	b := w.Data[n0*k : (n0+nf)*k]
	bsum := w.prefixSum[n0 : n0+nf]
	mf := m &^ 3
	raceRead(a)
	raceRead(b)
	raceRead(bsum)
	raceWriteCols(c, m, n, n0, n0+nf)
	if mf > 0 {
		gemm(c[n0:], a, b, bsum, mf, nf, kv, k, k, n)
	}
	for i := mf; i < m; i++ { // the rows left over
		gemv(c[i*n+n0:], a[i*k:], b, bsum, nf, kv, k)
	}
	if kf < k { // tile columns: the rest of the shift correction, and the K tail
		for j := n0; j < n0+nf; j++ {
			col := w.Data[j*k : (j+1)*k]
			var corr int32
			for _, v := range col[kf:kv] {
				corr += int32(v)
			}
			corr *= 128
			tail := col[kv:]
			for i := 0; i < m; i++ {
				s := c[i*n+j] + corr
				row := a[i*k+kv : (i+1)*k]
				row = row[:len(tail)]
				for p, v := range row {
					s += int32(v) * int32(tail[p])
				}
				c[i*n+j] = s
			}
		}
	}
	if n0+nf < n1 { // edge columns
		gemmI8SWAR(c, a, m, w, n0+nf, n1)
	}
}
