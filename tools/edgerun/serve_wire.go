package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/tools/edgerun/internal/serve"
	"github.com/edgerun/edgerun/tools/edgerun/internal/serve/status"
)

// telemetry is what the daemon observes of its registry: the Prometheus
// metrics and the status page's one-minute window. It is the registry's
// Observer.
type telemetry struct {
	metrics *serve.Metrics
	window  *status.Window

	mu       sync.Mutex
	restarts map[string]restartMark // last plugin restarts seen, by model
	known    map[string]bool        // models seen at the last sync
}

// restartMark is a plugin's restart count as last seen, for its version
// (a new version's supervisor counts from 0 again).
type restartMark struct {
	version string
	n       int
}

func newTelemetry() *telemetry {
	return &telemetry{metrics: serve.NewMetrics(), window: status.NewWindow(),
		restarts: map[string]restartMark{}, known: map[string]bool{}}
}

var _ serve.Observer = (*telemetry)(nil)

// Request implements serve.Observer: counted by the HTTP status its error
// maps to (gRPC calls too), and in the status page's window.
func (t *telemetry) Request(model, version string, err error, took time.Duration) {
	code, _ := serve.Status(err)
	t.metrics.Request(model, version, code, took)
	t.window.Observe(model, took)
}

// Queue implements serve.Observer.
func (t *telemetry) Queue(model string, n int) { t.metrics.Queue(model, n) }

// Load implements serve.Observer.
func (t *telemetry) Load(model string, took time.Duration, err error) {
	t.metrics.Load(model, took, err)
}

// hooks are the registry's hooks: the observer, and the dynamic batcher
// on each .erm model whose limits have MaxBatch > 1.
func (t *telemetry) hooks() serve.Hooks {
	return serve.Hooks{Observer: t, Wrap: func(info serve.ModelInfo, m sdk.Model) sdk.Model {
		if info.Platform != serve.PlatformERM || info.Limits.MaxBatch <= 1 {
			return m
		}
		b := serve.NewBatcher(m.Infer, info.Limits)
		name := info.Name
		b.OnBatch = func(rows, _ int) { t.metrics.Batch(name, rows) }
		return &batched{Model: m, b: b}
	}}
}

// batched is a model whose requests go through its dynamic batcher; the
// registry closes it (the batcher) when the version retires.
type batched struct {
	sdk.Model
	b *serve.Batcher
}

func (m *batched) Infer(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	return m.b.Infer(ctx, req)
}

func (m *batched) Close() error { return m.b.Close() }

// sync brings what the registry knows but does not report as events into
// the metrics, when they are read: the version each model serves, its
// plugin's restarts, and the models removed (their series and window go).
func (t *telemetry) sync(reg serve.Registry) {
	infos := reg.Models()
	t.mu.Lock()
	defer t.mu.Unlock()
	now := make(map[string]bool, len(infos))
	for _, in := range infos {
		now[in.Name] = true
		if in.Version != "" {
			t.metrics.Loaded(in.Name, in.Version)
		}
		if in.Platform != serve.PlatformPlugin || in.Version == "" {
			continue
		}
		last := t.restarts[in.Name]
		add := in.Restarts - last.n
		if last.version != in.Version {
			add = in.Restarts
		}
		for range max(add, 0) {
			t.metrics.Restart(in.Name)
		}
		t.restarts[in.Name] = restartMark{version: in.Version, n: in.Restarts}
	}
	for name := range t.known {
		if !now[name] {
			t.metrics.Remove(name)
			t.window.Forget(name)
			delete(t.restarts, name)
		}
	}
	t.known = now
}

// metricsHandler serves /metrics, synced with reg first.
func (t *telemetry) metricsHandler(reg serve.Registry) http.Handler {
	h := t.metrics.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.sync(reg)
		h.ServeHTTP(w, r)
	})
}

// grpcFront serves reg's gRPC API on lis until stop, which drains the
// calls in flight until ctx ends and then cuts the rest.
func grpcFront(lis net.Listener, reg serve.Registry, opt serve.GRPCOptions) (run func() error, stop func(ctx context.Context)) {
	s := serve.NewGRPCServer(reg, opt)
	run = func() error { return s.Serve(lis) }
	stop = func(ctx context.Context) {
		done := make(chan struct{})
		go func() { s.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			s.Stop()
			<-done
		}
	}
	return run, stop
}

// notifyReady tells systemd READY=1 (sd_notify) once every model found
// has settled, checking every poll until ctx ends.
func notifyReady(ctx context.Context, reg serve.Registry, poll time.Duration, log *slog.Logger) {
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for !reg.Ready() {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
	log.Info("edgerun serve: ready: every model found has loaded or failed")
	if _, err := serve.Notify("READY=1"); err != nil {
		log.Warn("edgerun serve: sd_notify", "err", err)
	}
}
