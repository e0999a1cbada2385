//go:build amd64 && gc && !noasm && !purego

package kernel

import "golang.org/x/sys/cpu"

// gemmI8AVX2 computes, for full 2×4 tiles only (m even, n a multiple of
// 4, k a multiple of 32 and > 0), with a' = a − 128,
//
//	for i < m, j < n: c[i*ldc+j] = Σ_{p<k} int32(a[i*lda+p]−128) * int32(b[j*ldb+p])
//
// Weights must be in −127..127. Reference: gemmI8Generic, through
// gemmI8AVX2Tiles, which adds back 128·Σb and does the edges.
//
//go:noescape
func gemmI8AVX2(c []int32, a []uint8, b []int8, m, n, k, lda, ldb, ldc int)

// gemvI8AVX2 computes, for n a multiple of 4 and k a multiple of 32
// (> 0), with a' = a − 128,
//
//	for j < n: c[j] = Σ_{p<k} int32(a[p]−128) * int32(b[j*ldb+p])
//
// Weights must be in −127..127. Reference: gemmI8Generic, through
// gemmI8AVX2Tiles.
//
//go:noescape
func gemvI8AVX2(c []int32, a []uint8, b []int8, n, k, ldb int)

func archImpls() []Impl {
	var out []Impl
	if cpu.X86.HasAVX2 {
		out = append(out, Impl{
			Name:          "avx2",
			GemmI8:        gemmI8AVX2Tiles,
			GemmF32:       gemmF32FMA(),
			QuantizeRowU8: quantizeRowU8AVX2,
			DequantRow:    dequantRowAVX2Tiles,
			DotF32:        dotF32AVX2Tiles,
			AxpyF32:       axpyF32AVX2Tiles,
			ExpSlice:      expSliceAVX2,
			SigmoidSlice:  sigmoidSliceAVX2,
			TanhSlice:     tanhSliceAVX2,
			DotsF32:       dotsF32AVX2Tiles,
			MixF32:        mixF32AVX2Tiles,
			GELUSlice:     geluSliceAVX2,
			SoftmaxF32:    softmaxAVX2,
			LayerNormRow:  layerNormAVX2,
		})
		out = append(out, vnniImpl(out[len(out)-1])...)
	}
	return out
}

// gemmI8AVX2Tiles is GemmI8 on AVX2: the assembly does the full 2×4 tiles
// over the 32-byte prefix of K, Go does the shift correction, the K tail,
// and the edge rows and columns. A matrix holding −128 could saturate the
// int16 lanes, so it goes to the portable kernel.
func gemmI8AVX2Tiles(c []int32, a []uint8, m int, w *MatI8, n0, n1 int) {
	if w.hasMin128 {
		gemmI8SWAR(c, a, m, w, n0, n1)
		return
	}
	gemmI8x86Tiles(c, a, m, w, n0, n1, gemmI8AVX2, gemvI8AVX2, false, true)
}

// gemmI8x86Tiles drives the amd64 int8 tile kernels: gemm on pairs of
// rows, gemv on the odd last row (or, if gemv8 and the matrix has
// w.rows8, gemvRows8), all over full groups of 4 columns and the
// 32-multiple prefix of K; Go adds 128·Σw when the kernels shifted the
// activations by −128, then the K tail, then the edge columns.
func gemmI8x86Tiles(c []int32, a []uint8, m int, w *MatI8, n0, n1 int,
	gemm func(c []int32, a []uint8, b []int8, m, n, k, lda, ldb, ldc int),
	gemv func(c []int32, a []uint8, b []int8, n, k, ldb int),
	gemv8, shifted bool) {
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
		gemm(c[n0:], a, w.Data[n0*k:], mf, nf, kf, k, k, n)
	}
	if mf < m { // the odd last row
		if gemv8 && w.rows8 != nil {
			gemvRows8(c[mf*n:], a[mf*k:mf*k+kf], w.rows8, n0, n0+nf)
		} else {
			gemv(c[mf*n+n0:], a[mf*k:], w.Data[n0*k:], nf, kf, k)
		}
	}
	if shifted || kf < k {
		for i := 0; i < m; i++ {
			row := a[i*k+kf : (i+1)*k]
			for j := n0; j < n0+nf; j++ {
				s := c[i*n+j]
				if shifted {
					s += 128 * w.prefixSum[j]
				}
				col := w.Data[j*k+kf : (j+1)*k][:len(row)]
				for p, v := range row {
					s += int32(v) * int32(col[p])
				}
				c[i*n+j] = s
			}
		}
	}
	if n0+nf < n1 { // edge columns
		gemmI8SWAR(c, a, m, w, n0+nf, n1)
	}
}
