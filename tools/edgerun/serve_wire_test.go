package main

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/tools/edgerun/internal/serve"
)

// listRegistry is a serve.Registry that only lists models.
type listRegistry struct{ infos []serve.ModelInfo }

func (l *listRegistry) Models() []serve.ModelInfo { return l.infos }
func (l *listRegistry) Model(string, string) (serve.ModelInfo, error) {
	return serve.ModelInfo{}, serve.ErrNotFound
}
func (l *listRegistry) Infer(context.Context, string, string, *sdk.InferRequest) (*sdk.InferResponse, error) {
	return nil, serve.ErrNotFound
}
func (l *listRegistry) Live() bool  { return true }
func (l *listRegistry) Ready() bool { return true }

func scrape(t *testing.T, tel *telemetry, reg serve.Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	tel.metricsHandler(reg).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return string(b)
}

// TestTelemetry: the observer counts requests by the status their error
// maps to, in the metrics and the status page's window; a scrape brings in
// the plugin restarts (counted once each, from 0 again for a new
// version), the version served, and drops a removed model's series.
func TestTelemetry(t *testing.T) {
	tel := newTelemetry()
	tel.Request("m", "v1", nil, time.Millisecond)
	tel.Request("m", "v1", serve.ErrQueueFull, time.Millisecond)
	tel.Request("m", "", sdk.ErrInvalidInput, time.Millisecond)
	tel.Load("m", time.Millisecond, errors.New("corrupt"))
	plugin := serve.ModelInfo{Name: "p", Version: "1.0", Platform: serve.PlatformPlugin, Restarts: 2}
	reg := &listRegistry{infos: []serve.ModelInfo{{Name: "m", Version: "v1", Platform: serve.PlatformERM}, plugin}}
	out := scrape(t, tel, reg)
	for _, want := range []string{
		`edgerun_requests_total{code="200",model="m"} 1`,
		`edgerun_requests_total{code="429",model="m"} 1`,
		`edgerun_request_errors_total{code="400",model="m"} 1`,
		`edgerun_model_load_failures_total{model="m"} 1`,
		`edgerun_plugin_restarts_total{model="p"} 2`,
		`edgerun_model_info{model="p",version="1.0"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if n, _, _ := tel.window.Stats("m"); n != 3 {
		t.Errorf("window: %d requests of m, want 3", n)
	}
	// Scraped again: nothing new counted twice; one more restart counts one.
	reg.infos[1].Restarts = 3
	scrape(t, tel, reg)
	if out := scrape(t, tel, reg); !strings.Contains(out, `edgerun_plugin_restarts_total{model="p"} 3`) {
		t.Error("restarts: want 3 after one more")
	}
	// A new version of the plugin restarts its count from 0.
	reg.infos[1].Version, reg.infos[1].Restarts = "1.1", 1
	if out := scrape(t, tel, reg); !strings.Contains(out, `edgerun_plugin_restarts_total{model="p"} 4`) ||
		!strings.Contains(out, `edgerun_model_info{model="p",version="1.1"} 1`) || strings.Contains(out, `version="1.0"`) {
		t.Errorf("new plugin version: %s", out)
	}
	// m removed: its series and window go.
	reg.infos = reg.infos[1:]
	if out := scrape(t, tel, reg); strings.Contains(out, `model="m"`) {
		t.Error("a removed model's series remain")
	}
	if n, _, _ := tel.window.Stats("m"); n != 0 {
		t.Errorf("window: %d requests of removed m", n)
	}
}

// TestBatchedWrap: the hook batches only .erm models whose max_batch is
// over 1, and the batcher is closed with the version.
func TestBatchedWrap(t *testing.T) {
	h := newTelemetry().hooks()
	var m sdk.Model = &listModel{}
	for _, tc := range []struct {
		info    serve.ModelInfo
		batched bool
	}{
		{serve.ModelInfo{Name: "a", Platform: serve.PlatformERM, Limits: serve.ModelLimits{MaxBatch: 8}}, true},
		{serve.ModelInfo{Name: "b", Platform: serve.PlatformERM, Limits: serve.ModelLimits{MaxBatch: 1}}, false},
		{serve.ModelInfo{Name: "c", Platform: serve.PlatformPlugin, Limits: serve.ModelLimits{MaxBatch: 8}}, false},
	} {
		got := h.Wrap(tc.info, m)
		b, ok := got.(*batched)
		if ok != tc.batched {
			t.Errorf("%s: batched %v, want %v", tc.info.Name, ok, tc.batched)
		}
		if ok {
			if err := b.Close(); err != nil {
				t.Error(err)
			}
		}
	}
}

type listModel struct{ sdk.Model }
