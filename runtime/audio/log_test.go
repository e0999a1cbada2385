package audio

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"testing"
)

// ulpDiff returns how many float32 steps lie between a and b (both
// finite, same sign or zero).
func ulpDiff(a, b float32) int64 {
	ia, ib := int64(math.Float32bits(a)), int64(math.Float32bits(b))
	if a < 0 {
		ia = -(ia &^ (1 << 31))
	}
	if b < 0 {
		ib = -(ib &^ (1 << 31))
	}
	if ia > ib {
		return ia - ib
	}
	return ib - ia
}

// TestLog32 checks Log32 within 1 ulp of math.Log rounded to float32: on
// every 37th float32 in [0.5, 2] (where the result crosses zero), on
// 200 000 random positive float32 bit patterns (normal and subnormal), on
// the extremes, and the special values.
func TestLog32(t *testing.T) {
	check := func(x float32) {
		t.Helper()
		got, want := Log32(x), float32(math.Log(float64(x)))
		if d := ulpDiff(got, want); d > 1 {
			t.Fatalf("Log32(%v) = %v, want %v (%d ulp)", x, got, want, d)
		}
	}
	for b := math.Float32bits(0.5); b <= math.Float32bits(2); b += 37 {
		check(math.Float32frombits(b))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200_000 {
		check(math.Float32frombits(rng.Uint32N(0x7f800000-1) + 1))
	}
	for _, x := range []float32{1, 2, math.E, math.SmallestNonzeroFloat32, 1e-40, 1.1754942e-38, 1.1754944e-38, math.MaxFloat32, 0.99999994, 1.0000001} {
		check(x)
	}
	if v := Log32(0); !math.IsInf(float64(v), -1) {
		t.Errorf("Log32(0) = %v", v)
	}
	if v := Log32(float32(math.Copysign(0, -1))); !math.IsInf(float64(v), -1) {
		t.Errorf("Log32(−0) = %v", v)
	}
	if v := Log32(float32(math.Inf(1))); !math.IsInf(float64(v), 1) {
		t.Errorf("Log32(+Inf) = %v", v)
	}
	for _, x := range []float32{-1, -1e-40, float32(math.Inf(-1)), float32(math.NaN())} {
		if v := Log32(x); v == v {
			t.Errorf("Log32(%v) = %v, want NaN", x, v)
		}
	}
}

// TestLog32SameBits pins Log32 on 100 000 float32 spread over the whole
// positive range (FNV-1a of the result bits), so that the qemu runs of
// make test check arm64 and armv7 against amd64.
func TestLog32SameBits(t *testing.T) {
	var r []float32
	for u := uint32(1); u < 0x7f800000; u += 0x7f800000 / 100_000 {
		r = append(r, Log32(math.Float32frombits(u)))
	}
	h := hashF32(fnv.New64a(), r)
	const want uint64 = 0x9e4f64215ed64802
	if got := h.Sum64(); got != want {
		t.Errorf("FNV-1a of Log32 %#x, want %#x", got, want)
	}
}
