package serve

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/engine/enginetest"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdkrt"
)

// mlpModel writes an MLP .erm, loads it from the file and serves it
// through sdkrt, as the registry does.
func mlpModel(t testing.TB, spec string, int8 bool) *sdkrt.Model {
	t.Helper()
	fm, err := enginetest.Build(spec, enginetest.Options{Int8: int8, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mlp.erm")
	if err := format.WriteFile(path, fm); err != nil {
		t.Fatal(err)
	}
	em, err := engine.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := sdkrt.New(em, sdkrt.Config{Name: "mlp", Version: "1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func rowsRequest(rng *rand.Rand, id string, rows, width int) *sdk.InferRequest {
	x := make([]float32, rows*width)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return &sdk.InferRequest{ID: id, Inputs: []sdk.Tensor{{Name: "x", Datatype: sdk.FP32, Shape: []int64{int64(rows), int64(width)}, FP32: x}}}
}

// TestBatcherBitIdentical runs many goroutines of random row counts
// through the batcher on a real .erm and checks every answer is the one
// the model gives the request alone, bit for bit, and that batches formed.
func TestBatcherBitIdentical(t *testing.T) {
	for _, q := range []bool{false, true} {
		t.Run(fmt.Sprintf("int8=%v", q), func(t *testing.T) {
			m := mlpModel(t, "mlp:16-64-32-5", q)
			var batches, batchedRows atomic.Int64
			b := NewBatcher(m.Infer, ModelLimits{MaxBatch: 16, MaxQueueDelay: 2 * time.Millisecond, Sessions: 2})
			b.OnBatch = func(rows, n int) {
				if n > 1 {
					batches.Add(1)
					batchedRows.Add(int64(rows))
				}
				if n > 1 && rows > 16 {
					t.Errorf("batch of %d rows > MaxBatch 16", rows)
				}
			}
			// Every session busy at first: the first requests gather into
			// batches whatever the timing; then the load makes its own.
			release := busy(b)
			const workers, each = 32, 20
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(w), 1))
					for i := range each {
						rows := 1 + rng.IntN(4)
						if i%7 == 0 {
							rows = 1 + rng.IntN(20) // some over MaxBatch: alone
						}
						req := rowsRequest(rng, fmt.Sprintf("%d/%d", w, i), rows, 16)
						want, err := m.Infer(context.Background(), req)
						if err != nil {
							t.Error(err)
							return
						}
						got, err := b.Infer(context.Background(), req)
						if err != nil {
							t.Error(err)
							return
						}
						if err := sameResponse(got, want); err != nil {
							t.Errorf("request %s (%d rows): %v", req.ID, rows, err)
							return
						}
					}
				})
			}
			for deadline := time.Now().Add(time.Minute); pending(b) < 2 && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			release()
			wg.Wait()
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			if batches.Load() == 0 {
				t.Fatal("no batch of several requests formed under 32 concurrent goroutines")
			}
			t.Logf("%d batches of several requests, %.1f rows on average", batches.Load(), float64(batchedRows.Load())/float64(batches.Load()))
		})
	}
}

// sameResponse compares two responses exactly: IDs, names, shapes and
// the bits of every value.
func sameResponse(got, want *sdk.InferResponse) error {
	if got.ID != want.ID || got.ModelName != want.ModelName || got.ModelVersion != want.ModelVersion {
		return fmt.Errorf("got id/model %q %q %q, want %q %q %q", got.ID, got.ModelName, got.ModelVersion, want.ID, want.ModelName, want.ModelVersion)
	}
	if len(got.Outputs) != len(want.Outputs) {
		return fmt.Errorf("got %d outputs, want %d", len(got.Outputs), len(want.Outputs))
	}
	for i, g := range got.Outputs {
		w := want.Outputs[i]
		if g.Name != w.Name || g.Datatype != w.Datatype || !slices.Equal(g.Shape, w.Shape) {
			return fmt.Errorf("output %d: got %s %s %v, want %s %s %v", i, g.Name, g.Datatype, g.Shape, w.Name, w.Datatype, w.Shape)
		}
		if len(g.FP32) != len(w.FP32) || !slices.Equal(g.INT64, w.INT64) || !slices.Equal(g.INT32, w.INT32) {
			return fmt.Errorf("output %s: values differ", g.Name)
		}
		for j := range g.FP32 {
			if math.Float32bits(g.FP32[j]) != math.Float32bits(w.FP32[j]) {
				return fmt.Errorf("output %s[%d]: got %v, want %v (not bit-identical)", g.Name, j, g.FP32[j], w.FP32[j])
			}
		}
	}
	return nil
}

