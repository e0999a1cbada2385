package kernel

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

// ReluSlice sets x[i] = max(x[i], 0) in place (Go's max: NaN stays NaN,
// −0 becomes +0).
func ReluSlice(x []float32) { impl.ReluSlice(x) }

func reluSliceGeneric(x []float32) {
	for i, v := range x {
		x[i] = max(v, 0)
	}
}

// GELUSlice sets dst[i] = GELU(src[i]) for i < len(src), bit for bit,
// using tmp (at least len(src) long, not overlapping src) when the
// implementation has no GELU kernel of its own and runs its vector tanh on
// the arguments; dst may be src or tmp.
func GELUSlice(dst, src, tmp []float32) { impl.GELUSlice(dst, src, tmp) }

// GELUNeedsScratch reports whether the current implementation's
// GELUSlice uses tmp (it has no GELU kernel of its own); when false, tmp
// may be nil at any length.
func GELUNeedsScratch() bool { return impl.geluScratch }

// geluVia is GELUSlice in three passes around an implementation's tanh.
func geluVia(tanh func(dst, src []float32)) func(dst, src, tmp []float32) {
	return func(dst, src, tmp []float32) {
		u := tmp[:len(src)]
		for i, x := range src {
			u[i] = float32(0.7978845608 * float32(x+float32(0.044715*float32(float32(x*x)*x))))
		}
		tanh(u, u)
		dst = dst[:len(src)]
		for i, x := range src {
			dst[i] = float32(0.5*x) * (1 + u[i])
		}
	}
}
