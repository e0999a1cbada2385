package main

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/runtime/engine"
)

// decodeStrict decodes one JSON object, refusing fields the report type
// does not have.
func decodeStrict(t *testing.T, s string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
}

func TestBenchRoof(t *testing.T) {
	for _, threads := range []int{1, 2} {
		t.Run(fmt.Sprint("threads=", threads), func(t *testing.T) {
			r := runArgs("bench", "--roof", "--json", "--time", "20ms", "--threads", fmt.Sprint(threads))
			r.wantOK(t)
			var b roofReport
			decodeStrict(t, r.stdout, &b)
			if b.Threads != threads || b.TimeMS != 20 || b.Kernel != engine.Kernel() || b.GOOS != runtime.GOOS || b.GOARCH != runtime.GOARCH || b.NumCPU < 1 {
				t.Errorf("report %+v", b)
			}
			if !(b.Int8GOPS > 0) || !(b.F32GOPS > 0) || b.Int8Loop == "" || b.F32Loop == "" {
				t.Errorf("roofs: int8 %v (%q), f32 %v (%q)", b.Int8GOPS, b.Int8Loop, b.F32GOPS, b.F32Loop)
			}
		})
	}
	t.Run("text", func(t *testing.T) {
		r := runArgs("bench", "--roof", "--time", "5ms")
		r.wantOK(t)
		for _, want := range []string{
			"kernel     " + engine.Kernel() + " (",
			"threads    1, 5ms each\n",
			"int8 roof  ",
			" GOPS (",
			"f32 roof   ",
			" GFLOPS (",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("bench --roof output lacks %q:\n%s", want, r.stdout)
			}
		}
	})
}

// checkGemm checks the figures that hold for any --gemm run.
func checkGemm(t *testing.T, b gemmReport, dtype string, m, k, n, threads, iters int) {
	t.Helper()
	if b.DType != dtype || b.M != m || b.K != k || b.N != n || b.Threads != threads || (iters > 0 && b.Iters != iters) || b.Iters < 1 {
		t.Errorf("dtype %s %d×%d×%d threads %d iters %d; want %s %d×%d×%d threads %d iters %d", b.DType, b.M, b.K, b.N, b.Threads, b.Iters, dtype, m, k, n, threads, iters)
	}
	if b.Kernel != engine.Kernel() || b.GOOS != runtime.GOOS || b.GOARCH != runtime.GOARCH || b.NumCPU < 1 {
		t.Errorf("kernel %q, platform %s/%s, %d CPUs", b.Kernel, b.GOOS, b.GOARCH, b.NumCPU)
	}
	if wantParts := min(threads, (n+15)/16); b.Parts != wantParts {
		t.Errorf("parts %d, want %d", b.Parts, wantParts)
	}
	if !(0 < b.MinNS && b.MinNS <= b.MedianNS) {
		t.Errorf("min_ns %v, median_ns %v", b.MinNS, b.MedianNS)
	}
	if dtype == "int8" && !(0 < b.QuantizeNS) || dtype == "f32" && b.QuantizeNS != 0 { // timed apart: no order assumed
		t.Errorf("quantize_ns %v (median %v)", b.QuantizeNS, b.MedianNS)
	}
	if want := 2 * float64(m*k*n) / b.MedianNS; math.Abs(b.GOPS-want) > 1e-9*want {
		t.Errorf("gops %v, want 2·M·K·N/median_ns = %v", b.GOPS, want)
	}
	if !(b.RoofGOPS > 0) || b.RoofLoop == "" || math.Abs(b.RoofPct-100*b.GOPS/b.RoofGOPS) > 1e-9*b.RoofPct {
		t.Errorf("roof_gops %v (%q), roof_pct %v, gops %v", b.RoofGOPS, b.RoofLoop, b.RoofPct, b.GOPS)
	}
}

