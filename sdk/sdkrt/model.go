package sdkrt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/sdk"
)

// ErrClosed is returned by Infer after Close.
var ErrClosed = errors.New("sdkrt: model is closed")

// Invalid returns an error with the formatted message that matches
// sdk.ErrInvalidInput (sdk.InvalidInputf): bad input, the caller's fault.
func Invalid(format string, args ...any) error { return sdk.InvalidInputf(format, args...) }

// MaxBatch bounds the rows one request may carry in the helpers, so a
// hostile shape is refused before anything is allocated for it.
const MaxBatch = 4096

// Load reads, verifies and loads a model file held in memory (typically
// embedded in the plugin binary with a go:embed directive). opts are
// format read options (limits, trusted keys).
func Load(data []byte, opts ...format.Option) (*engine.Model, error) {
	return engine.Read(bytes.NewReader(data), opts...)
}

// PreFunc turns a request into the model's inputs, in the order of
// engine.Model.Inputs. Errors in the request should match
// sdk.ErrInvalidInput (Invalid).
type PreFunc func(req *sdk.InferRequest) ([]*tensor.Tensor, error)

// PostFunc turns the model's outputs (in the order of
// engine.Model.Outputs) into the response. The tensors belong to the
// engine session and are only valid during the call: copy what is kept.
type PostFunc func(outputs []*tensor.Tensor, req *sdk.InferRequest) (*sdk.InferResponse, error)

// Config says how a model is served. Only Name is required: without Pre
// and Post, the model's own inputs and outputs are served as they are
// (Raw and RawPost).
type Config struct {
	Name    string
	Version string // default "0"
	Domain  string // default Name
	Summary string
	// Provenance defaults to Provenance(em, "").
	Provenance string
	// Inputs and Outputs are the schema Describe reports; they default to
	// the model's own when Pre (Inputs) or Post (Outputs) is nil.
	Inputs  []sdk.TensorSpec
	Outputs []sdk.TensorSpec
	// Labels default to the model metadata's.
	Labels     []string
	Parameters map[string]string

	Pre  PreFunc
	Post PostFunc

	// Threads is the number of threads of each engine session (default 1:
	// concurrency comes from concurrent requests).
	Threads int
	// MaxSessions bounds the sessions, hence the concurrent runs (default
	// GOMAXPROCS).
	MaxSessions int
	// Session are further engine session options (e.g. engine.WithF32()).
	Session []engine.Option
	// SkipValidate skips sdk.ValidateRequest, which Infer otherwise runs
	// before Pre: for a model whose inputs are alternatives (one or the
	// other) and that validates requests itself.
	SkipValidate bool
}

// Model serves one engine model as an sdk.Model. It is safe for
// concurrent use.
type Model struct {
	em   *engine.Model
	cfg  Config
	desc sdk.Description
	pool *pool
}

var _ sdk.Model = (*Model)(nil)

// New serves em with cfg.
func New(em *engine.Model, cfg Config) (*Model, error) {
	if em == nil {
		return nil, errors.New("sdkrt: nil engine model")
	}
	if cfg.Name == "" {
		return nil, errors.New("sdkrt: Config.Name is empty")
	}
	if cfg.Version == "" {
		cfg.Version = "0"
	}
	if cfg.Domain == "" {
		cfg.Domain = cfg.Name
	}
	if cfg.Pre == nil {
		cfg.Pre = Raw(em)
		if cfg.Inputs == nil {
			cfg.Inputs = ModelInputs(em)
		}
	} else if len(cfg.Inputs) == 0 {
		return nil, errors.New("sdkrt: Config.Pre is set but Config.Inputs is empty: describe the inputs Pre reads")
	}
	if cfg.Post == nil {
		cfg.Post = RawPost(em)
		if cfg.Outputs == nil {
			cfg.Outputs = ModelOutputs(em)
		}
	} else if len(cfg.Outputs) == 0 {
		return nil, errors.New("sdkrt: Config.Post is set but Config.Outputs is empty: describe the outputs Post writes")
	}
	if cfg.Labels == nil {
		cfg.Labels = slices.Clone(em.Meta.Labels)
	}
	if cfg.Provenance == "" {
		cfg.Provenance = Provenance(em, "")
	}
	if cfg.Threads <= 0 {
		cfg.Threads = 1
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = runtime.GOMAXPROCS(0)
	}
	opts := append([]engine.Option{engine.WithThreads(cfg.Threads)}, cfg.Session...)
	m := &Model{em: em, cfg: cfg, pool: newPool(em, cfg.MaxSessions, opts)}
	m.desc = sdk.Description{
		Name: cfg.Name, Version: cfg.Version, Domain: cfg.Domain, Summary: cfg.Summary,
		Inputs: cfg.Inputs, Outputs: cfg.Outputs, Labels: cfg.Labels,
		Parameters: cfg.Parameters, Provenance: cfg.Provenance,
	}
	return m, nil
}

// Engine returns the engine model.
func (m *Model) Engine() *engine.Model { return m.em }

// Describe returns a copy of the model's description.
func (m *Model) Describe(ctx context.Context) (*sdk.Description, error) {
	d := m.desc
	d.Inputs = cloneSpecs(d.Inputs)
	d.Outputs = cloneSpecs(d.Outputs)
	d.Labels = slices.Clone(d.Labels)
	if d.Parameters != nil {
		d.Parameters = make(map[string]string, len(m.desc.Parameters))
		for k, v := range m.desc.Parameters {
			d.Parameters[k] = v
		}
	}
	return &d, nil
}

