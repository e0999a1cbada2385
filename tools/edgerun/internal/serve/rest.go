package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/tools/internal/oip"
)

// DefaultMaxBodyBytes bounds a request's body (413 beyond).
const DefaultMaxBodyBytes = 64 << 20

// ServerName is the server's name in GET /v2.
const ServerName = "edgerun"

// HandlerOptions configure the REST front end.
type HandlerOptions struct {
	// Token, when set, is the bearer token every request but the health
	// endpoints must carry (Authorization: Bearer TOKEN); 401 without it.
	Token string
	// MaxBodyBytes bounds a request body (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// MaxElements bounds the elements of one input (default
	// format.DefaultMaxElements).
	MaxElements int
	// Version is the server's version in GET /v2.
	Version string
	Logger  *slog.Logger
}

// NewHandler is the Open Inference Protocol v2 REST front end of reg:
//
//	GET  /v2                                   server metadata
//	GET  /v2/health/live, /v2/health/ready     200, or 503 when not
//	GET  /v2/models/{name}[/versions/{v}]      model metadata
//	GET  /v2/models/{name}[/versions/{v}]/ready
//	POST /v2/models/{name}[/versions/{v}]/infer
//
// Errors are {"error": "..."} with the status Status gives (400 for a
// malformed request, 404 for an unknown model or version, 413 for a body
// over the limit, 429 when the model's queue is full, 503 while it loads
// or its plugin restarts), 401 without the token; any other path is 404.
// A classifier's labels are its "label" output (BYTES, one per row) and,
// with three labels or more, "top_k_labels" and "top_k_scores" (request
// parameter top_k, by default the config file's). A request naming no
// output gets the config file's outputs (default: all).
func NewHandler(reg Registry, opt HandlerOptions) http.Handler {
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opt.MaxElements <= 0 {
		opt.MaxElements = int(format.DefaultMaxElements)
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	h := &handler{reg: reg, opt: opt}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/health/live", h.live)
	mux.HandleFunc("GET /v2/health/ready", h.ready)
	mux.Handle("GET /v2", h.auth(h.server))
	mux.Handle("GET /v2/models/{name}", h.auth(h.metadata))
	mux.Handle("GET /v2/models/{name}/versions/{version}", h.auth(h.metadata))
	mux.Handle("GET /v2/models/{name}/ready", h.auth(h.modelReady))
	mux.Handle("GET /v2/models/{name}/versions/{version}/ready", h.auth(h.modelReady))
	mux.Handle("POST /v2/models/{name}/infer", h.auth(h.infer))
	mux.Handle("POST /v2/models/{name}/versions/{version}/infer", h.auth(h.infer))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path))
	})
	return mux
}

type handler struct {
	reg Registry
	opt HandlerOptions
}

// auth requires the bearer token, if there is one.
func (h *handler) auth(next http.HandlerFunc) http.Handler {
	return RequireToken(h.opt.Token, next)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encoding the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// fail writes err with its status.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, _ := Status(err)
	if status >= 500 && status != http.StatusServiceUnavailable {
		h.opt.Logger.Error("serve: request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	writeError(w, status, err.Error())
}

func (h *handler) live(w http.ResponseWriter, _ *http.Request) {
	ok := h.reg.Live()
	writeJSON(w, okStatus(ok), map[string]bool{"live": ok})
}

func (h *handler) ready(w http.ResponseWriter, _ *http.Request) {
	ok := h.reg.Ready()
	writeJSON(w, okStatus(ok), map[string]bool{"ready": ok})
}

func okStatus(ok bool) int {
	if ok {
		return http.StatusOK
	}
	return http.StatusServiceUnavailable
}

func (h *handler) server(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"name": ServerName, "version": h.opt.Version, "extensions": Extensions()})
}

type tensorMeta struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

type modelMeta struct {
	Name     string       `json:"name"`
	Versions []string     `json:"versions"`
	Platform string       `json:"platform"`
	Inputs   []tensorMeta `json:"inputs"`
	Outputs  []tensorMeta `json:"outputs"`
}

