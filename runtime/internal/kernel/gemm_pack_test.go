package kernel

import (
	"math/rand/v2"
	"testing"
)

// TestGemmI8PackedElsewhere packs the weights under every implementation
// (each adds only the layouts its own kernels read) and runs every
// implementation on them, so each kernel is checked both with its layout
// and without it, odd row counts (the GEMV row) and column ranges cut
// inside groups of 4 and 8 included.
func TestGemmI8PackedElsewhere(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, pk := range Impls() {
		for _, m := range []int{1, 2, 3} {
			for _, n := range []int{5, 8, 13, 24, 37} {
				for _, k := range []int{31, 32, 40, 96, 300} {
					a, wd := makeInputs(rng, m, n, k, fillRand)
					restore, err := Use(pk.Name)
					if err != nil {
						t.Fatal(err)
					}
					w := PackI8(wd, n, k)
					restore()
					want := make([]int32, m*n)
					gemmI8Generic(want, a, m, w, 0, n)
					for _, im := range Impls() {
						got, check := guarded[int32](m*n, 55)
						cuts := []int{0, min(3, n), min(11, n), min(19, n), n}
						for i := 1; i < len(cuts); i++ {
							im.GemmI8(got, a, m, w, cuts[i-1], cuts[i])
						}
						check(t)
						for i := range want {
							if got[i] != want[i] {
								t.Fatalf("packed under %s, run by %s, m=%d n=%d k=%d: c[%d]=%d want %d", pk.Name, im.Name, m, n, k, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}
