//go:build amd64 && gc && !noasm && !purego

package kernel

// dotF32AVX2 computes, for len(a) a multiple of 8 and > 0, the lane sums
// and combination of dotF32Generic's vector prefix. Reference: dotF32Generic.
//
//go:noescape
func dotF32AVX2(a, b []float32) float32

// axpyF32AVX2 computes, for len(x) a multiple of 8,
//
//	for i, v := range x { y[i] += float32(alpha * v) }
//
// Reference: axpyF32Generic.
//
//go:noescape
func axpyF32AVX2(alpha float32, x, y []float32)

func dotF32AVX2Tiles(a, b []float32) float32 {
	n := len(a) &^ 7
	b = b[:len(a)]
	if n == 0 {
		return dotF32Generic(a, b)
	}
	raceRead(a[:n])
	raceRead(b[:n])
	s := dotF32AVX2(a[:n], b[:n])
	for i := n; i < len(a); i++ {
		s += float32(a[i] * b[i])
	}
	return s
}

func axpyF32AVX2Tiles(alpha float32, x, y []float32) {
	n := len(x) &^ 7
	y = y[:len(x)]
	if n > 0 {
		raceRead(x[:n])
		raceWrite(y[:n])
		axpyF32AVX2(alpha, x[:n], y[:n])
	}
	for i := n; i < len(x); i++ {
		y[i] += float32(alpha * x[i])
	}
}
