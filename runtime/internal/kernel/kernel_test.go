package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/edgerun/edgerun/runtime/quant"
)

var dims = []int{0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65}

type fill int

const (
	fillRand fill = iota
	fillMax       // activations 255, weights 127
	fillMin       // activations 0/255 mixed, weights -127
	fill128       // activations 255/0/128, weights -128 (never quantized, still exact)
)

func makeInputs(rng *rand.Rand, m, n, k int, f fill) ([]uint8, []int8) {
	a := make([]uint8, m*k)
	w := make([]int8, n*k)
	for i := range a {
		switch f {
		case fillRand:
			a[i] = uint8(rng.IntN(256))
		case fillMax:
			a[i] = 255
		case fillMin:
			a[i] = uint8(255 * (i % 2))
		case fill128:
			a[i] = []uint8{255, 0, 128}[i%3]
		}
	}
	for i := range w {
		switch f {
		case fillRand:
			w[i] = int8(rng.IntN(255) - 127)
		case fillMax:
			w[i] = 127
		case fillMin:
			w[i] = -127
		case fill128:
			w[i] = -128
		}
	}
	return a, w
}

// guarded returns a slice of n elements inside a larger one whose margins
// hold a canary, and a check that the margins are intact.
func guarded[T int32 | float32](n int, canary T) ([]T, func(t *testing.T)) {
	const margin = 33
	buf := make([]T, n+2*margin+1)
	for i := range buf {
		buf[i] = canary
	}
	data := buf[margin+1 : margin+1+n : margin+1+n] // odd start offset
	return data, func(t *testing.T) {
		t.Helper()
		for i := 0; i < margin+1; i++ {
			if buf[i] != canary {
				t.Fatalf("wrote %d elements before the output", margin+1-i)
			}
		}
		for i := margin + 1 + n; i < len(buf); i++ {
			if buf[i] != canary {
				t.Fatalf("wrote past the end of the output at +%d", i-(margin+1+n))
			}
		}
	}
}

