// Package tutor is the built-in knowledge-tracing model of a tutoring
// app: from a learner's answers (the skill of each exercise and whether
// the answer was right) it estimates the probability that the learner
// answers each skill right next ("mastery") and recommends the skill to
// practise next, offline, keeping each learner's state between requests.
// The model (model.erm, embedded) is edgetrain's `--task tracing` Deep
// Knowledge Tracing model (an LSTM over the answers) trained on the
// bundled ASSISTments 2009 skill-builder answers, released for RESEARCH
// use: check ASSISTments' terms before any commercial use. `make models`
// regenerates it. It runs through sdkrt.Tracer, one answer at a time.
//
// # Requests
//
// The learner: the BYTES input "learner" [1] or the parameter "learner"
// (an id of the caller's choosing, 1 to MaxLearnerID bytes; both given,
// they must agree). The new answers: the inputs "skill" (INT64 [n], skill
// ids 0..K−1) and "correct" (INT64 [n], 0 or 1, or BOOL [n]), applied in
// order after the learner's earlier answers; without them (n = 0) the
// request reads the learner's mastery, and then the learner must be the
// input (a request has at least one input). The parameter "history" =
// true says the answers are the learner's whole history: the state starts
// over before them. Parameters "target" (default DefaultTarget),
// "mastered" (DefaultMastered) and "prerequisites" ("5:1,2;7:5": skill 5
// needs 1 and 2 mastered, skill 7 needs 5) steer the recommendation.
//
// The response: "mastery" FP32 [K], the probability of answering each
// skill right next; "recommended" INT64 [1], the skill to practise next;
// "answers" INT64 [1], how many answers of the learner the plugin has
// seen. The recommendation is sdkrt.SkillRule's (as edgerun tutor's):
// among the skills not yet mastered (mastery < mastered) whose
// prerequisites are all mastered, the one whose mastery is closest to
// target, the lowest id on a tie; when none qualifies (every skill
// mastered, or every unmastered one waiting for a prerequisite), the
// least mastered skill whose prerequisites are mastered, else the least
// mastered of all.
//
// A skill out of range, skill and correct of different lengths, a correct
// other than 0/1, a bad parameter, or a learner the plugin does not know
// asked without answers ("unknown learner X: send answers first") are
// invalid input (sdk.ErrInvalidInput), naming the problem.
//
// # Learner states
//
// Each learner's state is the model's LSTM state after their last answer
// with the mastery it left and the count of answers: 1556 bytes (H = 128,
// K = 124; sdkrt.TracingState). The plugin keeps up to
// DefaultMaxLearners in memory (LearnersEnv, WithMaxLearners), dropping
// the least recently used. With a store directory (StoreEnv,
// WithStore) every update is written there before the response, one file
// per learner (named by a hash of the id), atomically (a temporary file
// in the directory, fsync, rename), and a learner not in memory is read
// from it: learners survive a restart and the memory bound. Without a
// store a dropped learner is unknown again; its "answers" output tells a
// client to send the whole history (history=true). A state file that is
// corrupt or of another model is an error for that learner naming the
// file (never a reset); history=true rewrites it. One plugin process per
// store directory.
//
// Requests for different learners run in parallel (up to GOMAXPROCS
// engine sessions); one learner's are serialised.
package tutor

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdkrt"
)

//go:embed model.erm
var modelFile []byte

// Name is the plugin's name and domain.
const Name = "tutor"

// Version is the plugin's version.
const Version = "1.0.0"

// Inputs and outputs.
const (
	InLearner      = "learner"     // BYTES [1] (or the parameter "learner")
	InSkill        = "skill"       // INT64 [n]: skill ids 0..K−1
	InCorrect      = "correct"     // INT64 [n] (0 or 1) or BOOL [n]
	OutMastery     = "mastery"     // FP32 [K]
	OutRecommended = "recommended" // INT64 [1]
	OutAnswers     = "answers"     // INT64 [1]
)

