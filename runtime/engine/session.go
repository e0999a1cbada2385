package engine

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgerun/edgerun/runtime/op"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// Option configures a Session.
type Option func(*sessionOptions)

type sessionOptions struct {
	threads int
	noInt8  bool
	slices  int // tests: > 0 runs every batch in that many slices, < 0 never (slices.go)
}

// WithThreads sets how many goroutines one Run may use (default 1). The
// workers are started once, with the session. Each layer measures whether
// handing its work out to them beats running it on the calling goroutine
// (op.Split), so a layer whose work is smaller than the hand-off, or a
// machine whose other cores are busy, leaves the work on the caller.
func WithThreads(n int) Option { return func(o *sessionOptions) { o.threads = max(1, n) } }

// WithF32 runs int8 layers with their dequantized f32 weights instead,
// to compare quantized and float results of one file. A model loaded
// WithF32Weights holds that f32 copy for all its sessions; otherwise each
// WithF32 session dequantizes its own on its first Run (4 bytes a weight,
// the session's, freed with it). A session never changes the model.
func WithF32() Option { return func(o *sessionOptions) { o.noInt8 = true } }

// Session runs a Model. It is for one goroutine at a time; make one per
// goroutine. Close it to stop its workers (a session that is garbage
// collected stops them too).
type Session struct {
	m      *Model
	opts   sessionOptions
	pool   *pool
	plans  []*bound // most recent first
	states []any    // per node
	descs  []op.Desc
}

// bound is a plan with its buffers: arenas, scratch and tensor views.
type bound struct {
	*plan
	f32     []float32
	i32     []int32
	i64     []int64
	u8      []uint8
	i8      []int8
	views   []tensor.Tensor // per value
	outs    []*tensor.Tensor
	ctx     op.Ctx
	nodeIn  [][]*tensor.Tensor
	nodeOut [][]*tensor.Tensor
	// threads decides whether a Run of this plan uses the session's
	// workers at all, by timing whole Runs (op.Split.Region).
	threads op.Split
	runFn   func(par bool) // b.runNodes, made once
	// slicer runs the batch in slices when that is faster (slices.go);
	// nil when the plan cannot.
	slicer       *slicer
	sliceChecked bool
	s            *Session
	err          error // runNodes' result
}

// maxPlans bounds the per-shape plans a session keeps.
const maxPlans = 8

// NewSession makes a session. It allocates its buffers on the first Run
// with each new set of input shapes.
func (m *Model) NewSession(opts ...Option) *Session {
	s := &Session{m: m, opts: sessionOptions{threads: 1}}
	for _, o := range opts {
		o(&s.opts)
	}
	s.pool = newPool(s.opts.threads)
	s.states = make([]any, len(m.nodes))
	for i, n := range m.nodes {
		if st, ok := n.kernel.(op.Stateful); ok {
			s.states[i] = st.NewState()
		}
	}
	s.descs = make([]op.Desc, len(m.Inputs))
	runtime.AddCleanup(s, func(p *pool) { p.close() }, s.pool)
	return s
}

// Close stops the session's workers. The session must not be used after.
func (s *Session) Close() { s.pool.close() }

// Threads is the number of goroutines a Run may use.
func (s *Session) Threads() int { return s.opts.threads }

// Run runs the model on inputs, given in the order of Model.Inputs. The
// returned tensors are in the order of Model.Outputs; they belong to the
// session and stay valid until its next Run. After the first Run with
// given input shapes, Run allocates nothing.
//
// A request that does not fit the model (count, dtype, shape, a dynamic
// dimension that takes an activation past the model's limits, a token id
// outside the vocabulary) is ErrInvalidInput. A panic in an operator, on
// this goroutine or on one of the session's workers, is recovered and
// returned as ErrInternal; the session drops its plans and per-node state
// and stays usable.
func (s *Session) Run(inputs []*tensor.Tensor) (outs []*tensor.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.reset()
			outs, err = nil, asPanicked(r).err("Run")
		}
	}()
	outs, err = s.run(inputs)
	if err != nil {
		return nil, classify(ErrInvalidInput, err)
	}
	return outs, nil
}

// reset forgets what a panicking Run may have left half-written: the
// cached plans with their buffers, and the operators' per-session state.
// The workers are idle (pool.Do waits for every share, even when one
// panics).
func (s *Session) reset() {
	s.plans = nil
	for i, n := range s.m.nodes {
		if st, ok := n.kernel.(op.Stateful); ok {
			s.states[i] = st.NewState()
		}
	}
}

