//go:build amd64 && gc && !noasm && !purego

package kernel

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

// vec8 runs an 8-lane kernel on the prefix and the scalar one on the tail.
func vec8(dst, src []float32, asm func(dst, src []float32), scalar func(float32) float32) {
	n := len(src) &^ 7
	if n > 0 {
		raceRead(src[:n])
		raceWrite(dst[:n])
		asm(dst[:n], src[:n])
	}
	for i := n; i < len(src); i++ {
		dst[i] = scalar(src[i])
	}
}

func expSliceAVX2(dst, src []float32)     { vec8(dst, src, expAVX2, Exp) }
func sigmoidSliceAVX2(dst, src []float32) { vec8(dst, src, sigmoidAVX2, Sigmoid) }
func tanhSliceAVX2(dst, src []float32)    { vec8(dst, src, tanhAVX2, Tanh) }
