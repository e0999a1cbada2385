package builtin_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/edgerun/edgerun/plugins/builtin"
	"github.com/edgerun/edgerun/sdk"
)

// pluginEnv makes this test binary serve one built-in domain as a real
// plugin process (go-plugin's re-exec pattern).
const pluginEnv = "EDGERUN_BUILTIN_TEST_PLUGIN"

func TestMain(m *testing.M) {
	if domain := os.Getenv(pluginEnv); domain != "" {
		model, err := builtin.New(domain)
		if err != nil {
			panic(err)
		}
		sdk.Serve(model)
	}
	os.Exit(m.Run())
}

// BenchmarkSentimentRoundTrip measures one sentence through the sentiment
// plugin: in process, as a plugin process over version 2's direct channel,
// and over version 1's gRPC. It reports p50 and p99 latency; the overhead of
// a plugin is its p50 minus in-process p50.
//
//	go test -run '^$' -bench RoundTrip ./plugins/builtin
func BenchmarkSentimentRoundTrip(b *testing.B) {
	req := &sdk.InferRequest{Inputs: []sdk.Tensor{{Name: "text", Datatype: sdk.BYTES, Shape: []int64{1},
		BYTES: [][]byte{[]byte("The food was delicious and the staff were friendly.")}}}}
	open := func(b *testing.B, opts ...sdk.Option) sdk.Model {
		bin, err := os.Executable()
		if err != nil {
			b.Fatal(err)
		}
		opts = append([]sdk.Option{sdk.WithoutVerification(), sdk.WithEnv(pluginEnv + "=sentiment"),
			sdk.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
		p, err := sdk.Open(bin, opts...)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = p.Close() })
		return p
	}
	for _, c := range []struct {
		name string
		open func(b *testing.B) sdk.Model
	}{
		{"in_process", func(b *testing.B) sdk.Model {
			m, err := builtin.New("sentiment")
			if err != nil {
				b.Fatal(err)
			}
			return m
		}},
		{"plugin", func(b *testing.B) sdk.Model { return open(b) }},
		{"plugin_grpc", func(b *testing.B) sdk.Model { return open(b, sdk.WithProtocolVersion(1)) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			m := c.open(b)
			ctx := context.Background()
			if _, err := m.Infer(ctx, req); err != nil {
				b.Fatal(err)
			}
			lat := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				if _, err := m.Infer(ctx, req); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
		})
	}
}
