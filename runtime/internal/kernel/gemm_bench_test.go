package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchShapes are the acceptance shapes, M×K×N: batched layers, square
// GEMMs, small batches and single-row GEMVs.
var benchShapes = [][3]int{
	{128, 512, 512}, {256, 256, 256}, {32, 1024, 1024}, {8, 1024, 1024}, {1, 4096, 1024}, {1, 1024, 1024},
}

// BenchmarkGemmShapes times GemmI8 (with the per-row activation
// quantization the engine does before it, as part of each op) and
// GemmF32 on random data, one thread, every implementation, and reports
// GOPS (2 ops per multiply-add).
func BenchmarkGemmShapes(b *testing.B) {
	for _, s := range benchShapes {
		m, k, n := s[0], s[1], s[2]
		rng := rand.New(rand.NewPCG(1, 2))
		x := make([]float32, m*k)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		q := make([]uint8, m*k)
		wi := make([]int8, n*k)
		wf := make([]float32, n*k)
		for i := range wi {
			wi[i] = int8(rng.IntN(255) - 127)
			wf[i] = float32(rng.NormFloat64())
		}
		ci := make([]int32, m*n)
		cf := make([]float32, m*n)
		ops := float64(2 * m * n * k)
		for _, im := range Impls() {
			restore, err := Use(im.Name)
			if err != nil {
				b.Fatal(err)
			}
			w8 := PackI8(wi, n, k) // packed for the implementation in use
			w32 := PackF32(wf, n, k)
			restore()
			b.Run(fmt.Sprintf("int8/%s/%dx%dx%d", im.Name, m, k, n), func(b *testing.B) {
				for b.Loop() {
					for i := 0; i < m; i++ {
						im.QuantizeRowU8(q[i*k:(i+1)*k], x[i*k:(i+1)*k])
					}
					im.GemmI8(ci, q, m, w8, 0, n)
				}
				b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOPS")
			})
			b.Run(fmt.Sprintf("f32/%s/%dx%dx%d", im.Name, m, k, n), func(b *testing.B) {
				for b.Loop() {
					im.GemmF32(cf, x, m, w32, 0, n)
				}
				b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOPS")
			})
		}
	}
}
