//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgerun/edgerun/boards"
	"github.com/edgerun/edgerun/tools/edgerun/internal/pipeline"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
)

type testPin struct {
	mu     sync.Mutex
	sets   []bool
	closed bool
	on     chan struct{} // closed at the first Set(true)
}

func (p *testPin) Set(on bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on && !slices.Contains(p.sets, true) {
		close(p.on)
	}
	p.sets = append(p.sets, on)
	return nil
}

func (p *testPin) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return nil
}

// TestPipelineSIGTERM: a live pipeline (a recording read in real time)
// raises its GPIO alarm, serves its counters, and on SIGTERM stops
// reading, leaves the pin off, prints its counters and returns nil.
func TestPipelineSIGTERM(t *testing.T) {
	dir := t.TempDir()
	writeVibration(t, dir, 60000, 600) // a minute at 1000 Hz: far longer than the test
	y := strings.Replace(maintenanceYAML(t), "realtime: false", "realtime: true", 1) + "  - {kind: gpio, pin: GPIO17, on: change}\n"
	cfg := writePipeline(t, dir, y)
	pin := &testPin{on: make(chan struct{})}
	defer func(old func(pipeline.GPIOSpec) (boards.Actuator, error)) { pipelineGPIO = old }(pipelineGPIO)
	pipelineGPIO = func(s pipeline.GPIOSpec) (boards.Actuator, error) {
		if s.Pin != "GPIO17" {
			t.Errorf("pin %q", s.Pin)
		}
		return pin, nil
	}
	addrc := make(chan string, 1)
	c := &pipelineCmd{Config: cfg, StatusAddr: "127.0.0.1:0", LogFormat: "text", ready: func(a string) { addrc <- a }}
	var stdout, stderr bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- c.Run(&cliutil.Env{Program: "edgerun", Stdout: &stdout, Stderr: &stderr}) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	select {
	case <-pin.on:
	case <-time.After(time.Minute):
		t.Fatal("no alarm within a minute")
	}
	resp, err := http.Get("http://" + addr + "/status")
	if err != nil {
		t.Fatal(err)
	}
	var live pipeline.Stats
	err = json.NewDecoder(resp.Body).Decode(&live)
	resp.Body.Close()
	if err != nil || live.Samples < 600 || live.Alarms != 1 {
		t.Errorf("live status %+v %v", live, err)
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("SIGTERM did not stop the pipeline within a minute")
	}
	pin.mu.Lock()
	sets, closed := slices.Clone(pin.sets), pin.closed
	pin.mu.Unlock()
	if len(sets) < 2 || sets[len(sets)-1] || !closed {
		t.Errorf("pin sets %v closed %v: want it left off and closed", sets, closed)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var final struct{ Stats pipeline.Stats }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &final); err != nil || final.Stats.Samples < live.Samples || final.Stats.Samples >= 60000 {
		t.Errorf("last line %q: %v", lines[len(lines)-1], err)
	}
}
