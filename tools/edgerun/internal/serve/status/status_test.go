package status

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/tools/edgerun/internal/serve"
)

// hostile is a model name (and label) made to break out of HTML, an
// attribute, a script and JSON if anything printed it unescaped.
const hostile = `evil"'><script>alert(1)</script><img src=x onerror=alert(2)>&amp;`

func testRegistry() *fakeRegistry {
	return &fakeRegistry{infos: []serve.ModelInfo{
		{
			Name: "digits", Version: "3f2a91c0", Versions: []string{"3f2a91c0"}, Platform: serve.PlatformERM,
			State: serve.StateReady, Kernel: "avx2", Weights: "int8", LoadedAt: time.Unix(1_700_000_000, 0),
			Desc: &sdk.Description{
				Name:    "digits",
				Inputs:  []sdk.TensorSpec{{Name: "pixels", Datatype: sdk.FP32, Shape: []int64{-1, 64}}},
				Outputs: []sdk.TensorSpec{{Name: "probabilities", Datatype: sdk.FP32, Shape: []int64{-1, 10}}},
				Labels:  []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
			},
		},
		{
			Name: "sentiment", Version: "1.2.0", Versions: []string{"1.2.0"}, Platform: serve.PlatformPlugin,
			State: serve.StateUnavailable, Restarts: 2,
			Desc: &sdk.Description{
				Name:    "sentiment",
				Inputs:  []sdk.TensorSpec{{Name: "text", Datatype: sdk.BYTES, Shape: []int64{-1}}},
				Outputs: []sdk.TensorSpec{{Name: "label", Datatype: sdk.BYTES, Shape: []int64{-1}}},
				Labels:  []string{"bad", "good"},
			},
		},
		{Name: "loading", Platform: serve.PlatformERM, State: serve.StateLoading},
		{
			Name: hostile, Version: hostile, Versions: []string{hostile}, Platform: serve.PlatformERM,
			State: serve.StateFailed, Err: "bad file: " + hostile, Kernel: hostile, Weights: hostile,
			Desc: &sdk.Description{
				Summary: hostile,
				Inputs:  []sdk.TensorSpec{{Name: hostile, Datatype: sdk.BYTES, Shape: []int64{1}, Categories: []string{hostile}}},
				Outputs: []sdk.TensorSpec{{Name: hostile, Datatype: sdk.FP32, Shape: []int64{1}}},
				Labels:  []string{hostile},
			},
		},
	}}
}

