package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// quantRowKinds fills a row of x with one kind of content: random values
// of a random magnitude, or one with NaN, ±Inf, all equal, all ±0, only
// negative, huge or tiny (the scale underflows) values.
var quantRowKinds = []string{"rand", "nan", "+inf", "-inf", "equal", "zero", "negzero", "negative", "huge", "tiny", "onlynan", "inf-inf"}

func fillQuantRow(rng *rand.Rand, x []float32, kind string) {
	inf := float32(math.Inf(1))
	mag := math.Pow(10, float64(rng.IntN(9)-4))
	for i := range x {
		x[i] = float32(rng.NormFloat64() * mag)
	}
	plant := func(v float32) { x[rng.IntN(len(x))] = v }
	switch kind {
	case "nan":
		plant(float32(math.NaN()))
	case "+inf":
		plant(inf)
	case "-inf":
		plant(-inf)
	case "inf-inf":
		plant(inf)
		plant(-inf)
	case "equal":
		for i := range x {
			x[i] = 2.5
		}
	case "zero":
		clear(x)
	case "negzero":
		for i := range x {
			x[i] = float32(math.Copysign(0, float64(rng.IntN(2)-1)))
		}
	case "negative":
		for i := range x {
			x[i] = -float32(math.Abs(rng.NormFloat64()*mag)) - 1e-3
		}
	case "huge":
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 1e38)
		}
		plant(3e38)
		plant(-3e38)
	case "tiny":
		for i := range x {
			x[i] = float32(rng.IntN(5)-2) * 1e-45
		}
	case "onlynan":
		for i := range x {
			x[i] = float32(math.NaN())
		}
	}
}

// checkQuantRows runs im.QuantizeRowsU8 on m rows of k (x read from an
// odd offset, q, xs and xz written into guarded buffers) and compares it
// bit for bit with the reference, QuantizeRowsU8 over
// quantizeRowU8Generic (a NaN scale matches any NaN).
func checkQuantRows(t *testing.T, im *Impl, x []float32, m, k int, what string) {
	t.Helper()
	const margin, canary = 19, 0xA5
	qb := make([]uint8, m*k+2*margin+1)
	for i := range qb {
		qb[i] = canary
	}
	q := qb[margin+1 : margin+1+m*k]
	xs, checkS := guarded[float32](m, -7)
	xz, checkZ := guarded[float32](m, -9)
	wq, ws, wz := make([]uint8, m*k), make([]float32, m), make([]float32, m)
	quantizeRowsVia(quantizeRowU8Generic)(wq, x, m, k, ws, wz)
	im.QuantizeRowsU8(q, x, m, k, xs, xz)
	checkS(t)
	checkZ(t)
	for i, v := range qb {
		if (i <= margin || i > margin+m*k) && v != canary {
			t.Fatalf("%s %s m=%d k=%d: wrote q outside the rows at %d", im.Name, what, m, k, i-margin-1)
		}
	}
	for i := range m {
		if g, w := xs[i], ws[i]; math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
			t.Fatalf("%s %s m=%d k=%d: xs[%d]=%v want %v", im.Name, what, m, k, i, g, w)
		}
		if math.Float32bits(xz[i]) != math.Float32bits(wz[i]) {
			t.Fatalf("%s %s m=%d k=%d: xz[%d]=%v want %v", im.Name, what, m, k, i, xz[i], wz[i])
		}
		for j := i * k; j < (i+1)*k; j++ {
			if q[j] != wq[j] {
				t.Fatalf("%s %s m=%d k=%d: row %d q[%d]=%d want %d (x=%v)", im.Name, what, m, k, i, j-i*k, q[j], wq[j], x[j])
			}
		}
	}
}

