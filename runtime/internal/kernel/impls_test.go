package kernel

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
)

// TestKernExpect fails unless the dispatcher chose the implementation
// the CPU's features call for (wantKernel, from golang.org/x/sys/cpu), and,
// when KERN_EXPECT is set (make test-arm sets it per emulated CPU), the one
// it names: a feature check that silently falls back to a weaker kernel,
// or picks one the CPU cannot run, is caught on every machine.
func TestKernExpect(t *testing.T) {
	var names []string
	for _, im := range Impls() {
		names = append(names, im.Name)
	}
	want, why := wantKernel()
	if got := Current(); got != want {
		t.Errorf("kernel %q in use, the CPU calls for %q (%s; usable here: %v)", got, want, why, names)
	}
	if env := os.Getenv("KERN_EXPECT"); env != "" && Current() != env {
		t.Errorf("kernel %q in use, KERN_EXPECT=%q (usable here: %v)", Current(), env, names)
	}
	t.Logf("kernel %s (%s; usable here: %v)", Current(), why, names)
}

// TestGemmI8Long checks every implementation against the reference with
// longer rows than TestGemmI8: many k-loop iterations of the vector
// kernels, every K tail modulo 32, row counts around the 4-row tiles, and
// column ranges that start inside a tile.
func TestGemmI8Long(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, im := range Impls() {
		for _, m := range []int{1, 4, 6, 9} {
			for _, n := range []int{8, 37} {
				for _, k := range []int{16, 48, 272, 1040, 1061, 4099} {
					for _, f := range []fill{fillRand, fillMax, fillMin, fill128} {
						a, wd := makeInputs(rng, m, n, k, f)
						w := PackI8(wd, n, k)
						want := make([]int32, m*n)
						gemmI8Generic(want, a, m, w, 0, n)
						got, check := guarded[int32](m*n, 31)
						im.GemmI8(got, a, m, w, 0, 5)
						im.GemmI8(got, a, m, w, 5, n)
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

// BenchmarkGemmI8Impls runs GemmI8 with every implementation usable on
// this CPU (packing the weights after choosing, as a load would).
func BenchmarkGemmI8Impls(b *testing.B) {
	for _, s := range [][3]int{{1, 1024, 1024}, {8, 1024, 1024}, {128, 512, 512}} {
		m, k, n := s[0], s[1], s[2]
		rng := rand.New(rand.NewPCG(1, 1))
		a, wd := makeInputs(rng, m, n, k, fillRand)
		c := make([]int32, m*n)
		for _, im := range Impls() {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", im.Name, m, k, n), func(b *testing.B) {
				restore, err := Use(im.Name)
				if err != nil {
					b.Fatal(err)
				}
				defer restore()
				w := PackI8(wd, n, k)
				for b.Loop() {
					GemmI8(c, a, m, w, 0, n)
				}
				b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOPS")
			})
		}
	}
}

// TestGemmI8NoAllocs: no implementation allocates, edge columns (the
// scratch tile) and odd rows included.
func TestGemmI8NoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, im := range Impls() {
		for _, n := range []int{3, 10} {
			a, wd := makeInputs(rng, 5, n, 96, fillRand)
			w := PackI8(wd, n, 96)
			c := make([]int32, 5*n)
			if got := testing.AllocsPerRun(10, func() { im.GemmI8(c, a, 5, w, 0, n) }); got != 0 {
				t.Errorf("%s n=%d: %v allocations per GemmI8", im.Name, n, got)
			}
		}
	}
}