func cloneSpecs(s []sdk.TensorSpec) []sdk.TensorSpec {
	out := slices.Clone(s)
	for i := range out {
		out[i].Shape = slices.Clone(out[i].Shape)
		out[i].Categories = slices.Clone(out[i].Categories)
	}
	return out
}

// Health reports ErrClosed after Close, nil otherwise.
func (m *Model) Health(ctx context.Context) error {
	if m.pool.isClosed() {
		return ErrClosed
	}
	return nil
}

// Infer checks the request against the description
// (sdk.ValidateRequest, unless Config.SkipValidate), then runs Pre, one
// engine run on a pooled session, and Post. It fills the response's ID,
// ModelName and ModelVersion when Post leaves them empty, and keeps only
// the outputs req.Outputs names.
func (m *Model) Infer(ctx context.Context, req *sdk.InferRequest) (resp *sdk.InferResponse, err error) {
	if req == nil {
		return nil, Invalid("no request")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !m.cfg.SkipValidate {
		if err := sdk.ValidateRequest(&m.desc, req); err != nil {
			return nil, err
		}
	}
	for _, name := range req.Outputs {
		if !slices.ContainsFunc(m.desc.Outputs, func(s sdk.TensorSpec) bool { return s.Name == name }) {
			return nil, Invalid("no output %q (the model has %s)", name, specNames(m.desc.Outputs))
		}
	}
	defer func() {
		if r := recover(); r != nil {
			resp, err = nil, fmt.Errorf("sdkrt: %s: internal error: %v", m.cfg.Name, r)
		}
	}()
	ins, err := m.cfg.Pre(req)
	if err != nil {
		return nil, err
	}
	resp, err = m.run(ctx, ins, req)
	if err != nil {
		return nil, err
	}
	return m.finish(resp, req), nil
}

// run runs the engine on a pooled session and post-processes while the
// session's outputs are valid. A session whose run panicked is dropped.
func (m *Model) run(ctx context.Context, ins []*tensor.Tensor, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	s, err := m.pool.get(ctx)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if ok {
			m.pool.put(s)
		} else {
			m.pool.drop(s)
		}
	}()
	outs, err := s.Run(ins)
	if err != nil {
		ok = true
		return nil, fmt.Errorf("sdkrt: %s: %w", m.cfg.Name, err)
	}
	resp, err := m.cfg.Post(outs, req)
	ok = true
	return resp, err
}

// Finish fills the response's ID, ModelName and ModelVersion when empty
// and keeps only the outputs req.Outputs names. Models that answer some
// requests without Infer (a wrapper's own path) use it too.
func (m *Model) Finish(resp *sdk.InferResponse, req *sdk.InferRequest) *sdk.InferResponse {
	return m.finish(resp, req)
}

func (m *Model) finish(resp *sdk.InferResponse, req *sdk.InferRequest) *sdk.InferResponse {
	if resp == nil {
		resp = &sdk.InferResponse{}
	}
	if resp.ID == "" {
		resp.ID = req.ID
	}
	if resp.ModelName == "" {
		resp.ModelName = m.cfg.Name
	}
	if resp.ModelVersion == "" {
		resp.ModelVersion = m.cfg.Version
	}
	if len(req.Outputs) > 0 {
		resp.Outputs = slices.DeleteFunc(resp.Outputs, func(t sdk.Tensor) bool { return !slices.Contains(req.Outputs, t.Name) })
	}
	return resp
}

// Close closes the idle sessions and makes further Infer calls fail with
// ErrClosed; sessions in use are closed when their call returns.
func (m *Model) Close() error {
	m.pool.close()
	return nil
}

func specNames(specs []sdk.TensorSpec) string {
	parts := make([]string, len(specs))
	for i, s := range specs {
		parts[i] = fmt.Sprintf("%s %s %s", s.Name, s.Datatype, sdk.ShapeString(s.Shape))
	}
	return strings.Join(parts, ", ")
}

// pool holds idle sessions; at most max exist at once.
type pool struct {
	em     *engine.Model
	opts   []engine.Option
	idle   chan *engine.Session
	tokens chan struct{} // one per existing session
	mu     sync.Mutex
	closed bool
}

func newPool(em *engine.Model, n int, opts []engine.Option) *pool {
	return &pool{em: em, opts: opts, idle: make(chan *engine.Session, n), tokens: make(chan struct{}, n)}
}

func (p *pool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

func (p *pool) get(ctx context.Context) (*engine.Session, error) {
	if p.isClosed() {
		return nil, ErrClosed
	}
	select {
	case s := <-p.idle:
		return s, nil
	default:
	}
	select {
	case s := <-p.idle:
		return s, nil
	case p.tokens <- struct{}{}:
		return p.em.NewSession(p.opts...), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *pool) put(s *engine.Session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		s.Close()
		<-p.tokens
		return
	}
	p.idle <- s // never blocks: at most cap(idle) sessions exist
}

func (p *pool) drop(s *engine.Session) {
	s.Close()
	<-p.tokens
}

func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	for {
		select {
		case s := <-p.idle:
			s.Close()
			<-p.tokens
		default:
			return
		}
	}
}
