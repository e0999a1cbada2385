package serve

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgerun/edgerun/sdk"
)

// InferFunc runs one request: sdk.Model.Infer, or a registry's path to it.
type InferFunc func(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error)

// Batcher is the dynamic batcher of one model (ModelLimits.MaxBatch,
// MaxQueueDelay), like Triton's: concurrent requests that are alike —
// inputs of the same names, datatypes and shapes beyond the first
// dimension, the same parameters and the same requested outputs — are
// concatenated along the first dimension, up to MaxBatch rows, run once,
// and every output is split back along its first dimension.
//
// A request waits at most MaxQueueDelay for others to join; a batch that
// reaches MaxBatch rows runs at once. A caller whose context ends before
// its batch runs leaves it without touching the others; once the batch
// runs, it is cancelled only when every member has gone.
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
	// OnBatch, when set (before the first Infer), is called with the rows
	// and requests of every run, batched or alone (the batch size metric).
	OnBatch func(rows, requests int)

	mu      sync.Mutex
	pending map[string]*batch // the batch filling up, by request key
	alone   map[string]bool   // keys whose outputs cannot be split
	closed  bool
	wg      sync.WaitGroup // runs in progress
}

// maxAloneKeys bounds the memory of keys found unbatchable; beyond it,
// the memory is cleared (the cost is one more failed batch per key).
const maxAloneKeys = 1024

// NewBatcher batches the requests to run as lim says. MaxBatch ≤ 1 turns
// batching off: every request runs alone, at once.
func NewBatcher(run InferFunc, lim ModelLimits) *Batcher {
	return &Batcher{
		run: run, maxBatch: lim.MaxBatch, delay: max(lim.MaxQueueDelay, 0),
		pending: map[string]*batch{}, alone: map[string]bool{},
	}
}

// batch is a set of alike requests run as one.
type batch struct {
	key   string
	calls []*batchCall
	rows  int
	timer *time.Timer
	gone  bool // launched: members can no longer leave it
}

// batchCall is one caller's request waiting in a batch.
type batchCall struct {
	ctx  context.Context
	req  *sdk.InferRequest
	rows int
	done chan result // buffered: the runner never blocks on a caller gone
}

type result struct {
	resp *sdk.InferResponse
	err  error
}

// Infer runs req, batched with others when it can be. After Close it
// returns ErrShuttingDown.
func (b *Batcher) Infer(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	if req == nil {
		return nil, sdk.InvalidInputf("no request")
	}
	rows, key, ok := b.batchKey(req)
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ErrShuttingDown
	}
	if !ok || b.alone[key] {
		b.wg.Add(1)
		b.mu.Unlock()
		defer b.wg.Done()
		return b.runAlone(ctx, req, rows)
	}
	c := &batchCall{ctx: ctx, req: req, rows: rows, done: make(chan result, 1)}
	bt := b.pending[key]
	if bt != nil && bt.rows+rows > b.maxBatch {
		b.launchLocked(bt) // full enough: run it, start another
		bt = nil
	}
	if bt == nil {
		bt = &batch{key: key}
		b.pending[key] = bt
		bt.timer = time.AfterFunc(b.delay, func() { b.flush(bt) })
	}
	bt.calls = append(bt.calls, c)
	bt.rows += rows
	if bt.rows == b.maxBatch {
		b.launchLocked(bt)
	}
	b.mu.Unlock()

	select {
	case r := <-c.done:
		return r.resp, r.err
	case <-ctx.Done():
	}
	b.mu.Lock()
	if !bt.gone {
		// Still waiting: leave the batch; the others are not affected.
		i := slices.Index(bt.calls, c)
		bt.calls = slices.Delete(bt.calls, i, i+1)
		bt.rows -= c.rows
		if len(bt.calls) == 0 {
			bt.timer.Stop()
			bt.gone = true
			delete(b.pending, key)
		}
		b.mu.Unlock()
		return nil, ctx.Err()
	}
	b.mu.Unlock()
	// Launched: its answer may have come at the same time.
	select {
	case r := <-c.done:
		return r.resp, r.err
	default:
		return nil, ctx.Err()
	}
}

// flush runs bt when its delay has passed, unless it has already run.
func (b *Batcher) flush(bt *batch) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !bt.gone {
		b.launchLocked(bt)
	}
}

// launchLocked takes bt out of the queue and runs it in a goroutine.
func (b *Batcher) launchLocked(bt *batch) {
	bt.gone = true
	bt.timer.Stop()
	if b.pending[bt.key] == bt {
		delete(b.pending, bt.key)
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.runBatch(bt)
	}()
}

func (b *Batcher) runAlone(ctx context.Context, req *sdk.InferRequest, rows int) (*sdk.InferResponse, error) {
	if b.OnBatch != nil {
		b.OnBatch(rows, 1)
	}
	return b.run(ctx, req)
}

// runBatch runs the members of bt as one request and scatters the answer.
func (b *Batcher) runBatch(bt *batch) {
	calls := bt.calls
	if len(calls) == 1 {
		c := calls[0]
		resp, err := b.runAlone(c.ctx, c.req, c.rows)
		c.done <- result{resp, err}
		return
	}
	// The batch's context ends when every member's has.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	live := atomic.Int64{}
	live.Store(int64(len(calls)))
	for _, c := range calls {
		stop := context.AfterFunc(c.ctx, func() {
			if live.Add(-1) == 0 {
				cancel()
			}
		})
		defer stop()
	}
	req := concat(calls)
	if b.OnBatch != nil {
		b.OnBatch(bt.rows, len(calls))
	}
	resp, err := b.run(ctx, req)
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
				c.done <- result{resp, err}
			})
		}
		wg.Wait()
		return
	}
	for i, c := range calls {
		if err != nil {
			c.done <- result{nil, err}
		} else {
			c.done <- result{parts[i], nil}
		}
	}
}

