package serve

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/edgerun/edgerun/sdk"
)

// InferFunc runs one request: sdk.Model.Infer, or a registry's path to it.
// It keeps nothing of req once it returns: the Batcher reuses the memory
// of a batch's inputs, unless the response shares it.
type InferFunc func(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error)

// Batcher is the dynamic batcher of one model (ModelLimits.MaxBatch,
// MaxQueueDelay, Sessions), like Triton's: concurrent requests that are
// alike — inputs of the same names, datatypes and shapes beyond the first
// dimension, the same parameters and the same requested outputs — are
// concatenated along the first dimension, up to MaxBatch rows, run once,
// and every output is split back along its first dimension.
//
// At most Sessions runs (batched or alone) are in progress at once: on a
// CPU, a run beyond them would only wait for a core. While every session
// is busy, requests gather into a batch, which runs when a run ends (the
// batch waiting longest first) or when it reaches MaxBatch rows. A
// request that finds a session free runs at once, with the requests
// alike already waiting, if any, when MaxQueueDelay is 0 (the default);
// else it waits up to MaxQueueDelay for others to join it, as Triton's
// max_queue_delay_microseconds: some latency at low load for bigger
// batches. Under load the batches grow with the load either way.
//
// A caller whose context ends before its batch runs leaves it without
// touching the others; once the batch runs, it is cancelled only when
// every member has gone.
//
// A batch runs on a caller's goroutine when it can: the request that
// starts or fills it, or the first member when the delay passes (leader
// and followers), so a batch costs its members one wake-up each; a batch
// started by the end of another run runs on a goroutine of its own. The
// members' outputs are slices of the batch's outputs (capacity clipped
// to their rows), not copies.
//
// A request runs alone when it cannot be batched: no inputs, a scalar
// input, inputs of different row counts, data that does not fill the
// shape, or more rows than MaxBatch. A batch whose outputs do not all
// have the batch's rows as first dimension cannot be split: its members
// are run again one by one, and requests alike are never batched again.
// A batch refused as invalid input (sdk.ErrInvalidInput) is run again
// member by member, so only the request at fault gets the error; any
// other error of a batch goes to each member.
//
// It is safe for concurrent use.
type Batcher struct {
	run      InferFunc
	maxBatch int
	delay    time.Duration
	slots    int // runs at once before requests wait: ModelLimits.Sessions
	// OnBatch, when set (before the first Infer), is called with the rows
	// and requests of every run, batched or alone (the batch size metric).
	OnBatch func(rows, requests int)

	mu      sync.Mutex
	pending map[string]*batch // the batch filling up, by request key
	alone   map[string]bool   // keys whose outputs cannot be split
	closed  bool
	runs    int            // runs in progress (batched or alone)
	wg      sync.WaitGroup // runs in progress

	bufs sync.Pool // *[]float32: the FP32 inputs of past batches, to reuse
}

// maxAloneKeys bounds the memory of keys found unbatchable; beyond it,
// the memory is cleared (the cost is one more failed batch per key).
const maxAloneKeys = 1024

// NewBatcher batches the requests to run as lim says (Sessions below 1
// counts as 1). MaxBatch ≤ 1 turns batching off: every request runs
// alone, at once.
func NewBatcher(run InferFunc, lim ModelLimits) *Batcher {
	return &Batcher{
		run: run, maxBatch: lim.MaxBatch, delay: max(lim.MaxQueueDelay, 0), slots: max(lim.Sessions, 1),
		pending: map[string]*batch{}, alone: map[string]bool{},
	}
}

// batch is a set of alike requests run as one.
type batch struct {
	key   string
	calls []*batchCall
	rows  int
	// timer is the leader's (calls[0] when the batch was opened) until it
	// leaves; then a time.AfterFunc that runs the batch at the deadline.
	timer    *time.Timer
	deadline time.Time
	gone     bool // taken to run: members can no longer leave it
	// done is closed when every member's answer is in its res: one close
	// wakes them all.
	done chan struct{}

	// Set when taken: the run's context, cancelled when live, the members
	// still waiting, drops to zero.
	ctx    context.Context
	cancel context.CancelFunc
	live   atomic.Int64
}

// batchCall is one caller's request waiting in a batch.
type batchCall struct {
	ctx  context.Context
	req  *sdk.InferRequest
	rows int
	res  result // the answer, once the batch's done is closed
}

