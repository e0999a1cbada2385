package pipeline

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
)

// BenchmarkMaintenanceExample runs the predictive-maintenance example's
// pipeline on its recording (data/maintenance: 8000 samples at 1000 Hz,
// 124 windows of 128, hop 64) as fast as it goes: CSV parsing, windows,
// the maintenance model (the .erm, in process) and the rule. windows/s
// is its throughput; ns/window what a window costs, against the hop's
// 64 ms budget at 1000 Hz. Run it on one thread:
//
//	go test -run '^$' -bench MaintenanceExample -cpu 1 -count 5 ./tools/edgerun/internal/pipeline
func BenchmarkMaintenanceExample(b *testing.B) {
	root := filepath.Join("..", "..", "..", "..")
	text := "sample_rate: 1000\n" +
		"source: {kind: csv, path: " + filepath.Join(root, "data", "maintenance", "recording.csv") + ", realtime: false}\n" +
		"window: {size: 128, hop: 64, channels: [vib_x, vib_y, current]}\n" +
		"model: {erm: " + filepath.Join(root, "plugins", "builtin", "maintenance", "model.erm") + "}\n" +
		"rule: {output: anomaly_score, threshold: {above: 0.5, clear_below: 0.3}, debounce: 2}\n" +
		"sinks: [{kind: stdout, on: change}]\n"
	cfg, err := Parse("bench.yaml", ".", []byte(text), NewKinds(Deps{Stdout: io.Discard}))
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	windows := uint64(0)
	for b.Loop() {
		ctx := context.Background()
		p, err := New(ctx, cfg, Options{Logger: log})
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Run(ctx); err != nil {
			b.Fatal(err)
		}
		st := p.Stats()
		p.Close()
		if st.Windows != 124 || st.Alarms != 1 {
			b.Fatalf("stats %+v", st)
		}
		windows += st.Windows
	}
	b.ReportMetric(float64(windows)/b.Elapsed().Seconds(), "windows/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(windows), "ns/window")
}
