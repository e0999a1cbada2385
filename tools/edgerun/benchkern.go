package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/kernelbench"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
)

// Defaults of the kernel measurements (bench --roof, --gemm).
const (
	defaultRoofTime = 500 * time.Millisecond // each dtype, with --roof
	defaultGemmTime = time.Second
)

// roofReport is the JSON form of bench --roof. Field names are part of
// the CLI's contract: add fields, never rename them.
type roofReport struct {
	Kernel   string  `json:"kernel"`
	GOOS     string  `json:"goos"`
	GOARCH   string  `json:"goarch"`
	NumCPU   int     `json:"num_cpu"`
	Threads  int     `json:"threads"`
	TimeMS   float64 `json:"time_ms"`   // measuring time per dtype
	Int8GOPS float64 `json:"int8_gops"` // 2 ops per uint8×int8 multiply-add
	F32GOPS  float64 `json:"f32_gops"`  // 2 FLOPs per f32 multiply-add lane
	Int8Loop string  `json:"int8_loop"` // the instructions measured
	F32Loop  string  `json:"f32_loop"`
}

// gemmReport is the JSON form of bench --gemm. Times are in nanoseconds
// per GEMM; for int8 they include the per-row activation quantization
// (also given alone in quantize_ns), not the dequantization.
type gemmReport struct {
	Kernel     string  `json:"kernel"`
	GOOS       string  `json:"goos"`
	GOARCH     string  `json:"goarch"`
	NumCPU     int     `json:"num_cpu"`
	DType      string  `json:"dtype"`
	M          int     `json:"m"`
	K          int     `json:"k"`
	N          int     `json:"n"`
	Threads    int     `json:"threads"`
	Parts      int     `json:"parts"`   // column ranges the N columns were split into
	Handoff    string  `json:"handoff"` // "spin" (workers wait spinning) or "park" (channel, as the engine's pool)
	Warmup     int     `json:"warmup"`
	Iters      int     `json:"iters"`
	MedianNS   float64 `json:"median_ns"`
	MinNS      float64 `json:"min_ns"`
	QuantizeNS float64 `json:"quantize_ns"` // median; 0 for f32
	GOPS       float64 `json:"gops"`        // 2·M·K·N / median
	RoofGOPS   float64 `json:"roof_gops"`   // measured in the same run, on Threads cores
	RoofLoop   string  `json:"roof_loop"`   // the instructions measured for it
	RoofPct    float64 `json:"roof_pct"`    // 100 · gops / roof_gops
}

// Validate checks the combinations kong cannot express: a model, or
// --roof, or --gemm, with the flags that go with each.
func (c *benchCmd) Validate() error {
	kernels := c.Roof || c.Gemm != ""
	switch {
	case !kernels && c.Model == "":
		return errors.New(`expected "<model>", --roof or --gemm`)
	case kernels && c.Model != "":
		return errors.New("--roof and --gemm measure the kernels, not a model: give no model")
	case c.DType != "" && c.Gemm == "":
		return errors.New("--dtype goes with --gemm")
	case c.DType != "" && c.DType != "int8" && c.DType != "f32":
		return fmt.Errorf("--dtype=%s: want int8 or f32", c.DType)
	case kernels && c.F32:
		return errors.New("--f32 goes with a model; use --dtype f32 with --gemm")
	case c.Roof && c.Iters != 0:
		return errors.New("--iters goes with a model or --gemm; --roof takes --time")
	case c.Park && c.Gemm == "":
		return errors.New("--park goes with --gemm")
	}
	if c.Gemm != "" {
		if _, err := parseGemmShape(c.Gemm); err != nil {
			return err
		}
	}
	return nil
}

// parseGemmShape parses "M,K,N".
func parseGemmShape(s string) ([3]int, error) {
	var d [3]int
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return d, fmt.Errorf("--gemm=%s: want M,K,N, three positive integers", s)
	}
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v < 1 {
			return d, fmt.Errorf("--gemm=%s: want M,K,N, three positive integers", s)
		}
		d[i] = v
	}
	return d, nil
}

