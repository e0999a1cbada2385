package kernel

// ExpSlice sets dst[i] = Exp(src[i]) for i < len(src); dst may be src.
func ExpSlice(dst, src []float32) { impl.ExpSlice(dst[:len(src)], src) }

// SigmoidSlice sets dst[i] = Sigmoid(src[i]); dst may be src.
func SigmoidSlice(dst, src []float32) { impl.SigmoidSlice(dst[:len(src)], src) }

// TanhSlice sets dst[i] = Tanh(src[i]); dst may be src.
func TanhSlice(dst, src []float32) { impl.TanhSlice(dst[:len(src)], src) }

func expSliceGeneric(dst, src []float32) {
	for i, v := range src {
		dst[i] = Exp(v)
	}
}

func sigmoidSliceGeneric(dst, src []float32) {
	for i, v := range src {
		dst[i] = Sigmoid(v)
	}
}

func tanhSliceGeneric(dst, src []float32) {
	for i, v := range src {
		dst[i] = Tanh(v)
	}
}