// TestGemmI8 checks every implementation bit for bit against the
// reference, over shapes with every tail, random and extreme values,
// whole and split column ranges, with guard canaries around the output.
func TestGemmI8(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, im := range Impls() {
		for _, m := range []int{0, 1, 3, 5, 8, 17} {
			for _, n := range dims {
				for _, k := range dims {
					for _, f := range []fill{fillRand, fillMax, fillMin, fill128} {
						a, wd := makeInputs(rng, m, n, k, f)
						w := PackI8(wd, n, k)
						want := make([]int32, m*n)
						gemmI8Generic(want, a, m, w, 0, n)
						got, check := guarded[int32](m*n, -777)
						mid := n / 3
						im.GemmI8(got, a, m, w, 0, mid)
						im.GemmI8(got, a, m, w, mid, n)
						check(t)
						for i := range want {
							if got[i] != want[i] {
								t.Fatalf("%s m=%d n=%d k=%d fill=%d: c[%d]=%d want %d", im.Name, m, n, k, f, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}

func TestGemmF32(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, im := range Impls() {
		for _, m := range []int{0, 1, 4, 9} {
			for _, n := range dims {
				for _, k := range dims {
					a := make([]float32, m*k)
					wd := make([]float32, n*k)
					for i := range a {
						a[i] = float32(rng.NormFloat64())
					}
					for i := range wd {
						wd[i] = float32(rng.NormFloat64())
					}
					w := PackF32(wd, n, k)
					want := make([]float32, m*n)
					gemmF32Generic(want, a, m, w, 0, n)
					got, check := guarded[float32](m*n, -777)
					im.GemmF32(got, a, m, w, 0, n)
					check(t)
					for i := range want {
						// The portable kernels keep the reference order: exact.
						// Vector kernels may reorder: |diff| <= 1e-5·Σ|a·w|.
						if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*float64(k) {
							t.Fatalf("%s m=%d n=%d k=%d: c[%d]=%v want %v", im.Name, m, n, k, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestQuantizeRowU8 checks the kernel quantizer against quant.RowU8, the
// scheme's reference, bit for bit.
func TestQuantizeRowU8(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	rows := [][]float32{{}, {0}, {0, 0, 0}, {1, 2, 3}, {-1, -2, -3}, {-5, 5}, {1e-30, -1e-30}, {3e38, -3e38}}
	for i := 0; i < 200; i++ {
		r := make([]float32, 1+rng.IntN(70))
		for j := range r {
			r[j] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(8)-4)))
		}
		rows = append(rows, r)
	}
	for _, im := range Impls() {
		for i, r := range rows {
			got := make([]uint8, len(r))
			want := make([]uint8, len(r))
			gs, gz := im.QuantizeRowU8(got, r)
			ws, wz := quant.RowU8(want, r)
			if gs != ws || gz != wz || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s row %d: scale %v zp %d %v, want %v %d %v", im.Name, i, gs, gz, got, ws, wz, want)
			}
		}
	}
}

func TestActivations(t *testing.T) {
	for x := float32(-30); x <= 30; x += 0.0137 {
		if e, w := Exp(x), math.Exp(float64(x)); math.Abs(float64(e)-w) > 3e-7*w {
			t.Fatalf("Exp(%v) = %v, want %v", x, e, w)
		}
		if e, w := Tanh(x), math.Tanh(float64(x)); math.Abs(float64(e)-w) > 3e-7 {
			t.Fatalf("Tanh(%v) = %v, want %v", x, e, w)
		}
		if e, w := Sigmoid(x), 1/(1+math.Exp(-float64(x))); math.Abs(float64(e)-w) > 3e-7 {
			t.Fatalf("Sigmoid(%v) = %v, want %v", x, e, w)
		}
	}
	if Exp(100) != float32(math.Inf(1)) || Exp(-200) != 0 || Sigmoid(-200) != 0 || Sigmoid(200) != 1 {
		t.Error("saturation")
	}
}

// fuzz:budget 200000x
func FuzzGemmI8(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint8(1), uint64(0))
	f.Add(uint8(17), uint8(3), uint8(33), uint64(7))
	f.Fuzz(func(t *testing.T, m, n, k uint8, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, 1))
		mm, nn, kk := int(m%40), int(n%70), int(k%130)
		a, wd := makeInputs(rng, mm, nn, kk, fillRand)
		w := PackI8(wd, nn, kk)
		want := make([]int32, mm*nn)
		gemmI8Generic(want, a, mm, w, 0, nn)
		for _, im := range Impls() {
			got, check := guarded[int32](mm*nn, 99)
			im.GemmI8(got, a, mm, w, 0, nn)
			check(t)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s: c[%d]=%d want %d", im.Name, i, got[i], want[i])
				}
			}
		}
	})
}

func BenchmarkGemm(b *testing.B) {
	for _, s := range [][3]int{{1, 1024, 1024}, {8, 1024, 1024}, {128, 512, 512}} {
		m, k, n := s[0], s[1], s[2]
		rng := rand.New(rand.NewPCG(1, 1))
		a, wd := makeInputs(rng, m, n, k, fillRand)
		w := PackI8(wd, n, k)
		c := make([]int32, m*n)
		b.Run(fmt.Sprintf("i8/%dx%dx%d", m, k, n), func(b *testing.B) {
			for b.Loop() {
				GemmI8(c, a, m, w, 0, n)
			}
			b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOPS")
		})
		af := make([]float32, m*k)
		wf := PackF32(make([]float32, n*k), n, k)
		cf := make([]float32, m*n)
		b.Run(fmt.Sprintf("f32/%dx%dx%d", m, k, n), func(b *testing.B) {
			for b.Loop() {
				GemmF32(cf, af, m, wf, 0, n)
			}
			b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
	}
}

func TestDotAxpy(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, im := range Impls() {
		for _, n := range dims {
			a, b := make([]float32, n), make([]float32, n)
			for i := range a {
				a[i], b[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			}
			if got, want := im.DotF32(a, b), dotF32Generic(a, b); math.Float32bits(got) != math.Float32bits(want) {
				t.Fatalf("%s: DotF32 n=%d = %v, want %v", im.Name, n, got, want)
			}
			y, check := guarded[float32](n, 5)
			want := make([]float32, n)
			copy(y, b)
			copy(want, b)
			im.AxpyF32(0.37, a, y)
			axpyF32Generic(0.37, a, want)
			check(t)
			for i := range want {
				if math.Float32bits(y[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s: AxpyF32 n=%d y[%d]=%v want %v", im.Name, n, i, y[i], want[i])
				}
			}
		}
	}
}

func TestDequantRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, im := range Impls() {
		for _, n := range dims {
			acc, rs := make([]int32, n), make([]int32, n)
			sc, bias := make([]float32, n), make([]float32, n)
			for j := 0; j < n; j++ {
				acc[j], rs[j] = int32(rng.Uint32()>>8)-1<<23, int32(rng.IntN(20000)-10000)
				sc[j], bias[j] = float32(rng.Float64()*0.01), float32(rng.NormFloat64())
			}
			for _, b := range [][]float32{nil, bias} {
				got, check := guarded[float32](n, 3)
				want := make([]float32, n)
				im.DequantRow(got, acc, 0.0173, 117, sc, rs, b)
				dequantRowGeneric(want, acc, 0.0173, 117, sc, rs, b)
				check(t)
				for j := range want {
					// The reference is quant.Dequantize's arithmetic, the
					// trainer's, bit for bit.
					var bj float32
					if b != nil {
						bj = b[j]
					}
					if q := quant.Dequantize(acc[j], 0.0173, 117, sc[j], rs[j], bj); math.Float32bits(q) != math.Float32bits(want[j]) {
						t.Fatalf("n=%d bias=%v: dequantRowGeneric dst[%d]=%v, quant.Dequantize %v", n, b != nil, j, want[j], q)
					}
					if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
						t.Fatalf("%s n=%d bias=%v: dst[%d]=%v want %v", im.Name, n, b != nil, j, got[j], want[j])
					}
				}
			}
		}
	}
}
