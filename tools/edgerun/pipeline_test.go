package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/tools/edgerun/internal/pipeline"
)

// writeVibration writes a CSV recording at 1000 Hz of vib_x, vib_y,
// current, shaped like the maintenance model's training data: a healthy
// machine (x and y in phase) until sample fault, then an imbalance (a
// stronger rotating force: x and y in quadrature, the current modulated).
func writeVibration(t *testing.T, dir string, n, fault int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteString("time,vib_x,vib_y,current\n")
	const fr = 27.0
	for i := range n {
		ts := float64(i) / 1000
		w := 2 * math.Pi * fr * ts
		a1, yPhase, mod := 0.7, 0.2, 0.0
		if i >= fault {
			a1, yPhase, mod = 1.5, math.Pi/2, 0.1
		}
		a2 := 0.15 * a1
		vx := a1*math.Sin(w) + a2*math.Sin(2*w+1)
		vy := a1*math.Sin(w+yPhase) + a2*math.Sin(2*w+1+yPhase)
		c := 0.75 * (1 + mod*math.Sin(w)) * math.Sin(2*math.Pi*50*ts)
		fmt.Fprintf(&b, "%.3f,%.4f,%.4f,%.4f\n", ts, vx+0.3*rng.NormFloat64(), vy+0.3*rng.NormFloat64(), c+0.05*rng.NormFloat64())
	}
	path := filepath.Join(dir, "vibration.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func writePipeline(t *testing.T, dir, body string) string {
	t.Helper()
	path := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func maintenanceYAML(t *testing.T) string {
	model, err := filepath.Abs("../../plugins/builtin/maintenance/model.erm")
	if err != nil {
		t.Fatal(err)
	}
	return `sample_rate: 1000
source: {kind: csv, path: vibration.csv, realtime: false}
window: {size: 128, hop: 64, channels: [vib_x, vib_y, current]}
model:
  erm: ` + model + `
rule:
  output: anomaly_score
  threshold: {above: 0.6, clear_below: 0.4}
  debounce: 2
sinks:
  - {kind: stdout}
`
}

type onceOutput struct {
	Decisions []pipeline.Decision `json:"decisions"`
	Stats     pipeline.Stats      `json:"stats"`
}

// TestPipelineOnceMaintenance runs the maintenance model (a real .erm,
// [?,128,3]) over a recorded CSV with --once.
func TestPipelineOnceMaintenance(t *testing.T) {
	dir := t.TempDir()
	writeVibration(t, dir, 1000, 600)
	cfg := writePipeline(t, dir, maintenanceYAML(t))
	r := runArgs("pipeline", "--once", "--config", cfg)
	if r.code != 0 {
		t.Fatal(r)
	}
	var out onceOutput
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	st := out.Stats
	const windows = (1000-128)/64 + 1
	if st.Samples != 1000 || st.Windows != windows || st.Inferences != windows || st.Drops["window"] != 0 || st.Drops["stdout"] != 0 ||
		st.SensorErrors != 0 || st.ModelErrors != 0 || len(out.Decisions) != windows {
		t.Fatalf("stats %+v, %d decisions", st, len(out.Decisions))
	}
	changes := 0
	for i, d := range out.Decisions {
		if d.Window != uint64(i) || d.Value == nil || *d.Value < 0 || *d.Value > 1 || d.Output != "anomaly_score" {
			t.Errorf("decision %d: %+v", i, d)
		}
		// The window's time is its last sample's, from the time column.
		if want := float64(i*64+127) / 1000; math.Abs(float64(d.Time.UnixNano())/1e9-want) > 1e-9 {
			t.Errorf("decision %d at %v, want %v s", i, d.Time, want)
		}
		if d.Changed {
			changes++
		}
	}
	// Windows 0-7 end before the fault (sample 600): healthy, no alarm.
	// Window 8 (samples 512-639) and 9 are the first with the fault: the
	// alarm rises at the second (debounce 2) and holds.
	for i, d := range out.Decisions {
		if d.Alarm != (i >= 9) || d.Changed != (i == 9) {
			t.Errorf("window %d (score %.3f): alarm %v changed %v", i, *d.Value, d.Alarm, d.Changed)
		}
	}
	if changes != 1 || st.Alarms != 1 || !st.Alarm {
		t.Errorf("%d changes, stats %+v", changes, st)
	}
	if strings.Contains(r.stdout, "\n{\"window\"") {
		t.Error("--once printed the stdout sink's lines")
	}
}

// TestPipelineStdoutLines: without --once, decisions are JSON lines on
// stdout and the counters the last line.
func TestPipelineStdoutLines(t *testing.T) {
	dir := t.TempDir()
	writeVibration(t, dir, 300, 1000)
	r := runArgs("pipeline", "--config", writePipeline(t, dir, maintenanceYAML(t)))
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 4 {
		t.Fatal(r)
	}
	var d pipeline.Decision
	var st struct{ Stats pipeline.Stats }
	if err := json.Unmarshal([]byte(lines[0]), &d); err != nil || d.Value == nil {
		t.Errorf("%q: %v", lines[0], err)
	}
	if err := json.Unmarshal([]byte(lines[3]), &st); err != nil || st.Stats.Windows != 3 {
		t.Errorf("%q: %v", lines[3], err)
	}
}

func TestPipelineCheckAndErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := writePipeline(t, dir, maintenanceYAML(t))
	r := runArgs("pipeline", "--check", "--config", cfg)
	r.wantOK(t)
	if !strings.Contains(r.stdout, "ok (csv source at 1000 Hz, windows of 128 hop 64, 1 sinks)") {
		t.Errorf("--check: %v", r)
	}
	bad := writePipeline(t, dir, strings.Replace(maintenanceYAML(t), "hop: 64", "hop: 0", 1))
	runArgs("pipeline", "--check", "--config", bad).wantFail(t, 1, "edgerun: "+bad+":3: window.hop: 0 is not a positive number")
	serve := writePipeline(t, dir, strings.Replace(maintenanceYAML(t), "erm: ", "serve: maintenance\n  # ", 1))
	runArgs("pipeline", "--check", "--config", serve).wantOK(t)
	r = runArgs("pipeline", "--once", "--config", serve)
	if r.code != 1 || !strings.Contains(r.stderr, "model.serve: only inside edgerun serve") {
		t.Errorf("serve: outside serve: %v", r)
	}
	cols := writePipeline(t, dir, strings.Replace(maintenanceYAML(t), "current]", "temperature]", 1))
	writeVibration(t, dir, 10, 0)
	r = runArgs("pipeline", "--once", "--config", cols)
	if r.code != 1 || !strings.Contains(r.stderr, `:3: window.channels: the source has no channel "temperature"`) {
		t.Errorf("missing channel: %v", r)
	}
}

// TestPipelineStatus serves the counters on loopback.
func TestPipelineStatus(t *testing.T) {
	dir := t.TempDir()
	writeVibration(t, dir, 256, 1000)
	c, err := pipeline.Load(writePipeline(t, dir, maintenanceYAML(t)), pipeline.NewKinds(pipeline.Deps{Stdout: io.Discard}))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	p, err := pipeline.New(context.Background(), c, pipeline.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := serveStatus("0.0.0.0:0", p, log); err == nil {
		t.Error("a status address on every interface was accepted")
	}
	srv, addr, err := serveStatus("127.0.0.1:0", p, log)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	resp, err := http.Get("http://" + addr + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st pipeline.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != 200 || st.Samples != 256 || st.Windows != 3 || st.Last == nil {
		t.Errorf("status %d %+v %v", resp.StatusCode, st, err)
	}
}