type result struct {
	resp *sdk.InferResponse
	err  error
}

// callPool recycles batchCalls whose answer was received.
var callPool = sync.Pool{New: func() any { return new(batchCall) }}

// keyBuf is the size of the stack buffer a request key is built in; a
// longer key spills to the heap.
const keyBuf = 256

// Infer runs req, batched with others when it can be. After Close it
// returns ErrShuttingDown.
func (b *Batcher) Infer(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	if req == nil {
		return nil, sdk.InvalidInputf("no request")
	}
	var buf [keyBuf]byte
	rows, key, ok := b.batchKey(buf[:0], req)
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ErrShuttingDown
	}
	if !ok || b.alone[string(key)] {
		return b.inferAlone(ctx, req, rows)
	}
	bt := b.pending[string(key)]
	if bt != nil && bt.rows+rows > b.maxBatch {
		// Full enough: run it (on its own goroutine, this caller is not
		// one of its members), start another.
		b.takeLocked(bt)
		go b.runBatch(bt, nil)
		bt = nil
	}
	if bt == nil && (rows == b.maxBatch || b.runs < b.slots && b.delay == 0) {
		// The request fills a batch, or a session is free and no delay
		// is asked for: no one to wait for.
		return b.inferAlone(ctx, req, rows)
	}
	c := callPool.Get().(*batchCall)
	c.ctx, c.req, c.rows = ctx, req, rows
	if bt == nil {
		bt = &batch{key: string(key), timer: time.NewTimer(b.delay), deadline: time.Now().Add(b.delay), done: make(chan struct{})}
		b.pending[bt.key] = bt
	}
	bt.calls = append(bt.calls, c)
	bt.rows += rows
	if bt.rows == b.maxBatch || b.runs < b.slots && b.delay == 0 {
		b.takeLocked(bt)
		b.mu.Unlock()
		return b.collect(c, b.runBatch(bt, c))
	}
	leader := len(bt.calls) == 1
	b.mu.Unlock()
	return b.wait(ctx, bt, c, leader)
}

// inferAlone runs req alone, at once; b.mu is held, and released.
func (b *Batcher) inferAlone(ctx context.Context, req *sdk.InferRequest, rows int) (*sdk.InferResponse, error) {
	b.runs++
	b.wg.Add(1)
	b.mu.Unlock()
	defer b.wg.Done()
	defer b.ended()
	return b.runAlone(ctx, req, rows)
}

// ended counts a run out and, a session being free, starts the batch
// that has waited longest, if any.
func (b *Batcher) ended() {
	b.mu.Lock()
	b.runs--
	var next *batch
	if b.runs < b.slots {
		for _, bt := range b.pending {
			if next == nil || bt.deadline.Before(next.deadline) {
				next = bt
			}
		}
		if next != nil {
			b.takeLocked(next)
		}
	}
	b.mu.Unlock()
	if next != nil {
		go b.runBatch(next, nil)
	}
}

// wait waits for c's answer in bt; the leader runs bt when the delay
// passes.
func (b *Batcher) wait(ctx context.Context, bt *batch, c *batchCall, leader bool) (*sdk.InferResponse, error) {
	var tick <-chan time.Time
	if leader {
		tick = bt.timer.C
	}
	for {
		select {
		case <-bt.done:
			return b.collect(c, c.res)
		case <-tick:
			b.mu.Lock()
			if !bt.gone && b.runs < b.slots {
				b.takeLocked(bt)
				b.mu.Unlock()
				return b.collect(c, b.runBatch(bt, c))
			}
			b.mu.Unlock()
			// Taken by another, or every session is busy: the first run
			// to end starts it (ended), unless it fills first; the answer
			// comes with done.
			tick = nil
			continue
		case <-ctx.Done():
		}
		break
	}
	b.mu.Lock()
	if !bt.gone {
		// Still waiting: leave the batch; the others are not affected.
		i := slices.Index(bt.calls, c)
		bt.calls = slices.Delete(bt.calls, i, i+1)
		bt.rows -= c.rows
		switch {
		case len(bt.calls) == 0:
			bt.timer.Stop()
			bt.gone = true
			delete(b.pending, bt.key)
		case leader && bt.timer.C != nil:
			// Hand the deadline over to a timer that runs the batch.
			bt.timer.Stop()
			bt.timer = time.AfterFunc(time.Until(bt.deadline), func() { b.flush(bt) })
		}
		b.mu.Unlock()
		return nil, ctx.Err()
	}
	b.mu.Unlock()
	// Taken: leave the run, which ends when every member has gone.
	if bt.live.Add(-1) == 0 && bt.cancel != nil {
		bt.cancel()
	}
	select {
	case <-bt.done:
		return b.collect(c, c.res)
	default:
		return nil, ctx.Err() // c is not recycled: its answer may still come
	}
}

