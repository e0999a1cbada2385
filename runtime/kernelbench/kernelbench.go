// Package kernelbench measures the runtime's compute kernels for tools
// (`edgerun bench --roof` and `--gemm`): the arithmetic roof of the cores,
// and the throughput of one GEMM run with the kernels, the activation
// quantization and the column split the engine uses. Inference has no use
// for it; it exists because the kernels are internal to runtime/.
//
// It imports only the kernel package.
package kernelbench

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/edgerun/edgerun/runtime/internal/kernel"
)

// Kernel names the kernel implementation this process runs.
func Kernel() string { return kernel.Current() }

// RoofLoop names the instructions Roof times for dtype with the kernel
// implementation in use.
func RoofLoop(dtype string) string { return kernel.RoofLoop(dtype) }

// Roof measures the peak arithmetic throughput of threads cores, in 10⁹
// operations per second, for dtype "int8" or "f32" (a multiply-add is 2
// operations), with the instructions the kernel implementation in use is
// built from (RoofLoop): register-resident loops on threads OS threads
// started together in each window, for about d, the best window kept.
// With more threads than free cores the threads wait for each other and
// the figure drops accordingly. It returns 0 for another dtype.
func Roof(dtype string, d time.Duration, threads int) float64 {
	return kernel.RoofGOPSThreads(dtype, d, threads)
}

// Gemm is one GEMM c[M×N] = a[M×K] · wᵀ (w N×K, packed) on random data,
// ready to run again and again, with the N columns split between a fixed
// pool of goroutines as the engine's Linear does. For "int8" the
// activations are f32 and each run quantizes them per row to uint8 first
// (kernel QuantizeRowU8, on the calling goroutine, as the engine does),
// then runs GemmI8 to int32; the output is not dequantized. For "f32" it
// runs GemmF32.
type Gemm struct {
	DType   string
	M, K, N int
	Threads int

	x   []float32 // activations, M×K
	q   []uint8   // quantized activations (int8)
	w8  *kernel.MatI8
	c8  []int32
	w32 *kernel.MatF32
	c32 []float32

	bounds []int // column ranges: part i is [bounds[i], bounds[i+1])
	work   chan int
	wg     sync.WaitGroup
	close  sync.Once
}

// NewGemm makes the data (a fixed seed: standard normal activations and
// f32 weights, int8 weights uniform in −127..127), packs the weights and
// starts threads−1 worker goroutines; the caller of Run is the first
// worker. Close stops them.
func NewGemm(dtype string, m, k, n, threads int) (*Gemm, error) {
	if dtype != "int8" && dtype != "f32" {
		return nil, fmt.Errorf("dtype %q: want int8 or f32", dtype)
	}
	if m < 1 || k < 1 || n < 1 {
		return nil, fmt.Errorf("shape %d×%d×%d: every dimension must be at least 1", m, k, n)
	}
	const maxElems = 1 << 28
	if m > maxElems/k || n > maxElems/k || m > maxElems/n {
		return nil, fmt.Errorf("shape %d×%d×%d is too large to benchmark", m, k, n)
	}
	g := &Gemm{DType: dtype, M: m, K: k, N: n, Threads: max(threads, 1)}
	rng := rand.New(rand.NewPCG(1, 2))
	g.x = make([]float32, m*k)
	for i := range g.x {
		g.x[i] = float32(rng.NormFloat64())
	}
	if dtype == "int8" {
		w := make([]int8, n*k)
		for i := range w {
			w[i] = int8(rng.IntN(255) - 127)
		}
		g.w8 = kernel.PackI8(w, n, k)
		g.q = make([]uint8, m*k)
		g.c8 = make([]int32, m*n)
	} else {
		w := make([]float32, n*k)
		for i := range w {
			w[i] = float32(rng.NormFloat64())
		}
		g.w32 = kernel.PackF32(w, n, k)
		g.c32 = make([]float32, m*n)
	}

	// Contiguous column ranges, multiples of 16 like the engine's blocks,
	// one per thread (fewer when N is small).
	per := (n + g.Threads - 1) / g.Threads
	per = (per + 15) &^ 15
	for j := 0; j < n; j += per {
		g.bounds = append(g.bounds, j)
	}
	g.bounds = append(g.bounds, n)
	if parts := len(g.bounds) - 1; parts > 1 {
		g.work = make(chan int, parts)
		for range parts - 1 {
			go g.worker()
		}
	}
	return g, nil
}

// Ops is the operation count of one GEMM: 2·M·K·N.
func (g *Gemm) Ops() float64 { return 2 * float64(g.M) * float64(g.K) * float64(g.N) }

// Quantize quantizes the activations per row (int8 only; a no-op for
// f32). Run calls it; it is exported to time it alone.
func (g *Gemm) Quantize() {
	if g.DType != "int8" {
		return
	}
	k := g.K
	for i := 0; i < g.M; i++ {
		kernel.QuantizeRowU8(g.q[i*k:(i+1)*k], g.x[i*k:(i+1)*k])
	}
}

// Multiply runs the GEMM on the already quantized activations (int8) or
// the f32 ones, split between the threads.
func (g *Gemm) Multiply() {
	parts := len(g.bounds) - 1
	if parts > 1 {
		g.wg.Add(parts - 1)
		for p := 1; p < parts; p++ {
			g.work <- p
		}
	}
	g.part(0)
	if parts > 1 {
		g.wg.Wait()
	}
}

// Run is one whole operation: Quantize, then Multiply.
func (g *Gemm) Run() {
	g.Quantize()
	g.Multiply()
}

// Parts is the number of column ranges the work is split into.
func (g *Gemm) Parts() int { return len(g.bounds) - 1 }

func (g *Gemm) part(p int) {
	n0, n1 := g.bounds[p], g.bounds[p+1]
	if g.DType == "int8" {
		kernel.GemmI8(g.c8, g.q, g.M, g.w8, n0, n1)
	} else {
		kernel.GemmF32(g.c32, g.x, g.M, g.w32, n0, n1)
	}
}

func (g *Gemm) worker() {
	for p := range g.work {
		g.part(p)
		g.wg.Done()
	}
}

// Close stops the worker goroutines. The Gemm must not be used after.
func (g *Gemm) Close() {
	g.close.Do(func() {
		if g.work != nil {
			close(g.work)
		}
	})
}