// Defaults and limits.
const (
	DefaultTarget      = sdkrt.DefaultTarget
	DefaultMastered    = sdkrt.DefaultMastered
	DefaultMaxLearners = 10000
	// MaxLearnerID bounds a learner id, in bytes.
	MaxLearnerID = 256
	// MaxAnswers bounds the answers of one request.
	MaxAnswers = 65536
)

// Environment variables of New.
const (
	// StoreEnv names the directory of the on-disk learner store (created
	// when missing); unset or empty: learners are kept in memory only.
	StoreEnv = "EDGERUN_TUTOR_STORE"
	// LearnersEnv is how many learners are kept in memory (default
	// DefaultMaxLearners).
	LearnersEnv = "EDGERUN_TUTOR_LEARNERS"
)

const dataset = "data/education/assistments_2009 (ASSISTments 2009–2010 skill builder, the DKT release; " +
	"released for RESEARCH use: check ASSISTments' terms before commercial use)"

// Model serves the knowledge-tracing model with its learners' states. It
// is safe for concurrent use.
type Model struct {
	desc     sdk.Description
	skills   int
	proto    *sdkrt.Tracer // NewState, SkillError, sizes: safe from any goroutine
	tracers  *tracerPool
	learners *learners
	store    *store // nil: memory only
}

var _ sdk.Model = (*Model)(nil)

// Option configures NewModel.
type Option func(*options)

type options struct {
	store       string
	storeSet    bool
	maxLearners int
}

// WithStore keeps the learners' states in dir (created when missing) as
// well as in memory; "" keeps them in memory only. It overrides StoreEnv.
func WithStore(dir string) Option { return func(o *options) { o.store, o.storeSet = dir, true } }

// WithMaxLearners sets how many learners are kept in memory (n ≥ 1; 0
// keeps the default). It overrides LearnersEnv.
func WithMaxLearners(n int) Option { return func(o *options) { o.maxLearners = n } }

// New loads the embedded model, configured by StoreEnv and LearnersEnv.
func New() (sdk.Model, error) { return NewModel() }

// NewModel loads the embedded model. The store is WithStore's, else
// StoreEnv's, else none; the memory bound WithMaxLearners', else
// LearnersEnv's, else DefaultMaxLearners.
func NewModel(opts ...Option) (*Model, error) {
	o := options{}
	for _, f := range opts {
		f(&o)
	}
	if !o.storeSet {
		o.store = os.Getenv(StoreEnv)
	}
	if o.maxLearners == 0 {
		o.maxLearners = DefaultMaxLearners
		if v := strings.TrimSpace(os.Getenv(LearnersEnv)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("tutor: %s=%q: want a number of learners ≥ 1", LearnersEnv, v)
			}
			o.maxLearners = n
		}
	}
	if o.maxLearners < 1 {
		return nil, fmt.Errorf("tutor: %d learners in memory: want at least 1", o.maxLearners)
	}
	em, err := sdkrt.Load(modelFile)
	if err != nil {
		return nil, err
	}
	proto, err := sdkrt.NewTracer(em)
	if err != nil {
		return nil, err
	}
	m := &Model{skills: proto.Skills(), proto: proto, learners: newLearners(o.maxLearners)}
	m.tracers = newTracerPool(em, runtime.GOMAXPROCS(0), proto)
	if o.store != "" {
		if m.store, err = openStore(o.store, proto.StateSize()); err != nil {
			m.tracers.close()
			return nil, err
		}
	}
	m.desc = m.describe(em)
	return m, nil
}

