package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/tools/edgerun/internal/pipeline"
	"github.com/edgerun/edgerun/tools/edgerun/internal/serve"
	"github.com/prometheus/client_golang/prometheus"
)

// The states of a pipeline run by edgerun serve.
const (
	pipeWaiting  = "waiting"  // for the daemon's models to settle
	pipeRunning  = "running"  // reading its source
	pipeFinished = "finished" // its source ended; every window was run
	pipeStopped  = "stopped"  // the daemon stopped it
	pipeFailed   = "failed"   // the file did not load, or the pipeline did not open (tried again, with back-off)
)

// daemonPipelines are the pipelines edgerun serve runs (--pipeline), each
// in its own goroutine for the daemon's life.
type daemonPipelines struct {
	list []*daemonPipeline
	wg   sync.WaitGroup
}

// daemonPipeline is one pipeline file of the daemon.
type daemonPipeline struct {
	name, file string
	cfg        *pipeline.Config // nil: the file did not load

	mu    sync.Mutex
	state string
	err   string
	p     *pipeline.Pipeline // set once opened
}

// pipelineName is what the daemon calls the pipeline of a file: its name
// key, else the file's name without .yaml or .yml.
func pipelineName(file string, cfg *pipeline.Config) string {
	if cfg != nil && cfg.Name != "" {
		return cfg.Name
	}
	base := strings.ToValidUTF8(filepath.Base(file), "\uFFFD") // a label value is UTF-8
	for _, ext := range []string{".yaml", ".yml"} {
		if s, ok := strings.CutSuffix(base, ext); ok && s != "" {
			return s
		}
	}
	return base
}

// loadPipelines loads each file with the kinds of edgerun pipeline. A
// file that does not load is logged and kept as a failed pipeline; two
// pipelines of one name are an error (their metrics would collide).
func loadPipelines(files []string, stdout io.Writer, log *slog.Logger) (*daemonPipelines, error) {
	ps := &daemonPipelines{}
	seen := map[string]string{}
	kinds := (&pipelineCmd{}).kinds(&lockedWriter{w: stdout}, log)
	for _, f := range files {
		cfg, err := pipeline.Load(f, kinds)
		dp := &daemonPipeline{file: f, cfg: cfg, state: pipeWaiting}
		dp.name = pipelineName(f, cfg)
		if err != nil {
			dp.state, dp.err = pipeFailed, err.Error()
			log.Error("edgerun serve: pipeline did not load", "pipeline", dp.name, "file", f, "err", err)
		}
		if other, ok := seen[dp.name]; ok {
			return nil, fmt.Errorf("--pipeline %s and %s are both named %q (give one a name: key)", other, f, dp.name)
		}
		seen[dp.name] = f
		ps.list = append(ps.list, dp)
	}
	return ps, nil
}

// lockedWriter serialises the writes of the pipelines' stdout sinks.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// start runs every loaded pipeline in its own goroutine until its source
// ends or ctx ends. One whose model is a daemon's model (serve: NAME)
// opens once the registry has settled, so the model has loaded (or
// failed) by then.
func (ps *daemonPipelines) start(ctx context.Context, reg serve.Registry, log *slog.Logger) {
	lookup := func(name string) (sdk.Model, error) {
		if _, err := reg.Model(name, ""); err != nil {
			return nil, err
		}
		return &daemonModel{reg: reg, name: name}, nil
	}
	for _, dp := range ps.list {
		if dp.cfg == nil {
			continue
		}
		ps.wg.Add(1)
		go func() {
			defer ps.wg.Done()
			dp.run(ctx, reg, lookup, log.With("pipeline", dp.name))
		}()
	}
}

// wait waits for every pipeline to end (after ctx ends, within each
// file's drain time): their sinks are closed, GPIO outputs left off.
func (ps *daemonPipelines) wait() { ps.wg.Wait() }

func (dp *daemonPipeline) set(state, err string) {
	dp.mu.Lock()
	dp.state, dp.err = state, err
	dp.mu.Unlock()
}

