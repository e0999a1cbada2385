package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// epiInputs returns GemmI8F32's per-row and per-column operands for m
// rows and n columns: activation scales and zero points, weight scales
// and a bias, with the special values the epilogue must keep bit for bit
// (negative and zero scales, which give −0; NaN and ±Inf) when special.
func epiInputs(rng *rand.Rand, m, n int, special bool) (xs, xz, scales, bias []float32) {
	xs, xz = make([]float32, m), make([]float32, m)
	for i := range xs {
		xs[i] = rng.Float32() / 64
		xz[i] = float32(rng.IntN(256))
	}
	scales, bias = make([]float32, n), make([]float32, n)
	for j := range scales {
		scales[j] = rng.Float32() / 100
		bias[j] = rng.Float32()*2 - 1
	}
	if special {
		odd := []float32{0, float32(math.Copysign(0, -1)), -1e-3, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e30}
		for range 1 + n/8 {
			scales[rng.IntN(n)] = odd[rng.IntN(len(odd))]
			bias[rng.IntN(n)] = odd[rng.IntN(len(odd))]
		}
		xs[rng.IntN(m)] = odd[rng.IntN(len(odd))]
	}
	return xs, xz, scales, bias
}

// TestGemmI8F32 checks every implementation's GemmI8F32 bit for bit
// against the two passes over the implementation's own GEMM, DequantRow
// and ReluSlice, and against the two passes over the references
// (gemmI8Generic, dequantRowGeneric, reluSliceGeneric), bit for bit but
// for the sign and payload of NaNs (which neither the vector kernels nor
// the ReLU's Go tail promise: the two passes themselves differ there
// between a row's vector part and its tail), over many shapes, column ranges
// that start and end inside a panel, nil bias and relu on and off, with
// special scales and biases; columns outside the range and memory around
// y keep their canary.
func TestGemmI8F32(t *testing.T) {
	ref := gemmI8F32Via(gemmI8Generic, dequantRowGeneric, reluSliceGeneric)
	ms := []int{1, 2, 3, 5, 6, 7, 8, 12, 13, 17, 32, 70}
	ns := []int{1, 3, 15, 16, 17, 33, 47, 64, 80}
	ks := []int{1, 3, 4, 7, 13, 64, 129, 300}
	for _, im := range Impls() {
		restore, err := Use(im.Name)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(61, 62))
		for _, m := range ms {
			for _, n := range ns {
				for _, k := range ks {
					if rng.IntN(3) == 0 && m*n*k > 1<<14 { // keep the reference's work modest
						continue
					}
					f := fillRand
					if rng.IntN(4) == 0 {
						f = fill(rng.IntN(4))
					}
					a, wd := makeInputs(rng, m, n, k, f)
					w := PackI8(wd, n, k)
					xs, xz, scales, bias := epiInputs(rng, m, n, rng.IntN(3) == 0)
					ldb := 0
					switch rng.IntN(3) {
					case 0:
						bias = nil
					case 1: // a bias row per row, as the LSTM's input projection
						ldb = n + rng.IntN(20)
						bias = make([]float32, (m-1)*ldb+n)
						for i := range bias {
							bias[i] = rng.Float32()*2 - 1
						}
						if rng.IntN(3) == 0 {
							bias[rng.IntN(len(bias))] = float32(math.Copysign(0, -1))
							bias[rng.IntN(len(bias))] = float32(math.NaN())
						}
					}
					relu := rng.IntN(2) == 0
					n0 := rng.IntN(n + 1)
					n1 := n0 + rng.IntN(n-n0+1)
					if rng.IntN(3) == 0 {
						n0, n1 = 0, n
					}
					const canary = -12345.5
					want := make([]float32, m*n)
					for i := range want {
						want[i] = canary
					}
					ref(want, make([]int32, m*n), a, m, w, n0, n1, xs, xz, scales, bias, ldb, relu)
					own := make([]float32, m*n)
					for i := range own {
						own[i] = canary
					}
					gemmI8F32Via(im.GemmI8, im.DequantRow, im.ReluSlice)(own, make([]int32, m*n), a, m, w, n0, n1, xs, xz, scales, bias, ldb, relu)
					got, check := guarded[float32](m*n, canary)
					GemmI8F32(got, make([]int32, m*n), a, m, w, n0, n1, xs, xz, scales, bias, ldb, relu)
					check(t)
					for i := range want {
						if !sameBitsOrNaN(got[i], own[i]) || !sameBitsOrNaN(got[i], want[i]) {
							t.Fatalf("%s m=%d n=%d k=%d cols [%d,%d) bias=%v ldb=%d relu=%v: y[%d][%d]=%v (%#x) want %v (%#x), two passes %#x",
								im.Name, m, n, k, n0, n1, bias != nil, ldb, relu, i/n, i%n, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]), math.Float32bits(own[i]))
						}
					}
				}
			}
		}
		restore()
	}
}