func TestBenchGemm(t *testing.T) {
	for _, dtype := range []string{"int8", "f32"} {
		for _, threads := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("%s,threads=%d", dtype, threads), func(t *testing.T) {
				r := runArgs("bench", "--gemm", "5,37,70", "--dtype", dtype, "--threads", fmt.Sprint(threads), "--iters", "7", "--warmup", "1", "--json")
				r.wantOK(t)
				var b gemmReport
				decodeStrict(t, r.stdout, &b)
				checkGemm(t, b, dtype, 5, 37, 70, threads, 7)
				if b.Warmup != 1 || b.Handoff != "spin" {
					t.Errorf("warmup %d, handoff %q", b.Warmup, b.Handoff)
				}
			})
		}
	}

	t.Run("park", func(t *testing.T) {
		r := runArgs("bench", "--gemm", "5,37,70", "--dtype", "f32", "--threads", "2", "--iters", "4", "--park", "--json")
		r.wantOK(t)
		var b gemmReport
		decodeStrict(t, r.stdout, &b)
		checkGemm(t, b, "f32", 5, 37, 70, 2, 4)
		if b.Handoff != "park" {
			t.Errorf("handoff %q, want park", b.Handoff)
		}
	})

	t.Run("default dtype, time", func(t *testing.T) {
		r := runArgs("bench", "--gemm", "3, 16, 8", "--time", "20ms", "--json")
		r.wantOK(t)
		var b gemmReport
		decodeStrict(t, r.stdout, &b)
		checkGemm(t, b, "int8", 3, 16, 8, 1, 0)
		if b.Warmup != 10 {
			t.Errorf("warmup %d, want the default 10", b.Warmup)
		}
	})

	t.Run("text", func(t *testing.T) {
		r := runArgs("bench", "--gemm", "4,8,32", "--dtype", "f32", "--iters", "3", "--threads", "2")
		r.wantOK(t)
		for _, want := range []string{
			"kernel      " + engine.Kernel() + " (",
			"gemm        f32 M=4 K=8 N=32, 2 threads (2 column ranges, handoff spin)\n",
			"runs        3 timed after 10 warm-up\n",
			"time        median ",
			"throughput  ",
			"roof        ",
			"of roof     ",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("bench --gemm output lacks %q:\n%s", want, r.stdout)
			}
		}
		if strings.Contains(r.stdout, "quantize") {
			t.Errorf("f32 output mentions quantization:\n%s", r.stdout)
		}
		r = runArgs("bench", "--gemm", "4,8,32", "--iters", "3")
		r.wantOK(t)
		if !strings.Contains(r.stdout, " (quantize ") || !strings.Contains(r.stdout, "gemm        int8 M=4 K=8 N=32, 1 thread (1 column range, handoff spin)\n") {
			t.Errorf("int8 output:\n%s", r.stdout)
		}
	})
}

func TestBenchKernelErrors(t *testing.T) {
	path, _ := archModel(t, "mlp:4-8-2", false)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--roof", "--gemm", "1,1,1"}, 2, "edgerun: --roof and --gemm can't be used together"},
		{[]string{path, "--roof"}, 2, "edgerun: bench: --roof and --gemm measure the kernels, not a model: give no model"},
		{[]string{path, "--gemm", "1,1,1"}, 2, "edgerun: bench: --roof and --gemm measure the kernels, not a model"},
		{[]string{path, "--dtype", "f32"}, 2, "edgerun: bench: --dtype goes with --gemm"},
		{[]string{"--gemm", "1,1,1", "--dtype", "f16"}, 2, "edgerun: bench: --dtype=f16: want int8 or f32"},
		{[]string{"--gemm", "1,1,1", "--f32"}, 2, "edgerun: bench: --f32 goes with a model"},
		{[]string{"--roof", "--iters", "3"}, 2, "edgerun: bench: --iters goes with a model or --gemm"},
		{[]string{"--roof", "--park"}, 2, "edgerun: bench: --park goes with --gemm"},
		{[]string{"--gemm", "1,2"}, 2, "edgerun: bench: --gemm=1,2: want M,K,N, three positive integers"},
		{[]string{"--gemm", "1,0,2"}, 2, "edgerun: bench: --gemm=1,0,2: want M,K,N"},
		{[]string{"--gemm", "a,b,c"}, 2, "edgerun: bench: --gemm=a,b,c: want M,K,N"},
		{[]string{"--gemm", "1,1,1", "--threads", "0"}, 1, "edgerun: bench --gemm 1,1,1: --threads=0: need at least 1"},
		{[]string{"--gemm", "1,1,1", "--iters=-1"}, 1, "edgerun: bench --gemm 1,1,1: --iters=-1: need at least 1"},
		{[]string{"--gemm", "1,1,1", "--warmup=-1"}, 1, "edgerun: bench --gemm 1,1,1: --warmup=-1: need 0 or more"},
		{[]string{"--roof", "--time=-1s"}, 1, "edgerun: bench --roof: --time=-1s: need a positive duration"},
		{[]string{"--gemm", "100000,100000,100000"}, 1, "edgerun: bench --gemm 100000,100000,100000: shape 100000×100000×100000 is too large to benchmark"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			runArgs(append([]string{"bench"}, tc.args...)...).wantFail(t, tc.code, tc.want)
		})
	}
}

