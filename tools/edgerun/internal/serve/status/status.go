package status

import (
	"bytes"
	"embed"
	"encoding/json"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/tools/edgerun/internal/serve"
)

//go:embed assets
var assets embed.FS

var pageTemplate = template.Must(template.New("index.html").Funcs(template.FuncMap{"latency": Latency}).
	ParseFS(assets, "assets/index.html"))

// Paths the handler serves.
const (
	// JSONPath is the models' state as JSON (Page), which the page polls.
	JSONPath = "/status/models.json"
	// assetPrefix is where the script and the style sheet are.
	assetPrefix = "/status/"
)

// csp lets the page load its script, style and data from the server only,
// and be framed by no one.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Handler serves the status page at "/", its script and style sheet under
// /status/, JSONPath and an empty /favicon.ico; GET and HEAD only, anything else under "/" is
// 404. reg lists the models; stats, when not nil, gives their traffic.
// It is New without a token.
func Handler(reg serve.Registry, stats StatsSource) http.Handler {
	return New(reg, Options{Stats: stats})
}

// Options are how New serves the page.
type Options struct {
	// Stats, when not nil, gives the models' traffic.
	Stats StatsSource
	// Token, when set, is the daemon's bearer token (--token-file): the
	// page's shell (/, its script and style sheet) stays public and holds
	// no data, JSONPath answers 401 without "Authorization: Bearer
	// TOKEN", and the page asks for the token, keeps it in the tab's
	// sessionStorage and sends it with its requests (the models' state
	// and the "try it" forms), building the models' cards from JSONPath.
	Token string
}

// New is Handler with options: the status page, its assets and data.
func New(reg serve.Registry, opt Options) http.Handler {
	h := &handler{reg: reg, stats: opt.Stats, locked: opt.Token != ""}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.index)
	mux.Handle("GET "+JSONPath, serve.RequireToken(opt.Token, http.HandlerFunc(h.json)))
	// Browsers ask for an icon: none, rather than a 404 in their console.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	static := http.FileServerFS(assets)
	mux.HandleFunc("GET "+assetPrefix+"{file}", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("file") {
		case "app.js", "style.css":
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/assets/" + r.PathValue("file")
			static.ServeHTTP(w, r2)
		default:
			http.NotFound(w, r)
		}
	})
	return headers(mux)
}

// headers sets the security headers on every answer.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

type handler struct {
	reg    serve.Registry
	stats  StatsSource
	locked bool // a token guards the data: the HTML holds none
}

// Page is the document of JSONPath (and what the HTML is rendered from).
type Page struct {
	// Locked: the data is behind a token; the HTML is the shell alone and
	// the script fills it in from JSONPath.
	Locked bool    `json:"-"`
	Live   bool    `json:"live"`
	Ready  bool    `json:"ready"`
	Models []Model `json:"models"`
}

// Model is one model of Page.
type Model struct {
	Name       string            `json:"name"`
	Version    string            `json:"version"`
	Versions   []string          `json:"versions"`
	Platform   string            `json:"platform"`
	State      string            `json:"state"`
	Error      string            `json:"error,omitempty"`
	Kernel     string            `json:"kernel,omitempty"`
	Weights    string            `json:"weights,omitempty"`
	Restarts   int               `json:"restarts"`
	LoadedAt   string            `json:"loaded_at,omitempty"` // RFC 3339
	Domain     string            `json:"domain,omitempty"`
	Summary    string            `json:"summary,omitempty"`
	Inputs     []Tensor          `json:"inputs"`
	Outputs    []Tensor          `json:"outputs"`
	Labels     []string          `json:"labels"`
	Parameters map[string]string `json:"parameters,omitempty"`
	// Requests answered over the last minute, and their latency's
	// median and 99th percentile in microseconds (0: no request).
	Requests int64 `json:"requests"`
	P50us    int64 `json:"p50_us"`
	P99us    int64 `json:"p99_us"`
	// Form is how the page lets one try the model: "text" for a model
	// whose single input is the BYTES "text", "json" for the others
	// (Example is then a request to start from), "" while it has no
	// description.
	Form    string `json:"form"`
	Example string `json:"example,omitempty"`
}

// Tensor is an input or output of Model.
type Tensor struct {
	Name       string   `json:"name"`
	Datatype   string   `json:"datatype"`
	Shape      []int64  `json:"shape"`
	Optional   bool     `json:"optional,omitempty"`
	Categories []string `json:"categories,omitempty"`
}

