package kernel

// The portable int8 GEMM multiplies two weights per 64-bit multiply
// ("SIMD within a register"): weights of output rows 2j and 2j+1 are
// packed as P = w[2j] + w[2j+1]·2³², so for an activation x
//
//	x·P = x·w[2j] + (x·w[2j+1])·2³²
//
// and summing over p gives S0 + S1·2³² exactly, as long as |S0| and |S1|
// stay below 2³¹ (|x·w| ≤ 255·127, so K ≤ 66,000; longer rows are summed
// in chunks). S0 is the low 32 bits read as int32, S1 = (acc − S0) >> 32.
// Each multiply does two multiply-adds, so scalar int8 runs faster than
// scalar f32, which the architecture-specific kernels then beat by far.

// swarChunk bounds K per chunk so the packed sums cannot overflow.
const swarChunk = 65536

// packPairs interleaves pairs of weight rows into int64 words:
// pairs[(j/2)*k+p] = w[j][p] + w[j+1][p]<<32 (an odd last row pairs with 0).
func packPairs(w []int8, n, k int) []int64 {
	pairs := make([]int64, (n+1)/2*k)
	for j := 0; j < n; j += 2 {
		dst := pairs[j/2*k : (j/2+1)*k]
		for p := 0; p < k; p++ {
			lo := int64(w[j*k+p])
			var hi int64
			if j+1 < n {
				hi = int64(w[(j+1)*k+p])
			}
			dst[p] = lo + hi<<32
		}
	}
	return pairs
}

func split(acc int64) (lo, hi int32) {
	lo = int32(uint32(acc))
	hi = int32((acc - int64(lo)) >> 32)
	return lo, hi
}

// gemmI8SWAR is the portable GemmI8. It equals gemmI8Generic bit for bit.
func gemmI8SWAR(c []int32, a []uint8, m int, w *MatI8, n0, n1 int) {
	k, n := w.K, w.N
	if m == 0 || n1 <= n0 {
		return
	}
	_ = c[(m-1)*n+n1-1]
	if k > swarChunk || w.pairs == nil {
		gemmI8Blocked(c, a, m, w, n0, n1)
		return
	}
	if n0%2 != 0 { // pairs start at even rows
		gemmI8Blocked(c, a, m, w, n0, n0+1)
		n0++
	}
	i := 0
	// Two activation rows × four output columns per step: 4 multiplies
	// for 8 multiply-adds, each packed weight word loaded once for both rows.
	for ; i+2 <= m; i += 2 {
		r0 := a[i*k : (i+1)*k]
		r1 := a[(i+1)*k : (i+2)*k][:len(r0)]
		j := n0
		for ; j+4 <= n1; j += 4 {
			p0 := w.pairs[j/2*k : (j/2+1)*k][:len(r0)]
			p1 := w.pairs[(j/2+1)*k : (j/2+2)*k][:len(r0)]
			var a00, a01, a10, a11 int64
			for p, x := range r0 {
				x0, x1 := int64(x), int64(r1[p])
				q0, q1 := p0[p], p1[p]
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
			p0 := w.pairs[j/2*k : (j/2+1)*k][:len(r0)]
			p1 := w.pairs[(j/2+1)*k : (j/2+2)*k][:len(r0)]
			var a00, a01 int64
			for p, x := range r0 {
				x0 := int64(x)
				a00 += x0 * p0[p]
				a01 += x0 * p1[p]
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
