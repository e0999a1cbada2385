package engine

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgerun/edgerun/runtime/op"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// A batch in slices.
//
// A graph whose operators all compute each sample from that sample alone
// (op.PerSample) gives the same bits whether a batch runs at once or as
// slices of samples. Run at once, a large batch's activations (the
// transformer's at batch 32: 2,048 rows of 512 floats between its FFN's
// two layers) leave the cache between one operator and the next; a slice
// of a few samples runs with its activations in the cache, and slices are
// independent, so with several threads each runs whole slices with no
// hand-off between operators. Which is faster depends on the model and
// the machine (the recurrent layers' products, for one, are more
// efficient on many rows at once, and take another kernel below 8 rows),
// so the session measures: on the first runs with a set of input shapes
// it times the batch at once and in slices of three sizes, three runs
// each, and keeps the fastest slices; from then on it keeps timing them
// against the batch at once (op.Split.Either) and runs the faster.

// sliceBytes is the activation memory a slice aims at, the middle of the
// three sizes timed (half and twice as many samples are the others):
// about the L2 cache of a Zen core, a Cortex-A72 cluster or a Pi 5's.
// Here the transformer at batch 32 ran best in slices of 2–4 samples
// (1.3–2.6 MiB of activations and scratch, 0.84× the time of the batch
// at once) and the LSTM in slices of 8 (1.1 MiB, 0.82×).
const sliceBytes = 2 << 20

// sliceTrials is how many runs of each way the first choice takes the
// least of.
const sliceTrials = 3

// slicer runs one plan's batch in slices of samples on sub-sessions.
type slicer struct {
	b     *bound
	batch int   // samples
	ns    []int // the slice counts timed
	n     int   // slices of this run (0: at once); [k·batch/n, (k+1)·batch/n) is slice k
	// The first choice: the least time of each way (0: at once, i: ns[i-1]
	// slices), the runs of each taken, the next way, and the index in ns
	// chosen (−1 until then).
	least []time.Duration
	runs  []uint8
	next  int
	pick  int
	// Per input and output: elements per sample.
	inElems, outElems []int
	ins               [][]*tensor.Tensor // per slot and input: a slice's view (its dim 0 set per slice)
	slots             []atomic.Bool      // a participant holds slot i
	subs              []*Session         // per slot: single-threaded, runs its slices
	mu                sync.Mutex
	err               error    // the first slice's error
	choice            op.Split // at once or in ns[pick] slices, after the first choice
	runFn             func(bool)
}

