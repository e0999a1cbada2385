package op

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/edgerun/edgerun/runtime/internal/kernel"
)

// TestApplyGELUWithoutTmp checks that GELU without a caller's scratch
// (the pooled one, chunk by chunk) gives the scalar GELU's bits on every
// kernel, for lengths around the chunk size.
func TestApplyGELUWithoutTmp(t *testing.T) {
	rng := rand.New(rand.NewPCG(81, 82))
	for _, im := range kernel.Impls() {
		restore, err := kernel.Use(im.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 1, 13, 512, geluChunk, geluChunk + 9, 3*geluChunk + 100} {
			x := randF32(rng, n, 4)
			want := make([]float32, n)
			for i, v := range x {
				want[i] = kernel.GELU(v)
			}
			ActGELU.ApplyTmp(x, nil, 0)
			for i := range x {
				if math.Float32bits(x[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s n=%d: x[%d] = %v, want %v", im.Name, n, i, x[i], want[i])
				}
			}
		}
		restore()
	}
}