// TestQuantizeRowsU8 checks every implementation's QuantizeRowsU8 bit for
// bit against the reference loop, over ragged row lengths (every tail of
// the 8- and 16-lane loops), 1 to 9 rows, each row of a random kind
// (NaN, ±Inf, all equal, all ±0, negative only, huge, tiny), and each
// kind alone in every row position.
func TestQuantizeRowsU8(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	ks := []int{0, 128, 512, 513}
	for k := 1; k <= 70; k++ {
		ks = append(ks, k)
	}
	for _, im := range Impls() {
		for _, k := range ks {
			for m := 1; m <= 9; m++ {
				xb := make([]float32, m*k+1)
				x := xb[1:] // odd offset
				kinds := make([]string, m)
				for i := range m {
					kinds[i] = quantRowKinds[rng.IntN(len(quantRowKinds))]
					if k > 0 {
						fillQuantRow(rng, x[i*k:(i+1)*k], kinds[i])
					}
				}
				checkQuantRows(t, &im, x, m, k, fmt.Sprint(kinds))
			}
			if k == 0 {
				continue
			}
			// Each kind in each position of 5 random rows.
			for _, kind := range quantRowKinds {
				for pos := range 5 {
					x := make([]float32, 5*k)
					for i := range 5 {
						fillQuantRow(rng, x[i*k:(i+1)*k], "rand")
					}
					fillQuantRow(rng, x[pos*k:(pos+1)*k], kind)
					checkQuantRows(t, &im, x, 5, k, fmt.Sprintf("%s at %d", kind, pos))
				}
			}
		}
	}
}

// TestQuantizeRowsU8Random checks every implementation's QuantizeRowsU8
// bit for bit against the reference on random shapes whose rows mix
// random values of wildly different magnitudes with random specials
// (NaN, ±Inf, ±0, extremes, subnormals) at random places.
func TestQuantizeRowsU8Random(t *testing.T) {
	rng := rand.New(rand.NewPCG(73, 74))
	specials := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0,
		float32(math.Copysign(0, -1)), math.MaxFloat32, -math.MaxFloat32, 1e-45, -1e-45, 1e-38, 255, -255, 0.5, -0.5}
	for _, im := range Impls() {
		for range 300 {
			m, k := 1+rng.IntN(12), 1+rng.IntN(300)
			x := make([]float32, m*k)
			for i := range x {
				x[i] = float32(rng.NormFloat64() * math.Pow(2, float64(rng.IntN(80)-40)))
			}
			for range rng.IntN(4) {
				x[rng.IntN(len(x))] = specials[rng.IntN(len(specials))]
			}
			if rng.IntN(4) == 0 { // a row of one repeated special
				r := rng.IntN(m)
				v := specials[rng.IntN(len(specials))]
				for j := range k {
					x[r*k+j] = v
				}
			}
			checkQuantRows(t, &im, x, m, k, "random")
		}
	}
}

// BenchmarkQuantizeRowsU8 compares, per implementation, QuantizeRowsU8
// with the loop of QuantizeRowU8 calls it replaces (and their callers'
// float32 zero points), on m×k activation blocks of the transformer's
// shapes.
func BenchmarkQuantizeRowsU8(b *testing.B) {
	for _, s := range [][2]int{{64, 128}, {64, 512}} {
		m, k := s[0], s[1]
		rng := rand.New(rand.NewPCG(5, 6))
		x := make([]float32, m*k)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		q, xs, xz := make([]uint8, m*k), make([]float32, m), make([]float32, m)
		for _, im := range Impls() {
			if im.Name == "generic" {
				continue
			}
			b.Run(fmt.Sprintf("%dx%d/%s/rows", m, k, im.Name), func(b *testing.B) {
				for b.Loop() {
					im.QuantizeRowsU8(q, x, m, k, xs, xz)
				}
			})
			b.Run(fmt.Sprintf("%dx%d/%s/loop", m, k, im.Name), func(b *testing.B) {
				for b.Loop() {
					for i := range m {
						s, z := im.QuantizeRowU8(q[i*k:(i+1)*k], x[i*k:(i+1)*k])
						xs[i], xz[i] = s, float32(z)
					}
				}
			})
		}
	}
}
