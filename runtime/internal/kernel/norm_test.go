package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLayerNormRow checks every implementation bit for bit against the
// reference, for every length around the vector width, rows with a large
// offset (cancellation in the centred sum), constant rows, in place and
// not, with guard canaries around the output.
func TestLayerNormRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	for _, im := range Impls() {
		for n := 0; n <= 70; n++ {
			for trial := 0; trial < 4; trial++ {
				src := make([]float32, n)
				g, b := make([]float32, n), make([]float32, n)
				for i := range src {
					src[i] = float32(rng.NormFloat64())
					g[i] = float32(1 + rng.NormFloat64()/4)
					b[i] = float32(rng.NormFloat64() / 4)
				}
				switch trial {
				case 1:
					for i := range src {
						src[i] += 1000
					}
				case 2:
					for i := range src {
						src[i] = 7
					}
				case 3:
					for i := range src {
						src[i] *= 1e20
					}
				}
				eps := float32(1e-5)
				want := make([]float32, n)
				layerNormGeneric(want, src, g, b, eps)
				got, check := guarded[float32](n, 42)
				im.LayerNormRow(got, src, g, b, eps)
				check(t)
				in := append([]float32(nil), src...)
				im.LayerNormRow(in, in, g, b, eps)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(in[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s n=%d trial %d: y[%d] = %v (in place %v), want %v", im.Name, n, trial, i, got[i], in[i], want[i])
					}
				}
			}
		}
	}
}