// newSlicer returns the slicer of b, or nil when b's plan cannot or need
// not run in slices: an operator that is not op.PerSample, an input
// without the batch as its dim 0, an activation whose dim 0 is not the
// batch times a constant, a batch that fits one slice and one thread.
func (s *Session) newSlicer(b *bound) *slicer {
	m := s.m
	if s.opts.noInt8 || s.opts.slices < 0 || len(m.inIDs) == 0 {
		return nil // WithF32 sessions dequantize per session: no second copy
	}
	batch := -1
	for _, sh := range b.inShapes {
		if len(sh) == 0 || batch >= 0 && sh[0] != batch {
			return nil
		}
		batch = sh[0]
	}
	if batch < 2 {
		return nil
	}
	descs := make([]op.Desc, 0, 8)
	for _, n := range m.nodes {
		ps, ok := n.kernel.(op.PerSample)
		if !ok {
			return nil
		}
		descs = n.inDescs(descs, b.descs)
		if !ps.PerSample(descs) {
			return nil
		}
	}
	// The plan of one sample: every activation must be that of the batch
	// with dim 0 divided by the batch.
	one := make([]op.Desc, len(m.inIDs))
	for i, id := range m.inIDs {
		one[i] = b.descs[id]
		one[i].Shape = append(tensor.Shape{1}, one[i].Shape[1:]...)
	}
	p1, err := m.plan(one)
	if err != nil {
		return nil
	}
	for id, v := range m.values {
		if v.kind == valConst {
			continue
		}
		if b.descs[id].DType == 0 {
			continue // fused away
		}
		d, d1 := b.descs[id].Shape, p1.descs[id].Shape
		if len(d) == 0 || len(d) != len(d1) || d[0] != batch*d1[0] || !d[1:].Equal(d1[1:]) {
			return nil
		}
	}
	// The activations and scratch of one sample; slices of about
	// sliceBytes of them, of half and of twice that many samples (powers
	// of two), as many for every thread.
	bytes := 4*(p1.arena[0]+p1.arena[1]+p1.scratch.F32+p1.scratch.I32) + 8*p1.arena[2] + p1.arena[3] + p1.arena[4] + p1.scratch.U8
	if bytes <= 0 {
		return nil // a sample of empty activations: nothing to share out
	}
	size := 1
	for size*2*bytes <= sliceBytes {
		size *= 2
	}
	var ns []int
	for _, c := range []int{size * 2, size, size / 2} {
		if c < 1 {
			continue
		}
		n := (batch + c - 1) / c
		if t := s.opts.threads; t > 1 {
			n = min(batch, (n+t-1)/t*t)
		}
		if n >= 2 && !slices.Contains(ns, n) {
			ns = append(ns, n)
		}
	}
	pick := -1
	if f := s.opts.slices; f > 0 { // a test's
		ns, pick = []int{min(f, batch)}, 0
	}
	if len(ns) == 0 || ns[0] < 2 {
		return nil
	}
	sl := &slicer{b: b, batch: batch, ns: ns, pick: pick, slots: make([]atomic.Bool, s.opts.threads),
		least: make([]time.Duration, len(ns)+1), runs: make([]uint8, len(ns)+1)}
	for _, id := range m.inIDs {
		sl.inElems = append(sl.inElems, p1.descs[id].Shape.NumElements())
	}
	for _, id := range m.outIDs {
		sl.outElems = append(sl.outElems, p1.descs[id].Shape.NumElements())
	}
	for range s.opts.threads {
		ins := make([]*tensor.Tensor, len(m.inIDs))
		for i, id := range m.inIDs {
			ins[i] = &tensor.Tensor{DType: b.descs[id].DType, Shape: append(tensor.Shape(nil), b.descs[id].Shape...)}
		}
		sl.ins = append(sl.ins, ins)
	}
	sl.runFn = sl.run
	if !sl.prepare() {
		return nil
	}
	return sl
}

// auto runs b's batch the way measured fastest: during the first choice
// each way in turn, timed, then as op.Split.Either decides between the
// batch at once and the slices chosen.
func (sl *slicer) auto() {
	if sl.pick >= 0 {
		sl.choice.Either(0, sl.runFn)
		return
	}
	i := sl.next
	t0 := time.Now()
	if i == 0 {
		sl.run(false)
	} else {
		sl.slices(sl.ns[i-1])
	}
	d := time.Since(t0)
	if sl.runs[i] == 0 || d < sl.least[i] {
		sl.least[i] = d
	}
	sl.runs[i]++
	sl.next = (i + 1) % len(sl.runs)
	if sl.next != 0 || sl.runs[0] < sliceTrials {
		return
	}
	best := 1
	for j := 2; j < len(sl.least); j++ {
		if sl.least[j] < sl.least[best] {
			best = j
		}
	}
	sl.pick = best - 1
	sl.prune()
}

// run runs b's batch at once, or in ns[pick] slices.
func (sl *slicer) run(sliced bool) {
	if !sliced {
		sl.n = 0
		sl.b.runWhole()
		return
	}
	sl.slices(sl.ns[sl.pick])
}

