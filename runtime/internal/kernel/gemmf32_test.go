package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// f32Inputs returns m×k activations and n×k weights: standard normal
// values scaled by powers of two in 2^±spread, so sums mix magnitudes
// and cancel.
func f32Inputs(rng *rand.Rand, m, n, k, spread int) ([]float32, []float32) {
	val := func() float32 {
		return float32(math.Ldexp(rng.NormFloat64(), rng.IntN(2*spread+1)-spread))
	}
	a := make([]float32, m*k)
	w := make([]float32, n*k)
	for i := range a {
		a[i] = val()
	}
	for i := range w {
		w[i] = val()
	}
	return a, w
}

// gemmF32Tol bounds |got − want| for output (i, j) when got and want are
// two float32 evaluations of Σ_p a[i][p]·w[j][p] in different orders,
// with or without FMA: each has error at most γ·Σ|a·w| where
// γ = d·u/(1−d·u), u = 2⁻²⁴ and d ≤ k+2 the longest chain of roundings
// (the reference: k products and k−1 adds; the vector kernels: k/8 FMAs,
// 3 tree levels and the 7-element tail), so they differ by at most twice
// that. Inputs must stay clear of overflow and underflow.
func gemmF32Tol(a, w []float32) float64 {
	var s float64
	for p, v := range a {
		s += math.Abs(float64(v) * float64(w[p]))
	}
	du := float64(len(a)+2) * 0x1p-24
	return 2 * du / (1 - du) * s
}

// checkGemmF32 runs impl on the column ranges [0, split) and [split, n)
// into a guarded output, checks it against the reference within
// gemmF32Tol, and returns it.
func checkGemmF32(t *testing.T, im Impl, a []float32, m int, w *MatF32, split int) []float32 {
	t.Helper()
	n, k := w.N, w.K
	want := make([]float32, m*n)
	gemmF32Generic(want, a, m, w, 0, n)
	aCopy := append([]float32(nil), a...)
	wCopy := append([]float32(nil), w.Data...)
	got, check := guarded[float32](m*n, -777)
	im.GemmF32(got, a, m, w, 0, split)
	im.GemmF32(got, a, m, w, split, n)
	check(t)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			g, x := got[i*n+j], want[i*n+j]
			tol := gemmF32Tol(a[i*k:(i+1)*k], w.Data[j*k:(j+1)*k])
			if d := math.Abs(float64(g) - float64(x)); !(d <= tol) {
				t.Fatalf("%s m=%d n=%d k=%d split=%d: c[%d][%d]=%v want %v (|diff| %.3g > %.3g)", im.Name, m, n, k, split, i, j, g, x, d, tol)
			}
		}
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(aCopy[i]) {
			t.Fatalf("%s: a[%d] changed", im.Name, i)
		}
	}
	for i := range w.Data {
		if math.Float32bits(w.Data[i]) != math.Float32bits(wCopy[i]) {
			t.Fatalf("%s: w[%d] changed", im.Name, i)
		}
	}
	return got
}

// TestGemmF32Split checks every implementation against the reference on
// longer rows than TestGemmF32 (many k-loop iterations, every K tail
// modulo 8, weight panels wider than one L2 block, rows and columns around
// the tiles), and that splitting the columns anywhere gives the same bits
// as one call: workers share GEMMs by columns, so the output must not
// depend on the thread count.
func TestGemmF32Split(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, im := range Impls() {
		for _, m := range []int{1, 2, 4, 5, 8, 11, 12} {
			for _, n := range []int{3, 17, 40, 101} {
				for _, k := range []int{8, 15, 64, 263, 512, 1031, 4096} {
					if m*n*k > 1<<20 {
						continue
					}
					a, wd := f32Inputs(rng, m, n, k, 6)
					w := PackF32(wd, n, k)
					whole := checkGemmF32(t, im, a, m, w, n/2)
					for _, split := range []int{0, 1, 2, n / 3, n - 1} {
						got, check := guarded[float32](m*n, 3)
						im.GemmF32(got, a, m, w, 0, split)
						im.GemmF32(got, a, m, w, split, n)
						check(t)
						for i := range whole {
							if math.Float32bits(got[i]) != math.Float32bits(whole[i]) {
								t.Fatalf("%s m=%d n=%d k=%d: c[%d] is %v split at column %d, %v at %d", im.Name, m, n, k, i, got[i], split, whole[i], n/2)
							}
						}
					}
				}
			}
		}
	}
}

