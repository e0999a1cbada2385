//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine/enginetest"
	"github.com/edgerun/edgerun/sdk/sdktest"
	pb "github.com/edgerun/edgerun/tools/edgerun/internal/serve/kservepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// digitsSpec is a digits-sized MLP: 8×8 pixels in, ten classes out.
const digitsSpec = "mlp:64-32-10"

// digitsModel builds the digits MLP with random weights (seed) and the
// version in its metadata, which the daemon reports as model_version.
func digitsModel(t testing.TB, version string, seed uint64) *format.Model {
	t.Helper()
	m, err := enginetest.Build(digitsSpec, enginetest.Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	m.Metadata.Extra = []format.KeyValue{{Key: "version", Value: version}}
	return m
}

// digitsRow is one row of the digits MLP: f0..f63, each FP32 [1].
func digitsRow() []float32 {
	row := make([]float32, 64)
	for i := range row {
		row[i] = float32(i%17) / 16
	}
	return row
}

// digitsJSON is a REST infer body of one digits row.
func digitsJSON() string {
	var b strings.Builder
	b.WriteString(`{"inputs":[`)
	for i, v := range digitsRow() {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"f%d","datatype":"FP32","shape":[1],"data":[%g]}`, i, v)
	}
	b.WriteString(`]}`)
	return b.String()
}

// digitsGRPC is a gRPC infer request of one digits row.
func digitsGRPC() *pb.ModelInferRequest {
	req := &pb.ModelInferRequest{ModelName: "digits"}
	for i, v := range digitsRow() {
		req.Inputs = append(req.Inputs, &pb.ModelInferRequest_InferInputTensor{Name: "f" + strconv.Itoa(i), Datatype: "FP32",
			Shape: []int64{1}, Contents: &pb.InferTensorContents{Fp32Contents: []float32{v}}})
	}
	return req
}

const reviewText = "great product, I love it and it works well"

// textJSON is a REST infer body of one review.
var textJSON = `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["` + reviewText + `"]}]}`

// textGRPC is a gRPC infer request of one review for model.
func textGRPC(model string) *pb.ModelInferRequest {
	return &pb.ModelInferRequest{ModelName: model, Inputs: []*pb.ModelInferRequest_InferInputTensor{{
		Name: "text", Datatype: "BYTES", Shape: []int64{1},
		Contents: &pb.InferTensorContents{BytesContents: [][]byte{[]byte(reviewText)}},
	}}}
}

// gatewayDirs makes the folders of a served gateway: models holds
// digits.erm (the MLP, version v1) and sentiment_erm.erm (the built-in
// sentiment model); plugins holds the built sentiment plugin ("sentiment")
// and its plugins.lock.
func gatewayDirs(t testing.TB) (models, plugins string) {
	t.Helper()
	models = t.TempDir()
	if err := format.WriteFile(filepath.Join(models, "digits.erm"), digitsModel(t, "v1", 1)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "plugins", "builtin", "sentiment", "model.erm"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(models, "sentiment_erm.erm"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	bin, _ := sdktest.Build(t, "github.com/edgerun/edgerun/plugins/builtin/cmd/sentiment")
	if r := runArgs("plugins", "lock", bin); r.code != 0 {
		t.Fatalf("plugins lock: %d\n%s", r.code, r.stderr)
	}
	return models, filepath.Dir(bin)
}

// daemon is `edgerun serve` running as a child process.
type daemon struct {
	cmd       *exec.Cmd
	log       string // its standard error
	rest      string // http://HOST:PORT
	grpc      string // HOST:PORT
	exited    chan struct{}
	exitState *os.ProcessState
}

var (
	restAddrRE = regexp.MustCompile(`REST on http://([0-9.]+:[0-9]+)`)
	grpcAddrRE = regexp.MustCompile(`gRPC on ([0-9.]+:[0-9]+)`)
)

