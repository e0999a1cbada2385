package audio

import (
	"fmt"
	"math"
	"math/bits"
)

// FFT is an in-place complex FFT of a fixed power-of-two size in float32:
// iterative radix-2, decimation in time, bit-reversed input order. Every
// product is rounded to float32 before it is added (float32(a*b) − ...),
// so no compiler fuses a multiply-add and the result has the same bits on
// every architecture; the twiddle factors are float64 cosines rounded to
// float32 (TestFFTSameBits pins their bits and the transform's). An FFT
// is read-only after NewFFT: goroutines may share it.
type FFT struct {
	n        int
	cos, sin []float32 // cos(2πk/n), −sin(2πk/n), k < n/2
	rev      []int32   // bit reversal of the indices
}

// NewFFT returns the FFT of size n, a power of two from 2 to 2^20.
func NewFFT(n int) (*FFT, error) {
	if n < 2 || n > 1<<20 || n&(n-1) != 0 {
		return nil, fmt.Errorf("audio: FFT size %d is not a power of two from 2 to 2^20", n)
	}
	f := &FFT{n: n, cos: make([]float32, n/2), sin: make([]float32, n/2), rev: make([]int32, n)}
	for k := range n / 2 {
		a := 2 * math.Pi * float64(k) / float64(n)
		f.cos[k] = float32(math.Cos(a))
		f.sin[k] = float32(-math.Sin(a))
	}
	shift := 64 - bits.Len(uint(n-1))
	for i := range n {
		f.rev[i] = int32(bits.Reverse64(uint64(i)) >> shift)
	}
	return f, nil
}

// Size returns n.
func (f *FFT) Size() int { return f.n }

// Transform replaces (re, im), each of length n, by its discrete Fourier
// transform X[k] = Σ x[j]·e^(−2πi·jk/n).
func (f *FFT) Transform(re, im []float32) {
	n := f.n
	re, im = re[:n], im[:n]
	for i, j := range f.rev {
		if int(j) > i {
			re[i], re[j] = re[j], re[i]
			im[i], im[j] = im[j], im[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		half, step := size/2, n/size
		for start := 0; start < n; start += size {
			for k := range half {
				wr, wi := f.cos[k*step], f.sin[k*step]
				a, b := start+k, start+k+half
				br, bi := re[b], im[b]
				tr := float32(wr*br) - float32(wi*bi)
				ti := float32(wr*bi) + float32(wi*br)
				re[b], im[b] = re[a]-tr, im[a]-ti
				re[a], im[a] = re[a]+tr, im[a]+ti
			}
		}
	}
}
