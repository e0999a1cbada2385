//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine/enginetest"
	"github.com/edgerun/edgerun/sdk/sdktest"
	pb "github.com/edgerun/edgerun/tools/edgerun/internal/serve/kservepb"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// goroutines returns the stacks of the goroutines running now, by id,
// but the caller's and two that live as long as the process by design:
// the signal watcher of os/signal and the SDK's plugin starter thread
// (sdk/proc_linux.go: the parent-death signal needs a lasting thread).
func goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	out := map[string]string{}
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 || strings.Contains(g, "os/signal.") || strings.Contains(g, "signal.NotifyContext") ||
			strings.Contains(g, "created by github.com/edgerun/edgerun/sdk.init") {
			continue // ours, and the signal watcher
		}
		id, _, _ := strings.Cut(strings.TrimPrefix(g, "goroutine "), " ")
		out[id] = g
	}
	return out
}

// leaked waits (a safety net of a minute, not a speed requirement) until
// no goroutine runs that did not before, and returns those still there.
func leaked(before map[string]string) []string {
	deadline := time.Now().Add(time.Minute)
	for {
		var extra []string
		for id, g := range goroutines() {
			if _, ok := before[id]; !ok {
				extra = append(extra, g)
			}
		}
		if len(extra) == 0 || time.Now().After(deadline) {
			return extra
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// notifySocket listens on a Unix datagram socket as systemd does for
// Type=notify, sets NOTIFY_SOCKET to it, and returns the messages it
// gets.
func notifySocket(t *testing.T) <-chan string {
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("NOTIFY_SOCKET", path)
	msgs := make(chan string, 16)
	go func() {
		defer close(msgs)
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return msgs
}

// TestServeDaemon starts the real command on two .erm models (the
// sentiment classifier, and an MLP batched by the config file) and a
// plugin (the SDK's lexicon example), with a token, and checks it wires
// every part: REST and gRPC ModelInfer (the generated client), /metrics
// behind the token with the request counters and batch sizes, the status
// page listing the models, sd_notify READY=1 then STOPPING=1, and SIGTERM
// → nil (exit 0) with no goroutine left behind.
func TestServeDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a plugin binary")
	}
	models := t.TempDir()
	b, err := os.ReadFile(filepath.Join("..", "..", "plugins", "builtin", "sentiment", "model.erm"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(models, "sentiment.erm"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	fm, err := enginetest.Build("mlp:4-16-3", enginetest.Options{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if err := format.WriteFile(filepath.Join(models, "mlp.erm"), fm); err != nil {
		t.Fatal(err)
	}
	bin, _ := sdktest.Build(t, "github.com/edgerun/edgerun/sdk/example/lexicon/cmd/lexicon")
	runArgs("plugins", "lock", bin).wantOK(t)
	cfg := filepath.Join(t.TempDir(), "serve.toml")
	if err := os.WriteFile(cfg, []byte("[models.mlp]\nmax_batch = 8\nmax_queue_delay = \"1ms\"\ntop_k = 2\n"+
		"[models.sentiment]\noutputs = [\"label\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokfile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokfile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	notes := notifySocket(t)

	before := goroutines()
	var stderr lockedBuffer
	type addrs struct{ rest, grpc string }
	started := make(chan addrs, 1)
	c := &serveCmd{Models: models, Plugins: filepath.Dir(bin), Addr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", Config: cfg,
		TokenFile: tokfile, LogFormat: "text", MaxBodyBytes: 1 << 20, Drain: time.Minute, Rescan: time.Minute,
		started: func(a, g string) { started <- addrs{a, g} }}
	done := make(chan error, 1)
	go func() {
		done <- c.Run(&cliutil.Env{Program: "edgerun", Version: "test", Stdout: &bytes.Buffer{}, Stderr: &stderr})
	}()
	var at addrs
	select {
	case at = <-started:
	case err := <-done:
		t.Fatalf("serve ended at once: %v\n%s", err, stderr.String())
	}
	if at.grpc == "" {
		t.Fatal("no gRPC address")
	}
	// READY=1 comes once every model has settled: after it, all serve.
	select {
	case n := <-notes:
		if n != "READY=1" {
			t.Fatalf("first sd_notify %q, want READY=1", n)
		}
	case <-time.After(time.Minute): // a safety net only
		t.Fatalf("no READY=1:\n%s", stderr.String())
	}

	tr := &http.Transport{}
	client := &http.Client{Transport: tr}
	base := "http://" + at.rest
	do := func(method, path, tok, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(out)
	}
	text := `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["great, I love it"]}]}`
	for _, m := range []string{"sentiment", "lexicon"} {
		st, out := do("POST", "/v2/models/"+m+"/infer", "s3cret", text)
		var res struct{ Outputs []struct{ Name string } }
		if err := json.Unmarshal([]byte(out), &res); st != 200 || err != nil || len(res.Outputs) == 0 {
			t.Errorf("REST infer %s: %d %s", m, st, out)
		}
		// The config's outputs = ["label"]: the one output of a request
		// that names none.
		if m == "sentiment" && (len(res.Outputs) != 1 || res.Outputs[0].Name != "label") {
			t.Errorf("REST infer sentiment answers %+v, want the config's outputs [label]", res.Outputs)
		}
	}
	// The MLP is a tabular model: one FP32 input per feature.
	row := `{"inputs":[{"name":"f0","datatype":"FP32","shape":[1],"data":[0.5]},{"name":"f1","datatype":"FP32","shape":[1],"data":[-1]},` +
		`{"name":"f2","datatype":"FP32","shape":[1],"data":[2]},{"name":"f3","datatype":"FP32","shape":[1],"data":[0]}]}`
	st, mlpJSON := do("POST", "/v2/models/mlp/infer", "s3cret", row)
	if st != 200 || !regexp.MustCompile(`"model_name":\s*"mlp"`).MatchString(mlpJSON) {
		t.Errorf("REST infer mlp: %d %s", st, mlpJSON)
	}
	// Triton's binary tensor data extension: the same row in binary,
	// answered in binary, bit for bit (serve_binary_test.go); the server
	// lists the extension.
	binaryRow(t, client, base, "s3cret", mlpJSON)
	if st, out := do("GET", "/v2", "s3cret", ""); st != 200 || !strings.Contains(out, `"extensions":["binary_tensor_data"]`) {
		t.Errorf("GET /v2: %d %s, want extensions [binary_tensor_data]", st, out)
	}
	if st, _ := do("POST", "/v2/models/nosuch/infer", "s3cret", text); st != 404 {
		t.Errorf("unknown model: %d, want 404", st)
	}

	conn, err := grpc.NewClient(at.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	gc := pb.NewGRPCInferenceServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := gc.ModelInfer(ctx, &pb.ModelInferRequest{ModelName: "mlp"}); err == nil || !strings.Contains(err.Error(), "Unauthenticated") {
		t.Errorf("gRPC without the token: %v, want UNAUTHENTICATED", err)
	}
	actx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer s3cret")
	if md, err := gc.ServerMetadata(actx, &pb.ServerMetadataRequest{}); err != nil || !slices.Equal(md.Extensions, []string{"binary_tensor_data"}) {
		t.Errorf("gRPC ServerMetadata: %v %v, want extensions [binary_tensor_data] as REST", md, err)
	}
	var feats []*pb.ModelInferRequest_InferInputTensor
	for i, v := range []float32{0.5, -1, 2, 0} {
		feats = append(feats, &pb.ModelInferRequest_InferInputTensor{Name: "f" + strconv.Itoa(i), Datatype: "FP32", Shape: []int64{1},
			Contents: &pb.InferTensorContents{Fp32Contents: []float32{v}}})
	}
	gres, err := gc.ModelInfer(actx, &pb.ModelInferRequest{ModelName: "mlp", Inputs: feats})
	if err != nil || gres.ModelName != "mlp" || len(gres.Outputs) == 0 {
		t.Fatalf("gRPC ModelInfer mlp: %v %v", gres, err)
	}
	// The config's top_k = 2 (the model's own default is 3).
	if i := slices.IndexFunc(gres.Outputs, func(o *pb.ModelInferResponse_InferOutputTensor) bool { return o.Name == "top_k_labels" }); i < 0 ||
		!slices.Equal(gres.Outputs[i].Shape, []int64{1, 2}) {
		t.Errorf("gRPC ModelInfer mlp outputs %v: want top_k_labels [1 2] (config top_k)", gres.Outputs)
	}
	gres, err = gc.ModelInfer(actx, &pb.ModelInferRequest{ModelName: "lexicon", Inputs: []*pb.ModelInferRequest_InferInputTensor{{
		Name: "text", Datatype: "BYTES", Shape: []int64{1},
		Contents: &pb.InferTensorContents{BytesContents: [][]byte{[]byte("terrible, a waste")}},
	}}})
	if err != nil || gres.ModelName != "lexicon" {
		t.Errorf("gRPC ModelInfer lexicon: %v %v", gres, err)
	}
	conn.Close()

	// /metrics: behind the token, and counting the calls above (REST and
	// gRPC alike), the batch sizes of mlp, the version served.
	if st, _ := do("GET", "/metrics", "", ""); st != 401 {
		t.Errorf("/metrics without the token: %d, want 401", st)
	}
	st, metrics := do("GET", "/metrics", "s3cret", "")
	if st != 200 {
		t.Fatalf("/metrics: %d %s", st, metrics)
	}
	for _, want := range []string{
		`edgerun_requests_total{code="200",model="mlp"} 3`,
		`edgerun_requests_total{code="200",model="lexicon"} 2`,
		`edgerun_requests_total{code="200",model="sentiment"} 1`,
		`edgerun_request_duration_seconds_count{model="mlp"} 3`,
		`edgerun_batch_rows_count{model="mlp"} 3`,
		`edgerun_model_load_duration_seconds_count{model="sentiment"} 1`,
		`edgerun_model_info{model="lexicon",version="1.0.0"} 1`,
		"go_goroutines ",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	checkExposition(t, metrics)
	if regexp.MustCompile(`edgerun_requests_total\{code="404"`).MatchString(metrics) {
		t.Error("a request for an unknown model is counted under its name") // names are the models served
	}

	// The status page lists the models; its shell is public, its data the
	// token's.
	if st, page := do("GET", "/", "", ""); st != 200 || !strings.Contains(page, `<form id="token">`) || strings.Contains(page, "sentiment") {
		t.Errorf("/ with a token: %d, want the public shell without data", st)
	}
	if st, _ := do("GET", "/status/app.js", "", ""); st != 200 {
		t.Errorf("/status/app.js: %d, want public", st)
	}
	if st, _ := do("GET", "/status/models.json", "", ""); st != 401 {
		t.Errorf("/status/models.json without the token: %d, want 401", st)
	}
	st, js := do("GET", "/status/models.json", "s3cret", "")
	var doc struct {
		Models []struct {
			Name     string `json:"name"`
			Requests int64  `json:"requests"`
		} `json:"models"`
	}
	if err := json.Unmarshal([]byte(js), &doc); st != 200 || err != nil {
		t.Fatalf("models.json: %d %v %s", st, err, js)
	}
	var names []string
	for _, m := range doc.Models {
		names = append(names, m.Name)
		if want := map[string]int64{"mlp": 3, "lexicon": 2, "sentiment": 1}[m.Name]; m.Requests != want {
			t.Errorf("status page: %s has %d requests, want %d", m.Name, m.Requests, want)
		}
	}
	if !slices.Equal(names, []string{"lexicon", "mlp", "sentiment"}) {
		t.Errorf("status page models %v", names)
	}
	tr.CloseIdleConnections()

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("after SIGTERM: %v, want nil (exit 0)\n%s", err, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop within a minute of SIGTERM")
	}
	select {
	case n := <-notes:
		if n != "STOPPING=1" {
			t.Errorf("sd_notify on drain %q, want STOPPING=1", n)
		}
	case <-time.After(time.Minute):
		t.Error("no STOPPING=1")
	}
	if extra := leaked(before); len(extra) > 0 {
		t.Errorf("%d goroutines left after serve returned:\n%s", len(extra), strings.Join(extra, "\n\n"))
	}
}

// checkExposition validates the daemon's /metrics with `promtool check
// metrics`. Under make test (EDGERUN_REQUIRE_PROMTOOL=1) a missing
// promtool fails; otherwise the check alone is left out, saying so.
func checkExposition(t *testing.T, body string) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("EDGERUN_REQUIRE_PROMTOOL") == "1" {
			t.Fatal("promtool is missing and EDGERUN_REQUIRE_PROMTOOL=1: install the Debian package prometheus (scripts/ensure-deps promtool:prometheus)")
		}
		t.Log("promtool not found: /metrics is not validated (apt-get install prometheus; make test requires it)")
		return
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("promtool check metrics on the daemon's /metrics: %v\n%s", err, out)
	}
}
