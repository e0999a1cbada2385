package kernel

import "math/bits"

// The portable int8 GEMM multiplies two weights per 64-bit multiply
// ("SIMD within a register"): weights of output rows j and j+1 are
// combined as P = w[j] + w[j+1]·2³², so for an activation x
//
//	x·P = x·w[j] + (x·w[j+1])·2³²
//
// and summing over p gives S0 + S1·2³² exactly, as long as |S0| and |S1|
// stay below 2³¹ (|x·w| ≤ 255·127, so K ≤ 66,000; longer rows go to the
// blocked loop). S0 is the low 32 bits read as int32, S1 = (acc − S0) >> 32.
// Each multiply does two multiply-adds, so scalar int8 runs faster than
// scalar f32, which the architecture-specific kernels then beat by far.
// P is formed from the row-major int8 weights as they are read, so the
// matrix needs no second, 4-byte-a-weight layout.
// On 32-bit CPUs the 64-bit multiply is itself several instructions, so
// the generic implementation runs the blocked int32 loop there
// (gemmI8Portable).

// swarChunk bounds K so the packed sums cannot overflow.
const swarChunk = 65536

// pair combines the weights of two rows into one SWAR word.
func pair(lo, hi int8) int64 { return int64(lo) + int64(hi)<<32 }

func split(acc int64) (lo, hi int32) {
	lo = int32(uint32(acc))
	hi = int32((acc - int64(lo)) >> 32)
	return lo, hi
}

// gemmI8Portable is the generic implementation's GemmI8: the SWAR loop
// on 64-bit CPUs, the blocked loop on 32-bit ones (ARMv6/v7, the 32-bit
// Pis), where a 64-bit multiply-add costs four instructions (UMULL, MLA,
// ADDS, ADC) for its two products and an int32 one a single MLA: per four
// products of a GEMV row, 22 instructions against the SWAR loop's 31 on
// ARMv7 (go tool objdump), with one byte read per weight either way.
func gemmI8Portable(c []int32, a []uint8, m int, w *MatI8, n0, n1 int) {
	if bits.UintSize == 32 {
		gemmI8Blocked(c, a, m, w, n0, n1)
		return
	}
	gemmI8SWAR(c, a, m, w, n0, n1)
}

// gemmI8SWAR is the SWAR GemmI8. It equals gemmI8Generic bit for bit.
func gemmI8SWAR(c []int32, a []uint8, m int, w *MatI8, n0, n1 int) {
	k, n := w.K, w.N
	if m == 0 || n1 <= n0 {
		return
	}
	_ = c[(m-1)*n+n1-1]
	if w.grouped {
		gemmI8Generic(c, a, m, w, n0, n1)
		return
	}
	if k > swarChunk {
		gemmI8Blocked(c, a, m, w, n0, n1)
		return
	}
	i := 0
	// Two activation rows × four output columns per step: 4 multiplies
	// for 8 multiply-adds, each packed weight word formed once for both rows.
	for ; i+2 <= m; i += 2 {
		r0 := a[i*k : (i+1)*k]
		r1 := a[(i+1)*k : (i+2)*k][:len(r0)]
		j := n0
		for ; j+4 <= n1; j += 4 {
			w0 := w.Data[j*k : (j+1)*k][:len(r0)]
			w1 := w.Data[(j+1)*k : (j+2)*k][:len(r0)]
			w2 := w.Data[(j+2)*k : (j+3)*k][:len(r0)]
			w3 := w.Data[(j+3)*k : (j+4)*k][:len(r0)]
			var a00, a01, a10, a11 int64
			for p, x := range r0 {
				x0, x1 := int64(x), int64(r1[p])
				q0, q1 := pair(w0[p], w1[p]), pair(w2[p], w3[p])
				a00 += x0 * q0
				a01 += x0 * q1
				a10 += x1 * q0
				a11 += x1 * q1
			}
			o0 := c[i*n+j : i*n+j+4]
			o1 := c[(i+1)*n+j : (i+1)*n+j+4]
			o0[0], o0[1] = split(a00)
			o0[2], o0[3] = split(a01)
			o1[0], o1[1] = split(a10)
			o1[2], o1[3] = split(a11)
		}
		if j < n1 {
			gemmI8Blocked(c[i*n:], a[i*k:], 2, w, j, n1)
		}
	}
	for ; i < m; i++ {
		r0 := a[i*k : (i+1)*k]
		j := n0
		for ; j+4 <= n1; j += 4 {
			w0 := w.Data[j*k : (j+1)*k][:len(r0)]
			w1 := w.Data[(j+1)*k : (j+2)*k][:len(r0)]
			w2 := w.Data[(j+2)*k : (j+3)*k][:len(r0)]
			w3 := w.Data[(j+3)*k : (j+4)*k][:len(r0)]
			var a00, a01 int64
			for p, x := range r0 {
				x0 := int64(x)
				a00 += x0 * pair(w0[p], w1[p])
				a01 += x0 * pair(w2[p], w3[p])
			}
			o0 := c[i*n+j : i*n+j+4]
			o0[0], o0[1] = split(a00)
			o0[2], o0[3] = split(a01)
		}
		if j < n1 {
			gemmI8Blocked(c[i*n:], a[i*k:], 1, w, j, n1)
		}
	}
}
