// Package serve is the daemon behind `edgerun serve`: it serves every
// model on the box — each .erm file of a models folder, in process, and
// each plugin binary pinned in plugins.lock, through the SDK's supervisor —
// over the Open Inference Protocol v2 (KServe v2: REST and gRPC).
//
// This file is the contract between the parts: the registry of models
// (loading, versions, hot swap, per-model limits and batching), the REST
// and gRPC front ends, the metrics and the status page. Every model is an
// sdk.Model to the front ends, so an .erm file and a plugin answer alike.
package serve

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/edgerun/edgerun/sdk"
	"google.golang.org/grpc/codes"
)

// Errors of the registry, which the front ends map to the statuses the
// protocol gives them (Status). Invalid requests match sdk.ErrInvalidInput.
var (
	// ErrNotFound: no model of that name, or not that version.
	ErrNotFound = errors.New("serve: model not found")
	// ErrUnavailable: the model is loading, or its plugin is restarting.
	ErrUnavailable = errors.New("serve: model is not ready")
	// ErrQueueFull: the model's queue is full (the client should retry later).
	ErrQueueFull = errors.New("serve: model queue is full")
	// ErrTooLarge: the request body is over the limit.
	ErrTooLarge = errors.New("serve: request is too large")
	// ErrShuttingDown: the server no longer accepts requests.
	ErrShuttingDown = errors.New("serve: shutting down")
)

// Status is the HTTP status and gRPC code of an error returned by the
// registry or a model, as the Open Inference Protocol maps them: invalid
// input 400/INVALID_ARGUMENT, not found 404/NOT_FOUND, too large
// 413/RESOURCE_EXHAUSTED, queue full 429/RESOURCE_EXHAUSTED, not ready or
// shutting down 503/UNAVAILABLE, a deadline 504/DEADLINE_EXCEEDED, anything
// else 500/INTERNAL.
func Status(err error) (int, codes.Code) {
	switch {
	case err == nil:
		return http.StatusOK, codes.OK
	case errors.Is(err, sdk.ErrInvalidInput):
		return http.StatusBadRequest, codes.InvalidArgument
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, codes.NotFound
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge, codes.ResourceExhausted
	case errors.Is(err, ErrQueueFull):
		return http.StatusTooManyRequests, codes.ResourceExhausted
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrShuttingDown):
		return http.StatusServiceUnavailable, codes.Unavailable
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return 499, codes.Canceled // the client went away (nginx's code)
	}
	return http.StatusInternalServerError, codes.Internal
}

// Platforms of ModelInfo.
const (
	PlatformERM    = "edgerun_erm"    // an .erm file run in process
	PlatformPlugin = "edgerun_plugin" // a plugin binary through the SDK
)

// States of a model.
const (
	StateLoading     = "loading"     // first load in progress: not ready
	StateReady       = "ready"       // serving
	StateUnavailable = "unavailable" // plugin restarting, or draining
	StateFailed      = "failed"      // could not load; Err says why
)

// ModelInfo is what the front ends, metrics and status page know of a
// model: its description and its state. Values, not references: it is a
// snapshot.
type ModelInfo struct {
	Name    string
	Version string // the version served
	// Versions are every version served (today the one).
	Versions []string
	Platform string // PlatformERM or PlatformPlugin
	// Desc is the model's description (inputs, outputs, labels,
	// parameters). Nil while loading for the first time.
	Desc  *sdk.Description
	State string
	Err   string // why the last load failed (the old version may still serve)
	// Path is the .erm file or plugin binary.
	Path string
	// Kernel is the kernel family the engine dispatches to (avx2, avxvnni,
	// neon, sdot, generic; "" for a plugin), Weights "int8", "f32" or
	// "mixed".
	Kernel, Weights string
	Restarts        int // plugin restarts
	LoadedAt        time.Time
	// Limits in force (from the config file or the defaults).
	Limits ModelLimits
}

// ModelLimits are the per-model settings of the config file.
type ModelLimits struct {
	Threads     int           // engine threads per session (.erm)
	Sessions    int           // session pool size (.erm): concurrent runs
	Concurrency int           // requests in flight at once (× MaxBatch for a batched .erm)
	Queue       int           // requests waiting beyond Concurrency; more: ErrQueueFull
	Timeout     time.Duration // a request's deadline, queueing included
	// MaxBatch > 1 turns on dynamic batching (.erm): concurrent requests
	// are run as one batch of up to MaxBatch rows. Requests gather while
	// every one of the Sessions is busy; with one free, a request runs at
	// once, or waits up to MaxQueueDelay for others (Batcher).
	MaxBatch      int
	MaxQueueDelay time.Duration
}

// Registry is the set of served models, as the front ends see it.
type Registry interface {
	// Models lists every model, sorted by name.
	Models() []ModelInfo
	// Model returns one (version "" = the served one); ErrNotFound.
	Model(name, version string) (ModelInfo, error)
	// Infer runs a request on a model: ErrNotFound, ErrUnavailable,
	// ErrQueueFull, sdk.ErrInvalidInput, a deadline, or the model's error.
	// The response carries the model's name and version.
	Infer(ctx context.Context, name, version string, req *sdk.InferRequest) (*sdk.InferResponse, error)
	// Live reports whether the server runs; Ready whether every model
	// found has loaded at least once (failed ones count as settled).
	Live() bool
	Ready() bool
}
