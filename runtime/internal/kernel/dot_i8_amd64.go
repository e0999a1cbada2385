//go:build amd64 && gc && !noasm && !purego

package kernel

// The assembly behind this declaration, dot_i8_avx2_amd64.s, is generated
// with avo by _genx86 (doti8.go, `make generate`).

// dotsI8AVX2 computes, for len(acc) > 0 and n a multiple of 16 (> 0), rows
// of stride int8 values and every row index in range,
//
//	acc[i] = Σ_{k<n} int32(a[ra[i]*stride+k]) * int32(b[rb[i]*stride+k])
//
// in wrapping int32 arithmetic. Reference: dotsI8Generic.
//
//go:noescape
func dotsI8AVX2(acc []int32, a []int8, ra []int32, b []int8, rb []int32, n, stride int)

// dotsI8AVX2Tiles is DotsI8 on AVX2: the vector kernel over each row's
// multiple-of-16 prefix, the rest in Go.
func dotsI8AVX2Tiles(acc []int32, a []int8, ra []int32, b []int8, rb []int32, d int) {
	dotsI8Tail(acc, a, ra, b, rb, d, 16, dotsI8AVX2)
}
