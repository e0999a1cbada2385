package sdkrt

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// A knowledge-tracing model (edgetrain fit --task tracing, Deep Knowledge
// Tracing: an LSTM over a learner's answers) has the metadata task
// TracingTask with the Extra keys TracingSkills (K: skills are the ids
// 0..K-1) and TracingHidden (H), the graph inputs "answers" i64 [B, T]
// (1 + 2·skill + correct; 0 pads), "h_in" and "c_in" f32 [B, H] (the
// LSTM's state before the first answer) and the outputs "p_correct" f32
// [B, T, K] (after each answer, the probability that the next answer on
// each skill is correct), "h_out" and "c_out" f32 [B, H] (the state after
// the last answer). Keep in sync with tools/train/tracing/dkt.go.
const (
	TracingTask   = "knowledge-tracing"
	TracingSkills = "tracing_skills"
	TracingHidden = "tracing_hidden"

	tracingAnswers = "answers"
	tracingHIn     = "h_in"
	tracingCIn     = "c_in"
	tracingP       = "p_correct"
	tracingHOut    = "h_out"
	tracingCOut    = "c_out"

	// tracingMaxSkills and tracingMaxHidden bound what a model's
	// metadata may claim (tools/train/tracing.MaxSkill).
	tracingMaxSkills = 1 << 20
	tracingMaxHidden = 1 << 16
)

// TracerChunk is the most answers one engine run of Tracer.Update takes:
// a longer list runs in pieces of TracerChunk, the state carried from one
// to the next (which gives what one run gives), and a piece of T answers
// is padded to the next power of two, so a Tracer holds at most a few
// buffer plans, none longer than TracerChunk steps.
const TracerChunk = 128

// Errors of a learner state (TracingState.UnmarshalBinary, Tracer.Step
// and Update).
var (
	// ErrStateCorrupt: the bytes are not a learner state this build reads
	// (too short, another format or version, a wrong length, a checksum
	// mismatch, a value out of range).
	ErrStateCorrupt = errors.New("sdkrt: corrupt learner state")
	// ErrStateModel: the state belongs to another model (another
	// fingerprint, state size or number of skills).
	ErrStateModel = errors.New("sdkrt: learner state of another model")
)

// Answer is one answer of a learner: the skill (0..K-1) and whether it was
// right.
type Answer struct {
	Skill   int
	Correct bool
}

// Tracer runs a knowledge-tracing model one learner's answers at a time,
// the learner's LSTM state kept outside the model in a TracingState: Step
// runs one answer, Update and Replay several in one engine run. Like an
// engine.Session, a Tracer's Step, Update, Replay and Close are for one
// goroutine at a time (make one per goroutine; the states are plain
// values any Tracer of the model can run); NewState, Skills, Hidden,
// Fingerprint, StateSize and SkillError only read what NewTracer set and
// may be called from any goroutine. Step allocates nothing once the
// Tracer has run one answer.
type Tracer struct {
	em             *engine.Model
	opts           []engine.Option
	skills, hidden int
	fp             uint64
	in             [3]int // positions of answers, h_in, c_in in em.Inputs
	out            [3]int // positions of p_correct, h_out, c_out in em.Outputs
	one            *tracerRun
	many           *tracerRun // made on the first Update of more than one answer
}

// tracerRun is a session with its input tensors.
type tracerRun struct {
	s      *engine.Session
	ids    tensor.Tensor
	h, c   tensor.Tensor
	ins    []*tensor.Tensor
	idBuf  []int64
	hb, cb []float32 // Update: the state between pieces
}

