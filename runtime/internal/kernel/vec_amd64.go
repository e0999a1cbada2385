//go:build amd64 && gc && !noasm && !purego

package kernel

// The assembly behind these declarations, vec_avx2_amd64.s, is generated with
// avo by _genx86 (vec_avx2.go, `make generate`).

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

func dotF32AVX2Tiles(a, b []float32) float32 { return dotAsm(a, b, dotF32AVX2) }

func axpyF32AVX2Tiles(alpha float32, x, y []float32) { axpyAsm(alpha, x, y, axpyF32AVX2) }
