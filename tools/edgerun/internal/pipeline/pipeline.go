package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgerun/edgerun/boards"
	"github.com/edgerun/edgerun/sdk"
)

// Window is a window of samples on its way to the model.
type Window struct {
	Seq        uint64    // 0 for the first window
	Start, End time.Time // of its first and last sample
	// Data holds steps × channels values, step by step, normalised.
	Data []float32
}

// Decision is what the rule made of one window.
type Decision struct {
	Window uint64    `json:"window"`
	Time   time.Time `json:"time"` // of the window's last sample
	Output string    `json:"output"`
	// Value is the output's value (a threshold rule), Label its text (a
	// label rule).
	Value   *float64 `json:"value,omitempty"`
	Label   string   `json:"label,omitempty"`
	Alarm   bool     `json:"alarm"`
	Changed bool     `json:"changed"` // this window raised or cleared the alarm
}

// Stats are a pipeline's counters.
type Stats struct {
	Samples    uint64 `json:"samples"`
	Windows    uint64 `json:"windows"`
	Inferences uint64 `json:"inferences"`
	// Drops counts what bounded queues dropped, oldest first: "window"
	// for windows the model had no time for, then one entry per sink.
	Drops        map[string]uint64 `json:"drops"`
	SensorErrors uint64            `json:"sensor_errors"`
	ModelErrors  uint64            `json:"model_errors"`
	SinkErrors   uint64            `json:"sink_errors"`
	Alarms       uint64            `json:"alarms"` // times the alarm was raised
	Alarm        bool              `json:"alarm"`  // the alarm's state
	Last         *Decision         `json:"last_decision,omitempty"`
}

// Options are how a pipeline runs besides its file.
type Options struct {
	Clock  Clock        // default SystemClock
	Logger *slog.Logger // default slog.Default()
	// Models finds the models a "serve:" model section names: set by
	// edgerun serve; nil elsewhere, where such a file is refused.
	Models ModelLookup
	// PluginOptions are further options of a plugin model (sdk.Open).
	PluginOptions []sdk.Option
	// OnDecision, when set, is called with every decision, in order, from
	// the model stage (keep it short).
	OnDecision func(Decision)
}

// Pipeline is an opened pipeline: a source read at the sample rate by
// one goroutine, cut into windows; the windows through a bounded queue
// (drop-oldest) to the model, the model's output through the rule, and
// the decisions through one bounded queue (drop-oldest) per sink.
type Pipeline struct {
	cfg    *Config
	clock  Clock
	log    *slog.Logger
	src    boards.Source
	pick   []int // window channel → source channel
	model  sdk.Model
	mclose func() error
	stage  *stage
	sinks  []*sinkRunner
	onDec  func(Decision)

	windows *queue[*Window]

	samples, nwindows, inferences                atomic.Uint64
	windowDrops, sensorErrs, modelErrs, sinkErrs atomic.Uint64
	alarms                                       atomic.Uint64
	alarm                                        atomic.Bool
	mu                                           sync.Mutex
	last                                         *Decision

	paced     bool // the source is read at the sample rate (else: as fast as taken)
	closeOnce sync.Once
	ran       atomic.Bool
}

type sinkRunner struct {
	name  string
	on    string
	sink  Sink
	q     *queue[Decision]
	drops atomic.Uint64
}

// New opens what the file describes: the source, the model (checked
// against the window and the rule) and the sinks. Run runs it; Close
// releases it when it is not run.
func New(ctx context.Context, c *Config, opt Options) (_ *Pipeline, err error) {
	p := &Pipeline{cfg: c, clock: opt.Clock, log: opt.Logger, onDec: opt.OnDecision, windows: newQueue[*Window](c.Queue)}
	if p.clock == nil {
		p.clock = SystemClock{}
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	if c.Model.Serve != "" && opt.Models == nil { // before opening anything
		return nil, &ConfigError{File: c.File, Line: c.Model.Line, Field: "model.serve", Msg: ErrServeOnly.Error()}
	}
	if p.src, err = c.Source.Open(); err != nil {
		return nil, fmt.Errorf("source %s: %w", c.Source.Kind, err)
	}
	p.paced = true
	if rt, ok := p.src.(interface{ Realtime() bool }); ok {
		p.paced = rt.Realtime()
	}
	have := p.src.Channels()
	want := c.Window.Channels
	if len(want) == 0 {
		want = have
	}
	for _, ch := range want {
		i := indexOf(have, ch)
		if i < 0 {
			return nil, &ConfigError{File: c.File, Line: c.Window.Line, Field: "window.channels",
				Msg: fmt.Sprintf("the source has no channel %q (it has %s)", ch, strings.Join(have, ", "))}
		}
		p.pick = append(p.pick, i)
	}
	if n := c.Normalise; n != nil && max(len(n.Mean), len(n.Min)) != len(p.pick) {
		return nil, &ConfigError{File: c.File, Line: c.Window.Line, Field: "normalise",
			Msg: fmt.Sprintf("has %d values per field for %d window channels", max(len(n.Mean), len(n.Min)), len(p.pick))}
	}
	if p.model, p.mclose, err = openModel(c, opt.Models, opt.PluginOptions); err != nil {
		return nil, err
	}
	if p.stage, err = newStage(ctx, c, p.model, len(p.pick)); err != nil {
		return nil, err
	}
	for _, s := range c.Sinks {
		sk, err := s.Open()
		if err != nil {
			return nil, fmt.Errorf("sink %s: %w", s.Name, err)
		}
		p.sinks = append(p.sinks, &sinkRunner{name: s.Name, on: s.On, sink: sk, q: newQueue[Decision](s.Queue)})
	}
	return p, nil
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// Close releases a pipeline that is not run (Run closes it itself): the
// sinks (a GPIO output left off), the model, the source.
func (p *Pipeline) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.Drain)
	defer cancel()
	p.closeAll(ctx)
}

