//go:build amd64 && gc && !noasm && !purego

package kernel

import (
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestQuantRowsAsmStops checks the assembly multi-row quantizers' stop
// contract: they quantize every row of NaN-free input in one call
// (returning m, not handing rows to the reference needlessly) and stop at
// the first row holding a NaN, returning its index.
func TestQuantRowsAsmStops(t *testing.T) {
	type kern struct {
		name string
		ok   bool
		f    func(q []uint8, x []float32, m, k int, xs, xz []float32) int
	}
	kerns := []kern{
		{"quantRowsAVX2", cpu.X86.HasAVX2, quantRowsAVX2},
		{"quantRowsZ", hasAVX512(), func(q []uint8, x []float32, m, k int, xs, xz []float32) int {
			return quantRowsZ(q, x, m, k, xs, xz, tailMask16(k))
		}},
	}
	rng := rand.New(rand.NewPCG(77, 78))
	for _, kn := range kerns {
		if !kn.ok {
			t.Logf("%s: not on this CPU", kn.name)
			continue
		}
		for _, k := range []int{1, 7, 8, 9, 16, 17, 33, 128, 513} {
			const m = 6
			x := make([]float32, m*k)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			x[2*k] = float32(math.Inf(1)) // ±Inf and ±0 rows are the kernel's own
			clear(x[3*k : 4*k])
			q, xs, xz := make([]uint8, m*k), make([]float32, m), make([]float32, m)
			if got := kn.f(q, x, m, k, xs, xz); got != m {
				t.Fatalf("%s k=%d: NaN-free rows: done %d, want %d", kn.name, k, got, m)
			}
			for _, r := range []int{0, 4, 5} {
				y := append([]float32(nil), x...)
				y[r*k+rng.IntN(k)] = float32(math.NaN())
				if got := kn.f(q, y, m, k, xs, xz); got != r {
					t.Fatalf("%s k=%d: NaN in row %d: done %d", kn.name, k, r, got)
				}
			}
		}
	}
}