// slices runs the batch in n slices.
func (sl *slicer) slices(n int) {
	b := sl.b
	sl.n = n
	sl.err = nil
	b.s.pool.Do(sl.n, sl)
	if sl.err != nil {
		// A slice's error names positions in the slice: the batch at
		// once gives the error of the request (a bad request is rare).
		b.err = nil
		b.runWhole()
		if b.err == nil {
			b.err = sl.err
		}
	}
}

// prune drops the sub-sessions' buffers of the slice sizes not chosen.
func (sl *slicer) prune() {
	n := sl.ns[sl.pick]
	for _, sub := range sl.subs {
		kept := sub.plans[:0]
		for _, p := range sub.plans {
			if c := p.inShapes[0][0]; c == sl.batch/n || c == (sl.batch+n-1)/n {
				kept = append(kept, p)
			}
		}
		clear(sub.plans[len(kept):])
		sub.plans = kept
	}
}

// prepare makes the sub-sessions, one per thread, and binds each to
// every slice shape of both sizes, so that no Run allocates after the
// first. It reports whether every shape planned (one that does not would
// be a bug of an op.PerSample).
func (sl *slicer) prepare() bool {
	m := sl.b.s.m
	ins := sl.ins[0] // only their dtypes and shapes are read
	for range sl.slots {
		sub := m.NewSession(WithThreads(1))
		sub.opts.slices = -1 // its batch is a slice already
		for _, n := range sl.ns {
			for _, size := range []int{sl.batch / n, (sl.batch + n - 1) / n} {
				for _, t := range ins {
					t.Shape[0] = size
				}
				if _, err := sub.bind(ins); err != nil {
					return false
				}
			}
		}
		sl.subs = append(sl.subs, sub)
	}
	return true
}

// RunRange runs slices [lo, hi) on a free sub-session and copies their
// outputs into the batch's.
func (sl *slicer) RunRange(lo, hi int) {
	slot := 0
	for !sl.slots[slot].CompareAndSwap(false, true) {
		slot = (slot + 1) % len(sl.slots)
	}
	defer sl.slots[slot].Store(false)
	b, m := sl.b, sl.b.s.m
	sub := sl.subs[slot]
	ins := sl.ins[slot]
	for k := lo; k < hi; k++ {
		s0, s1 := k*sl.batch/sl.n, (k+1)*sl.batch/sl.n
		for i, id := range m.inIDs {
			ins[i].Shape[0] = s1 - s0
			sliceTensor(ins[i], &b.views[id], s0*sl.inElems[i], s1*sl.inElems[i])
		}
		outs, err := sub.run(ins)
		if err != nil {
			sl.mu.Lock()
			if sl.err == nil {
				sl.err = err
			}
			sl.mu.Unlock()
			return
		}
		for i, id := range m.outIDs {
			if m.values[id].kind != valNode {
				continue // an input or a constant: already in place
			}
			copyTensor(&b.views[id], s0*sl.outElems[i], outs[i])
		}
	}
}

// sliceTensor points dst at src's elements [lo, hi).
func sliceTensor(dst, src *tensor.Tensor, lo, hi int) {
	switch src.DType {
	case tensor.F32:
		dst.F32 = src.F32[lo:hi:hi]
	case tensor.I32:
		dst.I32 = src.I32[lo:hi:hi]
	case tensor.I64:
		dst.I64 = src.I64[lo:hi:hi]
	case tensor.U8:
		dst.U8 = src.U8[lo:hi:hi]
	case tensor.I8:
		dst.I8 = src.I8[lo:hi:hi]
	}
}

// copyTensor copies src's elements into dst from element off.
func copyTensor(dst *tensor.Tensor, off int, src *tensor.Tensor) {
	switch src.DType {
	case tensor.F32:
		copy(dst.F32[off:], src.F32)
	case tensor.I32:
		copy(dst.I32[off:], src.I32)
	case tensor.I64:
		copy(dst.I64[off:], src.I64)
	case tensor.U8:
		copy(dst.U8[off:], src.U8)
	case tensor.I8:
		copy(dst.I8[off:], src.I8)
	}
}