// runKernels runs bench --roof or bench --gemm.
func (c *benchCmd) runKernels(env *cliutil.Env) error {
	operand := "--roof"
	if c.Gemm != "" {
		operand = "--gemm " + c.Gemm
	}
	fail := func(err error) error { return cliutil.OpError("bench", operand, err) }
	if err := c.checkRunFlags(); err != nil {
		return fail(err)
	}
	if c.Roof {
		d := c.Time
		if d == 0 {
			d = defaultRoofTime
		}
		r := &roofReport{
			Kernel: engine.Kernel(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, NumCPU: runtime.NumCPU(),
			Threads: c.Threads, TimeMS: float64(d.Microseconds()) / 1000,
			Int8GOPS: kernelbench.Roof("int8", d, c.Threads),
			F32GOPS:  kernelbench.Roof("f32", d, c.Threads),
			Int8Loop: kernelbench.RoofLoop("int8"), F32Loop: kernelbench.RoofLoop("f32"),
		}
		if c.JSON {
			return cliutil.WriteJSON(env.Stdout, r)
		}
		return r.writeText(env.Stdout)
	}

	shape, _ := parseGemmShape(c.Gemm) // checked by Validate
	dtype := c.DType
	if dtype == "" {
		dtype = "int8"
	}
	g, err := kernelbench.NewGemm(dtype, shape[0], shape[1], shape[2], c.Threads, c.Park)
	if err != nil {
		return fail(err)
	}
	total, quant := c.timeGemm(g)
	g.Close() // no spinning worker during the roof
	med := func(l *latencies) float64 { return float64(l.percentile(50).Nanoseconds()) }
	r := &gemmReport{
		Kernel: engine.Kernel(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, NumCPU: runtime.NumCPU(),
		DType: dtype, M: g.M, K: g.K, N: g.N, Threads: c.Threads, Parts: g.Parts(), Handoff: "spin",
		Warmup: c.Warmup, Iters: total.n,
		MedianNS: med(total), MinNS: float64(total.lo.Nanoseconds()),
	}
	if c.Park {
		r.Handoff = "park"
	}
	if dtype == "int8" {
		r.QuantizeNS = med(quant)
	}
	r.GOPS = g.Ops() / max(r.MedianNS, 1)
	// The roof right after the GEMMs, on as many cores, for a quarter of
	// the GEMMs' time (20 to 250 ms).
	budget := c.Time
	if budget == 0 {
		budget = defaultGemmTime
	}
	r.RoofGOPS = kernelbench.Roof(dtype, min(max(budget/4, 20*time.Millisecond), 250*time.Millisecond), c.Threads)
	r.RoofLoop = kernelbench.RoofLoop(dtype)
	if r.RoofGOPS > 0 {
		r.RoofPct = 100 * r.GOPS / r.RoofGOPS
	}
	if c.JSON {
		return cliutil.WriteJSON(env.Stdout, r)
	}
	return r.writeText(env.Stdout)
}

// timeGemm runs the warm-up, then times each GEMM on its own (--iters of
// them, or as many as fit in --time, whichever ends first): the whole
// operation, and for int8 the quantization alone, in constant memory.
func (c *benchCmd) timeGemm(g *kernelbench.Gemm) (total, quant *latencies) {
	for range c.Warmup {
		g.Run()
	}
	iters, budget := c.Iters, c.Time
	if iters == 0 && budget == 0 {
		budget = defaultGemmTime
	}
	total, quant = newLatencies(iters), newLatencies(iters)
	start := time.Now()
	for iters == 0 || total.n < iters {
		t0 := time.Now()
		g.Quantize()
		t1 := time.Now()
		g.Multiply()
		t2 := time.Now()
		total.add(t2.Sub(t0))
		quant.add(t1.Sub(t0))
		if budget > 0 && t2.Sub(start) >= budget {
			break
		}
	}
	return total, quant
}

func (r *roofReport) writeText(w io.Writer) error {
	var b bytes.Buffer
	tw := newTable(&b)
	fmt.Fprintf(tw, "kernel\t%s (%s/%s, %d CPUs)\n", r.Kernel, r.GOOS, r.GOARCH, r.NumCPU)
	fmt.Fprintf(tw, "threads\t%d, %s each\n", r.Threads, time.Duration(r.TimeMS*1e6))
	fmt.Fprintf(tw, "int8 roof\t%.1f GOPS (%s)\n", r.Int8GOPS, r.Int8Loop)
	fmt.Fprintf(tw, "f32 roof\t%.1f GFLOPS (%s)\n", r.F32GOPS, r.F32Loop)
	tw.Flush()
	_, err := w.Write(b.Bytes())
	return err
}

func (r *gemmReport) writeText(w io.Writer) error {
	var b bytes.Buffer
	tw := newTable(&b)
	fmt.Fprintf(tw, "kernel\t%s (%s/%s, %d CPUs)\n", r.Kernel, r.GOOS, r.GOARCH, r.NumCPU)
	fmt.Fprintf(tw, "gemm\t%s M=%d K=%d N=%d, %s (%s, handoff %s)\n", r.DType, r.M, r.K, r.N,
		plural(r.Threads, "thread", "threads"), plural(r.Parts, "column range", "column ranges"), r.Handoff)
	fmt.Fprintf(tw, "runs\t%d timed after %d warm-up\n", r.Iters, r.Warmup)
	q := ""
	if r.DType == "int8" {
		q = fmt.Sprintf(" (quantize %s of it)", usText(r.QuantizeNS/1000))
	}
	fmt.Fprintf(tw, "time\tmedian %s  min %s%s\n", usText(r.MedianNS/1000), usText(r.MinNS/1000), q)
	fmt.Fprintf(tw, "throughput\t%.1f GOPS\n", r.GOPS)
	fmt.Fprintf(tw, "roof\t%.1f GOPS (%s, %s)\n", r.RoofGOPS, plural(r.Threads, "thread", "threads"), r.RoofLoop)
	fmt.Fprintf(tw, "of roof\t%.0f%%\n", r.RoofPct)
	tw.Flush()
	_, err := w.Write(b.Bytes())
	return err
}