// Close runs the requests waiting at once, waits for every run to end,
// and makes further Infer calls fail with ErrShuttingDown. It does not
// close the model.
func (b *Batcher) Close() error {
	b.mu.Lock()
	b.closed = true
	for _, bt := range b.pending {
		b.launchLocked(bt)
	}
	b.mu.Unlock()
	b.wg.Wait()
	return nil
}

// batchKey returns the rows of req and the key of the requests it can be
// batched with; ok is false when it must run alone.
func (b *Batcher) batchKey(req *sdk.InferRequest) (rows int, key string, ok bool) {
	if b.maxBatch <= 1 || len(req.Inputs) == 0 {
		return 0, "", false
	}
	ins := make([]*sdk.Tensor, len(req.Inputs))
	for i := range req.Inputs {
		ins[i] = &req.Inputs[i]
	}
	slices.SortFunc(ins, func(x, y *sdk.Tensor) int { return strings.Compare(x.Name, y.Name) })
	var k strings.Builder
	field := func(s string) { // length-prefixed: no two keys collide
		k.WriteString(strconv.Itoa(len(s)))
		k.WriteByte(':')
		k.WriteString(s)
	}
	for i, t := range ins {
		if len(t.Shape) == 0 || t.Shape[0] <= 0 || (i > 0 && t.Name == ins[i-1].Name) {
			return 0, "", false
		}
		if i == 0 {
			rows = int(min(t.Shape[0], int64(b.maxBatch)+1))
		} else if t.Shape[0] != int64(rows) {
			return 0, "", false
		}
		n, ok := elements(t.Shape)
		if !ok || n != dataLen(t) {
			return 0, "", false
		}
		field(t.Name)
		field(t.Datatype)
		for _, d := range t.Shape[1:] {
			field(strconv.FormatInt(d, 10))
		}
		k.WriteByte(';')
	}
	if rows > b.maxBatch {
		return rows, "", false
	}
	k.WriteByte('|')
	for _, name := range slices.Sorted(maps.Keys(req.Parameters)) {
		field(name)
		field(req.Parameters[name])
	}
	k.WriteByte('|')
	for _, name := range req.Outputs {
		field(name)
	}
	return rows, k.String(), true
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

// dataLen is the number of elements t carries in the field of its
// datatype (-1 for an unknown datatype).
func dataLen(t *sdk.Tensor) int {
	switch t.Datatype {
	case sdk.FP32:
		return len(t.FP32)
	case sdk.INT64:
		return len(t.INT64)
	case sdk.INT32:
		return len(t.INT32)
	case sdk.BYTES:
		return len(t.BYTES)
	case sdk.BOOL:
		return len(t.BOOL)
	}
	return -1
}

// concat joins the members' inputs along the first dimension, in the
// order of the first member's inputs.
func concat(calls []*batchCall) *sdk.InferRequest {
	first := calls[0].req
	rows := 0
	for _, c := range calls {
		rows += c.rows
	}
	req := &sdk.InferRequest{
		Inputs:     make([]sdk.Tensor, len(first.Inputs)),
		Parameters: first.Parameters,
		Outputs:    first.Outputs,
	}
	for i, t0 := range first.Inputs {
		out := sdk.Tensor{Name: t0.Name, Datatype: t0.Datatype, Shape: slices.Clone(t0.Shape)}
		out.Shape[0] = int64(rows)
		for _, c := range calls {
			t := c.req.Input(t0.Name)
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

var errUnsplittable = errors.New("serve: batch outputs cannot be split along the first dimension")

// split cuts the batch's response into one per member, each output along
// its first dimension, which must be the batch's rows.
func split(resp *sdk.InferResponse, calls []*batchCall, rows int) ([]*sdk.InferResponse, error) {
	if resp == nil {
		return nil, fmt.Errorf("%w: no response", errUnsplittable)
	}
	for _, o := range resp.Outputs {
		n, ok := elements(o.Shape)
		if len(o.Shape) == 0 || o.Shape[0] != int64(rows) || !ok || n != dataLen(&o) {
			return nil, fmt.Errorf("%w: output %q has shape %s for %d rows", errUnsplittable, o.Name, sdk.ShapeString(o.Shape), rows)
		}
	}
	parts := make([]*sdk.InferResponse, len(calls))
	off := 0
	for i, c := range calls {
		p := &sdk.InferResponse{
			ID: c.req.ID, ModelName: resp.ModelName, ModelVersion: resp.ModelVersion,
			Outputs: make([]sdk.Tensor, len(resp.Outputs)),
		}
		if resp.Parameters != nil {
			p.Parameters = maps.Clone(resp.Parameters)
		}
		for j, o := range resp.Outputs {
			per := 0
			if rows > 0 {
				n, _ := elements(o.Shape)
				per = n / rows
			}
			lo, hi := off*per, (off+c.rows)*per
			t := sdk.Tensor{Name: o.Name, Datatype: o.Datatype, Shape: slices.Clone(o.Shape)}
			t.Shape[0] = int64(c.rows)
			switch o.Datatype {
			case sdk.FP32:
				t.FP32 = slices.Clone(o.FP32[lo:hi])
			case sdk.INT64:
				t.INT64 = slices.Clone(o.INT64[lo:hi])
			case sdk.INT32:
				t.INT32 = slices.Clone(o.INT32[lo:hi])
			case sdk.BYTES:
				t.BYTES = slices.Clone(o.BYTES[lo:hi])
			case sdk.BOOL:
				t.BOOL = slices.Clone(o.BOOL[lo:hi])
			}
			p.Outputs[j] = t
		}
		parts[i] = p
		off += c.rows
	}
	return parts, nil
}
