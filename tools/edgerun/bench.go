package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
	"github.com/edgerun/edgerun/tools/internal/oip"
)

// benchCmd is the bench subcommand.
type benchCmd struct {
	Model       string        `arg:"" optional:"" name:"model" help:"Model file (.erm); none with --roof or --gemm."`
	Batch       int           `name:"batch" default:"1" help:"Rows per inference: the size of every dynamic first dimension."`
	Threads     int           `name:"threads" default:"1" help:"Goroutines one inference (or GEMM, or roof) may use."`
	Iters       int           `name:"iters" placeholder:"N" help:"Timed inferences or GEMMs (default: as many as fit in --time); with --time, whichever ends first."`
	Time        time.Duration `name:"time" placeholder:"D" help:"How long to time inferences for, e.g. 500ms or 10s (default 2s without --iters; GEMMs 1s; each roof 500ms)."`
	Warmup      int           `name:"warmup" default:"10" help:"Untimed inferences or GEMMs first (the first one plans the session's memory)."`
	F32         bool          `name:"f32" help:"Run int8 layers with their dequantized f32 weights (made at load: 4 bytes a weight more)."`
	TrustedKeys []string      `name:"trusted-key" sep:"none" placeholder:"PUB.pem" help:"Refuse the model unless it is signed by this public key (written by keygen); repeat for several."`
	JSON        bool          `name:"json" help:"Print one JSON object instead of a table."`
	Roof        bool          `name:"roof" xor:"kernels" help:"Measure the cores' peak int8 and f32 throughput (the roofline) instead of a model."`
	Gemm        string        `name:"gemm" xor:"kernels" placeholder:"M,K,N" help:"Time one M×K by K×N matrix product on random data instead of a model, against the measured roof."`
	DType       string        `name:"dtype" placeholder:"int8|f32" help:"Data type of --gemm (default int8: activations quantized per row, as the engine does, timed with the product)."`
	Park        bool          `name:"park" help:"With --gemm and --threads: hand work to the threads through a channel, as the engine's pool does, instead of spinning workers."`
}

// defaultBenchTime is how long bench times inferences without --iters or
// --time.
const defaultBenchTime = 2 * time.Second

// maxBenchElements bounds the size of one random input tensor.
const maxBenchElements = 1 << 28

// maxLatencySamples bounds the latencies bench keeps for its
// percentiles: beyond it, a uniform random sample of them (a reservoir),
// so that memory does not grow with --iters or --time.
const maxLatencySamples = 1 << 16

// latencies summarises timed runs in constant memory: count, total,
// minimum and maximum exactly, percentiles over every latency up to
// maxLatencySamples runs and over a uniform sample of them beyond.
type latencies struct {
	n      int
	total  time.Duration
	lo, hi time.Duration
	sample []time.Duration // allocated up front: add never allocates
	rng    *rand.Rand
}

// newLatencies prepares for iters runs, or an unknown number when 0.
func newLatencies(iters int) *latencies {
	size := maxLatencySamples
	if iters > 0 {
		size = min(iters, size)
	}
	return &latencies{sample: make([]time.Duration, 0, size), rng: rand.New(rand.NewPCG(3, 4))}
}

func (l *latencies) add(d time.Duration) {
	if l.n == 0 || d < l.lo {
		l.lo = d
	}
	l.hi = max(l.hi, d)
	l.total += d
	l.n++
	if len(l.sample) < cap(l.sample) {
		l.sample = append(l.sample, d)
		return
	}
	if j := l.rng.Int64N(int64(l.n)); j < int64(len(l.sample)) {
		l.sample[j] = d // Algorithm R: each run is kept with probability len/n
	}
}

// percentile is the nearest-rank p-th percentile of the sample (of every
// run up to maxLatencySamples runs). It sorts the sample.
func (l *latencies) percentile(p float64) time.Duration {
	slices.Sort(l.sample)
	return percentile(l.sample, p)
}