// fake is a model of one FP32 input "x" [rows, 2] whose output "y"
// [rows] is the row sums; it records the batches it sees and can block.
type fake struct {
	mu    sync.Mutex
	calls [][]int64 // shape of x per call
	gate  chan struct{}
	// bad makes a request whose first value is bad invalid input.
	bad float32
	// flat answers a [1] output whatever the rows: unsplittable.
	flat bool
}

func (f *fake) infer(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	x := req.Input("x")
	f.mu.Lock()
	f.calls = append(f.calls, slices.Clone(x.Shape))
	f.mu.Unlock()
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	rows := int(x.Shape[0])
	y := make([]float32, rows)
	for r := range rows {
		if x.FP32[2*r] == f.bad {
			return nil, sdk.InvalidInputf("row %d is bad", r)
		}
		y[r] = x.FP32[2*r] + x.FP32[2*r+1]
	}
	if f.flat {
		return &sdk.InferResponse{Outputs: []sdk.Tensor{{Name: "y", Datatype: sdk.FP32, Shape: []int64{1}, FP32: []float32{float32(rows)}}}}, nil
	}
	return &sdk.InferResponse{ModelName: "fake", Outputs: []sdk.Tensor{{Name: "y", Datatype: sdk.FP32, Shape: []int64{int64(rows)}, FP32: y}}}, nil
}

func (f *fake) shapes() [][]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func xreq(id string, v ...float32) *sdk.InferRequest {
	return &sdk.InferRequest{ID: id, Inputs: []sdk.Tensor{{Name: "x", Datatype: sdk.FP32, Shape: []int64{int64(len(v) / 2), 2}, FP32: v}}}
}

// TestBatcherFullBatchRunsAtOnce: with an hour of delay, requests that
// fill MaxBatch run as one batch without waiting, and each gets its rows.
func TestBatcherFullBatchRunsAtOnce(t *testing.T) {
	f := &fake{bad: -1}
	b := NewBatcher(f.infer, ModelLimits{MaxBatch: 4, MaxQueueDelay: time.Hour})
	defer b.Close()
	defer busy(b)()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			resp, err := b.Infer(context.Background(), xreq(fmt.Sprint(i), float32(i), 10))
			if err != nil {
				t.Error(err)
				return
			}
			if resp.ID != fmt.Sprint(i) || !slices.Equal(resp.Outputs[0].Shape, []int64{1}) || resp.Outputs[0].FP32[0] != float32(i)+10 {
				t.Errorf("request %d: got %+v", i, resp)
			}
		})
	}
	wg.Wait()
	if s := f.shapes(); len(s) != 1 || !slices.Equal(s[0], []int64{4, 2}) {
		t.Fatalf("model saw %v, want one batch [4 2]", s)
	}
}

// TestBatcherWaitsForASession: with every session busy, a lone request
// waits past its delay (a run beyond the sessions would only wait for a
// core), and runs, alone, when a run ends.
func TestBatcherWaitsForASession(t *testing.T) {
	f := &fake{bad: -1}
	b := NewBatcher(f.infer, ModelLimits{MaxBatch: 8, MaxQueueDelay: time.Millisecond})
	defer b.Close()
	release := busy(b)
	got := make(chan error, 1)
	go func() {
		resp, err := b.Infer(context.Background(), xreq("a", 1, 2))
		if err == nil && resp.Outputs[0].FP32[0] != 3 {
			err = fmt.Errorf("got %+v", resp)
		}
		got <- err
	}()
	waitPending(t, b, 1)
	time.Sleep(20 * time.Millisecond) // 20 delays: it must not have run
	if s := f.shapes(); len(s) != 0 {
		t.Fatalf("model saw %v while every session was busy", s)
	}
	release()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if s := f.shapes(); len(s) != 1 || !slices.Equal(s[0], []int64{1, 2}) {
		t.Fatalf("model saw %v, want the request alone", s)
	}
}

// TestBatcherIdleRunsAtOnce: with a session free and no delay, a request
// does not wait for others.
func TestBatcherIdleRunsAtOnce(t *testing.T) {
	f := &fake{bad: -1}
	b := NewBatcher(f.infer, ModelLimits{MaxBatch: 8, Sessions: 1})
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range 3 {
		resp, err := b.Infer(ctx, xreq("a", float32(i), 2))
		if err != nil || resp.Outputs[0].FP32[0] != float32(i)+2 {
			t.Fatalf("request %d: got %+v, %v", i, resp, err)
		}
	}
	if s := f.shapes(); len(s) != 3 {
		t.Fatalf("model saw %v, want 3 runs of one row", s)
	}
}

