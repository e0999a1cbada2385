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
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgerun/edgerun/runtime/internal/kernel"
)

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
// pool of goroutines as the engine's Linear splits them. For "int8" the
// activations are f32 and each run quantizes them per row to uint8 first
// (kernel QuantizeRowsU8, on the calling goroutine, as the engine does),
// then runs GemmI8 to int32; the output is not dequantized. For "f32" it
// runs GemmF32.
//
// Handing work to the pool: by default the workers spin (yielding their
// thread now and then) for up to SpinFor after each GEMM, waiting for the
// next, and the caller spins until they finish, so a split GEMM measures
// the kernels on all threads, not how fast the OS wakes a sleeping
// thread. With Park, work goes through a channel and a WaitGroup as in
// the engine's pool: a woken goroutine waits in the sender's run queue
// until another thread wakes up and steals it, which on some machines (VMs
// especially) takes as long as the sender's own share, so the split gains
// little below a millisecond.
type Gemm struct {
	DType   string
	M, K, N int
	Threads int
	Park    bool

	x   []float32 // activations, M×K
	q   []uint8   // quantized activations (int8)
	xs  []float32 // their per-row scales and zero points
	xz  []float32
	w8  *kernel.MatI8
	c8  []int32
	w32 *kernel.MatF32
	c32 []float32

	bounds []int // column ranges: part i is [bounds[i], bounds[i+1])

	// Park: the engine's handoff.
	work chan int
	wg   sync.WaitGroup

	// Spin: worker i−1 runs part i when its gen moves to Gemm.gen.
	workers []*worker
	gen     uint64
	pending atomic.Int64 // workers still running this generation
	closed  atomic.Bool
	close   sync.Once
}

// worker is one spinning worker's mailbox.
type worker struct {
	part   int
	gen    atomic.Uint64
	parked atomic.Bool
	wake   chan struct{} // capacity 1; closed by Close
}

// SpinFor is how long an idle spinning worker waits for the next GEMM
// before it parks.
const SpinFor = 2 * time.Millisecond

// NewGemm makes the data (a fixed seed: standard normal activations and
// f32 weights, int8 weights uniform in −127..127), packs the weights and
// starts a worker goroutine for every column range but the first, which
// the caller of Run computes. park selects the engine's handoff (see
// Gemm). Close stops the workers.
func NewGemm(dtype string, m, k, n, threads int, park bool) (*Gemm, error) {
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
	g := &Gemm{DType: dtype, M: m, K: k, N: n, Threads: max(threads, 1), Park: park}
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
		g.xs, g.xz = make([]float32, m), make([]float32, m)
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
	for p := 1; p < len(g.bounds)-1; p++ {
		if park {
			if g.work == nil {
				g.work = make(chan int, len(g.bounds)-1)
			}
			go g.parkWorker()
			continue
		}
		w := &worker{part: p, wake: make(chan struct{}, 1)}
		g.workers = append(g.workers, w)
		go g.spinWorker(w)
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
	kernel.QuantizeRowsU8(g.q, g.x, g.M, g.K, g.xs, g.xz)
}

// Multiply runs the GEMM on the already quantized activations (int8) or
// the f32 ones, split between the threads.
func (g *Gemm) Multiply() {
	parts := len(g.bounds) - 1
	switch {
	case parts == 1:
		g.part(0)
	case g.Park:
		g.wg.Add(parts - 1)
		for p := 1; p < parts; p++ {
			g.work <- p
		}
		g.part(0)
		g.wg.Wait()
	default:
		g.gen++
		g.pending.Store(int64(len(g.workers)))
		for _, w := range g.workers {
			w.gen.Store(g.gen)
			if w.parked.Load() {
				select {
				case w.wake <- struct{}{}:
				default: // a wake-up is already pending
				}
			}
		}
		g.part(0)
		for i := 1; g.pending.Load() > 0; i++ {
			if i%64 == 0 {
				runtime.Gosched() // more threads than cores: let them run
			}
		}
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

func (g *Gemm) parkWorker() {
	for p := range g.work {
		g.part(p)
		g.wg.Done()
	}
}

// spinWorker runs its part whenever its generation moves, spinning
// between GEMMs for up to SpinFor, then parking until Multiply or Close
// wakes it. The parked flag is set before the last look at the
// generation, and Multiply stores the generation before it looks at the
// flag, so a wake-up is never lost (at worst one is spare, and the worker
// parks again).
func (g *Gemm) spinWorker(w *worker) {
	var seen uint64
	for {
		idle := time.Now()
		for i := 1; w.gen.Load() == seen; i++ {
			if i%256 != 0 {
				continue
			}
			if g.closed.Load() {
				return
			}
			runtime.Gosched()
			if time.Since(idle) < SpinFor {
				continue
			}
			w.parked.Store(true)
			if w.gen.Load() == seen {
				<-w.wake
			}
			w.parked.Store(false)
			idle = time.Now()
		}
		seen = w.gen.Load()
		g.part(w.part)
		g.pending.Add(-1)
	}
}

// Close stops the worker goroutines. The Gemm must not be used after; it
// must not run while Multiply does.
func (g *Gemm) Close() {
	g.close.Do(func() {
		g.closed.Store(true)
		if g.work != nil {
			close(g.work)
		}
		for _, w := range g.workers {
			close(w.wake)
		}
	})
}