func (m *Model) describe(em *engine.Model) sdk.Description {
	k := m.skills
	where := "in memory (up to " + strconv.Itoa(m.learners.max) + " learners, the least recently used dropped)"
	if m.store != nil {
		where = "in memory and in a store directory"
	}
	return sdk.Description{
		Name: Name, Version: Version, Domain: Name,
		Summary: fmt.Sprintf("knowledge tracing for a tutoring app: a learner's answers (skill 0–%d, correct) → the probability of answering each of the %d skills right next "+
			"and the skill to practise next; each learner's state is kept %s; trained on ASSISTments 2009 answers (research use)", k-1, k, where),
		Inputs: []sdk.TensorSpec{
			{Name: InLearner, Datatype: sdk.BYTES, Shape: []int64{1}, Optional: true},
			{Name: InSkill, Datatype: sdk.INT64, Shape: []int64{-1}, Optional: true},
			{Name: InCorrect, Datatype: sdk.INT64, Shape: []int64{-1}, Optional: true},
		},
		Outputs: []sdk.TensorSpec{
			{Name: OutMastery, Datatype: sdk.FP32, Shape: []int64{int64(k)}},
			{Name: OutRecommended, Datatype: sdk.INT64, Shape: []int64{1}},
			{Name: OutAnswers, Datatype: sdk.INT64, Shape: []int64{1}},
		},
		Parameters: map[string]string{
			"learner": fmt.Sprintf("the learner's id (1 to %d bytes), instead of the input %q; a request without answers must send it as the input", MaxLearnerID, InLearner),
			"history": "true: the answers are the learner's whole history (the learner's state starts over before them)",
			"target":  fmt.Sprintf("the recommended skill is the one whose mastery is closest to this, above 0 and below 1 (default %g)", DefaultTarget),
			"mastered": fmt.Sprintf("a skill whose mastery reaches this is mastered, above 0 and at most 1 (default %g): the recommendation is among the skills not mastered "+
				"whose prerequisites are (none: the least mastered skill whose prerequisites are mastered, else the least mastered)", DefaultMastered),
			"prerequisites": `skills that need others mastered first: "5:1,2;7:5" = skill 5 needs 1 and 2, skill 7 needs 5 (each skill in one entry)`,
		},
		Provenance: sdkrt.Provenance(em, dataset),
	}
}

// Skills is the number of skills K (ids 0..K−1).
func (m *Model) Skills() int { return m.skills }

// StateSize is the size in bytes of one learner's state (in memory, as
// data, and as a store file).
func (m *Model) StateSize() int { return m.proto.StateSize() }

// Learners is how many learners are in memory.
func (m *Model) Learners() int { return m.learners.len() }

// StorePath is the file of a learner's state in the store ("" without a
// store).
func (m *Model) StorePath(learner string) string {
	if m.store == nil {
		return ""
	}
	return m.store.path(learner)
}

// Describe says what the plugin takes and returns.
func (m *Model) Describe(context.Context) (*sdk.Description, error) {
	d := m.desc
	d.Inputs, d.Outputs = slices.Clone(d.Inputs), slices.Clone(d.Outputs)
	for _, specs := range [][]sdk.TensorSpec{d.Inputs, d.Outputs} {
		for i := range specs {
			specs[i].Shape = slices.Clone(specs[i].Shape)
		}
	}
	d.Parameters = make(map[string]string, len(m.desc.Parameters))
	for k, v := range m.desc.Parameters {
		d.Parameters[k] = v
	}
	return &d, nil
}

// Health reports sdkrt.ErrClosed after Close, nil otherwise.
func (m *Model) Health(context.Context) error {
	if m.tracers.isClosed() {
		return sdkrt.ErrClosed
	}
	return nil
}

// Close closes the engine sessions; Infer fails with sdkrt.ErrClosed
// after. The store holds every update already.
func (m *Model) Close() error {
	m.tracers.close()
	return nil
}

