//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/sdk/sdkrt"
	"github.com/edgerun/edgerun/sdk/sdktest"
	pb "github.com/edgerun/edgerun/tools/edgerun/internal/serve/kservepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// benchRun is one measured run: throughput, latency percentiles, and the
// requests that did not answer 200/OK.
type benchRun struct {
	rps      float64
	p50, p99 time.Duration
	failed   int
}

// medianRun is the run of median throughput, with the medians of each
// figure taken apart.
func medianRun(runs []benchRun) benchRun {
	med := func(f func(benchRun) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	out := benchRun{
		rps: med(func(r benchRun) float64 { return r.rps }),
		p50: time.Duration(med(func(r benchRun) float64 { return float64(r.p50) })),
		p99: time.Duration(med(func(r benchRun) float64 { return float64(r.p99) })),
	}
	for _, r := range runs {
		out.failed += r.failed
	}
	return out
}

// latencyAt is the p-th percentile of sorted latencies.
func latencyAt(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p/100*float64(len(sorted))))]
}

// closedLoop runs clients goroutines, each calling call back to back for
// d, and measures them.
func closedLoop(clients int, d time.Duration, call func() error) benchRun {
	var mu sync.Mutex
	var lat []time.Duration
	failed := 0
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for time.Now().Before(end) {
				t0 := time.Now()
				if err := call(); err != nil {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			failed += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	took := time.Since(start)
	slices.Sort(lat)
	return benchRun{rps: float64(len(lat)) / took.Seconds(), p50: latencyAt(lat, 50), p99: latencyAt(lat, 99), failed: failed}
}

// sessionP50 is the median time of Session.Run on in, in process.
func sessionP50(t testing.TB, em *engine.Model, in []*tensor.Tensor) time.Duration {
	s := em.NewSession()
	defer s.Close()
	for range 200 {
		if _, err := s.Run(in); err != nil {
			t.Fatal(err)
		}
	}
	lat := make([]time.Duration, 3000)
	for i := range lat {
		t0 := time.Now()
		if _, err := s.Run(in); err != nil {
			t.Fatal(err)
		}
		lat[i] = time.Since(t0)
	}
	slices.Sort(lat)
	return latencyAt(lat, 50)
}

// TestServeBench measures `edgerun serve` on loopback (EDGERUN_SERVE_BENCH=1;
// make serve-bench) and prints the closing note's table: requests/s and
// p50/p99 (medians of 3) for the digits MLP unbatched and batched
// (max_batch 64, max_queue_delay 200µs), the sentiment .erm and the
// sentiment plugin, with 1, 8 and 64 clients, over REST (hey; and a Go
// client at 1 client, as hey reports latencies to 0.1 ms) and gRPC (a Go
// client); then the REST and gRPC overhead over in-process Session.Run,
// the batching gain, the daemon's idle and loaded RSS, and the size of
// the stripped linux/arm64 binary, each against the target.
// EDGERUN_SERVE_PROFILE=DIR builds the daemon with net/http/pprof
// (serve_pprof.go, tag edgerun_pprof) and writes a CPU profile of it per
// row into DIR, with the binary, for go tool pprof.
// EDGERUN_SERVE_BENCH_MODELS=digits,digits_batched measures only those.
func TestServeBench(t *testing.T) {
	if os.Getenv("EDGERUN_SERVE_BENCH") != "1" {
		t.Skip("a benchmark of minutes: EDGERUN_SERVE_BENCH=1 (make serve-bench) runs it")
	}
	hey := heyPath(t)
	models, plugins := gatewayDirs(t)
	if err := format.WriteFile(filepath.Join(models, "digits_batched.erm"), digitsModel(t, "v1", 1)); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "serve.toml")
	if err := os.WriteFile(cfg, []byte("[models.digits_batched]\nmax_batch = 64\nmax_queue_delay = \"200us\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	profDir := os.Getenv("EDGERUN_SERVE_PROFILE")
	var bin string
	if profDir == "" {
		bin, _ = sdktest.Build(t, "github.com/edgerun/edgerun/tools/edgerun")
	} else {
		bin = pprofBuild(t, profDir)
	}
	d := startDaemon(t, bin, "--models", models, "--plugins", plugins, "--config", cfg)
	pid := d.cmd.Process.Pid
	// profile, with EDGERUN_SERVE_PROFILE=DIR, takes a CPU profile of the
	// daemon while run runs, into DIR/NAME.pprof.
	profile := func(name string, run func()) {
		if profDir == "" {
			run()
			return
		}
		done := make(chan error, 1)
		go func() { done <- fetchProfile(d, filepath.Join(profDir, name+".pprof")) }()
		run()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}

	conn, err := grpc.NewClient(d.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	gc := pb.NewGRPCInferenceServiceClient(conn)
	ctx := context.Background()

	type target struct {
		name string
		rest string
		grpc *pb.ModelInferRequest
	}
	digitsReq := digitsGRPC()
	batchedReq := digitsGRPC()
	batchedReq.ModelName = "digits_batched"
	targets := []target{
		{"digits", digitsJSON(), digitsReq},
		{"digits_batched", digitsJSON(), batchedReq},
		{"sentiment_erm", textJSON, textGRPC("sentiment_erm")},
		{"sentiment", textJSON, textGRPC("sentiment")},
	}
	// EDGERUN_SERVE_BENCH_MODELS=a,b measures only those models (and
	// checks only the targets they have rows for).
	if only := os.Getenv("EDGERUN_SERVE_BENCH_MODELS"); only != "" {
		names := strings.Split(only, ",")
		targets = slices.DeleteFunc(targets, func(tg target) bool { return !slices.Contains(names, tg.name) })
	}
	for _, tg := range targets {
		if _, err := gc.ModelInfer(ctx, tg.grpc); err != nil {
			t.Fatalf("warm-up %s: %v", tg.name, err)
		}
	}
	time.Sleep(time.Second)
	idleRSS, err := procStatus(pid, "VmRSS")
	if err != nil {
		t.Fatal(err)
	}

	loadBefore, _ := os.ReadFile("/proc/loadavg")
	const runFor = 2500 * time.Millisecond
	type row struct {
		model, proto string
		clients      int
		run          benchRun
	}
	var rows []row
	restClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for _, tg := range targets {
		url := d.rest + "/v2/models/" + tg.name + "/infer"
		for _, c := range []int{1, 8, 64} {
			// hey: sized by a calibration run to about runFor.
			cal, err := runHey(hey, url, tg.rest, "-z", "1s", "-c", fmt.Sprint(c))
			if err != nil {
				t.Fatal(err)
			}
			n := max(int(cal.rps*runFor.Seconds()), 10*c)
			var runs []benchRun
			for k := range 3 {
				var r heyResult
				var err error
				heyRun := func() { r, err = runHey(hey, url, tg.rest, "-n", fmt.Sprint(n), "-c", fmt.Sprint(c)) }
				if k == 0 {
					profile(fmt.Sprintf("%s-rest-%d", tg.name, c), heyRun)
				} else {
					heyRun()
				}
				if err != nil {
					t.Fatal(err)
				}
				failed := len(r.errors)
				for code, k := range r.codes {
					if code != 200 {
						failed += k
					}
				}
				runs = append(runs, benchRun{rps: r.rps, p50: r.p50, p99: r.p99, failed: failed})
			}
			rows = append(rows, row{tg.name, "REST (hey)", c, medianRun(runs)})
			if c == 1 {
				runs = runs[:0]
				for range 3 {
					runs = append(runs, closedLoop(1, runFor, func() error {
						res, err := restClient.Post(url, "application/json", strings.NewReader(tg.rest))
						if err != nil {
							return err
						}
						_, _ = io.Copy(io.Discard, res.Body)
						res.Body.Close()
						if res.StatusCode != 200 {
							return fmt.Errorf("%d", res.StatusCode)
						}
						return nil
					}))
				}
				rows = append(rows, row{tg.name, "REST (Go)", c, medianRun(runs)})
			}
			runs = runs[:0]
			for k := range 3 {
				grpcRun := func() {
					runs = append(runs, closedLoop(c, runFor, func() error {
						_, err := gc.ModelInfer(ctx, tg.grpc)
						return err
					}))
				}
				if k == 0 {
					profile(fmt.Sprintf("%s-grpc-%d", tg.name, c), grpcRun)
				} else {
					grpcRun()
				}
			}
			rows = append(rows, row{tg.name, "gRPC (Go)", c, medianRun(runs)})
		}
	}
	loadAfter, _ := os.ReadFile("/proc/loadavg")
	hwm, err := procStatus(pid, "VmHWM")
	if err != nil {
		t.Fatal(err)
	}

	// In process: Session.Run of one row, the engine alone.
	digitsEM, err := engine.Load(digitsModel(t, "v1", 1))
	if err != nil {
		t.Fatal(err)
	}
	mlpP50 := sessionP50(t, digitsEM, []*tensor.Tensor{tensor.NewF32(tensor.Shape{1, 64}, digitsRow())})
	sentEM, err := engine.LoadFile(filepath.Join("..", "..", "plugins", "builtin", "sentiment", "model.erm"))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := sdkrt.NewText(sentEM, "text")
	if err != nil {
		t.Fatal(err)
	}
	sentP50 := sessionP50(t, sentEM, []*tensor.Tensor{tx.Encode([]string{reviewText})})

	// The arm64 binary, as `make cross` builds it.
	arm := filepath.Join(t.TempDir(), "edgerun-linux-arm64")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", arm, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("arm64 build: %v\n%s", err, out)
	}
	fi, err := os.Stat(arm)
	if err != nil {
		t.Fatal(err)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\nedgerun serve on loopback, %s kernel, medians of 3 runs of ~%v\n\n", engine.Kernel(), runFor)
	// The machine may be shared: its load says how far to trust the figures.
	fmt.Fprintf(&b, "load average (1, 5, 15 min) before: %s, after: %s; %d cores\n\n",
		strings.Join(strings.Fields(string(loadBefore))[:3], " "), strings.Join(strings.Fields(string(loadAfter))[:3], " "), runtime.NumCPU())
	b.WriteString("| model | protocol | clients | requests/s | p50 | p99 | failed |\n|---|---|---:|---:|---:|---:|---:|\n")
	has := func(model string) bool {
		return slices.ContainsFunc(rows, func(r row) bool { return r.model == model })
	}
	find := func(model, proto string, c int) benchRun {
		for _, r := range rows {
			if r.model == model && r.proto == proto && r.clients == c {
				return r.run
			}
		}
		t.Fatalf("no row %s %s %d", model, proto, c)
		return benchRun{}
	}
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %d | %.0f | %v | %v | %d |\n", r.model, r.proto, r.clients, r.run.rps,
			r.run.p50.Round(time.Microsecond), r.run.p99.Round(time.Microsecond), r.run.failed)
	}
	checks := 0
	failedChecks := 0
	check := func(ok bool, format string, a ...any) {
		mark := "ok  "
		checks++
		if !ok {
			mark = "MISS"
			failedChecks++
		}
		fmt.Fprintf(&b, "%s %s\n", mark, fmt.Sprintf(format, a...))
	}
	b.WriteString("\nin-process Session.Run p50, one row: digits MLP " + mlpP50.Round(time.Microsecond/10).String() +
		", sentiment .erm " + sentP50.Round(time.Microsecond/10).String() + "\n\ntargets:\n")
	for _, m := range []struct {
		name string
		p50  time.Duration
	}{{"digits", mlpP50}, {"sentiment_erm", sentP50}} {
		if !has(m.name) {
			continue
		}
		rest := find(m.name, "REST (Go)", 1).p50 - m.p50
		g := find(m.name, "gRPC (Go)", 1).p50 - m.p50
		check(rest <= 100*time.Microsecond, "%s: REST p50 overhead at 1 client %v (≤ 100µs; hey's p50 %v, to 0.1 ms)", m.name,
			rest.Round(time.Microsecond), find(m.name, "REST (hey)", 1).p50)
		check(g <= 60*time.Microsecond, "%s: gRPC p50 overhead at 1 client %v (≤ 60µs)", m.name, g.Round(time.Microsecond))
	}
	for _, proto := range []string{"REST (hey)", "gRPC (Go)"} {
		if !has("digits") || !has("digits_batched") {
			break
		}
		ratio := find("digits_batched", proto, 64).rps / find("digits", proto, 64).rps
		check(ratio >= 2, "digits MLP at 64 clients over %s: batched/unbatched throughput %.2f× (≥ 2×)", proto, ratio)
	}
	check(idleRSS <= 30<<10, "daemon VmRSS idle with three .erm models: %.1f MiB (≤ 30 MiB)", float64(idleRSS)/1024)
	check(hwm <= 64<<10, "daemon VmHWM after the 64-client runs: %.1f MiB (≤ 64 MiB)", float64(hwm)/1024)
	check(fi.Size() <= 20<<20, "CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -ldflags='-s -w' ./tools/edgerun: %d bytes, %.2f MiB (≤ 20 MiB)",
		fi.Size(), float64(fi.Size())/(1<<20))
	fmt.Fprintf(&b, "%d of %d targets met\n", checks-failedChecks, checks)
	if profDir != "" {
		fmt.Fprintf(&b, "CPU profiles of the daemon (first run of each row): go tool pprof -top %s %s\n",
			filepath.Join(profDir, "edgerun"), filepath.Join(profDir, "MODEL-rest|grpc-CLIENTS.pprof"))
	}
	fmt.Print(b.String())
	for _, r := range rows {
		if r.run.failed > 0 && r.model != "sentiment" {
			t.Errorf("%s %s %d clients: %d requests failed", r.model, r.proto, r.clients, r.run.failed)
		}
	}
}

// pprofBuild builds edgerun with the edgerun_pprof tag into dir (kept
// there for go tool pprof) and has the daemons started after it serve
// net/http/pprof on a loopback port.
func pprofBuild(t testing.TB, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin, err := filepath.Abs(filepath.Join(dir, "edgerun"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("go", "build", "-tags", "edgerun_pprof", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags edgerun_pprof: %v\n%s", err, out)
	}
	t.Setenv("EDGERUN_PPROF_ADDR", "127.0.0.1:0")
	return bin
}

var pprofAddrRE = regexp.MustCompile(`edgerun pprof on (http://[0-9.]+:[0-9]+)`)

// fetchProfile saves a two-second CPU profile of the daemon (built by
// pprofBuild) to path.
func fetchProfile(d *daemon, path string) error {
	m := pprofAddrRE.FindStringSubmatch(d.logText())
	if m == nil {
		return fmt.Errorf("the daemon serves no pprof (built without -tags edgerun_pprof?)")
	}
	res, err := http.Get(m[1] + "/debug/pprof/profile?seconds=2")
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("pprof: %s", res.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
