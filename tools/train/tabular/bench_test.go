package tabular

import (
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/edgerun/edgerun/tools/train"
	"github.com/edgerun/edgerun/tools/train/csvdata"
)

// BenchmarkDigitsEpoch times one training epoch of the digits MLP
// 64-256-128-10 (ReLU, softmax cross-entropy, Adam) over the 1437
// training rows in batches of 32: the figure compared with PyTorch's
// 44 ms per epoch on one thread (issue 5). cpu-ms/epoch is the process's
// CPU time per epoch, steadier than the clock on a busy host; with -cpu 1
// the GC shares the one thread, as PyTorch's allocator does.
//
//	go test ./tools/train/tabular -run '^$' -bench DigitsEpoch -cpu 1
func BenchmarkDigitsEpoch(b *testing.B) {
	dir := "../../../data/image/digits_8x8"
	tbl, err := csvdata.Read(filepath.Join(dir, "digits_8x8.csv"), false)
	if err != nil {
		b.Fatal(err)
	}
	test, err := train.ReadTestRows(filepath.Join(dir, "test_rows.txt"))
	if err != nil {
		b.Fatal(err)
	}
	col, _ := tbl.Col("label")
	g, err := csvdata.FitTarget(tbl, col, tbl.AllRows())
	if err != nil {
		b.Fatal(err)
	}
	var rows []int
	for i, idx := range tbl.Index {
		if !test[idx] {
			rows = append(rows, i)
		}
	}
	rows, y, _, err := g.Values(tbl, rows, false)
	if err != nil {
		b.Fatal(err)
	}
	var fcols []int
	for i := range tbl.Header {
		if i != col {
			fcols = append(fcols, i)
		}
	}
	prep := csvdata.FitPrep(tbl, fcols, rows)
	if err := imageNorm(prep, tbl, rows); err != nil {
		b.Fatal(err)
	}
	mean, std := prep.Norm()
	d := encode(tbl, prep, rows, y).table(prep.Width, mean, std)
	if d.Len() != 1437 {
		b.Fatalf("%d training rows, want 1437", d.Len())
	}
	rng := rand.New(rand.NewPCG(1, 2))
	m := train.NewSequential(train.NewDense(rng, 64, 256, train.ReLU), train.NewDense(rng, 256, 128, train.ReLU), train.NewDense(rng, 128, 10, train.Linear))
	opt := train.NewAdam()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := train.Fit(m, train.SoftmaxCE{}, opt, d, nil, train.Config{Epochs: 1, BatchSize: 32, Seed: uint64(i), LR: train.Constant(1e-3), Metric: train.Accuracy}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/epoch")
	if c := cpuTime() - cpu0; c > 0 {
		b.ReportMetric(float64(c.Microseconds())/1000/float64(b.N), "cpu-ms/epoch")
	}
}