func (dp *daemonPipeline) run(ctx context.Context, reg serve.Registry, lookup pipeline.ModelLookup, log *slog.Logger) {
	if dp.cfg.Model.Serve != "" && !waitSettled(ctx, reg, 50*time.Millisecond) {
		dp.set(pipeStopped, "")
		return
	}
	// A pipeline that does not open (its model not served yet, a sensor
	// not plugged in) is reported failed and tried again, with back-off:
	// a model file added later, or a sensor connected, starts it.
	var p *pipeline.Pipeline
	for wait := pipelineRetryMin; ; wait = min(2*wait, pipelineRetryMax) {
		var err error
		if p, err = pipeline.New(ctx, dp.cfg, pipeline.Options{Logger: log, Models: lookup}); err == nil {
			break
		}
		log.Error("edgerun serve: pipeline did not open; trying again", "file", dp.file, "in", wait, "err", err)
		dp.set(pipeFailed, err.Error())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	dp.mu.Lock()
	dp.p, dp.state = p, pipeRunning
	dp.mu.Unlock()
	log.Info("edgerun serve: pipeline running", "file", dp.file)
	if err := p.Run(ctx); err != nil {
		dp.set(pipeFailed, err.Error())
		return
	}
	if ctx.Err() != nil {
		dp.set(pipeStopped, "")
		log.Info("edgerun serve: pipeline stopped", "stats", p.Stats())
		return
	}
	dp.set(pipeFinished, "")
	log.Info("edgerun serve: pipeline finished: its source ended", "stats", p.Stats())
}

// The back-off between attempts to open a pipeline that failed to.
const (
	pipelineRetryMin = time.Second
	pipelineRetryMax = 30 * time.Second
)

// waitSettled waits, checking every poll, until the registry has settled
// (every model found loaded or failed): false if ctx ends first.
func waitSettled(ctx context.Context, reg serve.Registry, poll time.Duration) bool {
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for !reg.Ready() {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}

// pipelineView is one pipeline as GET /v2/pipelines shows it.
type pipelineView struct {
	Name  string          `json:"name"`
	File  string          `json:"file"`
	State string          `json:"state"`
	Error string          `json:"error,omitempty"`
	Stats *pipeline.Stats `json:"stats,omitempty"` // nil until opened
}

func (ps *daemonPipelines) views() []pipelineView {
	out := make([]pipelineView, 0, len(ps.list))
	for _, dp := range ps.list {
		dp.mu.Lock()
		v := pipelineView{Name: dp.name, File: dp.file, State: dp.state, Error: dp.err}
		p := dp.p
		dp.mu.Unlock()
		if p != nil {
			st := p.Stats()
			v.Stats = &st
		}
		out = append(out, v)
	}
	return out
}

// handler serves GET /v2/pipelines: {"pipelines": [...]}.
func (ps *daemonPipelines) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(struct {
			Pipelines []pipelineView `json:"pipelines"`
		}{ps.views()})
	})
}

// daemonModel is a model of the daemon's registry as a pipeline's model:
// its description is the one the registry serves now, and a request
// goes through the registry (its limits, queue and metrics). While the
// model loads or swaps, a request fails (serve.ErrUnavailable): the
// pipeline counts a model error and goes on.
type daemonModel struct {
	reg  serve.Registry
	name string
}

var _ sdk.Model = (*daemonModel)(nil)

func (m *daemonModel) Describe(ctx context.Context) (*sdk.Description, error) {
	in, err := m.reg.Model(m.name, "")
	if err != nil {
		return nil, err
	}
	if in.Desc == nil {
		if in.Err != "" {
			return nil, fmt.Errorf("%w: model %q is %s: %s", serve.ErrUnavailable, m.name, in.State, in.Err)
		}
		return nil, fmt.Errorf("%w: model %q is %s", serve.ErrUnavailable, m.name, in.State)
	}
	d := *in.Desc // the registry's is shared: hand out a copy
	return &d, nil
}

