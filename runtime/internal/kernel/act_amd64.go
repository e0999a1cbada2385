//go:build amd64 && gc && !noasm && !purego

package kernel

// The assembly behind these declarations, act_avx2_amd64.s, is generated with
// avo by _genx86 (act_avx2.go, `make generate`).

// expAVX2 computes, for len(src) a multiple of 8,
//
//	for i := range src { dst[i] = Exp(src[i]) }
//
// bit for bit. Reference: Exp.
//
//go:noescape
func expAVX2(dst, src []float32)

// sigmoidAVX2 computes, for len(src) a multiple of 8,
//
//	for i := range src { dst[i] = Sigmoid(src[i]) }
//
// bit for bit. Reference: Sigmoid.
//
//go:noescape
func sigmoidAVX2(dst, src []float32)

// tanhAVX2 computes, for len(src) a multiple of 8,
//
//	for i := range src { dst[i] = Tanh(src[i]) }
//
// bit for bit. Reference: Tanh.
//
//go:noescape
func tanhAVX2(dst, src []float32)

// geluAVX2 computes, for len(src) a multiple of 8,
//
//	for i := range src { dst[i] = GELU(src[i]) }
//
// bit for bit, in one pass. Reference: GELU.
//
//go:noescape
func geluAVX2(dst, src []float32)

// vec8 runs an 8-lane kernel on the prefix and the scalar one on the tail.
func vec8(dst, src []float32, asm func(dst, src []float32), scalar func(float32) float32) {
	lanesAsm(dst, src, 8, asm, scalar)
}

func expSliceAVX2(dst, src []float32)     { vec8(dst, src, expAVX2, Exp) }
func sigmoidSliceAVX2(dst, src []float32) { vec8(dst, src, sigmoidAVX2, Sigmoid) }
func tanhSliceAVX2(dst, src []float32)    { vec8(dst, src, tanhAVX2, Tanh) }

// geluSliceAVX2 is GELUSlice in one vector pass; it needs no tmp.
func geluSliceAVX2(dst, src, _ []float32) { vec8(dst[:len(src)], src, geluAVX2, GELU) }

// maxF32AVX2, expSubSumAVX2 and divF32AVX2 are the three passes of
// SoftmaxF32 over a multiple of 8 elements (see the assembly).
//
//go:noescape
func maxF32AVX2(p []float32) (mx float32, nan bool)

//go:noescape
func expSubSumAVX2(p []float32, mx float32) (sum float32)

//go:noescape
func divF32AVX2(p []float32, d float32)

// softmaxAVX2 is SoftmaxF32 with the vector passes on the 8-multiple
// prefix and Go on the tail, in the reference's order. A NaN anywhere
// goes to the reference loop, which propagates it.
func softmaxAVX2(p []float32) {
	n := len(p) &^ 7
	if n == 0 {
		softmaxLoop(expSliceAVX2, p)
		return
	}
	raceWrite(p[:n])
	mx, nan := maxF32AVX2(p[:n])
	for _, s := range p[n:] {
		nan = nan || s != s
		mx = max(mx, s)
	}
	if nan {
		softmaxLoop(expSliceAVX2, p)
		return
	}
	sum := expSubSumAVX2(p[:n], mx)
	for j := n; j < len(p); j++ {
		p[j] = Exp(p[j] - mx)
		sum += p[j]
	}
	divF32AVX2(p[:n], sum)
	for j := n; j < len(p); j++ {
		p[j] /= sum
	}
}

// reluAVX2 computes, for len(x) a multiple of 8, x[i] = max(x[i], 0).
// Reference: reluSliceGeneric.
//
//go:noescape
func reluAVX2(x []float32)

func reluSliceAVX2(x []float32) {
	n := len(x) &^ 7
	if n > 0 {
		raceWrite(x[:n])
		reluAVX2(x[:n])
	}
	reluSliceGeneric(x[n:])
}
