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

// TestSoftmaxStridedF32 checks every implementation's SoftmaxStridedF32
// bit for bit against the reference loop on each row: widths on and off
// the 16-float vector, strides equal to the width and past it (the gap
// left alone), row counts around the four-row groups, and rows holding
// NaN, ±Inf, ±0 and far-apart scores.
func TestSoftmaxStridedF32(t *testing.T) {
	rng := rand.New(rand.NewPCG(63, 64))
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e30, -1e30, 88, -104}
	for _, im := range Impls() {
		for _, n := range []int{1, 5, 15, 16, 17, 32, 40, 48, 64, 80, 128} {
			for _, gap := range []int{0, 3, 16} {
				ld := n + gap
				for _, rows := range []int{0, 1, 3, 4, 5, 8, 9, 13} {
					for trial := range 4 {
						size := 0
						if rows > 0 {
							size = (rows-1)*ld + n
						}
						p := make([]float32, size)
						for j := range p {
							p[j] = float32(rng.NormFloat64() * 4)
						}
						if rows > 0 {
							switch trial {
							case 1: // a special value in one row
								p[rng.IntN(rows)*ld+rng.IntN(n)] = specials[rng.IntN(len(specials))]
							case 2: // widely spread: most exps underflow
								for j := range p {
									p[j] *= 40
								}
							case 3: // a NaN in the last row
								p[(rows-1)*ld+rng.IntN(n)] = float32(math.NaN())
							}
						}
						want := append([]float32(nil), p...)
						for r := range rows {
							softmaxLoop(expSliceGeneric, want[r*ld:][:n])
						}
						got, check := guarded[float32](size, 42)
						copy(got, p)
						im.SoftmaxStridedF32(got, ld, n, rows)
						check(t)
						for j := range want {
							if math.Float32bits(got[j]) != math.Float32bits(want[j]) && !(want[j] != want[j] && got[j] != got[j]) {
								t.Fatalf("%s n=%d ld=%d rows=%d trial %d: p[%d] = %v, want %v", im.Name, n, ld, rows, trial, j, got[j], want[j])
							}
						}
					}
				}
			}
		}
	}
}

// BenchmarkSoftmaxStridedF32 times attention's score rows (eight rows of
// 64) through SoftmaxStridedF32 and through SoftmaxF32 a row at a time.
func BenchmarkSoftmaxStridedF32(b *testing.B) {
	const n, rows = 64, 8
	p := make([]float32, n*rows)
	src := make([]float32, len(p))
	rng := rand.New(rand.NewPCG(1, 2))
	for j := range src {
		src[j] = float32(rng.NormFloat64() * 4)
	}
	for _, im := range Impls() {
		b.Run(im.Name+"/strided", func(b *testing.B) {
			for b.Loop() {
				copy(p, src)
				im.SoftmaxStridedF32(p, n, n, rows)
			}
		})
		b.Run(im.Name+"/rows", func(b *testing.B) {
			for b.Loop() {
				copy(p, src)
				for r := range rows {
					im.SoftmaxF32(p[r*n:][:n])
				}
			}
		})
	}
}