// benchReport is the JSON form of bench. Field names are part of the
// CLI's contract: add fields, never rename them. Latencies are in
// microseconds.
type benchReport struct {
	Model          string      `json:"model"`
	Kernel         string      `json:"kernel"`
	GOOS           string      `json:"goos"`
	GOARCH         string      `json:"goarch"`
	NumCPU         int         `json:"num_cpu"`
	Weights        string      `json:"weights"` // "f32", "int8", or "int8-as-f32" with --f32
	Inputs         []valueJSON `json:"inputs"`  // the shapes benchmarked
	Batch          int         `json:"batch"`
	Threads        int         `json:"threads"`
	Warmup         int         `json:"warmup"`
	Iters          int         `json:"iters"`
	LatencySamples int         `json:"latency_samples"` // latencies the percentiles are of: every run, or a uniform sample of 65536
	LoadMS         float64     `json:"load_ms"`
	MeanUS         float64     `json:"mean_us"`
	MinUS          float64     `json:"min_us"`
	P50US          float64     `json:"p50_us"`
	P90US          float64     `json:"p90_us"`
	P99US          float64     `json:"p99_us"`
	MaxUS          float64     `json:"max_us"`
	ThroughputPerS float64     `json:"throughput_per_s"` // batch rows per second
	AllocsPerRun   float64     `json:"allocs_per_run"`
	BytesPerRun    float64     `json:"bytes_per_run"`
	PeakRSSBytes   int64       `json:"peak_rss_bytes"` // VmHWM on Linux, 0 elsewhere
}

// Run loads the model, runs it on random inputs and reports the figures.
func (c *benchCmd) Run(env *cliutil.Env) error {
	if c.Model == "" { // Validate: --roof or --gemm
		return c.runKernels(env)
	}
	fail := func(err error) error { return cliutil.OpError("bench", c.Model, err) }
	if c.Batch < 1 {
		return fail(fmt.Errorf("--batch=%d: need at least 1", c.Batch))
	}
	if err := c.checkRunFlags(); err != nil {
		return fail(err)
	}

	readOpts, err := trustedKeyOptions(c.TrustedKeys)
	if err != nil {
		return fail(err)
	}
	start := time.Now()
	m, bounds, weights, err := loadForBench(c.Model, c.F32, readOpts...)
	if err != nil {
		return fail(err)
	}
	load := time.Since(start)
	if c.F32 && weights == "int8" {
		weights = "int8-as-f32"
	}

	inputs, err := benchInputs(m, bounds, c.Batch)
	if err != nil {
		return fail(err)
	}
	opts := []engine.Option{engine.WithThreads(c.Threads)}
	if c.F32 {
		opts = append(opts, engine.WithF32())
	}
	s := m.NewSession(opts...)
	defer s.Close()
	lat, allocs, bytesAlloc, err := c.measure(s, inputs)
	if err != nil {
		return fail(err)
	}
	n := lat.n

	r := &benchReport{
		Model: c.Model, Kernel: engine.Kernel(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, NumCPU: runtime.NumCPU(),
		Weights: weights, Batch: c.Batch, Threads: c.Threads, Warmup: c.Warmup, Iters: n, LatencySamples: len(lat.sample),
		LoadMS:       float64(load.Microseconds()) / 1000,
		AllocsPerRun: float64(allocs) / float64(n),
		BytesPerRun:  float64(bytesAlloc) / float64(n),
		PeakRSSBytes: peakRSS(),
	}
	for i, t := range inputs {
		shape := make([]int64, len(t.Shape))
		for j, d := range t.Shape {
			shape[j] = int64(d)
		}
		r.Inputs = append(r.Inputs, valueJSON{Name: m.Inputs[i].Name, DType: t.DType.String(), Shape: shape})
	}
	if len(inputs) > 0 && len(inputs[0].Shape) > 0 {
		r.Batch = inputs[0].Shape[0] // a model with a fixed first dimension
	}
	total := lat.total
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }
	r.MeanUS = us(total) / float64(n)
	r.MinUS, r.MaxUS = us(lat.lo), us(lat.hi)
	r.P50US, r.P90US, r.P99US = us(lat.percentile(50)), us(lat.percentile(90)), us(lat.percentile(99))
	if total > 0 {
		r.ThroughputPerS = float64(r.Batch) * float64(n) / total.Seconds()
	}
	if c.JSON {
		return cliutil.WriteJSON(env.Stdout, r)
	}
	return r.writeText(env.Stdout)
}

