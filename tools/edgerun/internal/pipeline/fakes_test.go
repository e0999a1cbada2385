package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/edgerun/edgerun/boards"
	"github.com/edgerun/edgerun/sdk"
)

// fakeClock advances only when slept on, and records the sleeps.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.sleeps = append(c.sleeps, d)
	return nil
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// sliceSource is a source of given readings: fail[i] makes the i-th Read
// (counting failed ones) fail; after the readings it ends with io.EOF,
// or, when gen is set, goes on with gen(i) forever.
type sliceSource struct {
	channels []string
	readings []boards.Reading
	fail     map[int]bool
	realtime bool
	gen      func(i int) boards.Reading

	mu     sync.Mutex
	reads  int
	next   int
	closed bool
}

func (s *sliceSource) Channels() []string { return s.channels }
func (s *sliceSource) Realtime() bool     { return s.realtime }

func (s *sliceSource) Read(ctx context.Context) (boards.Reading, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return boards.Reading{}, err
	}
	i := s.reads
	s.reads++
	if s.fail[i] {
		return boards.Reading{}, fmt.Errorf("i2c: no answer (read %d)", i)
	}
	if s.next < len(s.readings) {
		s.next++
		return s.readings[s.next-1], nil
	}
	if s.gen != nil {
		s.next++
		return s.gen(s.next - 1), nil
	}
	return boards.Reading{}, io.EOF
}

func (s *sliceSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// ramp returns n readings of channels (a, b): a = i, b = 100 + i.
func ramp(n int) []boards.Reading {
	r := make([]boards.Reading, n)
	for i := range r {
		r[i] = boards.Reading{Values: []float64{float64(i), 100 + float64(i)}}
	}
	return r
}

// fakeModel answers "score" FP32 [1]: the window's last value of its
// first channel (steps × channels input "x"), and records the windows.
type fakeModel struct {
	steps, channels int
	block           chan struct{} // when set, every Infer waits for it (or ctx)
	started         chan struct{} // closed at the first Infer
	fail            func(call int) bool

	mu      sync.Mutex
	calls   int
	windows [][]float32
	once    sync.Once
}

func (m *fakeModel) Describe(context.Context) (*sdk.Description, error) {
	return &sdk.Description{Name: "fake",
		Inputs:  []sdk.TensorSpec{{Name: "x", Datatype: sdk.FP32, Shape: []int64{-1, int64(m.steps), int64(m.channels)}}},
		Outputs: []sdk.TensorSpec{{Name: "score", Datatype: sdk.FP32, Shape: []int64{-1}}, {Name: "label", Datatype: sdk.BYTES, Shape: []int64{-1}}},
		Labels:  []string{"low", "high"},
	}, nil
}

func (m *fakeModel) Health(context.Context) error { return nil }

func (m *fakeModel) Infer(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	if m.started != nil {
		m.once.Do(func() { close(m.started) })
	}
	if m.block != nil {
		select {
		case <-m.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	m.mu.Lock()
	call := m.calls
	m.calls++
	in := req.Input("x")
	if in == nil {
		m.mu.Unlock()
		return nil, errors.New("no input x")
	}
	m.windows = append(m.windows, append([]float32(nil), in.FP32...))
	m.mu.Unlock()
	if m.fail != nil && m.fail(call) {
		return nil, errors.New("model: out of sessions")
	}
	v := in.FP32[(m.steps-1)*m.channels]
	label := "low"
	if v >= 0.5 {
		label = "high"
	}
	return &sdk.InferResponse{Outputs: []sdk.Tensor{
		{Name: "score", Datatype: sdk.FP32, Shape: []int64{1}, FP32: []float32{v}},
		{Name: "label", Datatype: sdk.BYTES, Shape: []int64{1}, BYTES: [][]byte{[]byte(label)}},
	}}, nil
}

func (m *fakeModel) Windows() [][]float32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.windows
}

// fakeActuator records what it was set to.
type fakeActuator struct {
	mu     sync.Mutex
	sets   []bool
	closed bool
}

func (a *fakeActuator) Set(on bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return errors.New("gpio: closed")
	}
	a.sets = append(a.sets, on)
	return nil
}

func (a *fakeActuator) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	return nil
}

func (a *fakeActuator) state() (sets []bool, closed bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]bool(nil), a.sets...), a.closed
}

// recordSink keeps the decisions it is sent; when block is set, each Send
// waits for it first.
type recordSink struct {
	block  chan struct{}
	mu     sync.Mutex
	got    []Decision
	closed bool
}

func (s *recordSink) Send(d Decision) error {
	if s.block != nil {
		<-s.block
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, d)
	return nil
}

func (s *recordSink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

func (s *recordSink) Got() []Decision {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Decision(nil), s.got...)
}

// rig is a pipeline file with test kinds: source kind "test" is src,
// sink kind "record" is sink, "gpio" drives act.
type rig struct {
	src   *sliceSource
	model *fakeModel
	sink  *recordSink
	act   *fakeActuator
	clock *fakeClock
	kinds *Kinds
}

func newRig(src *sliceSource, model *fakeModel) *rig {
	r := &rig{src: src, model: model, sink: &recordSink{}, act: &fakeActuator{}, clock: newFakeClock()}
	r.kinds = NewKinds(Deps{Stdout: io.Discard, GPIO: func(GPIOSpec) (boards.Actuator, error) { return r.act, nil }})
	r.kinds.Sources["test"] = func(n *Node) (OpenSource, error) {
		return func() (boards.Source, error) { return r.src, nil }, nil
	}
	r.kinds.Sinks["record"] = func(n *Node) (OpenSink, error) {
		return func() (Sink, error) { return r.sink, nil }, nil
	}
	return r
}

func (r *rig) open(t *testing.T, yaml string, onDecision func(Decision)) *Pipeline {
	t.Helper()
	c, err := Parse("p.yaml", t.TempDir(), []byte(yaml), r.kinds)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(context.Background(), c, Options{
		Clock: r.clock, Logger: slog.New(slog.DiscardHandler), OnDecision: onDecision,
		Models: func(name string) (sdk.Model, error) {
			if name != "fake" {
				return nil, fmt.Errorf("no model %q", name)
			}
			return r.model, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