// NewTracer checks that em is a knowledge-tracing model and makes a
// Tracer with one engine session (opts: engine.WithThreads(1) by
// default; one learner's step is too small to share).
func NewTracer(em *engine.Model, opts ...engine.Option) (*Tracer, error) {
	if em == nil {
		return nil, errors.New("sdkrt: tracing: nil engine model")
	}
	if em.Meta.Task != TracingTask {
		return nil, fmt.Errorf("sdkrt: tracing: the model's task is %q, not %q", em.Meta.Task, TracingTask)
	}
	t := &Tracer{em: em, opts: append([]engine.Option{engine.WithThreads(1)}, opts...)}
	var err error
	if t.skills, err = tracingCount(em, TracingSkills, tracingMaxSkills); err != nil {
		return nil, err
	}
	if t.hidden, err = tracingCount(em, TracingHidden, tracingMaxHidden); err != nil {
		return nil, err
	}
	find := func(vals []engine.ValueInfo, what, name string, dt tensor.DType, shape ...int) (int, error) {
		for i, v := range vals {
			if v.Name != name {
				continue
			}
			ok := v.DType == dt && len(v.Shape) == len(shape)
			for j := 0; ok && j < len(shape); j++ {
				ok = v.Shape[j] == shape[j] || (shape[j] >= 0 && v.Shape[j] < 0)
			}
			if !ok {
				return 0, fmt.Errorf("sdkrt: tracing: the model's %s %q is %s %v, want %s %v", what, name, v.DType, v.Shape, dt, shape)
			}
			return i, nil
		}
		return 0, fmt.Errorf("sdkrt: tracing: the model has no %s %q", what, name)
	}
	k, h := t.skills, t.hidden
	for i, f := range []func() (int, error){
		func() (int, error) { return find(em.Inputs, "input", tracingAnswers, tensor.I64, -1, -1) },
		func() (int, error) { return find(em.Inputs, "input", tracingHIn, tensor.F32, -1, h) },
		func() (int, error) { return find(em.Inputs, "input", tracingCIn, tensor.F32, -1, h) },
	} {
		if t.in[i], err = f(); err != nil {
			return nil, err
		}
	}
	for i, f := range []func() (int, error){
		func() (int, error) { return find(em.Outputs, "output", tracingP, tensor.F32, -1, -1, k) },
		func() (int, error) { return find(em.Outputs, "output", tracingHOut, tensor.F32, -1, h) },
		func() (int, error) { return find(em.Outputs, "output", tracingCOut, tensor.F32, -1, h) },
	} {
		if t.out[i], err = f(); err != nil {
			return nil, err
		}
	}
	if len(em.Inputs) != 3 {
		return nil, fmt.Errorf("sdkrt: tracing: the model takes %d inputs, want answers, h_in and c_in", len(em.Inputs))
	}
	t.fp = TracingFingerprint(em)
	t.one = t.newRun(1)
	return t, nil
}

