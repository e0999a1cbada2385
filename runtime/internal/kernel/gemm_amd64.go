//go:build amd64 && gc && !noasm && !purego

package kernel

import "golang.org/x/sys/cpu"

// The assembly behind these declarations, gemm_avx2_amd64.s, is generated with
// avo by _genx86 (gemm_avx2.go, `make generate`).

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
			ReluSlice:     reluSliceAVX2,
			DotsI8:        dotsI8AVX2Tiles,
			LSTMCell:      lstmCellAVX2Tiles, // avx512vnni sets its own (avx512LSTM)
			ScaleI8F32:    scaleI8F32Via(scaleI8F32AVX2, 8),

			// All rows in one assembly call; avx512vnni sets its own.
			QuantizeRowsU8: quantizeRowsU8AVX2,

			rowSumsI8: rowSumsAVX2, // vnniImpl and avx512Impl keep it
		})
		out = append(out, vnniImpl(out[len(out)-1])...)
		out = append(out, avx512Impl(out[len(out)-1])...)
	}
	return out
}

// gemmI8AVX2Tiles is GemmI8 on AVX2: the assembly does the full 2×4 tiles
// over the 32-byte prefix of K, Go does the shift correction, the K tail,
// and the edge rows and columns. A matrix holding −128 could saturate the
// int16 lanes, so it goes to the portable kernel.
func gemmI8AVX2Tiles(c []int32, a []uint8, m int, w *MatI8, n0, n1 int) {
	if w.hasMin128 || w.grouped {
		gemmI8SWAR(c, a, m, w, n0, n1)
		return
	}
	gemmI8x86Tiles(c, a, m, w, n0, n1, false)
}

// gemmI8x86Tiles drives the amd64 int8 tile kernels over row-major
// weights (columns [n0, n1) of w must be row-major): gemm on pairs of
// rows, gemv on the odd last row, all over full groups of 4 columns and
// the 32-multiple prefix of K; Go adds 128·Σw when the kernels shifted
// the activations by −128, then the K tail, then the edge columns.
func gemmI8x86Tiles(c []int32, a []uint8, m int, w *MatI8, n0, n1 int, vnni bool) {
	// The kernels are called directly, not through func values, so the
	// edge scratch below stays on the stack.
	gemm := func(c []int32, a []uint8, b []int8, m, n, k, lda, ldb, ldc int) {
		if vnni {
			gemmI8VNNI(c, a, b, m, n, k, lda, ldb, ldc, 32)
		} else {
			gemmI8AVX2(c, a, b, m, n, k, lda, ldb, ldc)
		}
	}
	gemv := func(c []int32, a []uint8, b []int8, n, k, ldb int) {
		if vnni {
			gemvI8VNNI(c, a, b, n, k, ldb)
		} else {
			gemvI8AVX2(c, a, b, n, k, ldb)
		}
	}
	shifted := !vnni
	k, n := w.K, w.N
	if m == 0 || n1 <= n0 {
		return
	}
	_ = c[(m-1)*n+n1-1]
	kf := k &^ 31
	mf := m &^ 1
	nf := (n1 - n0) &^ 3
	if kf == 0 {
		gemmI8SWAR(c, a, m, w, n0, n1)
		return
	}
	raceRead(a[:m*k])
	raceRead(w.Data[n0*k : n1*k])
	raceWriteCols(c, m, n, n0, n1)
	if nf > 0 {
		if mf > 0 {
			gemm(c[n0:], a, w.Data[n0*k:], mf, nf, kf, k, k, n)
		}
		if mf < m { // the odd last row
			gemv(c[mf*n+n0:], a[mf*k:], w.Data[n0*k:], nf, kf, k)
		}
		if shifted || kf < k {
			for i := 0; i < m; i++ {
				for j := n0; j < n0+nf; j++ {
					c[i*n+j] = i8Finish(c[i*n+j], a[i*k+kf:(i+1)*k], w, j, shifted)
				}
			}
		}
	}
	if j := n0 + nf; j < n1 { // edge columns
		if cap(w.Data) < (j+4)*k {
			gemmI8SWAR(c, a, m, w, j, n1)
			return
		}
		// A full 4-column tile over the zero rows that follow the
		// weights, into a scratch; keep the real columns.
		b := w.Data[j*k : (j+4)*k]
		var tmp [64 * 4]int32
		for i0 := 0; i0 < m; i0 += 64 {
			rows := min(64, m-i0)
			rf := rows &^ 1
			if rf > 0 {
				gemm(tmp[:], a[i0*k:], b, rf, 4, kf, k, k, 4)
			}
			if rf < rows {
				gemv(tmp[rf*4:], a[(i0+rf)*k:], b, 4, kf, k)
			}
			for r := 0; r < rows; r++ {
				i := i0 + r
				for jj := j; jj < n1; jj++ {
					c[i*n+jj] = i8Finish(tmp[r*4+jj-j], a[i*k+kf:(i+1)*k], w, jj, shifted)
				}
			}
		}
	}
}

// i8Finish completes an output the x86 tile kernels computed over the
// 32-multiple prefix of K: the shift correction 128·Σw when the kernel
// shifted the activations by −128, then the K tail (aTail = the row's
// activations from the prefix on).
func i8Finish(s int32, aTail []uint8, w *MatI8, j int, shifted bool) int32 {
	if shifted {
		s += 128 * w.prefixSum[j]
	}
	k := w.K
	col := w.Data[j*k+k&^31 : (j+1)*k][:len(aTail)]
	for p, v := range aTail {
		s += int32(v) * int32(col[p])
	}
	return s
}
