package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/runtime/engine"
)

// These tests run no subtest in parallel: allocs_per_run counts every
// allocation of the process while bench times its runs.

func benchJSON(t *testing.T, args ...string) benchReport {
	t.Helper()
	r := runArgs(append([]string{"bench", "--json"}, args...)...)
	r.wantOK(t)
	var b benchReport
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	return b
}

// checkSane checks the figures that hold for any run.
func checkSane(t *testing.T, b benchReport, batch, threads, iters int) {
	t.Helper()
	if b.Batch != batch || b.Threads != threads || (iters > 0 && b.Iters != iters) || b.Iters < 1 {
		t.Errorf("batch %d, threads %d, iters %d; want %d, %d, %d", b.Batch, b.Threads, b.Iters, batch, threads, iters)
	}
	if !(0 < b.MinUS && b.MinUS <= b.P50US && b.P50US <= b.P90US && b.P90US <= b.P99US && b.P99US <= b.MaxUS) {
		t.Errorf("latencies out of order: min %v p50 %v p90 %v p99 %v max %v", b.MinUS, b.P50US, b.P90US, b.P99US, b.MaxUS)
	}
	if !(b.MinUS <= b.MeanUS && b.MeanUS <= b.MaxUS) {
		t.Errorf("mean %v outside [%v, %v]", b.MeanUS, b.MinUS, b.MaxUS)
	}
	if want := float64(batch) / (b.MeanUS / 1e6); b.ThroughputPerS <= 0 || b.ThroughputPerS < want*0.999 || b.ThroughputPerS > want*1.001 {
		t.Errorf("throughput %v rows/s, want batch/mean = %v", b.ThroughputPerS, want)
	}
	if b.LoadMS <= 0 {
		t.Errorf("load_ms %v", b.LoadMS)
	}
	// The engine allocates nothing per run (runtime/engine's AllocsPerRun
	// tests assert the zero in process); bench counts the whole process,
	// so the Go runtime's own allocations (the race detector's, wait
	// records, GC workers) may show up. The bounds leave them a wide
	// margin yet fail an engine that allocates a row or an activation
	// buffer per run: 64 rows, or the 64×394 floats (100 KB) of
	// TestBenchMLP's batch-64 activations.
	if b.AllocsPerRun < 0 || b.AllocsPerRun >= 64 || b.BytesPerRun < 0 || b.BytesPerRun >= 64<<10 ||
		b.BytesPerRun > 0 && b.AllocsPerRun == 0 {
		t.Errorf("allocs_per_run %v, bytes_per_run %v: want a few allocations at most", b.AllocsPerRun, b.BytesPerRun)
	}
	if b.Kernel != engine.Kernel() || b.GOOS != runtime.GOOS || b.GOARCH != runtime.GOARCH || b.NumCPU < 1 {
		t.Errorf("kernel %q, platform %s/%s, %d CPUs", b.Kernel, b.GOOS, b.GOARCH, b.NumCPU)
	}
	if runtime.GOOS == "linux" && b.PeakRSSBytes < 1<<20 || runtime.GOOS != "linux" && b.PeakRSSBytes < 0 {
		t.Errorf("peak_rss_bytes %d", b.PeakRSSBytes)
	}
}