// ShapeText is the shape as [1,-1].
func (t Tensor) ShapeText() string {
	b, _ := json.Marshal(t.Shape)
	return string(b)
}

// Latency formats microseconds for the page: "–" for none.
func Latency(us int64) string {
	if us <= 0 {
		return "–"
	}
	return (time.Duration(us) * time.Microsecond).Round(10 * time.Microsecond).String()
}

func (h *handler) page() *Page {
	infos := h.reg.Models()
	p := &Page{Live: h.reg.Live(), Ready: h.reg.Ready(), Models: make([]Model, 0, len(infos))}
	for i := range infos {
		p.Models = append(p.Models, h.model(&infos[i]))
	}
	return p
}

func (h *handler) model(mi *serve.ModelInfo) Model {
	m := Model{
		Name: mi.Name, Version: mi.Version, Versions: mi.Versions, Platform: mi.Platform,
		State: mi.State, Error: mi.Err, Kernel: mi.Kernel, Weights: mi.Weights, Restarts: mi.Restarts,
		Inputs: []Tensor{}, Outputs: []Tensor{}, Labels: []string{},
	}
	if m.Versions == nil {
		m.Versions = []string{}
	}
	if !mi.LoadedAt.IsZero() {
		m.LoadedAt = mi.LoadedAt.UTC().Format(time.RFC3339)
	}
	if h.stats != nil {
		n, p50, p99 := h.stats.Stats(mi.Name)
		m.Requests, m.P50us, m.P99us = n, p50.Microseconds(), p99.Microseconds()
	}
	if d := mi.Desc; d != nil {
		m.Domain, m.Summary, m.Parameters = d.Domain, d.Summary, d.Parameters
		m.Labels = append(m.Labels, d.Labels...)
		for _, s := range d.Inputs {
			m.Inputs = append(m.Inputs, tensor(s))
		}
		for _, s := range d.Outputs {
			m.Outputs = append(m.Outputs, tensor(s))
		}
		switch {
		case len(d.Inputs) == 0: // a multi-domain plugin: nothing to try
		case len(d.Inputs) == 1 && d.Inputs[0].Name == "text" && d.Inputs[0].Datatype == sdk.BYTES:
			m.Form = "text"
		default:
			m.Form = "json"
			m.Example = Example(d.Inputs)
		}
	}
	return m
}

func tensor(s sdk.TensorSpec) Tensor {
	t := Tensor{Name: s.Name, Datatype: s.Datatype, Shape: s.Shape, Optional: s.Optional, Categories: s.Categories}
	if t.Shape == nil {
		t.Shape = []int64{}
	}
	return t
}

// Example is an Open Inference Protocol request for inputs to start
// from: one row (dynamic dimensions at 1), zeros, false, or the first
// category (else "") for BYTES; optional inputs left out unless all are.
func Example(inputs []sdk.TensorSpec) string {
	type input struct {
		Name     string  `json:"name"`
		Datatype string  `json:"datatype"`
		Shape    []int64 `json:"shape"`
		Data     []any   `json:"data"`
	}
	allOptional := true
	for _, s := range inputs {
		allOptional = allOptional && s.Optional
	}
	var req struct {
		Inputs []input `json:"inputs"`
	}
	for _, s := range inputs {
		if s.Optional && !allOptional {
			continue
		}
		in := input{Name: s.Name, Datatype: s.Datatype, Shape: []int64{1}}
		if len(s.Shape) > 0 {
			in.Shape = make([]int64, len(s.Shape))
		}
		n := int64(1)
		for i, d := range s.Shape {
			in.Shape[i] = max(d, 1)
			n *= in.Shape[i]
		}
		n = min(n, 4096) // an example, not a load test
		var v any = 0
		switch s.Datatype {
		case sdk.BYTES:
			v = ""
			if len(s.Categories) > 0 {
				v = s.Categories[0]
			}
		case sdk.BOOL:
			v = false
		}
		in.Data = make([]any, n)
		for i := range in.Data {
			in.Data[i] = v
		}
		req.Inputs = append(req.Inputs, in)
		if allOptional {
			break // one of them
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.Encode(req)
	return strings.TrimSpace(b.String())
}

func (h *handler) index(w http.ResponseWriter, r *http.Request) {
	p := &Page{Locked: true}
	if !h.locked {
		p = h.page()
	}
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, p); err != nil {
		http.Error(w, "status page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

func (h *handler) json(w http.ResponseWriter, r *http.Request) {
	b, err := json.Marshal(h.page())
	if err != nil {
		http.Error(w, "status page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}