// TestBatcherIdleWaitsDelay: with a session free and a delay, a request
// waits for others, as Triton's max_queue_delay: the second joins it, and
// the batch runs when full (before the hour-long delay).
func TestBatcherIdleWaitsDelay(t *testing.T) {
	f := &fake{bad: -1}
	b := NewBatcher(f.infer, ModelLimits{MaxBatch: 2, MaxQueueDelay: time.Hour, Sessions: 1})
	defer b.Close()
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			resp, err := b.Infer(context.Background(), xreq(fmt.Sprint(i), float32(i), 10))
			if err != nil || resp.Outputs[0].FP32[0] != float32(i)+10 {
				t.Errorf("request %d: %+v, %v", i, resp, err)
			}
		})
		if i == 0 {
			waitPending(t, b, 1) // the first waits; the second fills the batch
		}
	}
	wg.Wait()
	if s := f.shapes(); len(s) != 1 || !slices.Equal(s[0], []int64{2, 2}) {
		t.Fatalf("model saw %v, want one batch [2 2]", s)
	}
}

// TestBatcherBatchesWhileBusy: requests that come while the only session
// runs gather, and run as one batch as soon as that run ends.
func TestBatcherBatchesWhileBusy(t *testing.T) {
	f := &fake{bad: -1, gate: make(chan struct{})}
	b := NewBatcher(f.infer, ModelLimits{MaxBatch: 8, Sessions: 1})
	defer b.Close()
	var wg sync.WaitGroup
	ask := func(i int) {
		wg.Go(func() {
			resp, err := b.Infer(context.Background(), xreq(fmt.Sprint(i), float32(i), 10))
			if err != nil || resp.Outputs[0].FP32[0] != float32(i)+10 {
				t.Errorf("request %d: %+v, %v", i, resp, err)
			}
		})
	}
	ask(0)
	waitCalls(t, f, 1) // runs at once, held at the gate
	for i := 1; i <= 3; i++ {
		ask(i)
	}
	waitPending(t, b, 3)
	close(f.gate)
	wg.Wait()
	if s := f.shapes(); len(s) != 2 || !slices.Equal(s[0], []int64{1, 2}) || !slices.Equal(s[1], []int64{3, 2}) {
		t.Fatalf("model saw %v, want [1 2] then the batch [3 2]", s)
	}
}

// TestBatcherSessionsRunAtOnce: as many runs as sessions go at once;
// only the request beyond them waits.
func TestBatcherSessionsRunAtOnce(t *testing.T) {
	f := &fake{bad: -1, gate: make(chan struct{})}
	b := NewBatcher(f.infer, ModelLimits{MaxBatch: 8, Sessions: 2})
	defer b.Close()
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			if _, err := b.Infer(context.Background(), xreq(fmt.Sprint(i), 1, 2)); err != nil {
				t.Error(err)
			}
		})
		if i < 2 {
			waitCalls(t, f, i+1)
		}
	}
	waitPending(t, b, 1)
	close(f.gate)
	wg.Wait()
	if s := f.shapes(); len(s) != 3 {
		t.Fatalf("model saw %v, want 3 runs", s)
	}
}

// waitCalls waits until f has been called n times.
func waitCalls(t *testing.T, f *fake, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for len(f.shapes()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the model never ran %d times", n)
		}
		time.Sleep(time.Millisecond)
	}
}

// busy makes every session of b busy, as runs in progress would, so that
// requests wait and gather; the func it returns ends those runs, which
// starts what waits, as the end of a real run does.
func busy(b *Batcher) func() {
	b.mu.Lock()
	n := b.slots
	b.runs += n
	b.mu.Unlock()
	return func() {
		for range n {
			b.ended()
		}
	}
}

