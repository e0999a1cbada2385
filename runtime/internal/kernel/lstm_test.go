package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLSTMCell checks every implementation's LSTMCell bit for bit
// (NaNs as NaNs) against lstmCellGeneric over state sizes on and off the
// vector widths, with gates drawn from the activations' special inputs
// (cut-offs, infinities, NaN) and random states; h and c keep the canary
// past their length.
func TestLSTMCell(t *testing.T) {
	special := activationInputs()
	rng := rand.New(rand.NewPCG(71, 72))
	for _, im := range Impls() {
		for _, H := range []int{1, 3, 7, 8, 15, 16, 24, 40, 64, 128, 129, 200} {
			for rep := range 4 {
				g := make([]float32, 4*H)
				c := make([]float32, H+3)
				for i := range g {
					if rep%2 == 0 {
						g[i] = special[rng.IntN(len(special))]
					} else {
						g[i] = float32(rng.NormFloat64() * 3)
					}
				}
				for i := range c {
					c[i] = float32(rng.NormFloat64() * 2)
				}
				if rep == 3 {
					c[rng.IntN(H)] = float32(math.NaN())
					c[rng.IntN(H)] = float32(math.Inf(-1))
				}
				const canary = -7.25
				c[H], c[H+1], c[H+2] = canary, canary, canary
				h := make([]float32, H+2)
				h[H], h[H+1] = canary, canary
				wg, wc, wh := append([]float32(nil), g...), append([]float32(nil), c...), append([]float32(nil), h...)
				lstmCellGeneric(wg, wh[:H], wc[:H])
				im.LSTMCell(g, h[:H], c[:H])
				for k := range wc {
					if !sameBitsOrNaN(c[k], wc[k]) {
						t.Fatalf("%s H=%d rep %d: c[%d] = %v (%#x), want %v (%#x)", im.Name, H, rep, k, c[k], math.Float32bits(c[k]), wc[k], math.Float32bits(wc[k]))
					}
				}
				for k := range wh {
					if !sameBitsOrNaN(h[k], wh[k]) {
						t.Fatalf("%s H=%d rep %d: h[%d] = %v (%#x), want %v (%#x)", im.Name, H, rep, k, h[k], math.Float32bits(h[k]), wh[k], math.Float32bits(wh[k]))
					}
				}
			}
		}
	}
}

// TestLSTMCellNoAllocs: no implementation allocates.
func TestLSTMCellNoAllocs(t *testing.T) {
	const H = 128
	g, h, c := make([]float32, 4*H), make([]float32, H), make([]float32, H)
	for _, im := range Impls() {
		if got := testing.AllocsPerRun(10, func() { im.LSTMCell(g, h, c) }); got != 0 {
			t.Errorf("%s: %v allocations per LSTMCell", im.Name, got)
		}
	}
}

// BenchmarkLSTMCell times one state row of 128 (the perfpeers LSTM's) per
// implementation: the one-pass kernel where there is one against the
// two-pass form over the same implementation's activations.
func BenchmarkLSTMCell(b *testing.B) {
	const H = 128
	rng := rand.New(rand.NewPCG(73, 74))
	g0 := make([]float32, 4*H)
	for i := range g0 {
		g0[i] = float32(rng.NormFloat64() * 2)
	}
	g, h, c := make([]float32, 4*H), make([]float32, H), make([]float32, H)
	for _, im := range Impls() {
		for _, v := range []struct {
			name string
			f    func(g, h, c []float32)
		}{{"kernel", im.LSTMCell}, {"twopass", lstmCellVia(im.SigmoidSlice, im.TanhSlice)}} {
			b.Run(im.Name+"/"+v.name, func(b *testing.B) {
				for b.Loop() {
					copy(g, g0)
					clear(c)
					v.f(g, h, c)
				}
			})
		}
	}
}
