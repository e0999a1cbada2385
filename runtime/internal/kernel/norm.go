package kernel

import "math"

// LayerNormRow sets dst to the layer normalization of src (dst may be
// src), bit for bit as
//
//	mean := sumF32(src) / n (DotF32's lane order, see sumF32)
//	ss   := the eight lane sums of float32(c·c), c = src[i] − mean, over
//	        the 8-multiple prefix, combined as DotF32 combines them, then
//	        the tail added in order
//	den  := float32(√float64(ss/n + eps))
//	dst[i] = float32(float32((src[i]−mean)/den)·gamma[i]) + beta[i]
//
// with n = len(src); gamma and beta are at least as long.
func LayerNormRow(dst, src, gamma, beta []float32, eps float32) {
	impl.LayerNormRow(dst, src, gamma, beta, eps)
}

// sumF32 is Σ p in DotF32's order: eight lane sums over the 8-multiple
// prefix, combined as ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)), then the
// tail added in order (softmax's and the layer norm's sums).
func sumF32(p []float32) float32 {
	n := len(p) &^ 7
	var s float32
	if n > 0 {
		var l [8]float32
		for i := 0; i < n; i += 8 {
			for j := range l {
				l[j] += p[i+j]
			}
		}
		s = combine8(&l)
	}
	for _, v := range p[n:] {
		s += v
	}
	return s
}

// layerNormGeneric is the reference LayerNormRow.
func layerNormGeneric(dst, src, gamma, beta []float32, eps float32) {
	if len(src) == 0 {
		return
	}
	nd := float32(len(src))
	mean := sumF32(src) / nd
	ss := sumSqDevF32(src, mean)
	den := float32(math.Sqrt(float64(ss/nd + eps)))
	normRow(dst, src, gamma, beta, mean, den)
}

// sumSqDevF32 is Σ (p[i] − mean)² in SumF32's order.
func sumSqDevF32(p []float32, mean float32) float32 {
	n := len(p) &^ 7
	var s float32
	if n > 0 {
		var l [8]float32
		for i := 0; i < n; i += 8 {
			for j := range l {
				c := p[i+j] - mean
				l[j] += float32(c * c)
			}
		}
		s = combine8(&l)
	}
	for _, v := range p[n:] {
		c := v - mean
		s += float32(c * c)
	}
	return s
}

// normRow is the last pass of LayerNormRow.
func normRow(dst, src, gamma, beta []float32, mean, den float32) {
	g, b := gamma[:len(src)], beta[:len(src)]
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = float32(float32((v-mean)/den)*g[i]) + b[i]
	}
}
