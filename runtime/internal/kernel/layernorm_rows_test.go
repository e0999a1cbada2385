package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLayerNormRows checks every implementation's LayerNormRows bit for
// bit against layerNormGeneric on each row, out of place and in place,
// for widths on and off the 16-float vector, row counts around the
// four-row groups, a trailing partial row (left alone) and rows holding
// NaN, ±Inf and constant values.
func TestLayerNormRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	for _, im := range Impls() {
		for _, d := range []int{1, 8, 15, 16, 24, 32, 128, 144} {
			gamma, beta := make([]float32, d), make([]float32, d)
			for j := range gamma {
				gamma[j] = float32(rng.NormFloat64())
				beta[j] = float32(rng.NormFloat64())
			}
			for _, rows := range []int{0, 1, 3, 4, 5, 8, 11} {
				for trial := range 4 {
					n := rows * d
					if trial == 3 {
						n += d / 2 // a partial row
					}
					src := make([]float32, n)
					for j := range src {
						src[j] = float32(rng.NormFloat64()*3 + 1)
					}
					switch {
					case trial == 1 && rows > 0: // a special value
						src[rng.IntN(rows*d)] = []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e30}[rng.IntN(4)]
					case trial == 2 && rows > 0: // a constant row
						for j := range d {
							src[(rows-1)*d+j] = 2.5
						}
					}
					want := make([]float32, n)
					for j := range want {
						want[j] = 7
					}
					for r := range rows {
						layerNormGeneric(want[r*d:][:d], src[r*d:][:d], gamma, beta, 1e-5)
					}
					got, check := guarded[float32](n, 7)
					for j := range got {
						got[j] = 7
					}
					im.LayerNormRows(got, src, gamma, beta, d, 1e-5)
					check(t)
					in := append([]float32(nil), src...)
					im.LayerNormRows(in, in, gamma, beta, d, 1e-5)
					for j := range rows * d {
						for k, g := range []float32{got[j], in[j]} {
							if math.Float32bits(g) != math.Float32bits(want[j]) && !(g != g && want[j] != want[j]) {
								t.Fatalf("%s d=%d rows=%d trial %d (in place %v): [%d] = %v, want %v", im.Name, d, rows, trial, k == 1, j, g, want[j])
							}
						}
					}
					for j := rows * d; j < n; j++ {
						if got[j] != 7 || math.Float32bits(in[j]) != math.Float32bits(src[j]) {
							t.Fatalf("%s d=%d rows=%d: the partial row changed at %d", im.Name, d, rows, j)
						}
					}
				}
			}
		}
	}
}

// BenchmarkLayerNormRows times 64 rows of 128 (a transformer's sequence)
// through LayerNormRows and through LayerNormRow a row at a time.
func BenchmarkLayerNormRows(b *testing.B) {
	const d, rows = 128, 64
	src := make([]float32, d*rows)
	dst := make([]float32, len(src))
	gamma, beta := make([]float32, d), make([]float32, d)
	rng := rand.New(rand.NewPCG(3, 4))
	for j := range src {
		src[j] = float32(rng.NormFloat64())
	}
	for j := range gamma {
		gamma[j], beta[j] = 1, 0.5
	}
	for _, im := range Impls() {
		b.Run(im.Name+"/rows4", func(b *testing.B) {
			for b.Loop() {
				im.LayerNormRows(dst, src, gamma, beta, d, 1e-5)
			}
		})
		b.Run(im.Name+"/row", func(b *testing.B) {
			for b.Loop() {
				for r := 0; r < len(src); r += d {
					im.LayerNormRow(dst[r:r+d], src[r:r+d], gamma, beta, 1e-5)
				}
			}
		})
	}
}

// TestAddLayerNormRows checks every implementation's AddLayerNormRows bit
// for bit against AxpyF32 and layerNormGeneric on each row (the generic
// reference), out of place and in place (dst = y), with x one row, one
// row for each row of y, or three rows repeated (groups of four that
// wrap), for widths on and off the 16-float vector and rows holding NaN,
// ±Inf and constant values.
func TestAddLayerNormRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(73, 74))
	for _, im := range Impls() {
		for _, d := range []int{8, 16, 24, 32, 128, 144} {
			gamma, beta := make([]float32, d), make([]float32, d)
			for j := range gamma {
				gamma[j] = float32(rng.NormFloat64())
				beta[j] = float32(rng.NormFloat64())
			}
			for _, rows := range []int{0, 1, 3, 4, 5, 8, 11} {
				for _, xrows := range []int{1, 3, rows} {
					if xrows == 0 {
						continue
					}
					for trial := range 3 {
						y := make([]float32, rows*d)
						x := make([]float32, xrows*d)
						for j := range y {
							y[j] = float32(rng.NormFloat64()*3 + 1)
						}
						for j := range x {
							x[j] = float32(rng.NormFloat64())
						}
						switch {
						case trial == 1 && rows > 0: // a special value in y or x
							v := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e30}[rng.IntN(4)]
							if rng.IntN(2) == 0 {
								y[rng.IntN(len(y))] = v
							} else {
								x[rng.IntN(len(x))] = v
							}
						case trial == 2 && rows > 0: // a row whose sum is constant
							for j := range d {
								y[(rows-1)*d+j] = 2.5 - x[((rows-1)*d+j)%len(x)]
							}
						}
						want := make([]float32, rows*d)
						for r := range rows {
							tr := append([]float32(nil), y[r*d:(r+1)*d]...)
							o := r * d % len(x)
							axpyF32Generic(1, x[o:o+d], tr)
							layerNormGeneric(want[r*d:][:d], tr, gamma, beta, 1e-5)
						}
						got, check := guarded[float32](rows*d, 7)
						im.AddLayerNormRows(got, y, x, gamma, beta, d, 1e-5)
						check(t)
						in := append([]float32(nil), y...)
						im.AddLayerNormRows(in, in, x, gamma, beta, d, 1e-5)
						for j := range rows * d {
							for k, g := range []float32{got[j], in[j]} {
								if math.Float32bits(g) != math.Float32bits(want[j]) && !(g != g && want[j] != want[j]) {
									t.Fatalf("%s d=%d rows=%d xrows=%d trial %d (in place %v): [%d] = %v, want %v", im.Name, d, rows, xrows, trial, k == 1, j, g, want[j])
								}
							}
						}
					}
				}
			}
		}
	}
}