// TestBatcherCancelledCallerLeaves: a caller whose context ends while
// waiting leaves the batch; the others run without its rows.
func TestBatcherCancelledCallerLeaves(t *testing.T) {
	f := &fake{bad: -1}
	b := NewBatcher(f.infer, ModelLimits{MaxBatch: 3, MaxQueueDelay: time.Hour})
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer busy(b)()
	errc := make(chan error, 1)
	go func() {
		_, err := b.Infer(ctx, xreq("gone", 100, 100))
		errc <- err
	}()
	waitPending(t, b, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller got %v, want context.Canceled", err)
	}
	waitPending(t, b, 0)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			resp, err := b.Infer(context.Background(), xreq(fmt.Sprint(i), float32(i), 0))
			if err != nil || resp.Outputs[0].FP32[0] != float32(i) {
				t.Errorf("request %d: %+v, %v", i, resp, err)
			}
		})
	}
	wg.Wait()
	if s := f.shapes(); len(s) != 1 || !slices.Equal(s[0], []int64{3, 2}) {
		t.Fatalf("model saw %v, want one batch [3 2] without the cancelled rows", s)
	}
}

// waitPending waits until n requests wait in b's batches.
func waitPending(t *testing.T, b *Batcher, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if pending(b) == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%d requests never waited in the batcher", n)
}

// pending is the number of requests waiting in b's batches.
func pending(b *Batcher) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, bt := range b.pending {
		n += len(bt.calls)
	}
	return n
}

// TestBatcherErrorToEachMember: an error of the batch that is not the
// input's goes to every member.
func TestBatcherErrorToEachMember(t *testing.T) {
	boom := errors.New("engine failed")
	b := NewBatcher(func(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error) {
		return nil, boom
	}, ModelLimits{MaxBatch: 3, MaxQueueDelay: time.Hour})
	defer b.Close()
	defer busy(b)()
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			if _, err := b.Infer(context.Background(), xreq(fmt.Sprint(i), 1, 2)); !errors.Is(err, boom) {
				t.Errorf("member %d got %v, want the batch's error", i, err)
			}
		})
	}
	wg.Wait()
}

// TestBatcherInvalidMemberAlone: a batch refused as invalid input is run
// again member by member: only the bad request gets the error.
func TestBatcherInvalidMemberAlone(t *testing.T) {
	f := &fake{bad: -7}
	b := NewBatcher(f.infer, ModelLimits{MaxBatch: 3, MaxQueueDelay: time.Hour})
	defer b.Close()
	defer busy(b)()
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			v := float32(i)
			if i == 1 {
				v = -7
			}
			_, err := b.Infer(context.Background(), xreq(fmt.Sprint(i), v, 0))
			if (i == 1) != errors.Is(err, sdk.ErrInvalidInput) {
				t.Errorf("member %d got %v", i, err)
			}
		})
	}
	wg.Wait()
	if s := f.shapes(); len(s) != 4 {
		t.Fatalf("model saw %v, want the batch then 3 alone", s)
	}
}

// TestBatcherUnsplittableRunsAlone: outputs without the batch dimension
// first make the members run alone, and such requests are not batched
// again.
func TestBatcherUnsplittableRunsAlone(t *testing.T) {
	f := &fake{bad: -1, flat: true}
	b := NewBatcher(f.infer, ModelLimits{MaxBatch: 2, MaxQueueDelay: time.Hour})
	defer b.Close()
	for round := range 2 {
		defer busy(b)()
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() {
				resp, err := b.Infer(context.Background(), xreq(fmt.Sprint(i), 1, 2))
				if err != nil || !slices.Equal(resp.Outputs[0].Shape, []int64{1}) || resp.Outputs[0].FP32[0] != 1 {
					t.Errorf("round %d member %d: %+v, %v", round, i, resp, err)
				}
			})
		}
		wg.Wait()
	}
	if s := f.shapes(); len(s) != 5 {
		t.Fatalf("model saw %v, want one batch, 2 alone, then 2 alone", s)
	}
}