func (s *Session) run(inputs []*tensor.Tensor) ([]*tensor.Tensor, error) {
	m := s.m
	if len(inputs) != len(m.Inputs) {
		return nil, fmt.Errorf("engine: model takes %d inputs, got %d", len(m.Inputs), len(inputs))
	}

	for i, t := range inputs {
		want := &m.Inputs[i]
		if t == nil {
			return nil, fmt.Errorf("engine: input %q is nil", want.Name)
		}
		if t.DType != want.DType {
			return nil, fmt.Errorf("engine: input %q is %s, want %s", want.Name, t.DType, want.DType)
		}
		if len(t.Shape) != len(want.Shape) {
			return nil, fmt.Errorf("engine: input %q has shape %v, want %v", want.Name, t.Shape, tensor.Shape(want.Shape))
		}
		for j, d := range want.Shape {
			if d >= 0 && t.Shape[j] != d {
				return nil, fmt.Errorf("engine: input %q has shape %v, want %v", want.Name, t.Shape, tensor.Shape(want.Shape))
			}
		}
		if _, err := m.lim.shape(t.Shape); err != nil {
			return nil, fmt.Errorf("engine: input %q: %w", want.Name, err)
		}
		if err := t.Check(); err != nil {
			return nil, fmt.Errorf("engine: input %q: %w", want.Name, err)
		}
	}
	b, err := s.bind(inputs)
	if err != nil {
		return nil, err
	}
	for i, id := range m.inIDs {
		b.views[id] = *inputs[i]
	}
	b.ctx.Int8Off = s.opts.noInt8
	b.err = nil
	if !b.sliceChecked {
		b.slicer, b.sliceChecked = s.newSlicer(b), true
	}
	switch {
	case b.slicer != nil && s.opts.slices > 0: // a test's
		b.slicer.run(true)
	case b.slicer != nil:
		b.slicer.auto()
	default:
		b.runWhole()
	}
	b.ctx.Par = s.pool
	if b.err != nil {
		return nil, b.err
	}
	for i, id := range m.outIDs {
		*b.outs[i] = b.views[id]
	}
	return b.outs, nil
}

// runWhole runs the batch at once, with or without the workers.
func (b *bound) runWhole() {
	if b.s.pool.Workers() > 1 && !b.threads.Small(0) {
		b.threads.Region(&b.ctx, 0, b.runFn)
	} else {
		b.runNodes(false)
	}
}

// runNodes runs the plan's nodes in order, with the session's workers
// when par is set (else every operator runs on the caller), and leaves
// the first error in b.err.
func (b *bound) runNodes(par bool) {
	s := b.s
	b.ctx.Par = s.pool
	if !par {
		b.ctx.Par = serial{}
	}
	for ni := range s.m.nodes {
		n := &s.m.nodes[ni]
		b.ctx.State = s.states[ni]
		if err := n.kernel.Run(&b.ctx, b.nodeIn[ni], b.nodeOut[ni]); err != nil {
			b.err = fmt.Errorf("engine: node %q (%s): %w", n.name, n.op, err)
			return
		}
	}
}

// serial is the op.Parallel of a Run that keeps every operator's work on
// its caller: one worker, Do runs all the units at once.
type serial struct{}

func (serial) Workers() int        { return 1 }
func (serial) Do(n int, t op.Task) { t.RunRange(0, n) }

// bind finds or makes the plan and buffers for these input shapes.
func (s *Session) bind(inputs []*tensor.Tensor) (*bound, error) {
	for i, b := range s.plans {
		if sameShapes(b.inShapes, inputs) {
			if i > 0 { // move to front
				copy(s.plans[1:i+1], s.plans[:i])
				s.plans[0] = b
			}
			return b, nil
		}
	}
	for i, t := range inputs {
		s.descs[i] = op.Desc{DType: t.DType, Shape: t.Shape}
	}
	p, err := s.m.plan(s.descs)
	if err != nil {
		return nil, err
	}
	b := s.newBound(p)
	if len(s.plans) == maxPlans {
		s.plans = s.plans[:maxPlans-1]
	}
	s.plans = append([]*bound{b}, s.plans...)
	return b, nil
}

func sameShapes(shapes []tensor.Shape, inputs []*tensor.Tensor) bool {
	for i, t := range inputs {
		if !shapes[i].Equal(t.Shape) {
			return false
		}
	}
	return true
}

