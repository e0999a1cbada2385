package serve

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MaxModelLabels bounds the distinct values of the model label of the
// metrics. Model names come from file names, which anyone who can write
// the models folder chooses: beyond this many distinct names, further
// models are counted under the label value OtherModel. Remove frees a
// name's place.
const MaxModelLabels = 256

// OtherModel is the model label value of the models beyond MaxModelLabels.
const OtherModel = "_other"

// Metrics are the server's Prometheus metrics, on a registry of their own
// (not the global one), exposed by Handler at /metrics:
//
//	edgerun_requests_total{model,code}              requests answered, by HTTP status
//	edgerun_request_errors_total{model,code}        those with a status ≥ 400
//	edgerun_request_duration_seconds{model}         latency histogram
//	edgerun_queue_depth{model}                      requests waiting or running
//	edgerun_batch_rows{model}                       rows of each model run (batch size)
//	edgerun_model_load_duration_seconds{model}      model load time histogram
//	edgerun_model_load_failures_total{model}        loads refused (corrupt, unsigned...)
//	edgerun_model_info{model,version}               1 for the version served
//	edgerun_plugin_restarts_total{model}            plugin process restarts
//
// with the Go runtime (go_*) and process (process_*) collectors. Codes
// are HTTP statuses (a gRPC call is counted with the status Status maps
// its error to). It is safe for concurrent use.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	errs     *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	queue    *prometheus.GaugeVec
	batch    *prometheus.HistogramVec
	loadTime *prometheus.HistogramVec
	loadFail *prometheus.CounterVec
	info     *prometheus.GaugeVec
	restarts *prometheus.CounterVec

	mu       sync.Mutex
	models   map[string]bool   // model label values in use
	versions map[string]string // version of edgerun_model_info per model
}

// NewMetrics makes the metrics on a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg:      prometheus.NewRegistry(),
		models:   map[string]bool{},
		versions: map[string]string{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgerun_requests_total", Help: "Inference requests answered, by model and HTTP status code.",
		}, []string{"model", "code"}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgerun_request_errors_total", Help: "Inference requests answered with an error (HTTP status code 400 or more), by model and code.",
		}, []string{"model", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "edgerun_request_duration_seconds", Help: "Inference request latency, queueing included, by model.",
			Buckets: prometheus.ExponentialBuckets(50e-6, 2, 16), // 50 µs to 1.6 s
		}, []string{"model"}),
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "edgerun_queue_depth", Help: "Requests of a model waiting or running.",
		}, []string{"model"}),
		batch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "edgerun_batch_rows", Help: "Rows of each model run (with dynamic batching, the batch size).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11), // 1 to 1024
		}, []string{"model"}),
		loadTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "edgerun_model_load_duration_seconds", Help: "Time to load a model version, successful or not.",
			Buckets: prometheus.ExponentialBuckets(1e-3, 4, 9), // 1 ms to 65 s
		}, []string{"model"}),
		loadFail: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgerun_model_load_failures_total", Help: "Model versions refused at load (corrupt, truncated, unsigned, unpinned plugin...).",
		}, []string{"model"}),
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "edgerun_model_info", Help: "1 for the version of each model served.",
		}, []string{"model", "version"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgerun_plugin_restarts_total", Help: "Restarts of a plugin model's process.",
		}, []string{"model"}),
	}
	m.reg.MustRegister(m.requests, m.errs, m.latency, m.queue, m.batch, m.loadTime, m.loadFail, m.info, m.restarts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// label returns the model label value of model: the name itself while
// fewer than MaxModelLabels names are in use, else OtherModel.
func (m *Metrics) label(model string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.models[model] {
		return model
	}
	if len(m.models) >= MaxModelLabels || model == OtherModel {
		return OtherModel
	}
	m.models[model] = true
	return model
}

// code is the label value of an HTTP status: its number, or "other"
// outside 100–599 (so the label takes few values).
func code(c int) string {
	if c < 100 || c > 599 {
		return "other"
	}
	return strconv.Itoa(c)
}

// Request counts one request answered with HTTP status code after d,
// and records the version served (edgerun_model_info; version "" leaves
// it alone).
func (m *Metrics) Request(model, version string, status int, d time.Duration) {
	l := m.label(model)
	c := code(status)
	m.requests.WithLabelValues(l, c).Inc()
	if status >= 400 || c == "other" {
		m.errs.WithLabelValues(l, c).Inc()
	}
	m.latency.WithLabelValues(l).Observe(d.Seconds())
	if version != "" && l != OtherModel {
		m.setVersion(l, version)
	}
}

// setVersion makes version the one edgerun_model_info reports for model
// (one series per model: the old version's goes).
func (m *Metrics) setVersion(model, version string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.versions[model]
	if ok && old == version {
		return
	}
	if ok {
		m.info.DeleteLabelValues(model, old)
	}
	m.versions[model] = version
	m.info.WithLabelValues(model, version).Set(1)
}

// Queue sets the number of requests of model waiting or running.
func (m *Metrics) Queue(model string, n int) {
	m.queue.WithLabelValues(m.label(model)).Set(float64(n))
}

// Batch records one run of model on rows rows (Batcher.OnBatch).
func (m *Metrics) Batch(model string, rows int) {
	m.batch.WithLabelValues(m.label(model)).Observe(float64(rows))
}

// Load records a load of model that took d; err non-nil counts a
// failure.
func (m *Metrics) Load(model string, d time.Duration, err error) {
	l := m.label(model)
	m.loadTime.WithLabelValues(l).Observe(d.Seconds())
	if err != nil {
		m.loadFail.WithLabelValues(l).Inc()
	}
}

// Loaded records the version of model now served.
func (m *Metrics) Loaded(model, version string) {
	if l := m.label(model); l != OtherModel {
		m.setVersion(l, version)
	}
}

// Restart counts a restart of model's plugin process.
func (m *Metrics) Restart(model string) {
	m.restarts.WithLabelValues(m.label(model)).Inc()
}

// Remove deletes the series of a model that is no longer served and
// frees its place among the MaxModelLabels.
func (m *Metrics) Remove(model string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.models[model] {
		return
	}
	delete(m.models, model)
	delete(m.versions, model)
	l := prometheus.Labels{"model": model}
	for _, v := range []interface{ DeletePartialMatch(prometheus.Labels) int }{
		m.requests.MetricVec, m.errs.MetricVec, m.latency.MetricVec, m.queue.MetricVec, m.batch.MetricVec,
		m.loadTime.MetricVec, m.loadFail.MetricVec, m.info.MetricVec, m.restarts.MetricVec,
	} {
		v.DeletePartialMatch(l)
	}
}

// Registry returns the registry the metrics are on (for tests and for
// further collectors).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition format
// (/metrics). A collector failing does not stop the others being served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Registry: m.reg})
}