func (p *Pipeline) closeAll(ctx context.Context) {
	p.closeOnce.Do(func() {
		for _, s := range p.sinks {
			if err := s.sink.Close(ctx); err != nil {
				p.log.Warn("pipeline: closing a sink", "sink", s.name, "err", err)
			}
		}
		if p.mclose != nil {
			if err := p.mclose(); err != nil {
				p.log.Warn("pipeline: closing the model", "err", err)
			}
		}
		if p.src != nil {
			if err := p.src.Close(); err != nil {
				p.log.Warn("pipeline: closing the source", "err", err)
			}
		}
	})
}

// Stats returns the counters; safe to call at any time.
func (p *Pipeline) Stats() Stats {
	s := Stats{
		Samples: p.samples.Load(), Windows: p.nwindows.Load(), Inferences: p.inferences.Load(),
		Drops:        map[string]uint64{"window": p.windowDrops.Load()},
		SensorErrors: p.sensorErrs.Load(), ModelErrors: p.modelErrs.Load(), SinkErrors: p.sinkErrs.Load(),
		Alarms: p.alarms.Load(), Alarm: p.alarm.Load(),
	}
	for _, k := range p.sinks {
		s.Drops[k.name] = k.drops.Load()
	}
	p.mu.Lock()
	if p.last != nil {
		d := *p.last
		s.Last = &d
	}
	p.mu.Unlock()
	return s
}

// Run runs the pipeline until its source ends (io.EOF: every window is
// run and every decision sent) or ctx ends (reading stops; what is queued
// is run and sent until the file's drain time is over). Then it closes
// the sinks (a GPIO output left off), the model and the source. A failed
// read or inference is counted and logged, never fatal: Run returns nil,
// or an error only when it is called twice.
func (p *Pipeline) Run(ctx context.Context) error {
	if p.ran.Swap(true) {
		return errors.New("pipeline: Run called twice")
	}
	drainCtx, cancelDrain := context.WithCancel(context.Background())
	defer cancelDrain()
	stopAfter := context.AfterFunc(ctx, func() {
		time.AfterFunc(p.cfg.Drain, cancelDrain)
	})
	defer stopAfter()

	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer p.windows.close()
		p.read(ctx)
	}()
	var wg sync.WaitGroup
	for _, s := range p.sinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.send(drainCtx, s)
		}()
	}
	for {
		w, ok := p.windows.pop(drainCtx)
		if !ok {
			break
		}
		p.infer(drainCtx, w)
	}
	for _, s := range p.sinks {
		s.q.close()
	}
	wg.Wait()
	select {
	case <-readDone:
	case <-drainCtx.Done(): // a source that ignores ctx in Read
		p.log.Warn("pipeline: the source did not stop reading; closing it")
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), p.cfg.Drain)
	defer cancel()
	p.closeAll(closeCtx)
	p.log.Info("pipeline: stopped", "samples", p.samples.Load(), "windows", p.nwindows.Load(), "inferences", p.inferences.Load())
	return nil
}