func get(t *testing.T, h http.Handler, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPageListsModels(t *testing.T) {
	w := &Window{Now: func() time.Time { return time.Unix(1_000, 0) }}
	for range 3 {
		w.Observe("digits", 2*time.Millisecond)
	}
	h := Handler(testRegistry(), w)
	r := get(t, h, "GET", "/")
	html := body(t, r)
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	for _, want := range []string{
		`data-model="digits"`, `data-model="sentiment"`, `data-model="loading"`,
		`<dd data-field="kernel">avx2</dd>`, `<dd data-field="weights">int8</dd>`,
		`<td>pixels</td><td>FP32</td><td>[-1,64]</td>`, `<td>probabilities</td><td>FP32</td><td>[-1,10]</td>`,
		`state-unavailable`, `<dd data-field="restarts">2</dd>`, `<dd data-field="requests">3</dd>`,
		`data-form="text"`, `data-form="json"`, `&#34;name&#34;: &#34;pixels&#34;`, // the example request, escaped in the textarea
		`<span class="label">good</span>`, `4 models`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Count(html, "<form") != 3 { // digits (json), sentiment (text), hostile (json); none for "loading"
		t.Errorf("%d forms, want 3", strings.Count(html, "<form"))
	}
}

func TestPageEscapes(t *testing.T) {
	h := Handler(testRegistry(), nil)
	html := body(t, get(t, h, "GET", "/"))
	for _, bad := range []string{"<script>alert", "<img src=x", `evil"'>`} {
		if strings.Contains(html, bad) {
			t.Errorf("the page holds %q unescaped", bad)
		}
	}
	if n := strings.Count(html, "evil&#34;&#39;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"); n < 8 {
		t.Errorf("the hostile name appears escaped %d times, want it in name, version, kernel, weights, error, summary, tensors, label", n)
	}
	if strings.Count(html, "<script") != 1 { // /status/app.js only
		t.Errorf("%d script elements, want 1", strings.Count(html, "<script"))
	}
	js := body(t, get(t, h, "GET", JSONPath))
	if strings.ContainsAny(js, "<>") {
		t.Errorf("the JSON holds < or >: %.200s", js)
	}
}

func TestModelsJSON(t *testing.T) {
	w := &Window{Now: func() time.Time { return time.Unix(1_000, 0) }}
	for i := 1; i <= 100; i++ {
		w.Observe("digits", time.Duration(i)*time.Millisecond)
	}
	reg := testRegistry()
	h := Handler(reg, w)
	r := get(t, h, "GET", JSONPath)
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET %s: %d %q %q", JSONPath, r.StatusCode, r.Header.Get("Content-Type"), r.Header.Get("Cache-Control"))
	}
	var p Page
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if !p.Live || !p.Ready || len(p.Models) != 4 {
		t.Fatalf("live %v ready %v, %d models, want true, true, 4", p.Live, p.Ready, len(p.Models))
	}
	d := p.Models[0]
	if d.Name != "digits" || d.Version != "3f2a91c0" || d.Platform != serve.PlatformERM || d.Kernel != "avx2" ||
		d.Weights != "int8" || d.State != serve.StateReady || d.LoadedAt != "2023-11-14T22:13:20Z" || d.Form != "json" {
		t.Errorf("digits: %+v", d)
	}
	if d.Requests != 100 || d.P50us < 45_000 || d.P50us > 55_000 || d.P99us < 90_000 || d.P99us > 110_000 {
		t.Errorf("digits: %d requests p50 %dµs p99 %dµs, want 100, about 50ms and 99ms", d.Requests, d.P50us, d.P99us)
	}
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "pixels" || d.Inputs[0].ShapeText() != "[-1,64]" || len(d.Labels) != 10 {
		t.Errorf("digits: inputs %+v labels %v", d.Inputs, d.Labels)
	}
	var ex struct {
		Inputs []struct {
			Name     string
			Datatype string
			Shape    []int64
			Data     []float64
		}
	}
	if err := json.Unmarshal([]byte(d.Example), &ex); err != nil || len(ex.Inputs) != 1 || len(ex.Inputs[0].Data) != 64 ||
		ex.Inputs[0].Shape[0] != 1 || ex.Inputs[0].Shape[1] != 64 || ex.Inputs[0].Datatype != "FP32" {
		t.Errorf("digits example %s (%v), want one row of 64 FP32", d.Example, err)
	}
	s := p.Models[1]
	if s.Form != "text" || s.Example != "" || s.State != serve.StateUnavailable || s.Restarts != 2 || s.Requests != 0 || s.P50us != 0 {
		t.Errorf("sentiment: %+v", s)
	}
	if l := p.Models[2]; l.Form != "" || l.Inputs == nil || l.Labels == nil || l.Versions == nil {
		t.Errorf("loading: form %q, inputs, labels and versions must be [] not null: %+v", l.Form, l)
	}
	if h := p.Models[3]; h.Name != hostile || h.Error != "bad file: "+hostile || h.Labels[0] != hostile {
		t.Errorf("hostile name or label not carried through JSON: %+v", h)
	}
	// The JSON follows the registry.
	reg.setState("sentiment", serve.StateReady, 3)
	r = get(t, h, "GET", JSONPath)
	p = Page{}
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if s := p.Models[1]; s.State != serve.StateReady || s.Restarts != 3 {
		t.Errorf("after the change: state %q restarts %d, want ready 3", s.State, s.Restarts)
	}
}

func TestAssetsAndRoutes(t *testing.T) {
	h := Handler(testRegistry(), nil)
	for _, c := range []struct {
		method, path string
		code         int
		ctype        string
	}{
		{"GET", "/status/app.js", 200, "text/javascript"},
		{"GET", "/status/style.css", 200, "text/css"},
		{"HEAD", "/", 200, "text/html"},
		{"GET", "/status/index.html", 404, ""},
		{"GET", "/status/%2e%2e", 404, ""},
		{"GET", "/status/assets/app.js", 404, ""},
		{"GET", "/nothing", 404, ""},
		{"POST", "/", 405, ""},
		{"DELETE", JSONPath, 405, ""},
	} {
		r := get(t, h, c.method, c.path)
		if r.StatusCode != c.code || !strings.HasPrefix(r.Header.Get("Content-Type"), c.ctype) {
			t.Errorf("%s %s: %d %q, want %d %q", c.method, c.path, r.StatusCode, r.Header.Get("Content-Type"), c.code, c.ctype)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s %s: security headers missing", c.method, c.path)
		}
	}
}

func TestExample(t *testing.T) {
	for _, c := range []struct {
		in   []sdk.TensorSpec
		want string
	}{
		{[]sdk.TensorSpec{{Name: "x", Datatype: sdk.INT64, Shape: []int64{-1, 2}}, {Name: "on", Datatype: sdk.BOOL}},
			`{"inputs":[{"name":"x","datatype":"INT64","shape":[1,2],"data":[0,0]},{"name":"on","datatype":"BOOL","shape":[1],"data":[false]}]}`},
		{[]sdk.TensorSpec{{Name: "city", Datatype: sdk.BYTES, Shape: []int64{-1}, Categories: []string{"Paris", "Oslo"}},
			{Name: "note", Datatype: sdk.BYTES, Shape: []int64{-1}, Optional: true}},
			`{"inputs":[{"name":"city","datatype":"BYTES","shape":[1],"data":["Paris"]}]}`},
		{[]sdk.TensorSpec{{Name: "user", Datatype: sdk.INT64, Shape: []int64{1}, Optional: true},
			{Name: "item", Datatype: sdk.INT64, Shape: []int64{1}, Optional: true}},
			`{"inputs":[{"name":"user","datatype":"INT64","shape":[1],"data":[0]}]}`},
	} {
		var compact bytes.Buffer
		if err := json.Compact(&compact, []byte(Example(c.in))); err != nil {
			t.Fatal(err)
		}
		if compact.String() != c.want {
			t.Errorf("Example(%v) = %s, want %s", c.in, compact.String(), c.want)
		}
	}
	// A huge declared shape gives a bounded example.
	big := Example([]sdk.TensorSpec{{Name: "x", Datatype: sdk.FP32, Shape: []int64{1 << 30, 1 << 30}}})
	if len(big) > 64<<10 {
		t.Errorf("example of a huge shape is %d bytes", len(big))
	}
}

// TestTokenShell: with a token, the page's shell (/, its script and style
// sheet, the icon) is public and holds no model data, and the data
// (JSONPath) needs the bearer token.
func TestTokenShell(t *testing.T) {
	h := New(testRegistry(), Options{Token: "s3cret"})
	r := get(t, h, "GET", "/")
	html := body(t, r)
	if r.StatusCode != 200 {
		t.Fatalf("GET / with a token: %d", r.StatusCode)
	}
	for _, leak := range []string{"digits", "sentiment", "avx2", "pixels", "1.2.0", "evil"} {
		if strings.Contains(html, leak) {
			t.Errorf("the locked shell holds %q", leak)
		}
	}
	for _, want := range []string{`<form id="token">`, `type="password"`, `data-locked="1"`, `/status/app.js`} {
		if !strings.Contains(html, want) {
			t.Errorf("the locked shell lacks %s", want)
		}
	}
	if strings.Contains(html, "No model is served") {
		t.Error("the locked shell says no model is served")
	}
	for _, path := range []string{"/status/app.js", "/status/style.css", "/favicon.ico"} {
		if r := get(t, h, "GET", path); r.StatusCode >= 300 {
			t.Errorf("GET %s with a token: %d, want it public", path, r.StatusCode)
		}
	}
	r = get(t, h, "GET", JSONPath)
	if js := body(t, r); r.StatusCode != http.StatusUnauthorized || strings.Contains(js, "digits") || !strings.Contains(js, `"error"`) {
		t.Errorf("GET %s without the token: %d %s, want 401 and a JSON error", JSONPath, r.StatusCode, js)
	}
	for _, auth := range []string{"Bearer wrong", "s3cret", "Bearer s3cret "} {
		req := httptest.NewRequest("GET", JSONPath, nil)
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d, want 401", auth, rec.Code)
		}
	}
	req := httptest.NewRequest("GET", JSONPath, nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var p Page
	if err := json.Unmarshal(rec.Body.Bytes(), &p); rec.Code != 200 || err != nil || len(p.Models) != 4 {
		t.Errorf("GET %s with the token: %d %v, %d models", JSONPath, rec.Code, err, len(p.Models))
	}
	// Without a token the page is rendered with its data, as before.
	if html := body(t, get(t, New(testRegistry(), Options{}), "GET", "/")); !strings.Contains(html, `data-model="digits"`) || strings.Contains(html, `id="token"`) {
		t.Error("without a token: the page should list the models and ask for no token")
	}
}