// collect recycles c, whose answer r has been received.
func (b *Batcher) collect(c *batchCall, r result) (*sdk.InferResponse, error) {
	*c = batchCall{}
	callPool.Put(c)
	return r.resp, r.err
}

// flush runs bt when its delay has passed, unless it has already run.
func (b *Batcher) flush(bt *batch) {
	b.mu.Lock()
	if bt.gone || b.runs >= b.slots { // busy: the first run to end starts it
		b.mu.Unlock()
		return
	}
	if bt.gone {
		b.mu.Unlock()
		return
	}
	b.takeLocked(bt)
	b.mu.Unlock()
	b.runBatch(bt, nil)
}

// takeLocked takes bt out of the queue to be run by runBatch, counting
// the run in.
func (b *Batcher) takeLocked(bt *batch) {
	bt.gone = true
	bt.timer.Stop()
	if b.pending[bt.key] == bt {
		delete(b.pending, bt.key)
	}
	if len(bt.calls) > 1 { // one runs alone, on its own context
		bt.ctx, bt.cancel = context.WithCancel(context.Background())
	}
	bt.live.Store(int64(len(bt.calls)))
	b.runs++
	b.wg.Add(1)
}

func (b *Batcher) runAlone(ctx context.Context, req *sdk.InferRequest, rows int) (*sdk.InferResponse, error) {
	if b.OnBatch != nil {
		b.OnBatch(rows, 1)
	}
	return b.run(ctx, req)
}

// runBatch runs the members of bt, taken, as one request, scatters the
// answer to their res and closes bt.done. runner, when not nil, is the
// member whose goroutine runs it; its answer is returned too.
func (b *Batcher) runBatch(bt *batch, runner *batchCall) result {
	defer b.wg.Done()
	defer b.ended()
	defer close(bt.done)
	calls := bt.calls
	if len(calls) == 1 {
		c := calls[0]
		resp, err := b.runAlone(c.ctx, c.req, c.rows)
		c.res = result{resp, err}
		return c.res
	}
	defer bt.cancel()
	if runner != nil {
		// The others leave on their own (wait); the runner is busy here.
		stop := context.AfterFunc(runner.ctx, func() {
			if bt.live.Add(-1) == 0 {
				bt.cancel()
			}
		})
		defer stop()
	}
	req := b.concat(calls, bt.rows)
	if b.OnBatch != nil {
		b.OnBatch(bt.rows, len(calls))
	}
	resp, err := b.run(bt.ctx, req)
	b.release(req, resp)
	var parts []*sdk.InferResponse
	if err == nil {
		parts, err = split(resp, calls, bt.rows)
		if err != nil {
			b.mu.Lock()
			if len(b.alone) >= maxAloneKeys {
				clear(b.alone)
			}
			b.alone[bt.key] = true
			b.mu.Unlock()
		}
	}
	if err != nil && (errors.Is(err, errUnsplittable) || errors.Is(err, sdk.ErrInvalidInput)) {
		// Run each alone: the outputs cannot be split, or one member
		// may be at fault and only it should hear of it.
		var wg sync.WaitGroup
		for _, c := range calls {
			wg.Go(func() {
				resp, err := b.runAlone(c.ctx, c.req, c.rows)
				c.res = result{resp, err}
			})
		}
		wg.Wait()
	} else {
		for i, c := range calls {
			c.res = result{nil, err}
			if err == nil {
				c.res.resp = parts[i]
			}
		}
	}
	if runner != nil {
		return runner.res
	}
	return result{}
}

// Close runs the requests waiting at once, waits for every run to end,
// and makes further Infer calls fail with ErrShuttingDown. It does not
// close the model.
func (b *Batcher) Close() error {
	b.mu.Lock()
	b.closed = true
	for _, bt := range b.pending {
		b.takeLocked(bt)
		go b.runBatch(bt, nil)
	}
	b.mu.Unlock()
	b.wg.Wait()
	return nil
}

