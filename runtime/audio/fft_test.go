package audio

import (
	"encoding/binary"
	"hash"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"testing"
)

// hashF32 writes the bits of every value of vs to h, little-endian, and
// returns h: the same-bits tests pin FNV-1a sums of results with it.
func hashF32(h hash.Hash64, vs ...[]float32) hash.Hash64 {
	var b [4]byte
	for _, v := range vs {
		for _, x := range v {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(x))
			h.Write(b[:])
		}
	}
	return h
}

// dft is the direct discrete Fourier transform in float64: the
// independent reference.
func dft(re, im []float64) ([]float64, []float64) {
	n := len(re)
	or, oi := make([]float64, n), make([]float64, n)
	for k := range n {
		for j := range n {
			a := -2 * math.Pi * float64(j*k%n) / float64(n)
			c, s := math.Cos(a), math.Sin(a)
			or[k] += re[j]*c - im[j]*s
			oi[k] += re[j]*s + im[j]*c
		}
	}
	return or, oi
}

// TestFFT checks Transform against the float64 direct DFT for every size
// from 2 to 1024, on random complex input: the error stays within
// 1e-6·log2(n)·Σ|x| (float32 rounding through log2(n) stages).
func TestFFT(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 2; n <= 1024; n *= 2 {
		f, err := NewFFT(n)
		if err != nil {
			t.Fatal(err)
		}
		if f.Size() != n {
			t.Fatalf("Size %d, want %d", f.Size(), n)
		}
		re, im := make([]float32, n), make([]float32, n)
		re64, im64 := make([]float64, n), make([]float64, n)
		var mass float64
		for i := range n {
			re[i], im[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			re64[i], im64[i] = float64(re[i]), float64(im[i])
			mass += math.Abs(re64[i]) + math.Abs(im64[i])
		}
		f.Transform(re, im)
		wr, wi := dft(re64, im64)
		tol := 1e-6 * math.Log2(float64(n)) * mass
		for k := range n {
			if d := math.Hypot(float64(re[k])-wr[k], float64(im[k])-wi[k]); d > tol {
				t.Fatalf("n=%d: X[%d] = %v%+vi, want %v%+vi (error %g > %g)", n, k, re[k], im[k], wr[k], wi[k], d, tol)
			}
		}
	}
	for _, n := range []int{0, 1, 3, 12, 1 << 21} {
		if _, err := NewFFT(n); err == nil {
			t.Errorf("NewFFT(%d): no error", n)
		}
	}
}

// TestFFTSameBits pins the bits of the 512-point twiddle factors and of a
// transform of a fixed signal (FNV-1a of their float32 bits), so that the
// qemu runs of make test check that arm64 and armv7 compute exactly what
// amd64 does.
func TestFFTSameBits(t *testing.T) {
	f, err := NewFFT(512)
	if err != nil {
		t.Fatal(err)
	}
	re, im := make([]float32, 512), make([]float32, 512)
	for i := range re {
		re[i] = float32(i%13-6) / 8 // no libm: the same input everywhere
		im[i] = float32(i*7%11) / 11
	}
	f.Transform(re, im)
	const wantTwiddles, wantTransform uint64 = 0xc0a1b1e10b669c6d, 0x60f003db11923aa3
	if got := hashF32(fnv.New64a(), f.cos, f.sin).Sum64(); got != wantTwiddles {
		t.Errorf("twiddle factors: FNV-1a %#x, want %#x", got, wantTwiddles)
	}
	if got := hashF32(fnv.New64a(), re, im).Sum64(); got != wantTransform {
		t.Errorf("transform: FNV-1a %#x, want %#x", got, wantTransform)
	}
}