// startDaemon runs bin serve with args (on loopback ports the kernel
// picks) and waits until it listens and every model has loaded.
func startDaemon(t testing.TB, bin string, args ...string) *daemon {
	t.Helper()
	d := &daemon{log: filepath.Join(t.TempDir(), "serve.log"), exited: make(chan struct{})}
	f, err := os.Create(d.log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d.cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0"}, args...)...)
	d.cmd.Stdout, d.cmd.Stderr = f, f
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = d.cmd.Wait(); d.exitState = d.cmd.ProcessState; close(d.exited) }()
	t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			_ = d.cmd.Process.Kill()
			<-d.exited
		}
	})
	deadline := time.Now().Add(2 * time.Minute) // a safety net only
	for d.rest == "" || d.grpc == "" {
		b, _ := os.ReadFile(d.log)
		if m := restAddrRE.FindSubmatch(b); m != nil {
			d.rest = "http://" + string(m[1])
		}
		if m := grpcAddrRE.FindSubmatch(b); m != nil {
			d.grpc = string(m[1])
		}
		select {
		case <-d.exited:
			t.Fatalf("serve exited at once: %v\n%s", d.exitState, b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve does not say where it listens:\n%s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for {
		res, err := http.Get(d.rest + "/v2/health/ready")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready: %v\n%s", err, d.logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (d *daemon) logText() string {
	b, _ := os.ReadFile(d.log)
	return string(b)
}

// procStatus reads a field of /proc/PID/status in KiB (VmRSS, VmHWM).
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`(?m)^` + field + `:\s+(\d+) kB$`).FindSubmatch(b)
	if m == nil {
		return 0, fmt.Errorf("/proc/%d/status has no %s", pid, field)
	}
	return strconv.ParseInt(string(m[1]), 10, 64)
}

// childPID finds the process whose parent is ppid and whose executable
// is named name.
func childPID(ppid int, name string) (int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces and ')'.
		s := string(b)
		end := strings.LastIndexByte(s, ')')
		if end < 0 {
			continue
		}
		f := strings.Fields(s[end+1:])
		if len(f) < 2 {
			continue
		}
		// The SDK starts a plugin through its open descriptor
		// (/proc/self/fd/N): its comm is N, its exe the binary.
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if p, _ := strconv.Atoi(f[1]); p == ppid && err == nil && filepath.Base(strings.TrimSuffix(exe, " (deleted)")) == name {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no process running %s is a child of %d", name, ppid)
}

// goGoroutines reads go_goroutines from the daemon's /metrics.
func goGoroutines(base string) (int, error) {
	res, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`(?m)^go_goroutines (\d+)$`).FindSubmatch(b)
	if m == nil {
		return 0, fmt.Errorf("/metrics: %d, no go_goroutines", res.StatusCode)
	}
	return strconv.Atoi(string(m[1]))
}

// heyPath finds hey: under make test (EDGERUN_REQUIRE_HEY=1) a missing
// hey fails the test, otherwise the test is skipped, saying so.
func heyPath(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("hey")
	if err != nil {
		if os.Getenv("EDGERUN_REQUIRE_HEY") == "1" {
			t.Fatal("hey is missing and EDGERUN_REQUIRE_HEY=1: install the Debian package hey (scripts/ensure-deps hey)")
		}
		t.Skip("hey not found: the load test needs it (apt-get install hey; make test requires it)")
	}
	return p
}

// heyResult is what hey's report says.
type heyResult struct {
	codes    map[int]int // responses by HTTP status
	errors   []string    // the error distribution: requests with no response
	rps      float64
	p50, p99 time.Duration
	out      string
}

var (
	heyCodeRE = regexp.MustCompile(`(?m)^\s+\[(\d+)\]\s+(\d+) responses$`)
	heyRPSRE  = regexp.MustCompile(`(?m)^\s+Requests/sec:\s+([0-9.]+)$`)
	heyPctRE  = regexp.MustCompile(`(?m)^\s+(\d+)% in ([0-9.]+) secs$`)
)

// parseHey reads hey's text report.
func parseHey(out string) (heyResult, error) {
	r := heyResult{codes: map[int]int{}, out: out}
	for _, m := range heyCodeRE.FindAllStringSubmatch(out, -1) {
		code, _ := strconv.Atoi(m[1])
		n, _ := strconv.Atoi(m[2])
		r.codes[code] += n
	}
	if _, errs, ok := strings.Cut(out, "Error distribution:"); ok {
		for _, l := range strings.Split(errs, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				r.errors = append(r.errors, l)
			}
		}
	}
	m := heyRPSRE.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("hey's report has no Requests/sec:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	for _, p := range heyPctRE.FindAllStringSubmatch(out, -1) {
		s, _ := strconv.ParseFloat(p[2], 64)
		switch p[1] {
		case "50":
			r.p50 = time.Duration(s * float64(time.Second))
		case "99":
			r.p99 = time.Duration(s * float64(time.Second))
		}
	}
	return r, nil
}