// batchKey returns the rows of req and the key of the requests it can be
// batched with, appended to buf; ok is false when it must run alone.
func (b *Batcher) batchKey(buf []byte, req *sdk.InferRequest) (rows int, key []byte, ok bool) {
	if b.maxBatch <= 1 || len(req.Inputs) == 0 {
		return 0, nil, false
	}
	// The inputs by name: an insertion sort of their indices, on the
	// stack for the usual few inputs.
	var idx [8]int
	ins := idx[:0]
	if len(req.Inputs) > len(idx) {
		ins = make([]int, 0, len(req.Inputs))
	}
	for i := range req.Inputs {
		j := len(ins)
		ins = append(ins, i)
		for ; j > 0 && req.Inputs[ins[j-1]].Name > req.Inputs[i].Name; j-- {
			ins[j] = ins[j-1]
		}
		ins[j] = i
	}
	k := buf
	field := func(s string) { // length-prefixed: no two keys collide
		k = strconv.AppendInt(k, int64(len(s)), 10)
		k = append(k, ':')
		k = append(k, s...)
	}
	for n, i := range ins {
		t := &req.Inputs[i]
		if len(t.Shape) == 0 || t.Shape[0] <= 0 || (n > 0 && t.Name == req.Inputs[ins[n-1]].Name) {
			return 0, nil, false
		}
		if n == 0 {
			rows = int(min(t.Shape[0], int64(b.maxBatch)+1))
		} else if t.Shape[0] != int64(rows) {
			return 0, nil, false
		}
		if e, ok := elements(t.Shape); !ok || e != t.Len() {
			return 0, nil, false
		}
		field(t.Name)
		field(t.Datatype)
		for _, d := range t.Shape[1:] {
			k = strconv.AppendInt(k, d, 10)
			k = append(k, ',')
		}
		k = append(k, ';')
	}
	if rows > b.maxBatch {
		return rows, nil, false
	}
	k = append(k, '|')
	if len(req.Parameters) > 0 {
		for _, name := range slices.Sorted(maps.Keys(req.Parameters)) {
			field(name)
			field(req.Parameters[name])
		}
	}
	k = append(k, '|')
	for _, name := range req.Outputs {
		field(name)
	}
	return rows, k, true
}

// elements is the product of shape, false when it is negative or
// overflows.
func elements(shape []int64) (int, bool) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 || (d > 0 && n > (1<<62)/d) {
			return 0, false
		}
		n *= d
	}
	return int(n), true
}

// concat joins the members' inputs along the first dimension, in the
// order of the first member's inputs, into buffers of the exact size;
// FP32 buffers come from b.bufs when one is large enough.
func (b *Batcher) concat(calls []*batchCall, rows int) *sdk.InferRequest {
	first := calls[0].req
	req := &sdk.InferRequest{
		Inputs:     make([]sdk.Tensor, len(first.Inputs)),
		Parameters: first.Parameters,
		Outputs:    first.Outputs,
	}
	for i := range first.Inputs {
		t0 := &first.Inputs[i]
		out := sdk.Tensor{Name: t0.Name, Datatype: t0.Datatype, Shape: slices.Clone(t0.Shape)}
		out.Shape[0] = int64(rows)
		n := t0.Len() / int(t0.Shape[0]) * rows
		switch t0.Datatype {
		case sdk.FP32:
			if p, _ := b.bufs.Get().(*[]float32); p != nil && cap(*p) >= n {
				out.FP32 = (*p)[:0]
			} else {
				out.FP32 = make([]float32, 0, n)
			}
		case sdk.INT64:
			out.INT64 = make([]int64, 0, n)
		case sdk.INT32:
			out.INT32 = make([]int32, 0, n)
		case sdk.BYTES:
			out.BYTES = make([][]byte, 0, n)
		case sdk.BOOL:
			out.BOOL = make([]bool, 0, n)
		}
		for _, c := range calls {
			t := t0
			if c.req != first {
				t = c.req.Input(t0.Name)
			}
			out.FP32 = append(out.FP32, t.FP32...)
			out.INT64 = append(out.INT64, t.INT64...)
			out.INT32 = append(out.INT32, t.INT32...)
			out.BYTES = append(out.BYTES, t.BYTES...)
			out.BOOL = append(out.BOOL, t.BOOL...)
		}
		req.Inputs[i] = out
	}
	return req
}