func (s *Session) newBound(p *plan) *bound {
	m := s.m
	b := &bound{plan: p,
		f32: make([]float32, p.arena[0]), i32: make([]int32, p.arena[1]), i64: make([]int64, p.arena[2]),
		u8: make([]uint8, p.arena[3]), i8: make([]int8, p.arena[4]),
		views: make([]tensor.Tensor, len(m.values)),
	}
	b.ctx = op.Ctx{Par: s.pool, F32: make([]float32, p.scratch.F32), U8: make([]uint8, p.scratch.U8), I32: make([]int32, p.scratch.I32)}
	b.s = s
	b.runFn = b.runNodes
	for id, v := range m.values {
		d := p.descs[id]
		switch v.kind {
		case valConst:
			if v.konst != nil {
				b.views[id] = *v.konst
			} else { // taken by its operators, which do not read it at Run
				b.views[id] = tensor.Tensor{DType: v.desc.DType, Shape: v.desc.Shape}
			}
		case valNode:
			if d.DType == 0 {
				continue // fused away: no node produces it
			}
			n, off := d.Shape.NumElements(), p.offset[id]
			t := tensor.Tensor{DType: d.DType, Shape: d.Shape}
			switch d.DType {
			case tensor.F32:
				t.F32 = b.f32[off : off+n : off+n]
			case tensor.I32:
				t.I32 = b.i32[off : off+n : off+n]
			case tensor.I64:
				t.I64 = b.i64[off : off+n : off+n]
			case tensor.U8:
				t.U8 = b.u8[off : off+n : off+n]
			case tensor.I8:
				t.I8 = b.i8[off : off+n : off+n]
			}
			b.views[id] = t
		}
	}
	b.nodeIn = make([][]*tensor.Tensor, len(m.nodes))
	b.nodeOut = make([][]*tensor.Tensor, len(m.nodes))
	for ni, n := range m.nodes {
		for _, id := range n.in {
			if id < 0 {
				b.nodeIn[ni] = append(b.nodeIn[ni], nil)
			} else {
				b.nodeIn[ni] = append(b.nodeIn[ni], &b.views[id])
			}
		}
		for _, id := range n.out {
			b.nodeOut[ni] = append(b.nodeOut[ni], &b.views[id])
		}
	}
	b.outs = make([]*tensor.Tensor, len(m.outIDs))
	for i := range b.outs {
		b.outs[i] = new(tensor.Tensor)
	}
	return b
}

// pool is a session's persistent workers. A worker that finishes a share
// spins (yielding) for a short while before it parks, because the layers
// of one inference follow each other within microseconds: handing the
// next share over a channel to a parked goroutine costs more than the
// share itself (measured here: two 20 µs shares took 41 µs through a
// channel, 20.7 µs to spinning workers). After spinWindow without work a
// worker parks, so an idle session costs no CPU.
//
// Do gives each participant (the caller and the workers it posts to) an
// even, contiguous share of the units, which it takes one at a time from
// its own counter; one that has finished its share takes units from the
// others' counters, so a worker that is late (parked, or its thread
// descheduled on a busy machine) leaves its units to the others instead of
// making Do wait for it. With shares in the same place every time, rows an
// operator computed on one core are mostly the rows the next operator
// reads there. A worker that has not arrived when the units run out never
// starts: the caller takes its post back and returns without it.
type pool struct {
	n       int
	workers []*worker
	closed  atomic.Bool
	once    sync.Once
	shares  []share // per participant (the caller is 0): its units of the current Do
	handoff time.Duration
}

// share is one participant's range of a Do's units: next is the next unit
// not yet taken (by the owner or anyone else), end the range's end. Each
// sits on its own cache line.
type share struct {
	next atomic.Int64
	end  int64
	_    [48]byte
}

// spinWindow is how long an idle worker keeps polling before it parks.
const spinWindow = 200 * time.Microsecond

type worker struct {
	seq    atomic.Uint64 // bumped by Do to post job
	done   atomic.Uint64 // set to job.seq when a job it ran is finished
	parked atomic.Bool
	wake   chan struct{} // a token for a parked worker
	// job is written by post only while the worker does not hold it (the
	// claim is not claimRan, or done has reached the last job's seq) and
	// read by the worker only after it claimed the post.
	job job
	// claim decides whether the worker takes part in the posted job
	// (claimRan) or not (claimStolen: the caller finished every unit, or
	// panicked, before the worker arrived).
	claim atomic.Int32
	// panic is a panic recovered from the worker's units, written before
	// done and taken by Do after it sees done.
	panic *panicked
}

const (
	claimPosted int32 = iota
	claimRan
	claimStolen
)

type job struct {
	t     op.Task
	n     int
	seq   uint64
	p     *pool
	own   int // the worker's share
	parts int // the shares of the job
}

func newPool(n int) *pool {
	p := &pool{n: n, shares: make([]share, n)}
	for i := 1; i < n; i++ {
		w := &worker{wake: make(chan struct{}, 1)}
		p.workers = append(p.workers, w)
		go p.run(w)
	}
	return p
}