// runHey posts body to url with hey and reads its report; load is hey's
// own flags (-z DURATION or -n N, -c N).
func runHey(hey, url, body string, load ...string) (heyResult, error) {
	f, err := os.CreateTemp("", "hey-body-*.json")
	if err != nil {
		return heyResult{}, err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(body); err != nil {
		f.Close()
		return heyResult{}, err
	}
	f.Close()
	args := append(append([]string{}, load...), "-m", "POST", "-T", "application/json", "-D", f.Name(), url)
	out, err := exec.Command(hey, args...).CombinedOutput()
	if err != nil {
		return heyResult{}, fmt.Errorf("hey %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return parseHey(string(out))
}

// versionLog checks the versions one client sees: each one of the
// versions written, never older than one it saw before.
type versionLog struct {
	order map[string]int // version → its rank (written order)
	seen  int            // highest rank seen
	count map[string]int
}

func newVersionLog(versions ...string) *versionLog {
	v := &versionLog{order: map[string]int{}, seen: -1, count: map[string]int{}}
	for i, s := range versions {
		v.order[s] = i
	}
	return v
}

func (v *versionLog) add(got string) error {
	r, ok := v.order[got]
	if !ok {
		return fmt.Errorf("answered by version %q, not one written", got)
	}
	if r < v.seen {
		return fmt.Errorf("answered by version %q after a newer one", got)
	}
	v.seen = r
	v.count[got]++
	return nil
}

// soakDuration is how long TestServeLoad loads the daemon: EDGERUN_SOAK
// (make soak), else a short run for make test.
func soakDuration(t testing.TB) time.Duration {
	s := os.Getenv("EDGERUN_SOAK")
	if s == "" {
		return 15 * time.Second
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		t.Fatalf("EDGERUN_SOAK=%q: want a duration such as 10m", s)
	}
	return d
}

// TestServeLoad runs the real `edgerun serve` (a child process) on the
// digits MLP, the sentiment .erm and the sentiment plugin, and loads it
// with hey (REST, 16 clients on the MLP and 16 on the plugin) and Go REST
// and gRPC clients while, every few seconds, a new version of the MLP is
// renamed over its file and the plugin's process is SIGKILLed (in a long
// run, once it has run for over a minute: the SDK gives up a plugin that
// exits more than 5 times in a row). It checks
// that no request fails but with 503/UNAVAILABLE from the plugin (the Go
// client's UNAVAILABLEs all between a SIGKILL and the plugin's next
// answer), that every answer comes from a version written and no client
// sees an older version after a newer one, that the plugin answers again
// after each kill, that the daemon's peak RSS stays ≤ 64 MiB, that its
// goroutines return near their idle count, and that SIGTERM ends it with
// exit code 0 within the drain timeout. EDGERUN_SOAK=10m (make soak)
// runs it longer.
func TestServeLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds edgerun and a plugin, and loads them for seconds")
	}
	hey := heyPath(t)
	dur := soakDuration(t)
	models, plugins := gatewayDirs(t)
	bin, _ := sdktest.Build(t, "github.com/edgerun/edgerun/tools/edgerun")
	const drain = 10 * time.Second
	d := startDaemon(t, bin, "--models", models, "--plugins", plugins, "--drain-timeout", drain.String(), "--rescan", "1s")
	pid := d.cmd.Process.Pid

	conn, err := grpc.NewClient(d.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	gc := pb.NewGRPCInferenceServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), dur+5*time.Minute) // a safety net only
	defer cancel()
	// Warm every model once, then take the idle goroutine count.
	for _, m := range []string{"digits", "sentiment_erm", "sentiment"} {
		req := textGRPC(m)
		if m == "digits" {
			req = digitsGRPC()
		}
		if _, err := gc.ModelInfer(ctx, req); err != nil {
			t.Fatalf("warm-up %s: %v\n%s", m, err, d.logText())
		}
	}
	idle, err := goGoroutines(d.rest)
	if err != nil {
		t.Fatal(err)
	}

	// The versions written, in order: each swap period writes the next.
	period := min(dur/3, 30*time.Second)
	swaps := int(dur/period) - 1
	versions := []string{"v1"}
	for i := range swaps {
		versions = append(versions, "v"+strconv.Itoa(i+2))
	}

	var (
		mu            sync.Mutex
		failures      []string
		unavailableAt []time.Time // when the plugin answered UNAVAILABLE
	)
	fail := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 20 {
			failures = append(failures, fmt.Sprintf(format, a...))
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// hey: the MLP (never anything but 200) and the plugin (200, or 503
	// while it restarts).
	type heyRun struct {
		name string
		res  heyResult
		err  error
	}
	heys := make(chan heyRun, 2)
	for _, h := range []struct{ name, body string }{{"digits", digitsJSON()}, {"sentiment", textJSON}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := runHey(hey, d.rest+"/v2/models/"+h.name+"/infer", h.body, "-z", dur.String(), "-c", "16")
			heys <- heyRun{h.name, r, err}
		}()
	}
	// Go REST clients on the MLP, checking model_version.
	restCalls := make([]int, 4)
	for i := range restCalls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vl := newVersionLog(versions...)
			client := &http.Client{Timeout: time.Minute}
			defer client.CloseIdleConnections()
			body := digitsJSON()
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := client.Post(d.rest+"/v2/models/digits/infer", "application/json", strings.NewReader(body))
				if err != nil {
					fail("REST client: %v", err)
					return
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				var out struct {
					ModelVersion string `json:"model_version"`
				}
				if res.StatusCode != 200 || json.Unmarshal(b, &out) != nil {
					fail("REST client: digits: %d %s", res.StatusCode, b)
					continue
				}
				if err := vl.add(out.ModelVersion); err != nil {
					fail("REST client: digits: %v", err)
				}
				restCalls[i]++
			}
		}()
	}
	// gRPC clients: the MLP (checking model_version) and the plugin (OK,
	// or UNAVAILABLE while it restarts).
	grpcCalls := make([]int, 4)
	unavailable := make([]int, 4)
	for i := range grpcCalls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vl := newVersionLog(versions...)
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if n%2 == 0 {
					res, err := gc.ModelInfer(ctx, digitsGRPC())
					if err != nil {
						fail("gRPC client: digits: %v", err)
						continue
					}
					if err := vl.add(res.ModelVersion); err != nil {
						fail("gRPC client: digits: %v", err)
					}
				} else {
					_, err := gc.ModelInfer(ctx, textGRPC("sentiment"))
					if status.Code(err) == codes.Unavailable {
						unavailable[i]++
						mu.Lock()
						unavailableAt = append(unavailableAt, time.Now())
						mu.Unlock()
						continue
					}
					if err != nil {
						fail("gRPC client: sentiment plugin: %v", err)
						continue
					}
				}
				grpcCalls[i]++
			}
		}()
	}

	// The faults: each period, a new MLP version renamed over its file,
	// then half a period later the plugin killed; it must answer again.
	hwm := int64(0)
	var restarts [][2]time.Time // from each SIGKILL to the plugin's next answer
	begin := time.Now()
	kills := 0
	for i := 1; i <= swaps; i++ {
		time.Sleep(time.Until(begin.Add(time.Duration(i) * period)))
		tmp := filepath.Join(models, "digits.erm.new")
		if err := format.WriteFile(tmp, digitsModel(t, versions[i], uint64(i+1))); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(models, "digits.erm")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(period / 2)
		// The SDK restarts a plugin at most 5 times in a row, counting an
		// exit within a minute of its start as one more in a row: past
		// the third kill, kill only a process that ran over a minute.
		if kills >= 3 && time.Since(restarts[len(restarts)-1][1]) < 65*time.Second {
			continue
		}
		old, err := childPID(pid, "sentiment")
		if err != nil {
			t.Fatalf("the plugin's process: %v", err)
		}
		killed := time.Now()
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		kills++
		// It answers again (a new process) before the next fault.
		for {
			_, err := gc.ModelInfer(ctx, textGRPC("sentiment"))
			if err == nil {
				break
			}
			if status.Code(err) != codes.Unavailable || ctx.Err() != nil {
				t.Fatalf("the plugin after SIGKILL: %v\n%s", err, d.logText())
			}
			time.Sleep(10 * time.Millisecond)
		}
		restarts = append(restarts, [2]time.Time{killed, time.Now()})
		if now, err := childPID(pid, "sentiment"); err != nil || now == old {
			t.Errorf("after SIGKILL of %d the plugin's process is %d (%v), want a new one", old, now, err)
		}
		if v, err := procStatus(pid, "VmHWM"); err == nil {
			hwm = max(hwm, v)
		}
	}
	// The clients run as long as hey does.
	var results []heyRun
	for range 2 {
		results = append(results, <-heys)
	}
	close(stop)
	wg.Wait()
	v, err := procStatus(pid, "VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	hwm = max(hwm, v)

	for _, f := range failures {
		t.Error(f)
	}
	for _, r := range results {
		if r.err != nil {
			t.Errorf("hey on %s: %v", r.name, r.err)
			continue
		}
		allowed := []int{200}
		if r.name == "sentiment" {
			allowed = append(allowed, 503)
		}
		for code, n := range r.res.codes {
			if !slices.Contains(allowed, code) {
				t.Errorf("hey on %s: %d responses with status %d", r.name, n, code)
			}
		}
		if len(r.res.errors) > 0 {
			t.Errorf("hey on %s: requests without a response:\n%s", r.name, strings.Join(r.res.errors, "\n"))
		}
		if r.res.codes[200] == 0 {
			t.Errorf("hey on %s: no request answered:\n%s", r.name, r.res.out)
		}
		t.Logf("hey on %s, 16 clients, %v: %.0f requests/s, p50 %v, p99 %v, statuses %v",
			r.name, dur, r.res.rps, r.res.p50, r.res.p99, r.res.codes)
	}
	sum := func(s []int) (n int) {
		for _, v := range s {
			n += v
		}
		return n
	}
	t.Logf("Go clients: %d REST and %d gRPC answers, %d UNAVAILABLE from the plugin; %d swaps, %d plugin kills",
		sum(restCalls), sum(grpcCalls), sum(unavailable), swaps, kills)
	// UNAVAILABLE only while the plugin restarts: between a SIGKILL and
	// its next answer (a second of margin for calls under way then).
	for _, at := range unavailableAt {
		if !slices.ContainsFunc(restarts, func(r [2]time.Time) bool {
			return !at.Before(r[0]) && !at.After(r[1].Add(time.Second))
		}) {
			t.Errorf("the plugin answered UNAVAILABLE at %v into the load, not while it restarted (%v)", at.Sub(begin), restarts)
		}
	}
	if sum(restCalls) == 0 || sum(grpcCalls) == 0 {
		t.Error("a Go client got no answer")
	}
	// Every client ends on the last version once it is served.
	res, err := gc.ModelInfer(ctx, digitsGRPC())
	if err != nil || res.ModelVersion != versions[len(versions)-1] {
		t.Errorf("after the swaps digits answers version %v (%v), want %s", res.GetModelVersion(), err, versions[len(versions)-1])
	}
	t.Logf("daemon VmHWM %.1f MiB", float64(hwm)/1024)
	if hwm > 64<<10 {
		t.Errorf("daemon VmHWM %d KiB under load, want ≤ 64 MiB", hwm)
	}

	// The goroutines of the load go: back near the idle count (a small
	// margin for the runtime's and the HTTP server's own).
	conn.Close()
	http.DefaultClient.CloseIdleConnections()
	const margin = 8
	var busy int
	for deadline := time.Now().Add(time.Minute); ; { // a safety net only
		if busy, err = goGoroutines(d.rest); err != nil {
			t.Fatal(err)
		}
		http.DefaultClient.CloseIdleConnections()
		if busy <= idle+margin || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("daemon goroutines: %d idle before the load, %d after", idle, busy)
	if busy > idle+margin {
		t.Errorf("daemon goroutines %d after the load, %d before: a leak", busy, idle)
	}

	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.exited:
		if code := d.exitState.ExitCode(); code != 0 {
			t.Errorf("after SIGTERM: exit code %d, want 0\n%s", code, d.logText())
		}
	case <-time.After(drain + 30*time.Second): // the drain, and a safety net
		t.Errorf("serve still runs %v after SIGTERM (drain timeout %v)\n%s", drain+30*time.Second, drain, d.logText())
	}
	if t.Failed() {
		t.Logf("serve's log:\n%s", tail(d.logText(), 60))
	}
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