// wantRoofLoops is the start of the loop names bench --roof and --gemm
// must report for the kernel implementation in use: its own instructions
// (SIMD on amd64 and arm64 whenever the implementation is), the portable
// Go loop only for "generic".
func wantRoofLoops(kernel string) (int8Loop, f32Loop string) {
	switch {
	case kernel == "generic":
		return "go ", "go "
	case runtime.GOARCH == "arm64" && kernel == "sdot":
		return "sdot (dotprod", "fmla (neon"
	case runtime.GOARCH == "arm64" && kernel == "neon":
		return "smull+smlal2+sadalp (neon", "fmla (neon"
	case runtime.GOARCH == "arm": // the NEON int8 GEMM has no roof loop of its own
		return "go ", "go "
	case runtime.GOARCH == "amd64" && kernel == "avx512vnni":
		return "vpdpbusd (avx512-vnni, 512-bit", "vfmadd231ps (avx512f, 512-bit"
	case runtime.GOARCH == "amd64" && kernel == "avxvnni":
		return "vpdpbusd (avx-vnni", ""
	case runtime.GOARCH == "amd64":
		return "vpmaddubsw+vpmaddwd+vpaddd (avx2", "" // f32: vfmadd231ps where the CPU has FMA
	}
	return "", ""
}

// TestBenchRoofLoops: bench --roof and --gemm measure the instructions of
// the kernel in use (on arm64 the NEON FMLA, SMULL/SMLAL2/SADALP or SDOT
// loops of roof_arm64.s, not the portable Go loop), and say so.
// Under qemu: GOARCH=arm64 go test -exec scripts/qemu-exec, with
// QEMU_CPU=max (sdot) and QEMU_CPU=cortex-a72 (neon).
func TestBenchRoofLoops(t *testing.T) {
	i8, f32 := wantRoofLoops(engine.Kernel())
	if i8 == "" {
		t.Fatalf("no expectation for kernel %q on %s", engine.Kernel(), runtime.GOARCH)
	}
	r := runArgs("bench", "--roof", "--json", "--time", "5ms")
	r.wantOK(t)
	var b roofReport
	decodeStrict(t, r.stdout, &b)
	if !strings.HasPrefix(b.Int8Loop, i8) || !strings.HasPrefix(b.F32Loop, f32) {
		t.Errorf("kernel %s: int8 loop %q (want %q…), f32 loop %q (want %q…)", b.Kernel, b.Int8Loop, i8, b.F32Loop, f32)
	}
	if !(b.Int8GOPS > 0) || !(b.F32GOPS > 0) {
		t.Errorf("roofs: int8 %v, f32 %v", b.Int8GOPS, b.F32GOPS)
	}
	t.Logf("kernel %s: int8 %.1f GOPS (%s), f32 %.1f GFLOPS (%s)", b.Kernel, b.Int8GOPS, b.Int8Loop, b.F32GOPS, b.F32Loop)
	for dtype, want := range map[string]string{"int8": i8, "f32": f32} {
		r := runArgs("bench", "--gemm", "8,64,32", "--dtype", dtype, "--iters", "3", "--warmup", "1", "--json")
		r.wantOK(t)
		var g gemmReport
		decodeStrict(t, r.stdout, &g)
		checkGemm(t, g, dtype, 8, 64, 32, 1, 3)
		if !strings.HasPrefix(g.RoofLoop, want) {
			t.Errorf("--gemm %s: roof_loop %q, want %q…", dtype, g.RoofLoop, want)
		}
	}
}
