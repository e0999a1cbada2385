//go:build amd64 && gc && !noasm && !purego

package kernel

import "golang.org/x/sys/cpu"

// The assembly behind these declarations, gemmf32_avx2_amd64.s, is generated with
// avo by _genx86 (gemmf32_avx2.go, `make generate`).

// gemmF32AVX2 computes, for full 4×3 tiles only (m a multiple of 4, n a
// multiple of 3, k a multiple of 8 and > 0),
//
//	for i < m, j < n: c[i*ldc+j] = Σ_{p<k} a[i*lda+p] * b[j*ldb+p]
//
// with FMA and 8-lane partial sums (see _genx86/gemmf32_avx2.go for the exact order).
// Reference: gemmF32Generic, through gemmF32AVX2Tiles.
//
//go:noescape
func gemmF32AVX2(c []float32, a []float32, b []float32, m, n, k, lda, ldb, ldc int)

// gemvF32AVX2 computes, for any n and k a multiple of 8 (> 0),
//
//	for j < n: c[j*incc] = Σ_{p<k} x[p] * b[j*ldb+p]
//
// with the same per-output order as gemmF32AVX2. Reference:
// gemmF32Generic, through gemmF32AVX2Tiles.
//
//go:noescape
func gemvF32AVX2(c []float32, x []float32, b []float32, n, k, ldb, incc int)

// gemmF32FMA returns the f32 GEMM for the avx2 implementation: the FMA
// kernel when the CPU has FMA (every AVX2 CPU made so far does, but the
// flags are separate), the portable one otherwise.
func gemmF32FMA() func(c []float32, a []float32, m int, w *MatF32, n0, n1 int) {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		return gemmF32AVX2Tiles
	}
	return gemmF32Blocked
}

// f32PanelBytes bounds the weight panel the assembly streams for each
// 4-row block, so it stays in L2 (every AMD and Intel AVX2 core has at
// least 256 KiB; half of it leaves room for a and c).
const f32PanelBytes = 128 << 10

// gemmF32AVX2Tiles is GemmF32 with AVX2 and FMA. The assembly does the
// 4×3 tiles over the 8-float prefix of K, in column panels that fit L2;
// gemvF32AVX2 does the rows and columns outside the tiles, Go adds the K
// tail. Results differ from gemmF32Generic by rounding only (FMA and
// lane-wise partial sums; TestGemmF32 bounds it), but every output is
// computed the same way wherever it lies in [n0, n1), so splitting the
// columns between workers never changes a bit.
func gemmF32AVX2Tiles(c []float32, a []float32, m int, w *MatF32, n0, n1 int) {
	gemmF32Asm(c, a, m, w, n0, n1, 3, f32PanelBytes, gemmF32AVX2, gemvF32AVX2)
}