// TestGemmF32Special checks that infinities and NaNs propagate as in the
// reference: a NaN or ±Inf input makes the same outputs NaN or infinite.
func TestGemmF32Special(t *testing.T) {
	const m, n, k = 5, 7, 41
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	for _, im := range Impls() {
		for _, bad := range []float32{inf, -inf, nan} {
			for _, p := range []int{0, 7, 8, 39, 40} {
				a := make([]float32, m*k)
				wd := make([]float32, n*k)
				for i := range a {
					a[i] = 1
				}
				for i := range wd {
					wd[i] = 0.5
				}
				a[2*k+p] = bad // row 2
				w := PackF32(wd, n, k)
				got := make([]float32, m*n)
				want := make([]float32, m*n)
				im.GemmF32(got, a, m, w, 0, n)
				gemmF32Generic(want, a, m, w, 0, n)
				for i := range want {
					g, x := float64(got[i]), float64(want[i])
					if math.IsNaN(g) != math.IsNaN(x) || math.IsInf(g, 1) != math.IsInf(x, 1) || math.IsInf(g, -1) != math.IsInf(x, -1) {
						t.Fatalf("%s: %v at a[2][%d]: c[%d]=%v want %v", im.Name, bad, p, i, g, x)
					}
				}
			}
		}
	}
}

// FuzzGemmF32 compares every implementation with the reference on fuzzed
// shapes, values and column splits. Tolerance: per output, twice the
// worst-case float32 summation error γ_{k+2}·Σ|a·w| (gemmF32Tol), which
// holds whatever the order and fusion, and the split must not change a
// bit.
// fuzz:budget 30000x
func FuzzGemmF32(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint16(1), uint8(0), uint8(0), uint64(0))
	f.Add(uint8(9), uint8(17), uint16(263), uint8(5), uint8(4), uint64(7))
	f.Add(uint8(12), uint8(64), uint16(600), uint8(33), uint8(8), uint64(3))
	f.Fuzz(func(t *testing.T, m, n uint8, k uint16, split, spread uint8, seed uint64) {
		mm, nn, kk := int(m%40), int(n%70), int(k%700)
		rng := rand.New(rand.NewPCG(seed, 2))
		a, wd := f32Inputs(rng, mm, nn, kk, int(spread%16))
		w := PackF32(wd, nn, kk)
		s := 0
		if nn > 0 {
			s = int(split) % (nn + 1)
		}
		for _, im := range Impls() {
			whole := checkGemmF32(t, im, a, mm, w, nn)
			got := checkGemmF32(t, im, a, mm, w, s)
			for i := range whole {
				if math.Float32bits(got[i]) != math.Float32bits(whole[i]) {
					t.Fatalf("%s: c[%d] is %v split at column %d, %v unsplit", im.Name, i, got[i], s, whole[i])
				}
			}
		}
	})
}

// TestGemmF32Concurrent runs column ranges of one GEMM on two goroutines
// at once, as the engine's workers do: under -race this checks that the
// kernels tell the detector only about the columns they write.
func TestGemmF32Concurrent(t *testing.T) {
	const m, n, k = 9, 64, 40
	rng := rand.New(rand.NewPCG(15, 16))
	a, wd := f32Inputs(rng, m, n, k, 2)
	w := PackF32(wd, n, k)
	for _, im := range Impls() {
		want := make([]float32, m*n)
		im.GemmF32(want, a, m, w, 0, n)
		got := make([]float32, m*n)
		done := make(chan struct{})
		go func() {
			im.GemmF32(got, a, m, w, 0, 21)
			close(done)
		}()
		im.GemmF32(got, a, m, w, 21, n)
		<-done
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s: c[%d]=%v, want %v", im.Name, i, got[i], want[i])
			}
		}
	}
}