// release gives the FP32 inputs of the batch's request back to b.bufs
// once the run is over, unless an output of resp shares their memory (a
// model that answers with its input): the members' answers are slices
// of the outputs. The model keeps nothing of a request after its run.
func (b *Batcher) release(req *sdk.InferRequest, resp *sdk.InferResponse) {
	for i := range req.Inputs {
		in := req.Inputs[i].FP32
		if cap(in) == 0 {
			continue
		}
		shared := false
		if resp != nil {
			for j := range resp.Outputs {
				shared = shared || overlap(in, resp.Outputs[j].FP32)
			}
		}
		if !shared {
			in = in[:0]
			b.bufs.Put(&in)
		}
	}
}

// overlap says whether the backing arrays of x and y, to their
// capacities, share memory.
func overlap(x, y []float32) bool {
	if cap(x) == 0 || cap(y) == 0 {
		return false
	}
	size := uintptr(unsafe.Sizeof(float32(0)))
	x0, y0 := uintptr(unsafe.Pointer(unsafe.SliceData(x))), uintptr(unsafe.Pointer(unsafe.SliceData(y)))
	return x0 < y0+uintptr(cap(y))*size && y0 < x0+uintptr(cap(x))*size
}

var errUnsplittable = errors.New("serve: batch outputs cannot be split along the first dimension")

// split cuts the batch's response into one per member, each output along
// its first dimension, which must be the batch's rows. The members'
// values are slices of the batch's, capacity clipped so that appending
// to one never writes into another's; the responses, tensors and shapes
// come from one allocation each for the whole batch.
func split(resp *sdk.InferResponse, calls []*batchCall, rows int) ([]*sdk.InferResponse, error) {
	if resp == nil {
		return nil, fmt.Errorf("%w: no response", errUnsplittable)
	}
	dims := 0
	for i := range resp.Outputs {
		o := &resp.Outputs[i]
		n, ok := elements(o.Shape)
		if len(o.Shape) == 0 || o.Shape[0] != int64(rows) || !ok || n != o.Len() {
			return nil, fmt.Errorf("%w: output %q has shape %s for %d rows", errUnsplittable, o.Name, sdk.ShapeString(o.Shape), rows)
		}
		dims += len(o.Shape)
	}
	nout := len(resp.Outputs)
	resps := make([]sdk.InferResponse, len(calls))
	parts := make([]*sdk.InferResponse, len(calls))
	tensors := make([]sdk.Tensor, len(calls)*nout)
	shapes := make([]int64, len(calls)*dims)
	off := 0
	for i, c := range calls {
		p := &resps[i]
		*p = sdk.InferResponse{
			ID: c.req.ID, ModelName: resp.ModelName, ModelVersion: resp.ModelVersion,
			Outputs: tensors[i*nout : (i+1)*nout : (i+1)*nout],
		}
		if resp.Parameters != nil {
			p.Parameters = maps.Clone(resp.Parameters)
		}
		for j := range resp.Outputs {
			o := &resp.Outputs[j]
			per := 0
			if rows > 0 {
				n, _ := elements(o.Shape)
				per = n / rows
			}
			lo, hi := off*per, (off+c.rows)*per
			shape := shapes[:len(o.Shape):len(o.Shape)]
			shapes = shapes[len(o.Shape):]
			copy(shape, o.Shape)
			shape[0] = int64(c.rows)
			t := sdk.Tensor{Name: o.Name, Datatype: o.Datatype, Shape: shape}
			switch o.Datatype {
			case sdk.FP32:
				t.FP32 = o.FP32[lo:hi:hi]
			case sdk.INT64:
				t.INT64 = o.INT64[lo:hi:hi]
			case sdk.INT32:
				t.INT32 = o.INT32[lo:hi:hi]
			case sdk.BYTES:
				t.BYTES = o.BYTES[lo:hi:hi]
			case sdk.BOOL:
				t.BOOL = o.BOOL[lo:hi:hi]
			}
			p.Outputs[j] = t
		}
		parts[i] = p
		off += c.rows
	}
	return parts, nil
}
