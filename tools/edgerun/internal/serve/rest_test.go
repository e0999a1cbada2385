package serve

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// call sends a request and returns the status and the decoded JSON body.
func call(t *testing.T, srv *httptest.Server, method, path, body, token string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %d, body not JSON: %v", method, path, res.StatusCode, err)
	}
	return res.StatusCode, out
}

func restServer(t *testing.T, opt HandlerOptions, ropt Options) (*httptest.Server, *Reg) {
	t.Helper()
	if ropt.Models == "" {
		ropt.Models = t.TempDir()
		put(t, ropt.Models, "sentiment", "sentiment")
		put(t, ropt.Models, "risk", "risk")
	}
	r := newReg(t, ropt)
	r.Scan()
	opt.Logger = quiet()
	srv := httptest.NewServer(NewHandler(r, opt))
	t.Cleanup(srv.Close)
	return srv, r
}

// TestREST: every endpoint and every error case of the protocol, on a
// real registry.
func TestREST(t *testing.T) {
	srv, r := restServer(t, HandlerOptions{Version: "test", MaxBodyBytes: 4096}, Options{})
	info, err := r.Model("sentiment", "")
	if err != nil {
		t.Fatal(err)
	}
	v := info.Version

	st, body := call(t, srv, "GET", "/v2", "", "")
	if st != 200 || body["name"] != ServerName || body["version"] != "test" {
		t.Errorf("GET /v2: %d %v", st, body)
	}
	for _, p := range []string{"/v2/health/live", "/v2/health/ready"} {
		if st, body := call(t, srv, "GET", p, "", ""); st != 200 || (body["live"] != true && body["ready"] != true) {
			t.Errorf("GET %s: %d %v", p, st, body)
		}
	}
	for _, p := range []string{"/v2/models/sentiment", "/v2/models/sentiment/versions/" + v} {
		st, body := call(t, srv, "GET", p, "", "")
		if st != 200 || body["name"] != "sentiment" || body["platform"] != PlatformERM {
			t.Errorf("GET %s: %d %v", p, st, body)
			continue
		}
		ins := body["inputs"].([]any)
		in := ins[0].(map[string]any)
		if len(ins) != 1 || in["name"] != "text" || in["datatype"] != "BYTES" {
			t.Errorf("GET %s: inputs %v", p, ins)
		}
		if vs := body["versions"].([]any); len(vs) != 1 || vs[0] != v {
			t.Errorf("GET %s: versions %v, want [%s]", p, vs, v)
		}
		if len(body["outputs"].([]any)) < 2 {
			t.Errorf("GET %s: outputs %v", p, body["outputs"])
		}
	}
	for _, p := range []string{"/v2/models/sentiment/ready", "/v2/models/sentiment/versions/" + v + "/ready"} {
		if st, body := call(t, srv, "GET", p, "", ""); st != 200 || body["ready"] != true || body["name"] != "sentiment" {
			t.Errorf("GET %s: %d %v", p, st, body)
		}
	}

	// Inference: id, parameters, requested outputs, a batch of two, labels.
	st, body = call(t, srv, "POST", "/v2/models/sentiment/infer",
		`{"id":"r1","inputs":[{"name":"text","datatype":"BYTES","shape":[2],"data":["great phone, love it","awful, broke in a day"]}],"outputs":[{"name":"label"}]}`, "")
	if st != 200 || body["id"] != "r1" || body["model_name"] != "sentiment" || body["model_version"] != v {
		t.Fatalf("infer: %d %v", st, body)
	}
	outs := body["outputs"].([]any)
	if len(outs) != 1 {
		t.Fatalf("infer: outputs %v, want only label", outs)
	}
	out := outs[0].(map[string]any)
	if out["name"] != "label" || out["datatype"] != "BYTES" || len(out["data"].([]any)) != 2 {
		t.Errorf("infer: label %v", out)
	}
	st, body = call(t, srv, "POST", "/v2/models/sentiment/versions/"+v+"/infer", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["great"]}]}`, "")
	if st != 200 || len(body["outputs"].([]any)) < 2 {
		t.Errorf("infer by version: %d %v", st, body)
	}
	// A tabular model: named features, a category by name.
	st, body = call(t, srv, "GET", "/v2/models/risk", "", "")
	if st != 200 {
		t.Fatalf("GET risk: %d %v", st, body)
	}
	var ins []string
	for _, in := range body["inputs"].([]any) {
		in := in.(map[string]any)
		data := `[null, 1.5]` // FP32: missing (imputed), a number
		if in["datatype"] == "BYTES" {
			data = `["NA", "NA"]`
		}
		ins = append(ins, fmt.Sprintf(`{"name":%q,"datatype":%q,"shape":[2],"data":%s}`, in["name"], in["datatype"], data))
	}
	st, body = call(t, srv, "POST", "/v2/models/risk/infer", `{"inputs":[`+strings.Join(ins, ",")+`]}`, "")
	if st != 200 {
		t.Fatalf("infer risk: %d %v", st, body)
	}
	for _, o := range body["outputs"].([]any) {
		o := o.(map[string]any)
		if o["name"] == "label" && len(o["data"].([]any)) != 2 {
			t.Errorf("risk labels %v, want 2", o)
		}
	}
	st, body = call(t, srv, "POST", "/v2/models/risk/infer", `{"inputs":[`+strings.Join(ins[1:], ",")+`]}`, "")
	if st != 400 {
		t.Errorf("risk without its first feature: %d %v, want 400", st, body)
	}

	// Errors: {"error": "..."} with the protocol's status.
	big := `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["` + strings.Repeat("a", 5000) + `"]}]}`
	for _, tc := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/v2/models/sentiment/infer", `{"inputs":[`, 400, ""},
		{"POST", "/v2/models/sentiment/infer", `not json`, 400, ""},
		{"POST", "/v2/models/sentiment/infer", `{"inputs":[{"name":"text","datatype":"FP32","shape":[1],"data":[1]}]}`, 400, "FP32"},
		{"POST", "/v2/models/sentiment/infer", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[3],"data":["a"]}]}`, 400, ""},
		{"POST", "/v2/models/sentiment/infer", `{"inputs":[{"name":"txt","datatype":"BYTES","shape":[1],"data":["a"]}]}`, 400, "txt"},
		{"POST", "/v2/models/sentiment/infer", `{"inputs":[]}`, 400, ""},
		{"POST", "/v2/models/sentiment/infer", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["a"]}],"outputs":[{"name":"nope"}]}`, 400, "nope"},
		{"POST", "/v2/models/sentiment/infer", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":[null]}]}`, 400, "missing"},
		{"POST", "/v2/models/sentiment/infer", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["a"]}],"extra":1}`, 400, "extra"},
		{"POST", "/v2/models/sentiment/infer", big, 413, "4096"},
		{"POST", "/v2/models/nope/infer", `{}`, 404, "nope"},
		{"POST", "/v2/models/sentiment/versions/zzz/infer", `{}`, 404, "zzz"},
		{"GET", "/v2/models/nope", "", 404, "nope"},
		{"GET", "/v2/models/sentiment/versions/zzz", "", 404, "zzz"},
		{"GET", "/v2/models/nope/ready", "", 404, "nope"},
		{"GET", "/v2/nothing", "", 404, ""},
	} {
		st, body := call(t, srv, tc.method, tc.path, tc.body, "")
		msg, _ := body["error"].(string)
		if st != tc.status || msg == "" || len(body) != 1 || !strings.Contains(msg, tc.want) {
			t.Errorf("%s %s %.60s: %d %v, want %d {\"error\"} with %q", tc.method, tc.path, tc.body, st, body, tc.status, tc.want)
		}
	}
}

// TestRESTUnavailable: a model that failed to load answers 503 with the
// reason; a plugin restarting does too (pluginModel).
func TestRESTUnavailable(t *testing.T) {
	dir := t.TempDir()
	putBytes(t, dir, "broken", []byte("not a model"))
	srv, _ := restServer(t, HandlerOptions{}, Options{Models: dir})
	for _, p := range []string{"/v2/models/broken", "/v2/models/broken/ready"} {
		st, body := call(t, srv, "GET", p, "", "")
		if st != 503 {
			t.Errorf("GET %s: %d %v, want 503", p, st, body)
		}
	}
	st, body := call(t, srv, "POST", "/v2/models/broken/infer", `{"inputs":[]}`, "")
	if msg, _ := body["error"].(string); st != 503 || !strings.Contains(msg, "failed") {
		t.Errorf("infer on a failed model: %d %v, want 503 with the reason", st, body)
	}
}

// TestRESTToken: with a token every endpoint but health wants it.
func TestRESTToken(t *testing.T) {
	srv, _ := restServer(t, HandlerOptions{Token: "s3cret"}, Options{})
	for _, p := range []string{"/v2/health/live", "/v2/health/ready"} {
		if st, _ := call(t, srv, "GET", p, "", ""); st != 200 {
			t.Errorf("GET %s without a token: %d, want 200", p, st)
		}
	}
	infer := `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["great"]}]}`
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/v2", ""}, {"GET", "/v2/models/sentiment", ""}, {"GET", "/v2/models/sentiment/ready", ""},
		{"POST", "/v2/models/sentiment/infer", infer},
	} {
		for _, tok := range []string{"", "wrong"} {
			if st, body := call(t, srv, tc.method, tc.path, tc.body, tok); st != 401 || body["error"] == nil {
				t.Errorf("%s %s with token %q: %d %v, want 401", tc.method, tc.path, tok, st, body)
			}
		}
		if st, body := call(t, srv, tc.method, tc.path, tc.body, "s3cret"); st != 200 {
			t.Errorf("%s %s with the token: %d %v", tc.method, tc.path, st, body)
		}
	}
}

// TestRESTQueueFull: 429 when the model's queue is full.
func TestRESTQueueFull(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Defaults.Concurrency, cfg.Defaults.Queue = 1, 0
	g := newGate()
	srv, _ := restServer(t, HandlerOptions{}, Options{Config: cfg, Hooks: Hooks{Wrap: g.wrap}})
	infer := `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["great"]}]}`
	done := make(chan int, 1)
	go func() {
		res, err := srv.Client().Post(srv.URL+"/v2/models/sentiment/infer", "application/json", strings.NewReader(infer))
		if err != nil {
			done <- 0
			return
		}
		res.Body.Close()
		done <- res.StatusCode
	}()
	<-g.entered
	if st, body := call(t, srv, "POST", "/v2/models/sentiment/infer", infer, ""); st != 429 || body["error"] == nil {
		t.Errorf("second request: %d %v, want 429", st, body)
	}
	close(g.open)
	if st := <-done; st != 200 {
		t.Errorf("first request: %d, want 200", st)
	}
}