// TestGemmI8F32InPlace checks every implementation's GemmI8F32 with the
// bias rows in y itself (ldb = N, as the LSTM's masked step adds its
// gathered input projections) bit for bit against a separate bias copy,
// over shapes that take the tiles and the one-row path and column
// ranges inside panels.
func TestGemmI8F32InPlace(t *testing.T) {
	rng := rand.New(rand.NewPCG(65, 66))
	for _, im := range Impls() {
		restore, err := Use(im.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range [][3]int{{1, 33, 20}, {5, 64, 128}, {7, 47, 13}, {13, 80, 64}, {32, 512, 128}} {
			m, n, k := s[0], s[1], s[2]
			a, wd := makeInputs(rng, m, n, k, fillRand)
			w := PackI8(wd, n, k)
			xs, xz, scales, _ := epiInputs(rng, m, n, rng.IntN(2) == 0)
			for _, cols := range [][2]int{{0, n}, {n / 3, n - n/4}} {
				n0, n1 := cols[0], cols[1]
				bias := make([]float32, m*n)
				for i := range bias {
					bias[i] = rng.Float32()*2 - 1
				}
				want := append([]float32(nil), bias...)
				GemmI8F32(want, make([]int32, m*n), a, m, w, n0, n1, xs, xz, scales, bias, n, false)
				got := append([]float32(nil), bias...)
				GemmI8F32(got, make([]int32, m*n), a, m, w, n0, n1, xs, xz, scales, got, n, false)
				for i := range want {
					if !sameBitsOrNaN(got[i], want[i]) {
						t.Fatalf("%s m=%d n=%d k=%d cols [%d,%d): y[%d][%d]=%v in place, %v with a bias copy", im.Name, m, n, k, n0, n1, i/n, i%n, got[i], want[i])
					}
				}
			}
		}
		restore()
	}
}

// TestGemmI8F32NoAllocs: no implementation allocates.
func TestGemmI8F32NoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(63, 64))
	const m, n, k = 13, 40, 37
	for _, im := range Impls() {
		restore, err := Use(im.Name)
		if err != nil {
			t.Fatal(err)
		}
		a, wd := makeInputs(rng, m, n, k, fillRand)
		w := PackI8(wd, n, k)
		xs, xz, scales, bias := epiInputs(rng, m, n, false)
		y, acc := make([]float32, m*n), make([]int32, m*n)
		if got := testing.AllocsPerRun(10, func() { GemmI8F32(y, acc, a, m, w, 3, n, xs, xz, scales, bias, 0, true) }); got != 0 {
			t.Errorf("%s: %v allocations per GemmI8F32", im.Name, got)
		}
		restore()
	}
}

// BenchmarkGemmI8F32 compares, per implementation and shape, the fused
// kernel with the two passes it replaces (GemmI8 into acc, then
// DequantRow and ReluSlice per row), interleaved in one run. The shapes
// are the perfpeers models' int8 products; a fourth figure > 0 is a bias
// row stride (the LSTM step's input projection rows: 64 steps of 512
// gates apart), without ReLU.
func BenchmarkGemmI8F32(b *testing.B) {
	shapes := [][4]int{{32, 512, 64}, {64, 128, 64}, {64, 256, 128}, {32, 512, 128}, {2048, 512, 64}, {32, 128, 512}, {32, 512, 128, 64 * 512}}
	for _, im := range Impls() {
		restore, err := Use(im.Name)
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range shapes {
			m, n, k := s[0], s[1], s[2]
			rng := rand.New(rand.NewPCG(1, 2))
			a, wd := makeInputs(rng, m, n, k, fillRand)
			w := PackI8(wd, n, k)
			xs, xz, scales, bias := epiInputs(rng, m, n, false)
			ldb, relu := s[3], true
			if ldb > 0 {
				bias, relu = make([]float32, (m-1)*ldb+n), false
			}
			y, acc := make([]float32, m*n), make([]int32, m*n)
			two := gemmI8F32Via(impl.GemmI8, impl.DequantRow, impl.ReluSlice)
			for _, fused := range []bool{true, false} {
				name := fmt.Sprintf("%s/%dx%dx%d/ldb=%d/fused=%v", im.Name, m, n, k, ldb, fused)
				b.Run(name, func(b *testing.B) {
					for b.Loop() {
						if fused {
							GemmI8F32(y, acc, a, m, w, 0, n, xs, xz, scales, bias, ldb, relu)
						} else {
							two(y, acc, a, m, w, 0, n, xs, xz, scales, bias, ldb, relu)
						}
					}
				})
			}
		}
		restore()
	}
}