// TestBatcherKeys: which requests are batched together.
func TestBatcherKeys(t *testing.T) {
	b := NewBatcher(nil, ModelLimits{MaxBatch: 8})
	key := func(req *sdk.InferRequest) string {
		_, k, ok := b.batchKey(nil, req)
		if !ok {
			return "alone"
		}
		return string(k)
	}
	base := xreq("", 1, 2, 3, 4)
	withParam := xreq("", 1, 2)
	withParam.Parameters = map[string]string{"top_k": "3"}
	withOut := xreq("", 1, 2)
	withOut.Outputs = []string{"y"}
	three := &sdk.InferRequest{Inputs: []sdk.Tensor{{Name: "x", Datatype: sdk.FP32, Shape: []int64{1, 3}, FP32: []float32{1, 2, 3}}}}
	if key(base) != key(xreq("id", 5, 6)) {
		t.Error("requests alike but for rows and id are not batched together")
	}
	for name, req := range map[string]*sdk.InferRequest{"parameters": withParam, "outputs": withOut, "shape": three} {
		if key(req) == key(base) {
			t.Errorf("a request of other %s is batched with the base", name)
		}
	}
	for name, req := range map[string]*sdk.InferRequest{
		"no inputs":   {},
		"scalar":      {Inputs: []sdk.Tensor{{Name: "x", Datatype: sdk.FP32, FP32: []float32{1}}}},
		"short data":  {Inputs: []sdk.Tensor{{Name: "x", Datatype: sdk.FP32, Shape: []int64{2, 2}, FP32: []float32{1}}}},
		"huge shape":  {Inputs: []sdk.Tensor{{Name: "x", Datatype: sdk.FP32, Shape: []int64{1, 1 << 40, 1 << 40}}}},
		"over max":    {Inputs: []sdk.Tensor{{Name: "x", Datatype: sdk.FP32, Shape: []int64{9, 1}, FP32: make([]float32, 9)}}},
		"rows differ": {Inputs: []sdk.Tensor{{Name: "a", Datatype: sdk.FP32, Shape: []int64{1}, FP32: []float32{1}}, {Name: "b", Datatype: sdk.FP32, Shape: []int64{2}, FP32: []float32{1, 2}}}},
		"duplicate":   {Inputs: []sdk.Tensor{{Name: "a", Datatype: sdk.FP32, Shape: []int64{1}, FP32: []float32{1}}, {Name: "a", Datatype: sdk.FP32, Shape: []int64{1}, FP32: []float32{1}}}},
		"datatype":    {Inputs: []sdk.Tensor{{Name: "x", Datatype: "FP16", Shape: []int64{1}}}},
	} {
		if key(req) != "alone" {
			t.Errorf("%s: batched, want alone", name)
		}
	}
}

// TestBatcherClose: Close runs the waiting requests and later ones are
// refused.
func TestBatcherClose(t *testing.T) {
	f := &fake{bad: -1}
	b := NewBatcher(f.infer, ModelLimits{MaxBatch: 8, MaxQueueDelay: time.Hour})
	release := busy(b)
	errc := make(chan error, 2)
	for i := range 2 {
		go func() {
			_, err := b.Infer(context.Background(), xreq(fmt.Sprint(i), 1, 2))
			errc <- err
		}()
	}
	waitPending(t, b, 2)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errc; err != nil {
			t.Errorf("a request waiting at Close: %v", err)
		}
	}
	if _, err := b.Infer(context.Background(), xreq("late", 1, 2)); !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("after Close: %v, want ErrShuttingDown", err)
	}
	release()
}

// TestBatcherEchoKeepsAnswers: a model that answers with its own input
// (the outputs share the batch's input buffer) must not have that buffer
// reused for the next batch: every answer kept stays its request's rows.
func TestBatcherEchoKeepsAnswers(t *testing.T) {
	echo := func(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error) {
		x := req.Input("x")
		return &sdk.InferResponse{Outputs: []sdk.Tensor{{Name: "y", Datatype: sdk.FP32, Shape: x.Shape, FP32: x.FP32}}}, nil
	}
	b := NewBatcher(echo, ModelLimits{MaxBatch: 2, MaxQueueDelay: time.Hour})
	defer b.Close()
	defer busy(b)()
	const rounds = 50
	got := make([][2]*sdk.InferResponse, rounds)
	for r := range rounds {
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() {
				resp, err := b.Infer(context.Background(), xreq("", float32(r), float32(i)))
				if err != nil {
					t.Error(err)
					return
				}
				got[r][i] = resp
			})
		}
		wg.Wait()
	}
	for r := range rounds {
		for i, resp := range got[r] {
			if resp == nil {
				t.Fatalf("round %d member %d: no answer", r, i)
			}
			if y := resp.Outputs[0].FP32; !slices.Equal(y, []float32{float32(r), float32(i)}) {
				t.Fatalf("round %d member %d: answer %v changed after later batches", r, i, y)
			}
		}
	}
}

// TestOverlap: the memory check that keeps an echoed buffer from reuse.
func TestOverlap(t *testing.T) {
	a := make([]float32, 8)
	for _, tc := range []struct {
		x, y []float32
		want bool
	}{
		{a[:4], a[4:], true}, // a[:4] has a's capacity
		{a[:4:4], a[4:], false},
		{a[:2], a[6:], true}, // capacities overlap: an append could write there
		{a[3:5], a[4:4], true},
		{a, make([]float32, 8), false},
		{a, nil, false},
	} {
		if got := overlap(tc.x, tc.y); got != tc.want {
			t.Errorf("overlap(a[%d:], a[%d:]) = %v, want %v", cap(a)-cap(tc.x), cap(a)-cap(tc.y), got, tc.want)
		}
	}
}

