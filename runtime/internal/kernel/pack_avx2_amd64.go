//go:build amd64 && gc && !noasm && !purego

package kernel

// The assembly behind this declaration, pack_avx2_amd64.s, is generated
// with avo by _genx86 (pack_avx2.go, `make generate`).

// rowSumsI8AVX2 sets, for n ≥ 1 rows of k ≥ 32 (w row-major, at least n·k
// long; prefix at least n long), prefix[j] = Σ w[j][p] over p < k rounded
// down to 32, and reports whether one of those weights is −128. It reads
// no byte of a row past that prefix. Reference: rowSums.
//
//go:noescape
func rowSumsI8AVX2(w []int8, n, k int, prefix []int32) (min128 bool)

// rowSumsAVX2 is rowSums with the rows' 32-byte prefixes summed by
// rowSumsI8AVX2 and their tails (k mod 32 bytes) in Go: the AVX2 Impls'
// rowSumsI8.
func rowSumsAVX2(w []int8, n, k int, sum, prefix []int32) bool {
	kf := k &^ 31
	if n == 0 || kf == 0 {
		return rowSums(w, n, k, sum, prefix)
	}
	w, sum, prefix = w[:n*k], sum[:n], prefix[:n]
	raceRead(w)
	raceWrite(prefix)
	min128 := rowSumsI8AVX2(w, n, k, prefix)
	for j := range n {
		s := prefix[j]
		for _, v := range w[j*k+kf : (j+1)*k] {
			s += int32(v)
			if v == -128 {
				min128 = true
			}
		}
		sum[j] = s
	}
	return min128
}
