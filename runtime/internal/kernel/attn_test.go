package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// stridedF32 returns rows×width values at stride ld, the gaps and the
// space around holding NaN: a kernel that reads outside its rows turns an
// output into NaN, one that writes there is caught by checkGaps.
func stridedF32(rng *rand.Rand, rows, width, ld int) []float32 {
	s := make([]float32, rows*ld+7)
	for i := range s {
		s[i] = float32(math.NaN())
	}
	for i := 0; i < rows; i++ {
		for j := 0; j < width; j++ {
			var v float32
			switch rng.IntN(16) {
			case 0:
				v = 0
			case 1:
				v = float32(math.Copysign(0, -1))
			case 2:
				v = float32(rng.NormFloat64() * 1e30)
			default:
				v = float32(rng.NormFloat64())
			}
			s[i*ld+j] = v
		}
	}
	return s
}

// sameF32 reports whether got and want hold the same bits everywhere
// (NaN gaps included).
func sameF32(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d = %v (%#x), want %v (%#x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// TestDotsF32 checks every implementation's attention scores bit for bit
// against DotF32's reference, with strided operands whose gaps hold NaN,
// an output stride wider than the row, and every tile edge.
func TestDotsF32(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, im := range Impls() {
		for _, m := range []int{0, 1, 3, 4, 5, 8, 9, 17} {
			for _, n := range []int{0, 1, 2, 3, 4, 7, 64, 65} {
				for _, k := range []int{1, 7, 8, 16, 24, 32, 33, 64} {
					lda, ldb, ldc := k+3, 3*k+1, n+2
					a := stridedF32(rng, m, k, lda)
					b := stridedF32(rng, n, k, ldb)
					alpha := float32(rng.NormFloat64())
					want := stridedF32(rng, m, n, ldc)
					got := append([]float32(nil), want...)
					a0, b0 := append([]float32(nil), a...), append([]float32(nil), b...)
					dotsLoop(dotF32Generic, want, ldc, a, lda, b, ldb, m, n, k, alpha)
					im.DotsF32(got, ldc, a, lda, b, ldb, m, n, k, alpha)
					what := im.Name + " " + shapeName(m, n, k)
					sameF32(t, what, got, want)
					sameF32(t, what+" a changed", a, a0)
					sameF32(t, what+" b changed", b, b0)
				}
			}
		}
	}
}

// TestMixF32 checks every implementation's P·V bit for bit against the
// AxpyF32 loop it is defined by, likewise.
func TestMixF32(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, im := range Impls() {
		for _, m := range []int{0, 1, 3, 4, 5, 8, 9, 17} {
			for _, n := range []int{0, 1, 2, 5, 64, 65} {
				for _, k := range []int{1, 8, 15, 16, 17, 32, 48, 50} {
					ldo, ldp, ldv := k+5, n+1, 3*k+2
					p := stridedF32(rng, m, n, ldp)
					v := stridedF32(rng, n, k, ldv)
					want := stridedF32(rng, m, k, ldo)
					got := append([]float32(nil), want...)
					mixLoop(axpyF32Generic, want, ldo, p, ldp, v, ldv, m, n, k)
					im.MixF32(got, ldo, p, ldp, v, ldv, m, n, k)
					sameF32(t, im.Name+" "+shapeName(m, n, k), got, want)
				}
			}
		}
	}
}

func shapeName(m, n, k int) string {
	return "m=" + itoa(m) + " n=" + itoa(n) + " k=" + itoa(k)
}

func itoa(v int) string {
	if v == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; v > 0; v /= 10 {
		i--
		b[i] = byte('0' + v%10)
	}
	return string(b[i:])
}

// TestAttnShortOperands: a caller passing too short a slice gets a panic
// naming the kernel, not a write outside it.
func TestAttnShortOperands(t *testing.T) {
	for _, im := range Impls() {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatalf("%s: DotsF32 with a short output did not panic", im.Name)
				}
			}()
			a := make([]float32, 4*8)
			im.DotsF32(make([]float32, 5), 3, a, 8, a, 8, 4, 3, 8, 1)
		}()
	}
}

// TestSoftmaxF32 checks every implementation bit for bit against the
// reference loop: every length around the vector width, ordinary scores,
// scores far apart (underflowing exp), ±0, ±Inf and NaN in the prefix
// and in the tail.
func TestSoftmaxF32(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e30, -1e30, 88, -104}
	for _, im := range Impls() {
		for n := 0; n <= 70; n++ {
			for trial := 0; trial < 6; trial++ {
				p := make([]float32, n)
				for j := range p {
					p[j] = float32(rng.NormFloat64() * 4)
				}
				switch {
				case trial == 1 && n > 0: // one special value somewhere
					p[rng.IntN(n)] = specials[rng.IntN(len(specials))]
				case trial == 2 && n > 0: // a special in the tail
					p[n-1] = specials[rng.IntN(len(specials))]
				case trial == 3: // all equal
					for j := range p {
						p[j] = 3
					}
				case trial == 4: // zeros of both signs
					for j := range p {
						p[j] = float32(math.Copysign(0, float64(rng.IntN(2)*2-1)))
					}
				case trial == 5: // widely spread: most exps underflow
					for j := range p {
						p[j] *= 40
					}
				}
				want := append([]float32(nil), p...)
				softmaxLoop(expSliceGeneric, want)
				got, check := guarded[float32](n, 42)
				copy(got, p)
				im.SoftmaxF32(got)
				check(t)
				for j := range want {
					if math.Float32bits(got[j]) != math.Float32bits(want[j]) && !(want[j] != want[j] && got[j] != got[j]) {
						t.Fatalf("%s n=%d trial %d: p[%d] = %v, want %v (input %v)", im.Name, n, trial, j, got[j], want[j], p)
					}
				}
			}
		}
	}
}
