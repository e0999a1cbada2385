//go:build unix

package serve

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/edgerun/edgerun/sdk"
)

// BenchmarkBatcher compares one-row requests from 64 goroutines (and
// from 1) through the batcher (MaxBatch 16, 32, 64; 1 ms) and straight to
// the model (max_batch=1), an int8 MLP of the digits model's size
// (64-256-128-10) loaded from an .erm and served by sdkrt, as the daemon
// does. Besides ns/op it reports cpu-ns/op, the process's CPU time (user
// and system) per request: how much work a request costs, whatever the
// idle time; and rows/run, the mean batch. Each client's context can
// end, as a server's requests' do.
//
//	go test -run '^$' -bench Batcher -benchmem -cpu 2 -count 5 ./tools/edgerun/internal/serve
func BenchmarkBatcher(b *testing.B) {
	m := mlpModel(b, "mlp:64-256-128-10", true)
	for _, clients := range []int{64, 1} {
		for _, maxBatch := range []int{1, 16, 32, 64} {
			b.Run(fmt.Sprintf("clients=%d/max_batch=%d", clients, maxBatch), func(b *testing.B) {
				infer := m.Infer
				var runs, rows atomic.Int64
				if maxBatch > 1 {
					bt := NewBatcher(m.Infer, ModelLimits{MaxBatch: maxBatch, MaxQueueDelay: time.Millisecond})
					bt.OnBatch = func(r, _ int) { runs.Add(1); rows.Add(int64(r)) }
					defer bt.Close()
					infer = bt.Infer
					defer func() { b.ReportMetric(float64(rows.Load())/float64(max(runs.Load(), 1)), "rows/run") }()
				}
				procs := max(1, runtime.GOMAXPROCS(0))
				b.SetParallelism(max(1, clients/procs))
				if clients < procs {
					// RunParallel starts at least GOMAXPROCS goroutines:
					// all but one have nothing to do.
					b.SetParallelism(1)
				}
				var seed, started atomic.Uint64
				cpu0 := cpuTime()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					if started.Add(1) > uint64(clients) {
						return // the others take every iteration
					}
					rng := rand.New(rand.NewPCG(seed.Add(1), 2))
					req := rowsRequest(rng, "", 1, 64)
					// A context that can end, as a server's requests have.
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					for pb.Next() {
						if _, err := infer(ctx, req); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.StopTimer()
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// cpuTime is the process's CPU time so far, user and system, in ns.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkModelRows is the floor under BenchmarkBatcher: one goroutine
// running the same model on requests of 1 to 64 rows; ns/row is what a
// batch of that size costs each of its requests.
func BenchmarkModelRows(b *testing.B) {
	m := mlpModel(b, "mlp:64-256-128-10", true)
	for _, rows := range []int{1, 16, 32, 64} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			req := rowsRequest(rand.New(rand.NewPCG(1, 2)), "", rows, 64)
			for b.Loop() {
				if _, err := m.Infer(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed())/float64(b.N*rows), "ns/row")
		})
	}
}

// BenchmarkTimer is the floor under a lone request's wait: a timer of
// MaxQueueDelay (1 ms), as the runtime delivers it on this machine.
func BenchmarkTimer(b *testing.B) {
	for b.Loop() {
		<-time.NewTimer(time.Millisecond).C
	}
}

// BenchmarkBatcherOverhead is the batcher's own cost per request: 64
// clients of one row through MaxBatch 32 to a model that does nothing
// but answer one value per row (cpu-ns/op is then key, queue, wake-up,
// concat, split and the garbage they leave).
func BenchmarkBatcherOverhead(b *testing.B) {
	null := func(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error) {
		rows := req.Inputs[0].Shape[0]
		return &sdk.InferResponse{Outputs: []sdk.Tensor{{Name: "y", Datatype: sdk.FP32, Shape: []int64{rows}, FP32: make([]float32, rows)}}}, nil
	}
	bt := NewBatcher(null, ModelLimits{MaxBatch: 32, MaxQueueDelay: time.Millisecond})
	defer bt.Close()
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	var seed atomic.Uint64
	cpu0 := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req := rowsRequest(rand.New(rand.NewPCG(seed.Add(1), 2)), "", 1, 64)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		for pb.Next() {
			if _, err := bt.Infer(ctx, req); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}
