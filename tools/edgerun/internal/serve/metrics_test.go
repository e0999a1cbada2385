package serve

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// scrape returns the exposition Handler serves.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d, %v", resp.StatusCode, err)
	}
	return string(body)
}

// TestMetricsExposition records one of everything, scrapes /metrics,
// checks the series and values, and validates the exposition with
// `promtool check metrics`.
func TestMetricsExposition(t *testing.T) {
	m := NewMetrics()
	m.Request("digits", "3f2a", 200, 300*time.Microsecond)
	m.Request("digits", "3f2a", 200, 2*time.Millisecond)
	m.Request("digits", "3f2a", 400, time.Millisecond)
	m.Request("sentiment", "", 503, time.Millisecond)
	m.Queue("digits", 5)
	m.Batch("digits", 16)
	m.Load("digits", 20*time.Millisecond, nil)
	m.Load("digits", 5*time.Millisecond, errors.New("truncated"))
	m.Loaded("sentiment", "v2")
	m.Restart("sentiment")
	body := scrape(t, m)
	for _, want := range []string{
		`edgerun_requests_total{code="200",model="digits"} 2`,
		`edgerun_requests_total{code="400",model="digits"} 1`,
		`edgerun_request_errors_total{code="400",model="digits"} 1`,
		`edgerun_request_errors_total{code="503",model="sentiment"} 1`,
		`edgerun_request_duration_seconds_count{model="digits"} 3`,
		`edgerun_request_duration_seconds_bucket{model="digits",le="0.0004"} 1`,
		`edgerun_queue_depth{model="digits"} 5`,
		`edgerun_batch_rows_bucket{model="digits",le="16"} 1`,
		`edgerun_model_load_duration_seconds_count{model="digits"} 2`,
		`edgerun_model_load_failures_total{model="digits"} 1`,
		`edgerun_model_info{model="digits",version="3f2a"} 1`,
		`edgerun_model_info{model="sentiment",version="v2"} 1`,
		`edgerun_plugin_restarts_total{model="sentiment"} 1`,
		"go_goroutines ", "go_memstats_heap_alloc_bytes ",
	} {
		if !strings.Contains(body, want+"\n") && !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, `edgerun_request_errors_total{code="200"`) {
		t.Error("a 200 is counted as an error")
	}
	promtool(t, body)
}

// promtool validates an exposition with `promtool check metrics`. Under
// make test (EDGERUN_REQUIRE_PROMTOOL=1) a missing promtool fails the
// test; otherwise it skips saying how to get it.
func promtool(t *testing.T, body string) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("EDGERUN_REQUIRE_PROMTOOL") == "1" {
			t.Fatal("promtool is missing and EDGERUN_REQUIRE_PROMTOOL=1: install the Debian package prometheus (scripts/ensure-deps promtool:prometheus)")
		}
		t.Skip("promtool not found: the exposition is not validated (apt-get install prometheus; make test requires it)")
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out.String())
	}
}

// TestMetricsModelCap: beyond MaxModelLabels distinct model names, the
// others are counted under OtherModel; Remove frees a place.
func TestMetricsModelCap(t *testing.T) {
	m := NewMetrics()
	for i := range MaxModelLabels + 10 {
		m.Request(fmt.Sprintf("m%d", i), "v", 200, time.Millisecond)
	}
	if n := testutil.CollectAndCount(m.requests); n != MaxModelLabels+1 {
		t.Fatalf("%d request series, want %d names + %s", n, MaxModelLabels, OtherModel)
	}
	if v := testutil.ToFloat64(m.requests.WithLabelValues(OtherModel, "200")); v != 10 {
		t.Fatalf("%s counted %v requests, want 10", OtherModel, v)
	}
	if n := testutil.CollectAndCount(m.info); n != MaxModelLabels {
		t.Fatalf("%d model_info series, want %d", n, MaxModelLabels)
	}
	m.Remove("m0")
	m.Request("new", "v", 200, time.Millisecond)
	if v := testutil.ToFloat64(m.requests.WithLabelValues("new", "200")); v != 1 {
		t.Fatalf("after Remove, a new model is not counted under its name (%v)", v)
	}
	if strings.Contains(scrape(t, m), `model="m0"`) {
		t.Fatal("a removed model's series are still exposed")
	}
	// Codes outside HTTP's range take one label value.
	m.Request("new", "v", 1234, time.Millisecond)
	m.Request("new", "v", -1, time.Millisecond)
	if v := testutil.ToFloat64(m.errs.WithLabelValues("new", "other")); v != 2 {
		t.Fatalf("odd codes counted %v times as errors, want 2", v)
	}
}

// TestMetricsVersionSwap: edgerun_model_info keeps one series per model,
// the version served.
func TestMetricsVersionSwap(t *testing.T) {
	m := NewMetrics()
	m.Loaded("digits", "a")
	m.Request("digits", "b", 200, time.Millisecond)
	body := scrape(t, m)
	if strings.Contains(body, `version="a"`) || !strings.Contains(body, `edgerun_model_info{model="digits",version="b"} 1`) {
		t.Fatalf("model_info after a swap:\n%s", grepLines(body, "edgerun_model_info"))
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestMetricsPrivateRegistry: two Metrics do not collide (nothing is on
// the global registry).
func TestMetricsPrivateRegistry(t *testing.T) {
	a, b := NewMetrics(), NewMetrics()
	a.Request("x", "", 200, time.Millisecond)
	if strings.Contains(scrape(t, b), `model="x"`) {
		t.Fatal("one Metrics' series show in another's")
	}
}