// TestBatcherSplitClipsCapacity: a member appending to its answer never
// writes into the next member's rows.
func TestBatcherSplitClipsCapacity(t *testing.T) {
	f := &fake{bad: -1}
	b := NewBatcher(f.infer, ModelLimits{MaxBatch: 2, MaxQueueDelay: time.Hour})
	defer b.Close()
	var got [2]*sdk.InferResponse
	defer busy(b)()
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			resp, err := b.Infer(context.Background(), xreq(fmt.Sprint(i), float32(i), 0))
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = resp
		})
	}
	wg.Wait()
	if got[0] == nil || got[1] == nil {
		t.Fatal("no answers")
	}
	if s := f.shapes(); len(s) != 1 {
		t.Fatalf("model saw %v, want one batch", s)
	}
	for i := range got {
		_ = append(got[i].Outputs[0].FP32, 99)
		_ = append(got[i].Outputs[0].Shape, 99)
		_ = append(got[i].Outputs, sdk.Tensor{})
	}
	for i, resp := range got {
		if y := resp.Outputs[0]; !slices.Equal(y.FP32, []float32{float32(i)}) || !slices.Equal(y.Shape, []int64{1}) || len(resp.Outputs) != 1 {
			t.Errorf("member %d: %+v after the others appended", i, y)
		}
	}
}

// TestBatcherLeaderLeaves: when the first member, which owns the delay,
// leaves, the batch still runs when the delay passes, for the others.
func TestBatcherLeaderLeaves(t *testing.T) {
	f := &fake{bad: -1}
	b := NewBatcher(f.infer, ModelLimits{MaxBatch: 8, MaxQueueDelay: 20 * time.Millisecond, Sessions: 1})
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := b.Infer(ctx, xreq("leader", 1, 1))
		errc <- err
	}()
	waitPending(t, b, 1)
	type answer struct {
		resp *sdk.InferResponse
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		resp, err := b.Infer(context.Background(), xreq("follower", 2, 3))
		got <- answer{resp, err}
	}()
	waitPending(t, b, 2)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader got %v, want context.Canceled", err)
	}
	select {
	case a := <-got:
		if a.err != nil || a.resp.Outputs[0].FP32[0] != 5 {
			t.Fatalf("follower got %+v, %v", a.resp, a.err)
		}
	case <-time.After(time.Minute): // a safety net, not a timing check
		t.Fatal("the follower never ran once the leader left")
	}
	if s := f.shapes(); len(s) != 1 || !slices.Equal(s[0], []int64{1, 2}) {
		t.Fatalf("model saw %v, want the follower alone", s)
	}
}

// TestBatcherRunCancelledWhenAllGone: once a batch runs, one member
// leaving does not cancel it; the run's context ends when the last one,
// here the member running it, has gone too.
func TestBatcherRunCancelledWhenAllGone(t *testing.T) {
	started := make(chan context.Context, 1)
	run := func(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error) {
		started <- ctx
		<-ctx.Done()
		return nil, ctx.Err()
	}
	b := NewBatcher(run, ModelLimits{MaxBatch: 2, MaxQueueDelay: time.Hour})
	defer b.Close()
	defer busy(b)()
	ctx0, cancel0 := context.WithCancel(context.Background())
	ctx1, cancel1 := context.WithCancel(context.Background())
	defer cancel1()
	errc0, errc1 := make(chan error, 1), make(chan error, 1)
	go func() {
		_, err := b.Infer(ctx0, xreq("0", 1, 2))
		errc0 <- err
	}()
	waitPending(t, b, 1)
	go func() {
		_, err := b.Infer(ctx1, xreq("1", 3, 4)) // fills the batch: runs it
		errc1 <- err
	}()
	runCtx := <-started
	cancel0()
	if err := <-errc0; !errors.Is(err, context.Canceled) {
		t.Fatalf("member 0 got %v, want context.Canceled", err)
	}
	if runCtx.Err() != nil {
		t.Fatal("the batch was cancelled while a member still waited for it")
	}
	cancel1()
	if err := <-errc1; !errors.Is(err, context.Canceled) {
		t.Fatalf("member 1 got %v, want context.Canceled", err)
	}
	if runCtx.Err() == nil {
		t.Fatal("the batch still runs with every member gone")
	}
}