func metas(s []sdk.TensorSpec) []tensorMeta {
	out := make([]tensorMeta, len(s))
	for i, t := range s {
		shape := t.Shape
		if shape == nil {
			shape = []int64{}
		}
		out[i] = tensorMeta{t.Name, t.Datatype, shape}
	}
	return out
}

// model finds the request's model and version; a model without a
// description yet (loading) is ErrUnavailable.
func (h *handler) model(r *http.Request) (ModelInfo, error) {
	info, err := h.reg.Model(r.PathValue("name"), r.PathValue("version"))
	if err != nil {
		return info, err
	}
	if info.Desc == nil {
		msg := fmt.Sprintf("model %q is %s", info.Name, info.State)
		if info.Err != "" {
			msg += ": " + info.Err
		}
		return info, fmt.Errorf("%w: %s", ErrUnavailable, msg)
	}
	return info, nil
}

func (h *handler) metadata(w http.ResponseWriter, r *http.Request) {
	info, err := h.model(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, modelMeta{Name: info.Name, Versions: info.Versions, Platform: info.Platform,
		Inputs: metas(info.Desc.Inputs), Outputs: metas(info.Desc.Outputs)})
}

func (h *handler) modelReady(w http.ResponseWriter, r *http.Request) {
	info, err := h.reg.Model(r.PathValue("name"), r.PathValue("version"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ok := info.State == StateReady
	writeJSON(w, okStatus(ok), map[string]any{"name": info.Name, "ready": ok})
}

func (h *handler) infer(w http.ResponseWriter, r *http.Request) {
	info, err := h.model(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if r.Header.Get(oip.HeaderContentLength) != "" { // Triton's binary tensor data (rest_binary.go)
		h.inferBinary(w, r, info, nil)
		return
	}
	// One byte more than the cap, so the codec's own TooLargeError says it.
	body := http.MaxBytesReader(w, r.Body, h.opt.MaxBodyBytes+1)
	lim := oip.Limits{Bytes: h.opt.MaxBodyBytes, Elements: h.opt.MaxElements}
	or, err := oip.Decode(body, oip.Options{Limits: lim})
	if err != nil {
		h.fail(w, r, decodeError(err))
		return
	}
	if binaryRequest(or) { // binary outputs asked for (rest_binary.go)
		h.inferBinary(w, r, info, or)
		return
	}
	resp, ok := h.run(w, r, info, or)
	if !ok {
		return
	}
	bp := answerBufs.Get().(*[]byte)
	b := oip.AppendResponse((*bp)[:0], ResponseOIP(resp))
	hd := w.Header()
	hd["Content-Type"] = jsonType
	hd["Content-Length"] = []string{strconv.Itoa(len(b))}
	_, _ = w.Write(b)
	if cap(b) <= maxPooledAnswer {
		*bp = b
		answerBufs.Put(bp)
	}
}

// answerBufs holds the buffers answers are written into; one larger
// than maxPooledAnswer is left to the collector.
var answerBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

const maxPooledAnswer = 256 << 10

var jsonType = []string{"application/json"}

// run maps a decoded request onto the model and runs it; on an error it
// writes the answer and reports false.
func (h *handler) run(w http.ResponseWriter, r *http.Request, info ModelInfo, or *oip.Request) (*sdk.InferResponse, bool) {
	req, err := RequestFromOIP(info.Desc, or)
	if err != nil {
		h.fail(w, r, err)
		return nil, false
	}
	resp, err := h.reg.Infer(r.Context(), info.Name, r.PathValue("version"), req)
	if err != nil {
		h.fail(w, r, err)
		return nil, false
	}
	return resp, true
}

// decodeError is a decoding error as the registry's: over the body limit
// ErrTooLarge, anything else invalid input.
func decodeError(err error) error {
	var tl *oip.TooLargeError
	var mb *http.MaxBytesError
	if errors.As(err, &tl) || errors.As(err, &mb) {
		return fmt.Errorf("%w: %s", ErrTooLarge, strings.TrimPrefix(err.Error(), "oip: "))
	}
	return sdk.InvalidInputf("%s", err.Error())
}
