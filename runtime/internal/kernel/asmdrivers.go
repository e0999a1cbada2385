//go:build (amd64 || arm64) && gc && !noasm && !purego

package kernel

// The Go halves of the vector kernels, shared by every architecture: the
// assembly does the prefix a whole number of vectors long, Go the tail in
// the reference's order, so each equals its portable twin bit for bit.
// The amd64 and arm64 files pass their own assembly.

// quantizeRowAsm is QuantizeRowU8 with an assembly min/max and rounding
// loop over the 8-multiple prefix.
func quantizeRowAsm(dst []uint8, x []float32,
	minMax func(x []float32) (lo, hi float32),
	quantRow func(dst []uint8, x []float32, inv float32, zp int32)) (float32, int32) {
	n := len(x) &^ 7
	lo, hi := float32(0), float32(0)
	if n > 0 {
		raceRead(x[:n])
		l, h := minMax(x[:n])
		lo, hi = min(lo, l), max(hi, h)
	}
	for _, v := range x[n:] {
		lo = min(lo, v)
		hi = max(hi, v)
	}
	if hi == lo || lo != lo || hi != hi {
		return quantizeRowU8Generic(dst, x) // constant or NaN rows: the reference decides
	}
	dst = dst[:len(x)]
	scale := float32(hi-lo) / 255
	inv := 1 / scale
	zp := Round255(float32(-lo * inv))
	if n > 0 {
		raceWrite(dst[:n])
		quantRow(dst[:n], x[:n], inv, zp)
	}
	for i := n; i < len(x); i++ {
		q := roundEven32(float32(x[i]*inv)) + zp
		dst[i] = uint8(max(0, min(255, q)))
	}
	return scale, zp
}

// dequantRowAsm is DequantRow with an assembly loop over the 8-multiple
// prefix.
func dequantRowAsm(dst []float32, acc []int32, sx float32, zx int32, scales []float32, rowSum []int32, bias []float32,
	kern func(dst []float32, acc []int32, scales []float32, rowSum []int32, bias []float32, sx float32, zx int32)) {
	acc, scales, rowSum = acc[:len(dst)], scales[:len(dst)], rowSum[:len(dst)]
	if bias != nil {
		bias = bias[:len(dst)]
	}
	n := len(dst) &^ 7
	if n > 0 {
		b := bias
		if b != nil {
			b = b[:n]
			raceRead(b)
		}
		raceRead(acc[:n])
		raceRead(scales[:n])
		raceRead(rowSum[:n])
		raceWrite(dst[:n])
		kern(dst[:n], acc[:n], scales[:n], rowSum[:n], b, sx, zx)
	}
	if n < len(dst) {
		var b []float32
		if bias != nil {
			b = bias[n:]
		}
		dequantRowGeneric(dst[n:], acc[n:], sx, zx, scales[n:], rowSum[n:], b)
	}
}

// dotAsm is DotF32 with an assembly loop over the 8-multiple prefix.
func dotAsm(a, b []float32, kern func(a, b []float32) float32) float32 {
	n := len(a) &^ 7
	b = b[:len(a)]
	if n == 0 {
		return dotF32Generic(a, b)
	}
	raceRead(a[:n])
	raceRead(b[:n])
	s := kern(a[:n], b[:n])
	for i := n; i < len(a); i++ {
		s += float32(a[i] * b[i])
	}
	return s
}

// axpyAsm is AxpyF32 with an assembly loop over the 8-multiple prefix.
func axpyAsm(alpha float32, x, y []float32, kern func(alpha float32, x, y []float32)) {
	n := len(x) &^ 7
	y = y[:len(x)]
	if n > 0 {
		raceRead(x[:n])
		raceWrite(y[:n])
		kern(alpha, x[:n], y[:n])
	}
	for i := n; i < len(x); i++ {
		y[i] += float32(alpha * x[i])
	}
}

// lanesAsm runs an elementwise assembly kernel on the prefix a multiple
// of lanes long and the scalar function on the tail.
func lanesAsm(dst, src []float32, lanes int, kern func(dst, src []float32), scalar func(float32) float32) {
	dst = dst[:len(src)]
	n := len(src) / lanes * lanes
	if n > 0 {
		raceRead(src[:n])
		raceWrite(dst[:n])
		kern(dst[:n], src[:n])
	}
	for i := n; i < len(src); i++ {
		dst[i] = scalar(src[i])
	}
}
