package sdk_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/internal/fake"
	"github.com/edgerun/edgerun/sdk/sdktest"
)

// BenchmarkInfer measures one small Infer (one short text, three features)
// on the fake model: called in process; over the wire inside this process
// (sdktest.Serve: the direct channel; sdktest.ServeVersion 1: gRPC); and
// through a real plugin process (Open) with protocol version 2's direct
// channel (plugin) and with version 1's gRPC calls (plugin_grpc: AutoMTLS
// over a Unix socket). One caller at a time, then 8 at once. It reports p50
// and p99 latency and calls per second.
//
//	go test -run '^$' -bench Infer ./sdk
func BenchmarkInfer(b *testing.B) {
	models := []struct {
		name string
		open func(b *testing.B) sdk.Model
	}{
		{"in_process", func(*testing.B) sdk.Model { return &fake.Model{} }},
		{"channel_in_process", func(b *testing.B) sdk.Model { return sdktest.Serve(b, &fake.Model{}) }},
		{"grpc_in_process", func(b *testing.B) sdk.Model { return sdktest.ServeVersion(b, &fake.Model{}, 1) }},
		{"plugin", func(b *testing.B) sdk.Model { return openBench(b) }},
		{"plugin_grpc", func(b *testing.B) sdk.Model { return openBench(b, sdk.WithProtocolVersion(1)) }},
	}
	for _, m := range models {
		for _, callers := range []int{1, 8} {
			b.Run(m.name+"/callers="+string(rune('0'+callers)), func(b *testing.B) {
				model := m.open(b)
				ctx := context.Background()
				req := fake.Request("the battery lasts all day")
				if _, err := model.Infer(ctx, req); err != nil {
					b.Fatal(err)
				}
				lat := make([]time.Duration, b.N)
				var next int64
				var mu sync.Mutex
				b.ReportAllocs()
				b.ResetTimer()
				var wg sync.WaitGroup
				for range callers {
					wg.Go(func() {
						for {
							mu.Lock()
							i := next
							next++
							mu.Unlock()
							if i >= int64(b.N) {
								return
							}
							t0 := time.Now()
							if _, err := model.Infer(ctx, req); err != nil {
								b.Error(err)
								return
							}
							lat[i] = time.Since(t0)
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "infer/s")
			})
		}
	}
}

// openBench starts this test binary as the fake plugin.
func openBench(b *testing.B, opts ...sdk.Option) sdk.Model {
	bin, manifest := self(b)
	opts = append(append(sdktest.Emulated(), sdk.WithManifestFile(manifest), sdk.WithEnv(helperEnv+"=plugin"), sdk.WithLogger(discard)), opts...)
	p, err := sdk.Open(bin, opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close() })
	return p
}
