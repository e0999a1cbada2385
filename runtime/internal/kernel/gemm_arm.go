//go:build arm && arm.7 && gc && !noasm && !purego

package kernel

import "golang.org/x/sys/cpu"

// The 32-bit ARM int8 kernels (GOARM=7; a GOARM=5 or 6 build keeps the
// portable ones) are generated: gemm_neon_arm.s comes from _gen (cd _gen &&
// go generate), which encodes every NEON instruction as a WORD (the Go
// assembler for GOARCH=arm knows none) checked against llvm-mc. Like the
// arm64 "neon" kernels they shift the activations to int8 (a' = a − 128)
// and add back 128·bsum[j], with VMULL.S8/VMLAL.S8 into int16 lanes and
// VPADAL.S16 into int32, so weights must be in −127..127.

// gemmI8NEON32 computes, for three rows (n even, k a multiple of 32,
// k > 0),
//
//	for i < 3, j < n: c[i*ldc+j] = 128*bsum[j] + Σ_{p<k} int32(a[i*lda+p]−128) * int32(b[j*ldb+p])
//
// Weights must be in −127..127. Reference: gemmI8Generic, through
// gemmI8NEON32Tiles.
//
//go:noescape
func gemmI8NEON32(c []int32, a []uint8, b []int8, bsum []int32, n, k, lda, ldb, ldc int)

// gemvI8NEON32 computes, for n a multiple of 4 and k a multiple of 32
// (> 0),
//
//	for j < n: c[j] = 128*bsum[j] + Σ_{p<k} int32(a[p]−128) * int32(b[j*ldb+p])
//
// Weights must be in −127..127. Reference: gemmI8Generic, through
// gemmI8NEON32Tiles.
//
//go:noescape
func gemvI8NEON32(c []int32, a []uint8, b []int8, bsum []int32, n, k, ldb int)

// archImpls: "neon" when the CPU has NEON (Cortex-A7/A8/A9/A15/A53/A72 under
// a 32-bit OS: Raspberry Pi 2, 3 and 4; not the ARMv6 Pi Zero/1, which a
// GOARM=7 binary does not run on anyway).
func archImpls() []Impl {
	if !cpu.ARM.HasNEON {
		return nil
	}
	return []Impl{{
		Name:          "neon",
		GemmI8:        gemmI8NEON32Tiles,
		QuantizeRowU8: quantizeRowU8NEON32,
	}}
}

// gemmI8NEON32Tiles is GemmI8 on ARMv7 NEON: the assembly does blocks of
// three rows (gemm) and the rows left over (gemv, one at a time) over the
// 32-byte prefix of K and the 4-column prefix of n0..n1, Go the K tail and
// the edge columns. A matrix holding a −128 weight goes to the portable
// kernel (see gemmI8NEON32).
func gemmI8NEON32Tiles(c []int32, a []uint8, m int, w *MatI8, n0, n1 int) {
	k, n := w.K, w.N
	if m == 0 || n1 <= n0 {
		return
	}
	kv := k &^ 31 // the kernels' K, which prefixSum covers
	nf := (n1 - n0) &^ 3
	if w.hasMin128 || kv == 0 || nf == 0 {
		gemmI8Portable(c, a, m, w, n0, n1)
		return
	}
	_ = c[(m-1)*n+n1-1]
	a = a[:m*k]
	b := w.Data[n0*k : (n0+nf)*k]
	bsum := w.prefixSum[n0 : n0+nf]
	mf := m / 3 * 3
	for i := 0; i < mf; i += 3 {
		gemmI8NEON32(c[i*n+n0:], a[i*k:], b, bsum, nf, kv, k, k, n)
	}
	for i := mf; i < m; i++ {
		gemvI8NEON32(c[i*n+n0:], a[i*k:], b, bsum, nf, kv, k)
	}
	if kv < k { // the K tail of the tile columns
		for j := n0; j < n0+nf; j++ {
			tail := w.Data[j*k+kv : (j+1)*k]
			for i := 0; i < m; i++ {
				row := a[i*k+kv : (i+1)*k]
				row = row[:len(tail)]
				s := c[i*n+j]
				for p, v := range row {
					s += int32(v) * int32(tail[p])
				}
				c[i*n+j] = s
			}
		}
	}
	if n0+nf < n1 { // edge columns
		gemmI8Portable(c, a, m, w, n0+nf, n1)
	}
}