func (p *pool) run(w *worker) {
	var last uint64
	for {
		idleSince := time.Now()
		for spins := 0; w.seq.Load() == last; spins++ {
			if p.closed.Load() {
				return
			}
			if spins%64 == 63 && time.Since(idleSince) > spinWindow {
				w.parked.Store(true)
				if w.seq.Load() == last && !p.closed.Load() {
					<-w.wake
				}
				w.parked.Store(false)
				idleSince = time.Now()
				continue
			}
			if spins > 4096 { // after a few microseconds of pure polling, let others run
				runtime.Gosched()
			}
		}
		last = w.seq.Load()
		if w.claim.CompareAndSwap(claimPosted, claimRan) {
			w.runJob()
			w.done.Store(w.job.seq)
		}
	}
}

// runJob takes units of the posted job until none is left. A panic in
// one is kept for Do to re-raise on the caller's goroutine (unrecovered,
// a panic on a worker kills the process, whatever the caller does); the
// worker takes no more units after it.
func (w *worker) runJob() {
	defer func() {
		if r := recover(); r != nil {
			w.panic = asPanicked(r)
		}
	}()
	j := &w.job
	if j.p == nil { // a hand-off measurement: no units
		return
	}
	j.p.take(j.own, j.parts, j.t)
}

// take runs the units of share own, then those left in the others, one at
// a time.
func (p *pool) take(own, parts int, t op.Task) {
	for k := range parts {
		s := &p.shares[(own+k)%parts]
		for {
			i := s.next.Add(1) - 1
			if i >= s.end {
				break
			}
			t.RunRange(int(i), int(i)+1)
		}
	}
}

func (w *worker) post(j job) {
	w.job = j
	w.claim.Store(claimPosted)
	w.seq.Add(1)
	if w.parked.Load() {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

func (p *pool) close() {
	p.once.Do(func() {
		p.closed.Store(true)
		for _, w := range p.workers {
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}
	})
}

// Workers implements op.Parallel.
func (p *pool) Workers() int { return p.n }

// Do implements op.Parallel: it cuts [0, n) into min(Workers, n) even
// shares, posts the job to that many workers less one, and the caller
// and the workers that arrive take units [i, i+1) one at a time, each from
// its own share first, then from the others', until none is left; the
// caller then takes back the posts no worker has claimed and waits for the
// workers that did.
// Every unit is computed the same way whoever runs it, so the bits never
// depend on the schedule. A panic in any unit (the caller's or a
// worker's) is raised on the caller's goroutine once every worker has
// finished, so no worker still writes into the session's buffers when
// Run returns.
func (p *pool) Do(n int, t op.Task) {
	parts := min(p.n, n)
	if parts <= 1 {
		t.RunRange(0, n)
		return
	}
	for i := range parts {
		s := &p.shares[i]
		s.end = int64((i + 1) * n / parts)
		s.next.Store(int64(i * n / parts))
	}
	for i := 1; i < parts; i++ {
		w := p.workers[i-1]
		p.post(w, job{t: t, n: n, p: p, own: i, parts: parts})
	}
	defer p.wait(parts)
	p.take(0, parts, t)
}

// post posts j to w with the next sequence number.
func (p *pool) post(w *worker, j job) {
	j.seq = w.seq.Load() + 1
	w.post(j)
}

// wait runs deferred in Do: it takes back the posts no worker claimed,
// waits for the workers that did, then re-raises the first panic, the
// caller's own or a worker's.
func (p *pool) wait(parts int) {
	r := recover()
	if r != nil {
		// The caller's unit panicked: leave no unit for the workers.
		for i := range parts {
			p.shares[i].next.Add(1 << 40)
		}
	}
	for i := 1; i < parts; i++ {
		w := p.workers[i-1]
		if w.claim.CompareAndSwap(claimPosted, claimStolen) {
			continue // it never starts: nothing to wait for
		}
		p.await(w)
		if w.panic != nil {
			if r == nil {
				r = w.panic
			}
			w.panic = nil
		}
	}
	if r != nil {
		panic(asPanicked(r))
	}
}

// await waits until w has finished the job it claimed.
func (p *pool) await(w *worker) {
	for spins := 0; w.done.Load() != w.job.seq; spins++ {
		if spins > 4096 {
			runtime.Gosched()
		}
	}
}

// HandOff implements op.Timed: the time from posting a job to a spinning
// worker until the caller sees it finished, the least of a few trials,
// measured on the first call.
func (p *pool) HandOff() time.Duration {
	if p.handoff > 0 || len(p.workers) == 0 {
		return p.handoff
	}
	w := p.workers[0]
	best := time.Duration(1 << 62)
	for trial := range 24 {
		t0 := time.Now()
		p.post(w, job{})
		p.await(w)
		if d := time.Since(t0); trial >= 4 && d < best { // the first ones wake the worker
			best = d
		}
	}
	p.handoff = max(best, time.Nanosecond)
	return p.handoff
}