func TestBenchMLP(t *testing.T) {
	path, _ := archModel(t, "mlp:64-256-128-10", true)
	for _, tc := range []struct{ batch, threads int }{{1, 1}, {64, 2}} {
		t.Run(fmt.Sprintf("batch=%d,threads=%d", tc.batch, tc.threads), func(t *testing.T) {
			b := benchJSON(t, path, "--iters", "5", "--batch", fmt.Sprint(tc.batch), "--threads", fmt.Sprint(tc.threads))
			checkSane(t, b, tc.batch, tc.threads, 5)
			// bench counts the whole process's allocations, so the Go
			// runtime's own (wait records when goroutines block, the race
			// detector's bookkeeping, GC workers on a loaded machine) show
			// up in its figure; the engine's zero is asserted exactly, in
			// process, by runtime/engine's AllocsPerRun tests, so nothing
			// here depends on how busy the machine is.
			if b.Weights != "int8" || b.Warmup != 10 || b.Model != path {
				t.Errorf("weights %q, warmup %d, model %q", b.Weights, b.Warmup, b.Model)
			}
			if len(b.Inputs) != 1 || b.Inputs[0].Name != "x" || b.Inputs[0].DType != "f32" || !slices.Equal(b.Inputs[0].Shape, []int64{int64(tc.batch), 64}) {
				t.Errorf("inputs %+v", b.Inputs)
			}
		})
	}

	t.Run("time", func(t *testing.T) {
		b := benchJSON(t, path, "--time", "50ms", "--warmup", "2", "--f32")
		checkSane(t, b, 1, 1, 0)
		if b.Weights != "int8-as-f32" || b.Warmup != 2 {
			t.Errorf("weights %q, warmup %d", b.Weights, b.Warmup)
		}
	})

	t.Run("no warm-up", func(t *testing.T) {
		// The first run plans the session's memory: it allocates.
		b := benchJSON(t, path, "--iters", "3", "--warmup", "0")
		checkSane(t, b, 1, 1, 3)
		if b.AllocsPerRun == 0 {
			t.Error("allocs_per_run 0 although the first timed run planned the session")
		}
	})

	t.Run("text", func(t *testing.T) {
		r := runArgs("bench", path, "--iters", "5", "--batch", "4")
		r.wantOK(t)
		for _, want := range []string{
			"model       " + path + "\n",
			"kernel      " + engine.Kernel() + " (",
			"weights     int8\n",
			"inputs      x f32 [4,64]\n",
			"batch       4, 1 thread\n",
			"runs        5 timed after 10 warm-up\n",
			"load        ",
			"latency     p50 ",
			" p90 ",
			" p99 ",
			" mean ",
			"throughput  ",
			"peak RSS    ",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("bench output lacks %q:\n%s", want, r.stdout)
			}
		}
		// The figure counts the whole process's allocations (see
		// TestBenchMLP), so only its form is checked here.
		if !regexp.MustCompile(`(?m)^allocs/run  [0-9.e+]+ \([0-9]+ B\)$`).MatchString(r.stdout) {
			t.Errorf("bench output lacks its allocs/run line:\n%s", r.stdout)
		}
	})
}

func TestBenchEveryArchitecture(t *testing.T) {
	for _, spec := range archSpecs {
		t.Run(spec, func(t *testing.T) {
			path, fm := archModel(t, spec, true)
			b := benchJSON(t, path, "--iters", "3", "--warmup", "2", "--batch", "3")
			checkSane(t, b, 3, 1, 3)
			// Dynamic dimensions: the batch first, then the tokenizer's
			// max_len.
			for i, in := range b.Inputs {
				want := slices.Clone(fm.Graph.Inputs[i].Shape)
				for j, d := range want {
					if d == -1 && j == 0 {
						want[j] = 3
					} else if d == -1 {
						want[j] = fm.Metadata.Tokenizer.MaxLen
					}
				}
				if !slices.Equal(in.Shape, want) {
					t.Errorf("input %s shape %v, want %v", in.Name, in.Shape, want)
				}
			}
		})
	}
}

func TestBenchErrors(t *testing.T) {
	path, _ := archModel(t, "mlp:4-8-2", false)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--batch", "0"}, 1, "edgerun: bench " + path + ": --batch=0: need at least 1"},
		{[]string{"--threads=-1"}, 1, "edgerun: bench " + path + ": --threads=-1: need at least 1"},
		{[]string{"--iters=-5"}, 1, "edgerun: bench " + path + ": --iters=-5: need at least 1"},
		{[]string{"--warmup=-1"}, 1, "edgerun: bench " + path + ": --warmup=-1: need 0 or more"},
		{[]string{"--time=-1s"}, 1, "edgerun: bench " + path + ": --time=-1s: need a positive duration"},
		{[]string{"--time", "soon"}, 2, "edgerun: --time: "},
		{[]string{"--batch", "1000000000"}, 1, "edgerun: bench " + path + `: input "x": shape [1000000000,4] is too large to benchmark`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			runArgs(append([]string{"bench", path}, tc.args...)...).wantFail(t, tc.code, tc.want)
		})
	}
	runArgs("bench", path+".missing").wantFail(t, 1, "edgerun: bench "+path+".missing: open: no such file or directory")
	runArgs("bench").wantFail(t, 2, `edgerun: bench: expected "<model>", --roof or --gemm`)
}