// read reads the source until it ends or ctx does, and cuts windows.
func (p *Pipeline) read(ctx context.Context) {
	c := p.cfg
	period := time.Duration(float64(time.Second) / c.SampleRate)
	paced := p.paced
	size, nch := c.Window.Size, len(p.pick)
	ring := make([]float32, size*nch)
	times := make([]time.Time, size)
	t0 := p.clock.Now()
	anchor, paceN := t0, int64(0) // pacing: sample paceN is due at anchor + paceN·period
	var n, backoff int64          // samples read; back-off in ns, 0 when reads succeed
	var failing uint64
	for ctx.Err() == nil {
		if paced {
			due := anchor.Add(time.Duration(paceN) * period)
			if d := due.Sub(p.clock.Now()); d > 0 {
				if p.clock.Sleep(ctx, d) != nil {
					return
				}
			}
		}
		r, err := p.src.Read(ctx)
		if err == nil && len(r.Values) != len(p.src.Channels()) {
			err = fmt.Errorf("a reading of %d values from a source of %d channels", len(r.Values), len(p.src.Channels()))
		}
		if errors.Is(err, io.EOF) {
			p.log.Info("pipeline: the source ended", "samples", n)
			return
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			p.sensorErrs.Add(1)
			failing++
			backoff = min(max(2*backoff, int64(c.Retry.Initial)), int64(c.Retry.Max))
			p.log.Warn("pipeline: source read failed", "err", err, "failures", failing, "retry_in", time.Duration(backoff))
			if p.clock.Sleep(ctx, time.Duration(backoff)) != nil {
				return
			}
			anchor, paceN = p.clock.Now(), 0 // no burst to catch up
			continue
		}
		if failing > 0 {
			p.log.Info("pipeline: source reads again", "after_failures", failing)
			failing, backoff = 0, 0
		}
		if r.Time.IsZero() {
			r.Time = t0.Add(time.Duration(n) * period)
		}
		slot := int(n % int64(size))
		for j, i := range p.pick {
			ring[slot*nch+j] = float32(r.Values[i])
		}
		times[slot] = r.Time
		n++
		paceN++
		p.samples.Add(1)
		if n >= int64(size) && (n-int64(size))%int64(c.Window.Hop) == 0 {
			if !p.emit(ctx, ring, times, int(n%int64(size)), paced) {
				return
			}
		}
	}
}

// emit copies the ring (oldest sample at slot first) into a window and
// queues it for the model: a paced source (a sensor) cannot wait, so a
// full queue drops its oldest window; an unpaced one (a recording read as
// fast as possible) waits for room. It returns false when ctx ended.
func (p *Pipeline) emit(ctx context.Context, ring []float32, times []time.Time, first int, paced bool) bool {
	size, nch := p.cfg.Window.Size, len(p.pick)
	w := &Window{Start: times[first], End: times[(first+size-1)%size], Data: make([]float32, size*nch)}
	copy(w.Data, ring[first*nch:])
	copy(w.Data[(size-first)*nch:], ring[:first*nch])
	if nz := p.cfg.Normalise; nz != nil {
		for t := range size {
			for c := range nch {
				v := &w.Data[t*nch+c]
				if nz.Mode == NormMinMax {
					*v = float32((float64(*v) - nz.Min[c]) / (nz.Max[c] - nz.Min[c]))
				} else {
					*v = float32((float64(*v) - nz.Mean[c]) / nz.Std[c])
				}
			}
		}
	}
	w.Seq = p.nwindows.Add(1) - 1
	if !paced {
		if !p.windows.pushWait(ctx, w) {
			p.windowDrops.Add(1)
			return false
		}
		return true
	}
	if p.windows.push(w) {
		p.windowDrops.Add(1)
	}
	return true
}

// infer runs one window through the model and the rule, and hands the
// decision to the sinks.
func (p *Pipeline) infer(ctx context.Context, w *Window) {
	resp, err := p.stage.model.Infer(ctx, p.stage.request(w))
	if err == nil {
		p.inferences.Add(1)
	}
	var v float64
	var label string
	if err == nil {
		v, label, err = p.stage.value(resp)
	}
	if err != nil {
		if k := p.modelErrs.Add(1); k <= 10 || k&(k-1) == 0 {
			p.log.Warn("pipeline: inference failed", "window", w.Seq, "err", err, "model_errors", k)
		}
		return
	}
	on, changed := p.stage.rule.Step(v, label)
	d := Decision{Window: w.Seq, Time: w.End, Output: p.stage.output, Label: label, Alarm: on, Changed: changed}
	if p.stage.rule.spec.Threshold && !math.IsNaN(v) {
		d.Value = &v
	}
	if changed && on {
		p.alarms.Add(1)
	}
	if changed {
		p.log.Info("pipeline: alarm", "on", on, "window", w.Seq, "time", w.End)
	}
	p.alarm.Store(on)
	p.mu.Lock()
	p.last = &d
	p.mu.Unlock()
	if p.onDec != nil {
		p.onDec(d)
	}
	for _, s := range p.sinks {
		if s.on == OnChange && !changed {
			continue
		}
		if !p.paced {
			if !s.q.pushWait(ctx, d) {
				s.drops.Add(1)
			}
		} else if s.q.push(d) {
			s.drops.Add(1)
		}
	}
}

// send hands a sink its decisions until its queue is closed and empty
// (or the drain time is over).
func (p *Pipeline) send(ctx context.Context, s *sinkRunner) {
	for {
		d, ok := s.q.pop(ctx)
		if !ok {
			return
		}
		if err := s.sink.Send(d); err != nil {
			if k := p.sinkErrs.Add(1); k <= 10 || k&(k-1) == 0 {
				p.log.Warn("pipeline: sink failed", "sink", s.name, "err", err, "sink_errors", k)
			}
		}
	}
}