func (m *daemonModel) Infer(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	return m.reg.Infer(ctx, m.name, "", req)
}

func (m *daemonModel) Health(ctx context.Context) error {
	in, err := m.reg.Model(m.name, "")
	if err != nil {
		return err
	}
	if in.State != serve.StateReady {
		return fmt.Errorf("%w: model %q is %s", serve.ErrUnavailable, m.name, in.State)
	}
	return nil
}

// pipelineCollector exposes the pipelines' counters, read at scrape time:
//
//	edgerun_pipeline_state{pipeline,state}              1 for the state it is in
//	edgerun_pipeline_samples_total{pipeline}            samples read
//	edgerun_pipeline_windows_total{pipeline}            windows cut
//	edgerun_pipeline_inferences_total{pipeline}         windows the model answered
//	edgerun_pipeline_drops_total{pipeline,stage}        dropped by a full queue ("window", or a sink)
//	edgerun_pipeline_sensor_errors_total{pipeline}      failed source reads
//	edgerun_pipeline_model_errors_total{pipeline}       failed inferences
//	edgerun_pipeline_sink_errors_total{pipeline}        failed sends
//	edgerun_pipeline_alarms_total{pipeline}             times the alarm was raised
//	edgerun_pipeline_alarm{pipeline}                    1 while the alarm is on
type pipelineCollector struct {
	ps                                          *daemonPipelines
	state, samples, windows, inferences, drops  *prometheus.Desc
	sensorErrs, modelErrs, sinkErrs, alarms, on *prometheus.Desc
}

func newPipelineCollector(ps *daemonPipelines) *pipelineCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("edgerun_pipeline_"+name, help, append([]string{"pipeline"}, labels...), nil)
	}
	return &pipelineCollector{ps: ps,
		state:      d("state", "1 for the state a pipeline is in (waiting, running, finished, stopped, failed).", "state"),
		samples:    d("samples_total", "Samples a pipeline read from its source."),
		windows:    d("windows_total", "Windows a pipeline cut from its samples."),
		inferences: d("inferences_total", "Windows a pipeline's model answered."),
		drops:      d("drops_total", "What a pipeline's bounded queues dropped, oldest first, by stage (window: the model's queue; else a sink).", "stage"),
		sensorErrs: d("sensor_errors_total", "A pipeline's failed source reads."),
		modelErrs:  d("model_errors_total", "A pipeline's failed inferences (a model loading or swapping included)."),
		sinkErrs:   d("sink_errors_total", "A pipeline's failed sends to its sinks."),
		alarms:     d("alarms_total", "Times a pipeline's alarm was raised."),
		on:         d("alarm", "1 while a pipeline's alarm is on."),
	}
}

func (c *pipelineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.state, c.samples, c.windows, c.inferences, c.drops,
		c.sensorErrs, c.modelErrs, c.sinkErrs, c.alarms, c.on} {
		ch <- d
	}
}

func (c *pipelineCollector) Collect(ch chan<- prometheus.Metric) {
	for _, v := range c.ps.views() {
		ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, 1, v.Name, v.State)
		st := v.Stats
		if st == nil {
			continue
		}
		counter := func(d *prometheus.Desc, n uint64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(n), v.Name)
		}
		counter(c.samples, st.Samples)
		counter(c.windows, st.Windows)
		counter(c.inferences, st.Inferences)
		counter(c.sensorErrs, st.SensorErrors)
		counter(c.modelErrs, st.ModelErrors)
		counter(c.sinkErrs, st.SinkErrors)
		counter(c.alarms, st.Alarms)
		for stage, n := range st.Drops {
			ch <- prometheus.MustNewConstMetric(c.drops, prometheus.CounterValue, float64(n), v.Name, stage)
		}
		on := 0.0
		if st.Alarm {
			on = 1
		}
		ch <- prometheus.MustNewConstMetric(c.on, prometheus.GaugeValue, on, v.Name)
	}
}
