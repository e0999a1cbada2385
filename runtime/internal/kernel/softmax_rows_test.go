package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestSoftmaxRowsF32 checks SoftmaxRowsF32 bit for bit against SoftmaxF32
// row by row on every implementation, for batched and per-row widths,
// blocks longer than one chunk, a trailing partial row and rows with
// NaN, ±Inf and huge values.
func TestSoftmaxRowsF32(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	for _, im := range Impls() {
		for _, d := range []int{1, 2, 3, 4, 7, 8, 9, 10, 15, 16, 17, 40} {
			for _, rows := range []int{1, 5, 300} {
				for _, partial := range []int{0, d / 2} {
					n := rows*d + partial
					p := make([]float32, n)
					for i := range p {
						p[i] = float32(rng.NormFloat64() * 6)
					}
					if rows > 1 {
						p[d] = float32(math.NaN())
						p[2*d] = float32(math.Inf(1))
						p[3*d] = float32(math.Inf(-1))
						p[4*d] = 1e30
					}
					want := append([]float32(nil), p...)
					for off := 0; off < n; off += d {
						im.SoftmaxF32(want[off:min(off+d, n)])
					}
					restore, err := Use(im.Name)
					if err != nil {
						t.Fatal(err)
					}
					SoftmaxRowsF32(p, d)
					restore()
					for i := range p {
						if math.Float32bits(p[i]) != math.Float32bits(want[i]) && !(p[i] != p[i] && want[i] != want[i]) {
							t.Fatalf("%s: d=%d rows=%d partial=%d: p[%d] = %v, want %v", im.Name, d, rows, partial, i, p[i], want[i])
						}
					}
				}
			}
		}
	}
	SoftmaxRowsF32(nil, 0) // no rows: nothing to do, no panic
	SoftmaxRowsF32([]float32{1, 2}, -1)
}

func BenchmarkSoftmaxRows(b *testing.B) {
	p := make([]float32, 64*10)
	src := make([]float32, len(p))
	for i := range src {
		src[i] = float32(i%13) - 6
	}
	for _, batched := range []bool{false, true} {
		b.Run(fmt.Sprintf("rows=64/d=10/batched=%v", batched), func(b *testing.B) {
			for b.Loop() {
				copy(p, src)
				if batched {
					SoftmaxRowsF32(p, 10)
				} else {
					for off := 0; off < len(p); off += 10 {
						SoftmaxF32(p[off : off+10])
					}
				}
			}
		})
	}
}
