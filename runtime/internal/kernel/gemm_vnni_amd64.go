//go:build amd64 && gc && !noasm && !purego

package kernel

import "golang.org/x/sys/cpu"

// gemmI8VNNI computes, for full 2×4 tiles only (m even, n a multiple of
// 4, k a multiple of 32 and > 0),
//
//	for i < m, j < n: c[i*ldc+j] = Σ_{p<k} int32(a[i*lda+p]) * int32(b[j*ldb+p])
//
// with AVX-VNNI (VEX VPDPBUSD). Reference: gemmI8Generic, through
// gemmI8VNNITiles.
//
//go:noescape
func gemmI8VNNI(c []int32, a []uint8, b []int8, m, n, k, lda, ldb, ldc int)

// gemvI8VNNI computes, for n a multiple of 4 and k a multiple of 32 (> 0),
//
//	for j < n: c[j] = Σ_{p<k} int32(a[p]) * int32(b[j*ldb+p])
//
// Reference: gemmI8Generic, through gemmI8VNNITiles.
//
//go:noescape
func gemvI8VNNI(c []int32, a []uint8, b []int8, n, k, ldb int)

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
func gemmI8VNNITiles(c []int32, a []uint8, m int, w *MatI8, n0, n1 int) {
	gemmI8x86Tiles(c, a, m, w, n0, n1, gemmI8VNNI, gemvI8VNNI, false)
}