// sameBitsOrNaN reports whether x and y have the same bits or are both NaN.
func sameBitsOrNaN(x, y float32) bool {
	return math.Float32bits(x) == math.Float32bits(y) || x != x && y != y
}

// gemmI8F32Func is GemmI8F32's signature, for tests that run it through
// more than one entry point.
type gemmI8F32Func func(y []float32, acc []int32, a []uint8, m int, w *MatI8, n0, n1 int, xs, xz, scales, bias []float32, ldb int, relu bool)

// checkGemmI8F32Rows checks f bit for bit (but for NaN payloads) against
// the two passes over the references for every row count from 1 to 40
// and 2048 (the loops over 6-row blocks and panel groups: one block, even
// and uneven blocks, many groups), column counts and ranges that are not
// multiples of 16, K of every residue mod 4, relu on and off, and each
// bias form: none, one row for all (ldb = 0), a row per row with ldb = N
// and ldb > N, and the rows in y itself (ldb = N). Memory around y and the
// columns outside the range keep their canary (in place: their bias).
func checkGemmI8F32Rows(t *testing.T, name string, f gemmI8F32Func) {
	t.Helper()
	ref := gemmI8F32Via(gemmI8Generic, dequantRowGeneric, reluSliceGeneric)
	rng := rand.New(rand.NewPCG(67, 68))
	ks := []int{1, 2, 3, 5, 7, 13, 30, 66, 131}
	var ms []int
	for m := 1; m <= 40; m++ {
		ms = append(ms, m)
	}
	ms = append(ms, 2048)
	const canary = -12345.5
	for _, m := range ms {
		for c := range 5 {
			n, k := 1+rng.IntN(300), ks[rng.IntN(len(ks))]
			if m > 40 {
				n, k = 150+c*13, 37+c*31
			}
			n0 := rng.IntN(n)
			n1 := n0 + 1 + rng.IntN(n-n0)
			if c == 0 {
				n0, n1 = 0, n
			}
			mode := (m + c) % 5 // 0 none, 1 ldb = 0, 2 ldb = N, 3 ldb > N, 4 in place
			relu := (m+c/2)%2 == 0
			a, wd := makeInputs(rng, m, n, k, fillRand)
			w := PackI8(wd, n, k)
			xs, xz, scales, bias := epiInputs(rng, m, n, rng.IntN(4) == 0)
			ldb := 0
			switch mode {
			case 0:
				bias = nil
			case 2, 3, 4:
				ldb = n
				if mode == 3 {
					ldb += 1 + rng.IntN(40)
				}
				bias = make([]float32, (m-1)*ldb+n)
				for i := range bias {
					bias[i] = rng.Float32()*2 - 1
				}
			}
			want := make([]float32, m*n)
			got, check := guarded[float32](m*n, canary)
			for i := range want {
				want[i], got[i] = canary, canary
			}
			if mode == 4 {
				copy(want, bias)
				copy(got, bias)
			}
			ref(want, make([]int32, m*n), a, m, w, n0, n1, xs, xz, scales, bias, ldb, relu)
			if mode == 4 {
				bias = got
			}
			f(got, make([]int32, m*n), a, m, w, n0, n1, xs, xz, scales, bias, ldb, relu)
			check(t)
			for i := range want {
				if !sameBitsOrNaN(got[i], want[i]) {
					t.Fatalf("%s m=%d n=%d k=%d cols [%d,%d) bias mode %d ldb=%d relu=%v: y[%d][%d]=%v (%#x) want %v (%#x)",
						name, m, n, k, n0, n1, mode, ldb, relu, i/n, i%n, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
				}
			}
		}
	}
}

// TestGemmI8F32Rows runs checkGemmI8F32Rows over every implementation's
// GemmI8F32.
func TestGemmI8F32Rows(t *testing.T) {
	for _, im := range Impls() {
		restore, err := Use(im.Name)
		if err != nil {
			t.Fatal(err)
		}
		checkGemmI8F32Rows(t, im.Name, GemmI8F32)
		restore()
	}
}
