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
// the 32-multiple prefix of K, Go on the K tail and the edges.
func gemmI8VNNITiles(c []int32, a []uint8, m int, w *MatI8, n0, n1 int) {
	k, n := w.K, w.N
	if m == 0 || n1 <= n0 {
		return
	}
	_ = c[(m-1)*n+n1-1]
	kf := k &^ 31
	mf := m &^ 1
	nf := (n1 - n0) &^ 3
	if kf == 0 || nf == 0 {
		gemmI8SWAR(c, a, m, w, n0, n1)
		return
	}
	raceRead(a[:m*k])
	raceRead(w.Data[n0*k : n1*k])
	raceWriteCols(c, m, n, n0, n1)
	if mf > 0 {
		gemmI8VNNI(c[n0:], a, w.Data[n0*k:], mf, nf, kf, k, k, n)
	}
	if mf < m {
		gemvI8VNNI(c[mf*n+n0:], a[mf*k:], w.Data[n0*k:], nf, kf, k)
	}
	if kf < k { // K tail
		for i := 0; i < m; i++ {
			row := a[i*k+kf : (i+1)*k]
			for j := n0; j < n0+nf; j++ {
				col := w.Data[j*k+kf : (j+1)*k][:len(row)]
				s := c[i*n+j]
				for p, v := range row {
					s += int32(v) * int32(col[p])
				}
				c[i*n+j] = s
			}
		}
	}
	if n0+nf < n1 {
		gemmI8SWAR(c, a, m, w, n0+nf, n1)
	}
}
