package kernel

import (
	"runtime"
	"sync"
	"time"
)

// RoofGOPS measures the peak arithmetic throughput of the calling core,
// in 10⁹ operations per second, for dtype "int8" or "f32", by running a
// register-resident loop for about d and keeping the best of several
// windows. A multiply-add counts as 2 operations: for int8 each
// uint8×int8 product, for f32 each lane of a multiply-add. The loop uses
// the instructions the implementation in use builds its kernels from
// (RoofLoop names them): on amd64 VPMADDUBSW→VPMADDWD→VPADDD chains for
// avx2, VPDPBUSD for avxvnni, VFMADD231PS for f32; for the portable
// implementation it is a Go loop shaped like the portable kernels, an
// estimate of what they could reach. It returns 0 for another dtype.
//
// It locks the goroutine to its thread while it runs.
func RoofGOPS(dtype string, d time.Duration) float64 {
	return RoofGOPSThreads(dtype, d, 1)
}

// RoofGOPSThreads is RoofGOPS over threads cores: each window runs the
// loop on threads OS threads at once, started together, and counts from
// the start to the last one's end, so a thread that waits for a core
// (another process, or two threads sharing one core) lowers the figure
// instead of being measured alone at another time.
func RoofGOPSThreads(dtype string, d time.Duration, threads int) float64 {
	r := roofLoop(dtype)
	if r.loop == nil {
		return 0
	}
	threads = max(threads, 1)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	n, el := roofCalibrate(r.loop, d)
	best := float64(n) / el.Seconds()

	// Workers 1..threads−1, each with its own start signal so every
	// window runs the loop exactly once per thread.
	start := make([]chan struct{}, threads-1)
	var done sync.WaitGroup
	for i := range start {
		start[i] = make(chan struct{})
		go func(c chan struct{}) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for range c {
				r.loop(n)
				done.Done()
			}
		}(start[i])
	}
	defer func() {
		for _, c := range start {
			close(c)
		}
	}()
	if threads > 1 {
		best = 0
	}
	for t := time.Now(); time.Since(t) < d || best == 0; {
		done.Add(threads - 1)
		t0 := time.Now()
		for _, c := range start {
			c <- struct{}{}
		}
		r.loop(n)
		done.Wait()
		if el := time.Since(t0); el > 0 {
			best = max(best, float64(threads)*float64(n)/el.Seconds())
		}
	}
	return best * r.ops / 1e9
}

// roofCalibrate grows the iteration count until one call of loop takes
// ~1 ms (or a tenth of d, when that is shorter), long enough for the
// timer and the call to vanish in it; it returns the count and the last
// call's time.
func roofCalibrate(loop func(n int), d time.Duration) (int, time.Duration) {
	window := min(time.Millisecond, max(d/10, 50*time.Microsecond))
	n := 1 << 10
	for {
		t0 := time.Now()
		loop(n)
		el := time.Since(t0)
		if el >= window || n >= 1<<30 {
			return n, max(el, 1)
		}
		next := float64(n) * 16
		if el > 0 {
			next = min(next, float64(n)*float64(window)/float64(el)*1.2+1)
		}
		n = int(min(next, 1<<30))
	}
}

// roofSink keeps the portable loops' results alive.
var roofSink struct {
	f float32
	i int64
}

// roofF32Go is the portable f32 loop: 8 independent accumulators, each
// step a product rounded to float32 then an add (no FMA, like
// gemmF32Generic), 16 FLOPs per iteration. The multiplier changes every
// iteration so the products cannot be hoisted out of the loop.
func roofF32Go(n int) {
	a0, a1, a2, a3, a4, a5, a6, a7 := float32(0), float32(0), float32(0), float32(0), float32(0), float32(0), float32(0), float32(0)
	x := float32(1e-3)
	for range n {
		a0 += float32(x * 0.5)
		a1 += float32(x * 0.25)
		a2 += float32(x * 0.125)
		a3 += float32(x * 0.75)
		a4 += float32(x * 1.5)
		a5 += float32(x * 1.25)
		a6 += float32(x * 1.125)
		a7 += float32(x * 1.75)
		x += 1e-9
	}
	roofSink.f = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7
}

// roofI8Go is the portable int8 loop: 8 independent 64-bit
// multiply-adds per iteration, each worth two int8 multiply-adds in the
// portable kernel's packed layout (swar.go): 32 ops per iteration.
func roofI8Go(n int) {
	var a0, a1, a2, a3, a4, a5, a6, a7 int64
	x := int64(3)
	for range n {
		a0 += x * (5 + 7<<32)
		a1 += x * (11 + 13<<32)
		a2 += x * (17 + 19<<32)
		a3 += x * (23 + 29<<32)
		a4 += x * (31 + 37<<32)
		a5 += x * (41 + 43<<32)
		a6 += x * (47 + 53<<32)
		a7 += x * (59 + 61<<32)
		x++
	}
	roofSink.i = a0 ^ a1 ^ a2 ^ a3 ^ a4 ^ a5 ^ a6 ^ a7
}

// RoofLoop names the instructions RoofGOPS times for dtype with the
// implementation in use, "" for an unknown dtype.
func RoofLoop(dtype string) string { return roofLoop(dtype).name }

// roof is one measuring loop: loop(n) runs n iterations of ops
// operations each.
type roof struct {
	name string
	loop func(n int)
	ops  float64
}

// roofGo returns the portable loop for dtype.
func roofGo(dtype string) roof {
	switch dtype {
	case "int8":
		return roof{"go int64 multiply-add (2 int8 MACs each)", roofI8Go, 32}
	case "f32":
		return roof{"go float32 multiply, add", roofF32Go, 16}
	}
	return roof{}
}
