//go:build amd64 && gc && !noasm && !purego

package kernel

// The assembly behind these declarations, scalei8_amd64.s, is generated
// with avo by _genx86 (scalei8.go, `make generate`).

// scaleI8F32AVX2 is ScaleI8F32 for len(q) a multiple of 8 (dst at least as
// long), 8 values a step. Reference: scaleI8F32Generic.
//
//go:noescape
func scaleI8F32AVX2(dst []float32, q []int8, s float32)

// scaleI8F32AVX512 is ScaleI8F32 for len(q) a multiple of 16 (dst at least
// as long), 64 values a step while there are, then 16. Reference:
// scaleI8F32Generic.
//
//go:noescape
func scaleI8F32AVX512(dst []float32, q []int8, s float32)

// scaleI8F32Via is ScaleI8F32 through an assembly kernel for the prefix of
// q that is a multiple of w values, and the reference for the rest.
func scaleI8F32Via(asm func(dst []float32, q []int8, s float32), w int) func(dst []float32, q []int8, s float32) {
	return func(dst []float32, q []int8, s float32) {
		dst = dst[:len(q)]
		n := len(q) / w * w
		if n > 0 {
			raceRead(q[:n])
			raceWrite(dst[:n])
			asm(dst[:n], q[:n], s)
		}
		scaleI8F32Generic(dst[n:], q[n:], s)
	}
}