// loadForBench reads, verifies and loads a model like engine.LoadFile,
// and also returns what bench needs from the file's graph: the id bounds
// of inputs that index embedding tables, and the weight kind. The decoded
// tensors become the model's weights (held once); with f32 the model also
// keeps int8 weights dequantized, for the --f32 session.
func loadForBench(path string, f32 bool, readOpts ...format.Option) (*engine.Model, map[string]int64, string, error) {
	fm, err := format.ReadFile(path, readOpts...)
	if err != nil {
		return nil, nil, "", err
	}
	opts := []engine.LoadOption{engine.TakeTensorData()}
	if f32 {
		opts = append(opts, engine.WithF32Weights())
	}
	m, err := engine.Load(fm, opts...)
	if err != nil {
		return nil, nil, "", err
	}
	return m, idBounds(fm), weightKind(fm), nil
}

// measure warms the session up, then times each Run on its own, until
// --iters runs or --time (whichever ends first). It returns the
// latencies and the heap allocations (count and bytes) the timed runs
// made; the latencies are kept in constant memory, allocated before.
func (c *benchCmd) measure(s *engine.Session, inputs []*tensor.Tensor) (lat *latencies, allocs, bytesAlloc uint64, err error) {
	// Collect the load's garbage now: a collection also empties the
	// runtime's caches (of goroutine wait records, for one), which the
	// warm-up then refills, so that they are not counted as the model's
	// allocations.
	runtime.GC()
	for range c.Warmup {
		if _, err := s.Run(inputs); err != nil {
			return nil, 0, 0, err
		}
	}
	iters, budget := c.Iters, c.Time
	if iters == 0 && budget == 0 {
		budget = defaultBenchTime
	}
	lat = newLatencies(iters)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	for iters == 0 || lat.n < iters {
		t0 := time.Now()
		if _, err := s.Run(inputs); err != nil {
			return nil, 0, 0, err
		}
		lat.add(time.Since(t0))
		if budget > 0 && time.Since(start) >= budget {
			break
		}
	}
	runtime.ReadMemStats(&after)
	return lat, after.Mallocs - before.Mallocs, after.TotalAlloc - before.TotalAlloc, nil
}

// percentile is the nearest-rank p-th percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// idBounds finds, for each graph input that feeds an Embedding directly,
// the number of rows of the smallest such table: ids below it are valid.
func idBounds(fm *format.Model) map[string]int64 {
	rows := map[string]int64{}
	for i := range fm.Tensors {
		if t := &fm.Tensors[i]; len(t.Shape) > 0 {
			rows[t.Name] = t.Shape[0]
		}
	}
	bounds := map[string]int64{}
	for i := range fm.Graph.Nodes {
		n := &fm.Graph.Nodes[i]
		if n.Op != "Embedding" || len(n.Inputs) < 2 {
			continue
		}
		r, ok := rows[n.Inputs[1]]
		if !ok {
			continue
		}
		if b, seen := bounds[n.Inputs[0]]; !seen || r < b {
			bounds[n.Inputs[0]] = r
		}
	}
	return bounds
}

// weightKind says whether the model's weights are int8 or f32.
func weightKind(fm *format.Model) string {
	for i := range fm.Tensors {
		if fm.Tensors[i].DType == format.I8 {
			return "int8"
		}
	}
	return "f32"
}

// benchInputs makes random inputs for every model input: f32 values from
// a standard normal distribution, integer ids uniform below the
// embedding table they index (at most 1000), or the tokenizer's vocabulary
// size, or 2. A dynamic first dimension is the batch, any other dynamic
// dimension the tokenizer's max_len, or 16.
func benchInputs(m *engine.Model, bounds map[string]int64, batch int) ([]*tensor.Tensor, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	seq := 16
	if tk := m.Meta.Tokenizer; tk != nil && tk.MaxLen > 0 && tk.MaxLen <= maxBenchElements {
		seq = int(tk.MaxLen)
	}
	out := make([]*tensor.Tensor, len(m.Inputs))
	for i, in := range m.Inputs {
		shape := make(tensor.Shape, len(in.Shape))
		for j, d := range in.Shape {
			switch {
			case d == -1 && j == 0:
				d = batch
			case d == -1:
				d = seq
			}
			shape[j] = d
		}
		n := 1
		for _, d := range shape {
			if d > 0 && n > maxBenchElements/d {
				return nil, fmt.Errorf("input %q: shape %s is too large to benchmark", in.Name, intShapeText(shape))
			}
			n *= d
		}
		bound := bounds[in.Name]
		if bound <= 0 {
			bound = 2
			if tk := m.Meta.Tokenizer; tk != nil && len(tk.Vocab) > 0 {
				bound = int64(len(tk.Vocab))
			}
		}
		bound = min(bound, 1000)
		t := &tensor.Tensor{DType: in.DType, Shape: shape}
		switch in.DType {
		case tensor.F32:
			t.F32 = make([]float32, n)
			for k := range t.F32 {
				t.F32[k] = float32(rng.NormFloat64())
			}
		case tensor.I64:
			t.I64 = make([]int64, n)
			for k := range t.I64 {
				t.I64[k] = rng.Int64N(bound)
			}
		case tensor.I32:
			t.I32 = make([]int32, n)
			for k := range t.I32 {
				t.I32[k] = int32(rng.Int64N(bound))
			}
		case tensor.I8:
			t.I8 = make([]int8, n)
		case tensor.U8:
			t.U8 = make([]uint8, n)
		default:
			return nil, fmt.Errorf("input %q is %s, which bench cannot feed", in.Name, in.DType)
		}
		out[i] = t
	}
	return out, nil
}

