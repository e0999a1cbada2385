//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/tools/edgerun/internal/serve"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
)

// TestServePipelines runs edgerun serve with the maintenance model in its
// models folder and three pipeline files: the recorded machine of
// data/maintenance read as fast as the daemon's model answers (model
// serve: maintenance, a stdout sink), one naming a model the daemon does
// not have, and one that does not parse. The first finishes with its 124
// windows and the one alarm of the recorded fault, shown at GET
// /v2/pipelines (behind the token) and in /metrics (promtool-clean); the
// other two are reported failed while the daemon serves on; SIGTERM
// returns nil (exit 0), no goroutine left behind.
func TestServePipelines(t *testing.T) {
	models := t.TempDir()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "plugins", "builtin", "maintenance", "model.erm"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(models, "maintenance.erm"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, text string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A label rule (the daemon's classifier also answers anomaly_score,
	// which the live pipeline's threshold uses): it alarms on a fault
	// label for two windows, and clears after five healthy ones (the
	// fault's windows are not all labelled faulty).
	recorded := write("line3.yaml", `sample_rate: 1000
source: {kind: csv, path: `+filepath.Join(root, "data", "maintenance", "recording.csv")+`, realtime: false}
window: {size: 128, hop: 64, channels: [vib_x, vib_y, current]}
model: {serve: maintenance}
rule:
  output: label
  labels: [bearing_fault, imbalance]
  debounce: 2
  debounce_clear: 5
sinks:
  - {kind: stdout, on: change}
  - {kind: gpio, pin: "sim:GPIO27", on: change}
`)
	// Replayed at its 1000 Hz (8 s): still running at SIGTERM.
	live := write("live.yaml", `sample_rate: 1000
source: {kind: csv, path: `+filepath.Join(root, "data", "maintenance", "recording.csv")+`, realtime: true}
window: {size: 128, hop: 64, channels: [vib_x, vib_y, current]}
model: {erm: `+filepath.Join(models, "maintenance.erm")+`}
rule: {output: anomaly_score, threshold: {above: 0.5, clear_below: 0.3}}
sinks: [{kind: gpio, pin: "sim:GPIO5", on: change}]
`)
	missing := write("other.yaml", `name: no-model
sample_rate: 1000
source: {kind: csv, path: `+filepath.Join(root, "data", "maintenance", "recording.csv")+`, realtime: false}
window: {size: 128, hop: 64, channels: [vib_x, vib_y, current]}
model: {serve: nosuch}
rule: {output: label, labels: [bearing_fault]}
sinks: [{kind: stdout}]
`)
	broken := write("broken.yaml", "sample_rate: [\n")
	tokfile := write("token", "s3cret\n")
	// The replay comes from the config file's pipelines key (relative to
	// its folder), after the --pipeline ones.
	conf := write("serve.toml", "pipelines = [\""+filepath.Base(live)+"\"]\n")

	before := goroutines()
	var stderr lockedBuffer
	var stdout lockedBuffer
	started := make(chan string, 1)
	c := &serveCmd{Models: models, Addr: "127.0.0.1:0", TokenFile: tokfile, LogFormat: "text", MaxBodyBytes: 1 << 20,
		Drain: time.Minute, Rescan: time.Minute, Pipelines: []string{recorded, missing, broken}, Config: conf,
		started: func(a, _ string) { started <- a }}
	done := make(chan error, 1)
	go func() {
		done <- c.Run(&cliutil.Env{Program: "edgerun", Version: "test", Stdout: &stdout, Stderr: &stderr})
	}()
	var addr string
	select {
	case addr = <-started:
	case err := <-done:
		t.Fatalf("serve ended at once: %v\n%s", err, stderr.String())
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	get := func(path, tok string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", "http://"+addr+path, nil)
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
	if st, _ := get("/v2/pipelines", ""); st != 401 {
		t.Errorf("/v2/pipelines without the token: %d, want 401", st)
	}

	type view struct {
		Name, File, State, Error string
		Stats                    *struct {
			Samples, Windows, Inferences uint64
			SensorErrors                 uint64 `json:"sensor_errors"`
			ModelErrors                  uint64 `json:"model_errors"`
			Alarms                       uint64
			Alarm                        bool
		}
	}
	var doc struct{ Pipelines []view }
	// Poll until the recorded pipeline is done (a safety net of a minute,
	// not a speed requirement).
	deadline := time.Now().Add(time.Minute)
	for {
		st, js := get("/v2/pipelines", "s3cret")
		doc.Pipelines = nil
		if err := json.Unmarshal([]byte(js), &doc); st != 200 || err != nil || len(doc.Pipelines) != 4 {
			t.Fatalf("/v2/pipelines: %d %v %s", st, err, js)
		}
		if s := doc.Pipelines[0].State; s != pipeWaiting && s != pipeRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the recorded pipeline did not finish within a minute: %s\n%s", js, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	line3, other, bad, running := doc.Pipelines[0], doc.Pipelines[1], doc.Pipelines[2], doc.Pipelines[3]
	if running.Name != "live" || running.State != pipeRunning {
		t.Errorf("the replayed pipeline: %+v, want running", running)
	}
	if line3.Name != "line3" || line3.File != recorded || line3.State != pipeFinished || line3.Stats == nil {
		t.Fatalf("recorded pipeline %+v\n%s", line3, stderr.String())
	}
	if s := line3.Stats; s.Samples != 8000 || s.Windows != 124 || s.Inferences != 124 || s.SensorErrors != 0 || s.ModelErrors != 0 || s.Alarms != 1 || !s.Alarm {
		t.Errorf("recorded pipeline stats %+v, want 8000 samples, 124 windows and inferences, 1 alarm (on at the end)", *s)
	}
	if other.Name != "no-model" || other.State != pipeFailed || !strings.Contains(other.Error, `"nosuch"`) || other.Stats != nil {
		t.Errorf("pipeline of a model the daemon lacks: %+v, want failed naming it", other)
	}
	if bad.Name != "broken" || bad.State != pipeFailed || !strings.Contains(bad.Error, "broken.yaml:1") {
		t.Errorf("pipeline file that does not parse: %+v, want failed with file and line", bad)
	}
	// The stdout sink: the one change, the alarm raised.
	var dec struct {
		Alarm, Changed bool
		Label          string
	}
	if lines := strings.Split(strings.TrimSpace(stdout.String()), "\n"); len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &dec) != nil ||
		!dec.Alarm || !dec.Changed || dec.Label != "bearing_fault" {
		t.Errorf("stdout sink wrote %q, want the one decision raising the alarm", stdout.String())
	}
	// The daemon still serves.
	if st, out := get("/v2/models/maintenance/ready", "s3cret"); st != 200 {
		t.Errorf("model ready: %d %s", st, out)
	}

	st, metrics := get("/metrics", "s3cret")
	if st != 200 {
		t.Fatalf("/metrics: %d", st)
	}
	for _, want := range []string{
		`edgerun_pipeline_windows_total{pipeline="line3"} 124`,
		`edgerun_pipeline_samples_total{pipeline="line3"} 8000`,
		`edgerun_pipeline_inferences_total{pipeline="line3"} 124`,
		`edgerun_pipeline_alarms_total{pipeline="line3"} 1`,
		`edgerun_pipeline_alarm{pipeline="line3"} 1`,
		`edgerun_pipeline_model_errors_total{pipeline="line3"} 0`,
		`edgerun_pipeline_drops_total{pipeline="line3",stage="window"} 0`,
		`edgerun_pipeline_drops_total{pipeline="line3",stage="stdout"} 0`,
		`edgerun_pipeline_state{pipeline="line3",state="finished"} 1`,
		`edgerun_pipeline_state{pipeline="no-model",state="failed"} 1`,
		`edgerun_pipeline_state{pipeline="broken",state="failed"} 1`,
		// The pipeline's requests go through the registry.
		`edgerun_requests_total{code="200",model="maintenance"} 124`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(metrics, `edgerun_pipeline_windows_total{pipeline="no-model"}`) {
		t.Error("a pipeline that never opened has counters")
	}
	checkExposition(t, metrics)

	// The model the failed pipeline names arrives: the daemon loads it
	// (hot add) and the pipeline, tried again with back-off, runs.
	erm, err := os.ReadFile(filepath.Join(models, "maintenance.erm"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(models, "nosuch.erm"), erm, 0o644); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(time.Minute)
	for {
		_, js := get("/v2/pipelines", "s3cret")
		doc.Pipelines = nil
		if err := json.Unmarshal([]byte(js), &doc); err != nil || len(doc.Pipelines) != 4 {
			t.Fatalf("/v2/pipelines: %v %s", err, js)
		}
		if p := doc.Pipelines[1]; p.State == pipeFinished {
			if p.Stats == nil || p.Stats.Windows != 124 || p.Stats.ModelErrors != 0 {
				t.Errorf("the pipeline whose model came later: %+v", p)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pipeline whose model came later never finished: %s\n%s", js, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
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
	// The pipelines stopped first: the running one said so, and the alarm
	// pin of the finished one went high at the alarm and was left off
	// when its sinks closed.
	logs := stderr.String()
	stopped := -1
	for _, line := range strings.SplitAfter(logs, "\n") {
		if strings.Contains(line, "pipeline stopped") && strings.Contains(line, "pipeline=live") {
			stopped = strings.Index(logs, line)
		}
	}
	if stopped < 0 || stopped > strings.Index(logs, "edgerun serve: stopped") {
		t.Errorf("no \"pipeline stopped\" for live before the daemon stopped:\n%s", logs)
	}
	high := strings.Index(logs, "pin=sim:GPIO27 level=High")
	if high < 0 || !strings.Contains(logs[high:], "pin=sim:GPIO27 level=Low") {
		t.Errorf("sim:GPIO27 did not go high then low:\n%s", logs)
	}
	if extra := leaked(before); len(extra) > 0 {
		t.Errorf("%d goroutines left after serve returned:\n%s", len(extra), strings.Join(extra, "\n\n"))
	}
}

// TestServePipelineNames: a pipeline is named by its name key, else its
// file without .yaml or .yml; two of one name are refused.
func TestServePipelineNames(t *testing.T) {
	for file, want := range map[string]string{"/etc/edgerun/line3.yaml": "line3", "a.yml": "a", "b.conf": "b.conf", ".yaml": ".yaml", "x\xff.yaml": "x\uFFFD"} {
		if got := pipelineName(file, nil); got != want {
			t.Errorf("pipelineName(%q) = %q, want %q", file, got, want)
		}
	}
	dir := t.TempDir()
	for _, d := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	_, err := loadPipelines([]string{filepath.Join(dir, "a", "p.yaml"), filepath.Join(dir, "b", "p.yaml")}, io.Discard, slog.New(slog.NewTextHandler(&logs, nil)))
	if err == nil || !strings.Contains(err.Error(), `both named "p"`) {
		t.Errorf("two pipelines named p: %v", err)
	}
}

// swapRegistry is a serve.Registry of one model, "m", whose every third
// request finds it swapping (serve.ErrUnavailable), as while a new
// version loads.
type swapRegistry struct {
	mu    sync.Mutex
	calls int
}

func (r *swapRegistry) Models() []serve.ModelInfo { return nil }
func (r *swapRegistry) Model(name, _ string) (serve.ModelInfo, error) {
	if name != "m" {
		return serve.ModelInfo{}, serve.ErrNotFound
	}
	return serve.ModelInfo{Name: "m", State: serve.StateReady, Desc: &sdk.Description{
		Inputs:  []sdk.TensorSpec{{Name: "x", Datatype: sdk.FP32, Shape: []int64{-1, 128, 3}}},
		Outputs: []sdk.TensorSpec{{Name: "label", Datatype: sdk.BYTES, Shape: []int64{-1}}},
	}}, nil
}
func (r *swapRegistry) Infer(_ context.Context, name, _ string, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.calls%3 == 0 {
		return nil, fmt.Errorf("%w: model %q is loading", serve.ErrUnavailable, name)
	}
	if len(req.Inputs) != 1 || len(req.Inputs[0].FP32) != 128*3 {
		return nil, fmt.Errorf("unexpected request %+v", req.Inputs)
	}
	return &sdk.InferResponse{Outputs: []sdk.Tensor{{Name: "label", Datatype: sdk.BYTES, Shape: []int64{1}, BYTES: [][]byte{[]byte("healthy")}}}}, nil
}
func (r *swapRegistry) Live() bool  { return true }
func (r *swapRegistry) Ready() bool { return true }

// TestServePipelineModelSwapping: while the daemon's model is unavailable
// (loading, swapping), a window's inference is a model error the
// pipeline counts, and it goes on to the end of its source.
func TestServePipelineModelSwapping(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "swap.yaml")
	if err := os.WriteFile(file, []byte(`sample_rate: 1000
source: {kind: csv, path: `+filepath.Join(root, "data", "maintenance", "recording.csv")+`, realtime: false}
window: {size: 128, hop: 64, channels: [vib_x, vib_y, current]}
model: {serve: m}
rule: {output: label, labels: [fault]}
sinks: [{kind: stdout}]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ps, err := loadPipelines([]string{file}, io.Discard, log)
	if err != nil {
		t.Fatal(err)
	}
	ps.start(context.Background(), &swapRegistry{}, log)
	ps.wait()
	v := ps.views()
	if len(v) != 1 || v[0].State != pipeFinished || v[0].Stats == nil {
		t.Fatalf("%+v\n%s", v, logs.String())
	}
	if st := v[0].Stats; st.Windows != 124 || st.Inferences != 124-124/3 || st.ModelErrors != 124/3 || st.Alarms != 0 {
		t.Errorf("stats %+v: want 124 windows, %d answered, %d model errors", st, 124-124/3, 124/3)
	}
}
