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

// gemvI8VNNIRows8 computes, for n a multiple of 8 and k a multiple of 32
// (> 0), from p in the packRows8 layout of a matrix whose K rounds down to k,
//
//	for j < n: c[j] = Σ_{p<k} int32(a[p]) * int32(w[j][p])
//
// Reference: gemmI8Generic, through gemmI8VNNITiles.
//
//go:noescape
func gemvI8VNNIRows8(c []int32, a []uint8, p []int8, n, k int)

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
	gemmI8x86Tiles(c, a, m, w, n0, n1, true)
}

// gemvRows8 sets c[j] for j0 <= j < j1 to the dot product of a (the K
// prefix the layout holds) with row j of p, laid out by packRows8: whole
// groups of 8 rows straight into c, a group cut by j0 or j1 through a
// scratch group.
func gemvRows8(c []int32, a []uint8, p []int8, j0, j1 int) {
	kf := len(a)
	stride := 8 * kf
	raceRead(p[j0/8*stride : (j1+7)/8*stride])
	var tmp [8]int32
	for j := j0; j < j1; {
		g := j / 8
		if j%8 == 0 && j1-j >= 8 {
			e := j1 &^ 7
			gemvI8VNNIRows8(c[j:e], a, p[g*stride:e/8*stride], e-j, kf)
			j = e
			continue
		}
		gemvI8VNNIRows8(tmp[:], a, p[g*stride:(g+1)*stride], 8, kf)
		e := min(j1, (g+1)*8)
		copy(c[j:e], tmp[j-g*8:])
		j = e
	}
}
