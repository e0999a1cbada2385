package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestQuantizeRowU8Edges checks every implementation's QuantizeRowU8 bit
// for bit against the reference on rows longer than TestQuantizeRowU8's
// (several vector loops and every tail modulo 8), on rows with infinities,
// NaNs, signed zeros and a scale that underflows, read from an odd offset
// and written into a guarded output at an odd offset.
func TestQuantizeRowU8Edges(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	negz := float32(math.Copysign(0, -1))
	specials := [][]float32{{inf}, {-inf}, {nan}, {inf, -inf}, {negz}, {1e-45}, {-1e-45, 1e-45}, {3e38, -3e38}}
	const margin = 17
	for _, im := range Impls() {
		for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 65, 257, 1000} {
			for s := -1; s < len(specials); s++ {
				buf := make([]float32, n+1)
				x := buf[1:] // odd offset
				for i := range x {
					x[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(6)-3)))
				}
				if s >= 0 { // plant the special values somewhere in the row
					for _, v := range specials[s] {
						x[rng.IntN(n)] = v
					}
					if s == 5 || s == 6 { // tiny rows: the scale underflows
						for i := range x {
							x[i] = specials[s][i%len(specials[s])]
						}
					}
				}
				out := make([]uint8, n+2*margin+1)
				for i := range out {
					out[i] = 0xA5
				}
				got := out[margin+1 : margin+1+n]
				want := make([]uint8, n)
				gs, gz := im.QuantizeRowU8(got, x)
				ws, wz := quantizeRowU8Generic(want, x)
				if math.Float32bits(gs) != math.Float32bits(ws) && !(gs != gs && ws != ws) || gz != wz {
					t.Fatalf("%s n=%d special=%d: scale %v zp %d, want %v %d", im.Name, n, s, gs, gz, ws, wz)
				}
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%s n=%d special=%d: q[%d]=%d want %d (x=%v)", im.Name, n, s, i, got[i], want[i], x[i])
					}
				}
				for i, v := range out {
					if (i <= margin || i >= margin+1+n) && v != 0xA5 {
						t.Fatalf("%s n=%d: wrote outside the output at %d", im.Name, n, i-margin-1)
					}
				}
			}
		}
	}
}

// TestDotAxpyLong checks DotF32 and AxpyF32 bit for bit on long vectors
// (several unrolled loop iterations, every tail modulo 32) read from odd
// offsets, with a guarded y.
func TestDotAxpyLong(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, im := range Impls() {
		for _, n := range []int{40, 47, 96, 100, 255, 256, 1031} {
			ab := make([]float32, 2*n+2)
			for i := range ab {
				ab[i] = float32(math.Ldexp(rng.NormFloat64(), rng.IntN(13)-6))
			}
			a, b := ab[1:n+1], ab[n+2:]
			if got, want := im.DotF32(a, b), dotF32Generic(a, b); math.Float32bits(got) != math.Float32bits(want) {
				t.Fatalf("%s: DotF32 n=%d = %v, want %v", im.Name, n, got, want)
			}
			y, check := guarded[float32](n, 5)
			want := make([]float32, n)
			copy(y, b)
			copy(want, b)
			im.AxpyF32(-1.37, a, y)
			axpyF32Generic(-1.37, a, want)
			check(t)
			for i := range want {
				if math.Float32bits(y[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s: AxpyF32 n=%d y[%d]=%v want %v", im.Name, n, i, y[i], want[i])
				}
			}
		}
	}
}

// TestDequantRowLong checks DequantRow bit for bit on rows with several
// vector iterations and every tail, wrapping zero-point products, and
// with and without bias.
func TestDequantRowLong(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for _, im := range Impls() {
		for _, n := range []int{8, 24, 100, 257} {
			acc, rs := make([]int32, n), make([]int32, n)
			sc, bias := make([]float32, n), make([]float32, n)
			for j := 0; j < n; j++ {
				acc[j], rs[j] = int32(rng.Uint32()), int32(rng.Uint32()) // zx·rowSum wraps
				sc[j], bias[j] = float32(rng.Float64()*1e-6), float32(rng.NormFloat64())
			}
			for _, b := range [][]float32{nil, bias} {
				got, check := guarded[float32](n, 3)
				want := make([]float32, n)
				im.DequantRow(got, acc, 0.731, 200, sc, rs, b)
				dequantRowGeneric(want, acc, 0.731, 200, sc, rs, b)
				check(t)
				for j := range want {
					if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
						t.Fatalf("%s n=%d bias=%v: dst[%d]=%v want %v", im.Name, n, b != nil, j, got[j], want[j])
					}
				}
			}
		}
	}
}
