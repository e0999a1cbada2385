//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
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
	"github.com/edgerun/edgerun/runtime/engine/enginetest"
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

// Models of the benchmark besides gatewayDirs': the digits MLP taking
// its 64 pixels as one FP32 [1,64] tensor "x", as an image model is
// served (gatewayDirs' digits takes them as 64 named features), and a
// wide f32 MLP, where the model, not the daemon, is the cost of a
// request: the case dynamic batching is for.
const wideSpec = "mlp:64-4096-4096-10"

// rowModel is an MLP of spec (random weights, seed 1) whose one input is
// the FP32 tensor "x" [N, width]: no named features.
func rowModel(t testing.TB, spec string) *format.Model {
	t.Helper()
	m, err := enginetest.Build(spec, enginetest.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	m.Metadata.Features = nil
	m.Metadata.Extra = []format.KeyValue{{Key: "version", Value: "v1"}}
	return m
}

// benchRow is one row of width values (i%17/16), and its REST and gRPC
// requests to model.
func benchRow(width int) []float32 {
	row := make([]float32, width)
	for i := range row {
		row[i] = float32(i%17) / 16
	}
	return row
}

func rowJSON(width int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,%d],"data":[`, width)
	for i, v := range benchRow(width) {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%g", v)
	}
	b.WriteString(`]}]}`)
	return b.String()
}

func rowGRPC(model string, width int) *pb.ModelInferRequest {
	return &pb.ModelInferRequest{ModelName: model, Inputs: []*pb.ModelInferRequest_InferInputTensor{{
		Name: "x", Datatype: "FP32", Shape: []int64{1, int64(width)},
		Contents: &pb.InferTensorContents{Fp32Contents: benchRow(width)},
	}}}
}

// leanClient is a minimal HTTP/1.1 keep-alive client, as wrk is: one
// connection, the request's bytes written as they are, the answer read
// with http.ReadResponse. Go's http.Client hands each request to a
// writer and a reader goroutine of its own, which costs this machine
// some 30 µs a round trip that is the client's, not the daemon's.
type leanClient struct {
	conn net.Conn
	br   *bufio.Reader
	req  []byte
}

func newLeanClient(t testing.TB, base, method, path, body string) *leanClient {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	req := fmt.Appendf(nil, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, u.Host)
	if body != "" {
		req = fmt.Appendf(req, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	}
	req = append(append(req, "\r\n"...), body...)
	return &leanClient{conn: c, br: bufio.NewReader(c), req: req}
}

func (c *leanClient) call() error {
	if _, err := c.conn.Write(c.req); err != nil {
		return err
	}
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("%d", res.StatusCode)
	}
	return nil
}

// TestServeBench measures `edgerun serve` on loopback (EDGERUN_SERVE_BENCH=1;
// make serve-bench) and prints the closing note's table: requests/s and
// p50/p99 (medians of 3) with 1, 8 and 64 clients over REST (hey) and
// gRPC (a Go client), and at 1 client over REST with a lean keep-alive
// client and Go's http.Client (hey reports latencies to 0.1 ms), for
//
//   - digits: the digits MLP (64-32-10, f32) with its pixels as 64 named
//     features (f0..f63), and digits_batched, the same with max_batch 64
//     (and the defaults that go with it: half the cores as sessions, no
//     queue delay);
//   - digits_row: the same MLP taking one FP32 [1,64] tensor, and
//     digits_row_batched;
//   - sentiment_erm, the sentiment .erm, and sentiment, its plugin;
//   - wide and wide_batched (a second daemon): an f32 MLP of 17 M
//     weights (64-4096-4096-10, 68 MB), 1 and 64 clients.
//
// Then the transport's floor (GET /v2/health/live and gRPC ServerLive,
// which run no model), the REST and gRPC overhead over in-process
// Session.Run, the batching gain, the daemon's idle and loaded RSS (the
// first daemon: three .erm models and the plugin), and the size of the
// stripped linux/arm64 binary, each against the target.
// EDGERUN_SERVE_PROFILE=DIR builds the daemon with net/http/pprof
// (serve_pprof.go, tag edgerun_pprof) and writes a CPU profile of it per
// row into DIR, with the binary, for go tool pprof.
// EDGERUN_SERVE_BENCH_MODELS=digits_row,wide measures only those models
// (and their _batched twins).
func TestServeBench(t *testing.T) {
	if os.Getenv("EDGERUN_SERVE_BENCH") != "1" {
		t.Skip("a benchmark of minutes: EDGERUN_SERVE_BENCH=1 (make serve-bench) runs it")
	}
	hey := heyPath(t)
	models, plugins := gatewayDirs(t)
	batched := "max_batch = 64\n" // sessions: BatchSessions; max_queue_delay 0
	for name, m := range map[string]*format.Model{"digits_batched": digitsModel(t, "v1", 1),
		"digits_row": rowModel(t, digitsSpec), "digits_row_batched": rowModel(t, digitsSpec)} {
		if err := format.WriteFile(filepath.Join(models, name+".erm"), m); err != nil {
			t.Fatal(err)
		}
	}
	wideModels := t.TempDir()
	wideModel := rowModel(t, wideSpec)
	for _, name := range []string{"wide", "wide_batched"} {
		if err := format.WriteFile(filepath.Join(wideModels, name+".erm"), wideModel); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(t.TempDir(), "serve.toml")
	conf := "[models.digits_batched]\n" + batched + "[models.digits_row_batched]\n" + batched + "[models.wide_batched]\n" + batched
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
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
	// daemon d while run runs, into DIR/NAME.pprof.
	profile := func(d *daemon, name string, run func()) {
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
	grpcClient := func(d *daemon) pb.GRPCInferenceServiceClient {
		conn, err := grpc.NewClient(d.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return pb.NewGRPCInferenceServiceClient(conn)
	}
	gc := grpcClient(d)
	ctx := context.Background()

	type target struct {
		name    string
		rest    string
		grpc    *pb.ModelInferRequest
		clients []int
		d       *daemon
	}
	named := func(model string) *pb.ModelInferRequest { r := digitsGRPC(); r.ModelName = model; return r }
	all := []int{1, 8, 64}
	targets := []target{
		{"digits", digitsJSON(), named("digits"), all, d},
		{"digits_batched", digitsJSON(), named("digits_batched"), all, d},
		{"digits_row", rowJSON(64), rowGRPC("digits_row", 64), all, d},
		{"digits_row_batched", rowJSON(64), rowGRPC("digits_row_batched", 64), all, d},
		{"sentiment_erm", textJSON, textGRPC("sentiment_erm"), all, d},
		{"sentiment", textJSON, textGRPC("sentiment"), all, d},
		{"wide", rowJSON(64), rowGRPC("wide", 64), []int{1, 64}, nil},
		{"wide_batched", rowJSON(64), rowGRPC("wide_batched", 64), []int{1, 64}, nil},
	}
	// EDGERUN_SERVE_BENCH_MODELS=a,b measures only those models and their
	// _batched twins (and checks only the targets they have rows for).
	if only := os.Getenv("EDGERUN_SERVE_BENCH_MODELS"); only != "" {
		names := strings.Split(only, ",")
		targets = slices.DeleteFunc(targets, func(tg target) bool {
			return !slices.Contains(names, strings.TrimSuffix(tg.name, "_batched"))
		})
	}
	for _, tg := range targets {
		if tg.d != nil {
			if _, err := gc.ModelInfer(ctx, tg.grpc); err != nil {
				t.Fatalf("warm-up %s: %v", tg.name, err)
			}
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
	median3 := func(run func() benchRun) benchRun {
		var runs []benchRun
		for range 3 {
			runs = append(runs, run())
		}
		return medianRun(runs)
	}
	// The floor: endpoints that run no model, at 1 client.
	restClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	restCall := func(method, url, body string) func() error {
		return func() error {
			req, err := http.NewRequest(method, url, strings.NewReader(body))
			if err != nil {
				return err
			}
			res, err := restClient.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				return fmt.Errorf("%d", res.StatusCode)
			}
			return nil
		}
	}
	lean := newLeanClient(t, d.rest, "GET", "/v2/health/live", "")
	rows = append(rows,
		row{"(health/live, no model)", "REST (lean)", 1, median3(func() benchRun { return closedLoop(1, runFor, lean.call) })},
		row{"(health/live, no model)", "REST (Go)", 1, median3(func() benchRun { return closedLoop(1, runFor, restCall("GET", d.rest+"/v2/health/live", "")) })},
		row{"(ServerLive, no model)", "gRPC (Go)", 1, median3(func() benchRun {
			return closedLoop(1, runFor, func() error { _, err := gc.ServerLive(ctx, &pb.ServerLiveRequest{}); return err })
		})})
	var wide *daemon
	var hwm int64
	for i, tg := range targets {
		if tg.d == nil { // the wide models: a daemon of their own, after the first
			if hwm == 0 {
				if hwm, err = procStatus(pid, "VmHWM"); err != nil {
					t.Fatal(err)
				}
			}
			if wide == nil {
				wide = startDaemon(t, bin, "--models", wideModels, "--config", cfg)
			}
			tg.d = wide
			targets[i].d = wide
		}
		gc := gc
		if tg.d == wide {
			gc = grpcClient(wide)
		}
		url := tg.d.rest + "/v2/models/" + tg.name + "/infer"
		for _, c := range tg.clients {
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
					profile(tg.d, fmt.Sprintf("%s-rest-%d", tg.name, c), heyRun)
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
				lean := newLeanClient(t, tg.d.rest, "POST", "/v2/models/"+tg.name+"/infer", tg.rest)
				rows = append(rows, row{tg.name, "REST (lean)", c, median3(func() benchRun { return closedLoop(1, runFor, lean.call) })})
				rows = append(rows, row{tg.name, "REST (Go)", c, median3(func() benchRun { return closedLoop(1, runFor, restCall("POST", url, tg.rest)) })})
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
					profile(tg.d, fmt.Sprintf("%s-grpc-%d", tg.name, c), grpcRun)
				} else {
					grpcRun()
				}
			}
			rows = append(rows, row{tg.name, "gRPC (Go)", c, medianRun(runs)})
		}
	}
	loadAfter, _ := os.ReadFile("/proc/loadavg")
	if hwm == 0 {
		if hwm, err = procStatus(pid, "VmHWM"); err != nil {
			t.Fatal(err)
		}
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
	wideEM, err := engine.Load(wideModel)
	if err != nil {
		t.Fatal(err)
	}
	wideP50 := sessionP50(t, wideEM, []*tensor.Tensor{tensor.NewF32(tensor.Shape{1, 64}, benchRow(64))})

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
	fmt.Fprintf(&b, "\nin-process Session.Run p50, one row: digits MLP %v, sentiment .erm %v, wide MLP %v\n",
		mlpP50.Round(time.Microsecond/10), sentP50.Round(time.Microsecond/10), wideP50.Round(time.Microsecond/10))
	restFloor := find("(health/live, no model)", "REST (lean)", 1).p50
	goFloor := find("(health/live, no model)", "REST (Go)", 1).p50
	grpcFloor := find("(ServerLive, no model)", "gRPC (Go)", 1).p50
	fmt.Fprintf(&b, "the floor, a round trip that runs no model: REST %v (lean client), %v (Go http.Client); gRPC %v\n\ntargets:\n",
		restFloor, goFloor, grpcFloor)
	for _, m := range []struct {
		name string
		p50  time.Duration
	}{{"digits_row", mlpP50}, {"digits", mlpP50}, {"sentiment_erm", sentP50}} {
		if !has(m.name) {
			continue
		}
		rest := find(m.name, "REST (lean)", 1).p50 - m.p50
		goRest := find(m.name, "REST (Go)", 1).p50 - m.p50
		g := find(m.name, "gRPC (Go)", 1).p50 - m.p50
		check(rest <= 100*time.Microsecond, "%s: REST p50 overhead at 1 client %v (≤ 100µs; lean client; Go http.Client %v; the floor's share %v)", m.name,
			rest.Round(time.Microsecond), goRest.Round(time.Microsecond), restFloor)
		check(g <= 60*time.Microsecond, "%s: gRPC p50 overhead at 1 client %v (≤ 60µs; the floor's share %v)", m.name, g.Round(time.Microsecond), grpcFloor)
	}
	for _, model := range []string{"digits_row", "digits", "wide"} {
		for _, proto := range []string{"REST (hey)", "gRPC (Go)"} {
			if !has(model) || !has(model+"_batched") {
				break
			}
			ratio := find(model+"_batched", proto, 64).rps / find(model, proto, 64).rps
			check(ratio >= 2, "%s at 64 clients over %s: batched/unbatched throughput %.2f× (≥ 2×)", model, proto, ratio)
		}
	}
	erms, _ := filepath.Glob(filepath.Join(models, "*.erm"))
	check(idleRSS <= 30<<10, "daemon VmRSS idle with %d .erm models (the sentiment model and four digits MLPs) and the sentiment plugin: %.1f MiB (≤ 30 MiB with three)",
		len(erms), float64(idleRSS)/1024)
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