// peakRSS is the process's peak resident set size (VmHWM) on Linux, 0
// where /proc/self/status is not available.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0
		}
		return kb * 1024
	}
	return 0
}

func (r *benchReport) writeText(w io.Writer) error {
	var b bytes.Buffer
	tw := newTable(&b)
	fmt.Fprintf(tw, "model\t%s\n", text(r.Model))
	fmt.Fprintf(tw, "kernel\t%s (%s/%s, %d CPUs)\n", r.Kernel, r.GOOS, r.GOARCH, r.NumCPU)
	fmt.Fprintf(tw, "weights\t%s\n", r.Weights)
	for i, in := range r.Inputs {
		label := ""
		if i == 0 {
			label = "inputs"
		}
		fmt.Fprintf(tw, "%s\t%s %s %s\n", label, text(in.Name), in.DType, oip.ShapeText(in.Shape))
	}
	fmt.Fprintf(tw, "batch\t%d, %s\n", r.Batch, plural(r.Threads, "thread", "threads"))
	fmt.Fprintf(tw, "runs\t%d timed after %d warm-up\n", r.Iters, r.Warmup)
	fmt.Fprintf(tw, "load\t%.2f ms\n", r.LoadMS)
	fmt.Fprintf(tw, "latency\tp50 %s  p90 %s  p99 %s  mean %s\n", usText(r.P50US), usText(r.P90US), usText(r.P99US), usText(r.MeanUS))
	fmt.Fprintf(tw, "throughput\t%.0f rows/s\n", r.ThroughputPerS)
	fmt.Fprintf(tw, "allocs/run\t%s (%s B)\n", strconv.FormatFloat(r.AllocsPerRun, 'g', 3, 64), strconv.FormatFloat(math.Round(r.BytesPerRun), 'f', -1, 64))
	rss := "n/a"
	if r.PeakRSSBytes > 0 {
		rss = fmt.Sprintf("%.1f MiB", float64(r.PeakRSSBytes)/(1<<20))
	}
	fmt.Fprintf(tw, "peak RSS\t%s\n", rss)
	tw.Flush()
	_, err := w.Write(b.Bytes())
	return err
}

// usText prints microseconds with a unit that keeps 3 or 4 digits.
func usText(us float64) string {
	switch {
	case us < 1000:
		return strconv.FormatFloat(us, 'f', 1, 64) + " µs"
	case us < 1e6:
		return strconv.FormatFloat(us/1000, 'f', 2, 64) + " ms"
	}
	return strconv.FormatFloat(us/1e6, 'f', 2, 64) + " s"
}

// checkRunFlags checks the flags every kind of bench run shares.
func (c *benchCmd) checkRunFlags() error {
	switch {
	case c.Threads < 1:
		return fmt.Errorf("--threads=%d: need at least 1", c.Threads)
	case c.Iters < 0:
		return fmt.Errorf("--iters=%d: need at least 1", c.Iters)
	case c.Time < 0:
		return fmt.Errorf("--time=%s: need a positive duration", c.Time)
	case c.Warmup < 0:
		return fmt.Errorf("--warmup=%d: need 0 or more", c.Warmup)
	}
	return nil
}
