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

// BenchmarkCNNImage times the image recipe's CNN on 28×28 images (the
// Fashion-MNIST size): forward, backward and an Adam step over batches of
// 64 random images, as an epoch runs them; "recipe" is cnnDefaults'
// 16-32 filters, "32-64" the tutorials' width for comparison. µs/image
// is the clock per image (s/60k-epoch: the 60 000 images of a
// Fashion-MNIST epoch at that rate); cpu-µs/image the process's CPU time
// per image, which counts both cores when the work runs on two.
//
//	go test ./tools/train/tabular -run '^$' -bench CNNImage -benchtime 20x
func BenchmarkCNNImage(b *testing.B) {
	b.Run("recipe", func(b *testing.B) { benchCNN(b, cnnDefaults(28, 60000).Conv) })
	b.Run("32-64", func(b *testing.B) { benchCNN(b, []int{32, 64}) })
}

func benchCNN(b *testing.B, conv []int) {
	const side, batch = 28, 64
	rng := rand.New(rand.NewPCG(1, 2))
	h := cnnDefaults(side, 60000)
	layers, in, _ := cnnLayers(rng, side, conv)
	for _, n := range h.Hidden {
		layers = append(layers, train.NewDense(rng, in, n, train.ReLU))
		in = n
	}
	layers = append(layers, train.NewDense(rng, in, 10, train.Linear))
	m := train.NewSequential(layers...)
	x := make([]float64, batch*side*side)
	y := make([]float64, batch)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	for i := range y {
		y[i] = float64(i % 10)
	}
	d := &train.Table{X: x, F: side * side, Y: y}
	opt := train.NewAdam()
	cfg := train.Config{Epochs: 1, BatchSize: batch, LR: train.Constant(1e-3)}
	if _, err := train.Fit(m, train.SoftmaxCE{}, opt, d, nil, cfg); err != nil { // warm the buffers
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		cfg.Seed = uint64(i)
		if _, err := train.Fit(m, train.SoftmaxCE{}, opt, d, nil, cfg); err != nil {
			b.Fatal(err)
		}
	}
	us := float64(b.Elapsed().Microseconds()) / float64(b.N*batch)
	b.ReportMetric(us, "µs/image")
	b.ReportMetric(us*60000/1e6, "s/60k-epoch")
	if c := cpuTime() - cpu0; c > 0 {
		b.ReportMetric(float64(c.Microseconds())/float64(b.N*batch), "cpu-µs/image")
	}
}