func tracingCount(em *engine.Model, key string, limit int) (int, error) {
	s, ok := Extra(em, key)
	if !ok {
		return 0, fmt.Errorf("sdkrt: tracing: the model's metadata has no %s", key)
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 || v > limit {
		return 0, fmt.Errorf("sdkrt: tracing: metadata %s = %q, want a count from 1 to %d", key, s, limit)
	}
	return v, nil
}

// TracingFingerprint identifies a tracing model for its learner states:
// the first 8 bytes of the SHA-256 of its metadata (msgp, as stored: task,
// skills, state size, data fingerprint, the figures measured at export)
// and its inputs' and outputs' names, dtypes and shapes. Two files of one
// training run (same data, seed and trainer: the same bytes) have the
// same fingerprint; a retrained model has another.
func TracingFingerprint(em *engine.Model) uint64 {
	md := em.Meta
	b, err := md.MarshalMsg(nil)
	if err != nil { // a metadata the codec cannot write: its text
		b = fmt.Appendf(nil, "%+v", md)
	}
	for _, vals := range [][]engine.ValueInfo{em.Inputs, em.Outputs} {
		for _, v := range vals {
			b = fmt.Appendf(b, "|%s %s %v", v.Name, v.DType, v.Shape)
		}
	}
	sum := sha256.Sum256(b)
	return binary.LittleEndian.Uint64(sum[:8])
}

func (t *Tracer) newRun(steps int) *tracerRun {
	h := t.hidden
	r := &tracerRun{s: t.em.NewSession(t.opts...), idBuf: make([]int64, steps)}
	r.ids = tensor.Tensor{DType: tensor.I64, Shape: tensor.Shape{1, steps}, I64: r.idBuf}
	r.h = tensor.Tensor{DType: tensor.F32, Shape: tensor.Shape{1, h}}
	r.c = tensor.Tensor{DType: tensor.F32, Shape: tensor.Shape{1, h}}
	r.ins = make([]*tensor.Tensor, 3)
	r.ins[t.in[0]], r.ins[t.in[1]], r.ins[t.in[2]] = &r.ids, &r.h, &r.c
	return r
}

// Skills is the number of skills K (ids 0..K-1).
func (t *Tracer) Skills() int { return t.skills }

// Hidden is the LSTM's state size H.
func (t *Tracer) Hidden() int { return t.hidden }

// Fingerprint is the model's TracingFingerprint, which its states carry.
func (t *Tracer) Fingerprint() uint64 { return t.fp }

// StateSize is the size in bytes of a marshalled state of this model:
// tracingStateHeader + 4·(2·H + K) + 4.
func (t *Tracer) StateSize() int { return stateSize(t.hidden, t.skills) }

// Close closes the Tracer's engine sessions. It must not be used after.
func (t *Tracer) Close() {
	for _, r := range []*tracerRun{t.one, t.many} {
		if r != nil {
			r.s.Close()
		}
	}
}

// NewState returns the state of a new learner of the model: no answers,
// the LSTM state zero.
func (t *Tracer) NewState() *TracingState {
	return &TracingState{fp: t.fp, h: make([]float32, t.hidden), c: make([]float32, t.hidden), mastery: make([]float32, t.skills)}
}

// check refuses a state of another model.
func (t *Tracer) check(s *TracingState) error {
	if s == nil {
		return errors.New("sdkrt: tracing: nil state")
	}
	if s.fp != t.fp || len(s.h) != t.hidden || len(s.c) != t.hidden || len(s.mastery) != t.skills {
		return fmt.Errorf("%w: its model %016x (H %d, K %d), this one %016x (H %d, K %d)", ErrStateModel,
			s.fp, len(s.h), len(s.mastery), t.fp, t.hidden, t.skills)
	}
	return nil
}

// SkillError is the error of a skill id outside 0..K-1: invalid input
// (it matches sdk.ErrInvalidInput) that says the range.
func (t *Tracer) SkillError(skill int) error {
	return Invalid("skill %d is out of range: the model knows skills 0 to %d", skill, t.skills-1)
}

func answerID(skill int, correct bool) int64 {
	id := 1 + 2*int64(skill)
	if correct {
		id++
	}
	return id
}

// Step runs one answer from s's state and advances s: its LSTM state, its
// mastery (the probability that the learner answers each skill right
// next) and its count of answers. It returns s's mastery, which s owns
// (valid until its next update). A skill outside 0..K-1 is invalid input
// (SkillError) and a state of another model ErrStateModel; then, and on
// any other error, s is unchanged. Step allocates nothing once warm.
func (t *Tracer) Step(s *TracingState, skill int, correct bool) ([]float32, error) {
	if err := t.check(s); err != nil {
		return nil, err
	}
	if skill < 0 || skill >= t.skills {
		return nil, t.SkillError(skill)
	}
	r := t.one
	r.idBuf[0] = answerID(skill, correct)
	r.h.F32, r.c.F32 = s.h, s.c
	outs, err := r.s.Run(r.ins)
	r.h.F32, r.c.F32 = nil, nil
	if err != nil {
		return nil, fmt.Errorf("sdkrt: tracing: %w", err)
	}
	p, ho, co := outs[t.out[0]].F32, outs[t.out[1]].F32, outs[t.out[2]].F32
	if len(p) != t.skills || len(ho) != t.hidden || len(co) != t.hidden {
		return nil, fmt.Errorf("sdkrt: tracing: the model gave %d probabilities and a state of %d and %d, want %d and %d", len(p), len(ho), len(co), t.skills, t.hidden)
	}
	copy(s.mastery, p)
	copy(s.h, ho)
	copy(s.c, co)
	s.answers++
	return s.mastery, nil
}

// Update runs answers, in order, from s's state and advances s as that
// many Steps would (in one engine run per TracerChunk answers, padded:
// the same figures as Step within float rounding). It returns s's mastery
// after the last answer (s's, as Step's). all, when not nil, must hold
// len(answers)·K values: it receives the mastery after every answer, row
// by row (what the model's p_correct output [1, T, K] holds). Every skill
// is checked before anything runs; on an error s is unchanged. No answers:
// s's mastery as it is (nil before its first answer).
func (t *Tracer) Update(s *TracingState, answers []Answer, all []float32) ([]float32, error) {
	return t.update(s, answers, all, false)
}

// Replay runs answers, a learner's whole history, from a new learner's
// state into s (whatever s held before), in one engine run per
// TracerChunk answers, as Update does. On an error s is unchanged.
func (t *Tracer) Replay(s *TracingState, answers []Answer, all []float32) ([]float32, error) {
	return t.update(s, answers, all, true)
}

func (t *Tracer) update(s *TracingState, answers []Answer, all []float32, restart bool) ([]float32, error) {
	if err := t.check(s); err != nil {
		return nil, err
	}
	for _, a := range answers {
		if a.Skill < 0 || a.Skill >= t.skills {
			return nil, t.SkillError(a.Skill)
		}
	}
	if all != nil && len(all) != len(answers)*t.skills {
		return nil, fmt.Errorf("sdkrt: tracing: all holds %d values, want %d answers × %d skills", len(all), len(answers), t.skills)
	}
	switch {
	case len(answers) == 0 && restart:
		s.Reset()
		return nil, nil
	case len(answers) == 0:
		return s.Mastery(), nil
	case len(answers) == 1 && !restart:
		m, err := t.Step(s, answers[0].Skill, answers[0].Correct)
		if err == nil && all != nil {
			copy(all, m)
		}
		return m, err
	}
	if t.many == nil {
		t.many = t.newRun(TracerChunk)
		t.many.hb, t.many.cb = make([]float32, t.hidden), make([]float32, t.hidden)
	}
	r, k := t.many, t.skills
	if restart {
		clear(r.hb)
		clear(r.cb)
	} else {
		copy(r.hb, s.h)
		copy(r.cb, s.c)
	}
	var last []float32
	for off := 0; off < len(answers); off += TracerChunk {
		piece := answers[off:min(off+TracerChunk, len(answers))]
		steps := 1
		for steps < len(piece) {
			steps *= 2
		}
		ids := r.idBuf[:steps]
		for i, a := range piece {
			ids[i] = answerID(a.Skill, a.Correct)
		}
		clear(ids[len(piece):]) // padding: masked steps keep the state
		r.ids.I64, r.ids.Shape[1] = ids, steps
		r.h.F32, r.c.F32 = r.hb, r.cb
		outs, err := r.s.Run(r.ins)
		r.h.F32, r.c.F32 = nil, nil
		if err != nil {
			return nil, fmt.Errorf("sdkrt: tracing: %w", err)
		}
		p, ho, co := outs[t.out[0]].F32, outs[t.out[1]].F32, outs[t.out[2]].F32
		if len(p) != steps*k || len(ho) != t.hidden || len(co) != t.hidden {
			return nil, fmt.Errorf("sdkrt: tracing: the model gave %d probabilities and a state of %d and %d for %d steps, want %d and %d",
				len(p), len(ho), len(co), steps, steps*k, t.hidden)
		}
		if all != nil {
			copy(all[off*k:], p[:len(piece)*k])
		}
		last = p[(len(piece)-1)*k : len(piece)*k]
		copy(r.hb, ho)
		copy(r.cb, co)
	}
	if restart {
		s.answers = 0
	}
	copy(s.mastery, last)
	copy(s.h, r.hb)
	copy(s.c, r.cb)
	s.answers += int64(len(answers))
	return s.mastery, nil
}