// Infer applies a learner's new answers and answers with their mastery,
// the recommended skill and their count of answers.
func (m *Model) Infer(ctx context.Context, req *sdk.InferRequest) (resp *sdk.InferResponse, err error) {
	defer func() {
		if r := recover(); r != nil {
			resp, err = nil, fmt.Errorf("tutor: internal error: %v", r)
		}
	}()
	if req == nil {
		return nil, sdkrt.Invalid("no request")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if m.tracers.isClosed() {
		return nil, sdkrt.ErrClosed
	}
	r, err := m.parse(req)
	if err != nil {
		return nil, err
	}
	e := m.learners.acquire(r.learner)
	defer m.learners.release(e)
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.state
	if st == nil && m.store != nil && !r.history {
		if st, err = m.store.load(r.learner, m.proto.NewState()); err != nil {
			return nil, err
		}
		if st != nil {
			e.state = st
			e.known.Store(true)
		}
	}
	if len(r.answers) > 0 {
		if st, err = m.apply(ctx, e.state, r); err != nil {
			return nil, err
		}
		if m.store != nil {
			if err := m.store.save(r.learner, st); err != nil {
				return nil, err
			}
		}
		e.state = st
		e.known.Store(true)
	}
	if st == nil || st.Answers() == 0 {
		return nil, sdkrt.Invalid("unknown learner %q: send answers first (the inputs %q and %q)", r.learner, InSkill, InCorrect)
	}
	mastery := slices.Clone(st.Mastery())
	rec := r.rule.Next(mastery)
	resp = &sdk.InferResponse{ID: req.ID, ModelName: Name, ModelVersion: Version, Outputs: []sdk.Tensor{
		sdkrt.FP32(OutMastery, []int64{int64(len(mastery))}, mastery),
		sdkrt.INT64(OutRecommended, []int64{1}, []int64{int64(rec)}),
		sdkrt.INT64(OutAnswers, []int64{1}, []int64{st.Answers()}),
	}}
	if len(req.Outputs) > 0 {
		resp.Outputs = slices.DeleteFunc(resp.Outputs, func(t sdk.Tensor) bool { return !slices.Contains(req.Outputs, t.Name) })
	}
	return resp, nil
}

// apply runs the request's answers from the learner's state (nil: a new
// learner; history: start over) into a new state, leaving old as it is.
func (m *Model) apply(ctx context.Context, old *sdkrt.TracingState, r *request) (*sdkrt.TracingState, error) {
	tr, err := m.tracers.get(ctx)
	if err != nil {
		return nil, err
	}
	defer m.tracers.put(tr)
	next := m.proto.NewState()
	if old == nil || r.history {
		_, err = tr.Replay(next, r.answers, nil)
	} else {
		next.CopyFrom(old)
		_, err = tr.Update(next, r.answers, nil)
	}
	if err != nil {
		if !errors.Is(err, sdk.ErrInvalidInput) {
			err = fmt.Errorf("tutor: learner %q: %w", r.learner, err)
		}
		return nil, err
	}
	return next, nil
}

// tracerPool holds idle Tracers; at most max exist at once.
type tracerPool struct {
	em     *engine.Model
	idle   chan *sdkrt.Tracer
	tokens chan struct{} // one per existing Tracer
	mu     sync.Mutex
	closed bool
}

// newTracerPool makes a pool of up to n Tracers of em, first holding
// first.
func newTracerPool(em *engine.Model, n int, first *sdkrt.Tracer) *tracerPool {
	p := &tracerPool{em: em, idle: make(chan *sdkrt.Tracer, max(1, n)), tokens: make(chan struct{}, max(1, n))}
	p.tokens <- struct{}{}
	p.idle <- first
	return p
}

func (p *tracerPool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

func (p *tracerPool) get(ctx context.Context) (*sdkrt.Tracer, error) {
	if p.isClosed() {
		return nil, sdkrt.ErrClosed
	}
	select {
	case t := <-p.idle:
		return t, nil
	default:
	}
	select {
	case t := <-p.idle:
		return t, nil
	case p.tokens <- struct{}{}:
		t, err := sdkrt.NewTracer(p.em)
		if err != nil {
			<-p.tokens
			return nil, err
		}
		return t, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *tracerPool) put(t *sdkrt.Tracer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		t.Close()
		<-p.tokens
		return
	}
	p.idle <- t // never blocks: at most cap(idle) Tracers exist
}

func (p *tracerPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	for {
		select {
		case t := <-p.idle:
			t.Close()
			<-p.tokens
		default:
			return
		}
	}
}
