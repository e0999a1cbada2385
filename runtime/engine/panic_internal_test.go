package engine

import (
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/op"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// testPanic is an operator with a bug: y = x, computed in two shares
// through the session's pool, and a panic in the share that holds an
// element equal to -1. Attribute share = 1 makes the second share wait
// until the first has started elsewhere, so with two threads a worker,
// not the caller, runs the second share.
func init() {
	op.Register(op.Def{Name: "testPanic", Attrs: []string{"share"}, Build: func(n *op.Node) (op.Kernel, error) {
		s, err := n.IntAttr("share", 0)
		return &testPanicOp{onWorker: s == 1}, err
	}})
	op.Register(op.Def{Name: "testPanicBuild", Build: func(*op.Node) (op.Kernel, error) { panic("builder bug") }})
}

type testPanicOp struct{ onWorker bool }

func (*testPanicOp) Plan(in []op.Desc) ([]op.Desc, op.Scratch, error) {
	return []op.Desc{{DType: tensor.F32, Shape: append(tensor.Shape(nil), in[0].Shape...)}}, op.Scratch{}, nil
}

type testPanicTask struct {
	x, y     []float32
	onWorker bool
	started  atomic.Bool
}

func (t *testPanicTask) RunRange(lo, hi int) {
	if t.onWorker && lo == 0 {
		// The caller runs share 0 and cannot steal share 1 meanwhile:
		// wait for a worker to start it.
		for !t.started.Load() {
			runtime.Gosched()
		}
	}
	if lo > 0 {
		t.started.Store(true)
	}
	for i := lo; i < hi; i++ {
		if t.x[i] == -1 {
			var nilSlice []float32
			_ = nilSlice[i] // the bug: an index out of range
		}
		t.y[i] = t.x[i]
	}
}

func (k *testPanicOp) Run(ctx *op.Ctx, in, out []*tensor.Tensor) error {
	t := &testPanicTask{x: in[0].F32, y: out[0].F32, onWorker: k.onWorker}
	ctx.Par.Do(2, t)
	return nil
}

func panicModel(t *testing.T, share int64) *Model {
	t.Helper()
	fm := &format.Model{Graph: format.Graph{
		Inputs:  []format.ValueInfo{{Name: "x", DType: format.F32, Shape: []int64{2}}},
		Outputs: []format.ValueInfo{{Name: "y", DType: format.F32, Shape: []int64{2}}},
		Nodes: []format.Node{{Name: "bug", Op: "testPanic", Inputs: []string{"x"}, Outputs: []string{"y"},
			Attrs: []format.Attr{{Name: "share", Kind: format.AttrInt, Int: share}}}},
	}}
	m, err := Load(fm)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A panic in an operator, on the caller's goroutine or on one of the
// session's workers, is an ErrInternal of that Run (on a worker it used to
// kill the process), and the session runs the next request.
func TestRunRecoversPanics(t *testing.T) {
	for _, c := range []struct {
		name    string
		threads int
		share   int64
		bad     []float32
		where   string // a frame the reported stack must hold
	}{
		{"caller", 1, 0, []float32{-1, 0}, "(*testPanicTask).RunRange"},
		{"worker", 2, 1, []float32{0, -1}, "(*worker).runJob"},
		{"caller with workers", 2, 0, []float32{-1, -1}, "(*testPanicTask).RunRange"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := panicModel(t, c.share).NewSession(WithThreads(c.threads))
			defer s.Close()
			for round := 0; round < 3; round++ {
				_, err := s.Run([]*tensor.Tensor{tensor.NewF32(tensor.Shape{2}, append([]float32(nil), c.bad...))})
				if !errors.Is(err, ErrInternal) || errors.Is(err, ErrInvalidInput) {
					t.Fatalf("round %d: Run error %v, want ErrInternal", round, err)
				}
				msg := err.Error()
				if !strings.Contains(msg, "index out of range") || !strings.Contains(msg, c.where) {
					t.Fatalf("round %d: the error does not carry the panic and its stack (want %q):\n%s", round, c.where, msg)
				}
				out, err := s.Run([]*tensor.Tensor{tensor.NewF32(tensor.Shape{2}, []float32{3, 4})})
				if err != nil || out[0].F32[0] != 3 || out[0].F32[1] != 4 {
					t.Fatalf("round %d: the session after a panic: %v, %v", round, out, err)
				}
			}
		})
	}
}

// Load recovers a panic in an operator's builder as ErrInternal.
func TestLoadRecoversPanics(t *testing.T) {
	_, err := Load(&format.Model{Graph: format.Graph{
		Inputs:  []format.ValueInfo{{Name: "x", DType: format.F32, Shape: []int64{2}}},
		Outputs: []format.ValueInfo{{Name: "y", DType: format.F32, Shape: []int64{2}}},
		Nodes:   []format.Node{{Name: "bug", Op: "testPanicBuild", Inputs: []string{"x"}, Outputs: []string{"y"}}},
	}})
	if !errors.Is(err, ErrInternal) || !strings.Contains(err.Error(), "builder bug") {
		t.Fatalf("Load error %v, want ErrInternal with the panic value", err)
	}
}

// testPanicRow is y = x, element by element, with a panic at an element
// equal to -1: an operator whose bug shows in one slice of a batch.
type testPanicRow struct{}

func (testPanicRow) PerSample([]op.Desc) bool { return true }

func (testPanicRow) Plan(in []op.Desc) ([]op.Desc, op.Scratch, error) {
	return []op.Desc{{DType: tensor.F32, Shape: append(tensor.Shape(nil), in[0].Shape...)}}, op.Scratch{}, nil
}

func (testPanicRow) Run(_ *op.Ctx, in, out []*tensor.Tensor) error {
	for i, v := range in[0].F32 {
		if v == -1 {
			var nilSlice []float32
			_ = nilSlice[i]
		}
		out[0].F32[i] = v
	}
	return nil
}

func init() {
	op.Register(op.Def{Name: "testPanicRow", Build: func(*op.Node) (op.Kernel, error) { return testPanicRow{}, nil }})
}

// A panic in one slice of a batch, on the caller or a worker, is an
// ErrInternal of that Run, and the session (its slices' sessions
// included) runs the next request.
func TestRunRecoversPanicsInSlices(t *testing.T) {
	m, err := Load(&format.Model{Graph: format.Graph{
		Inputs:  []format.ValueInfo{{Name: "x", DType: format.F32, Shape: []int64{-1}}},
		Outputs: []format.ValueInfo{{Name: "y", DType: format.F32, Shape: []int64{-1}}},
		Nodes:   []format.Node{{Name: "bug", Op: "testPanicRow", Inputs: []string{"x"}, Outputs: []string{"y"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, threads := range []int{1, 2} {
		for _, bad := range [][]float32{{-1, 0, 0, 0}, {0, 0, 0, -1}} {
			s := m.NewSession(WithThreads(threads))
			s.opts.slices = 2
			for round := range 3 {
				_, err := s.Run([]*tensor.Tensor{tensor.NewF32(tensor.Shape{4}, append([]float32(nil), bad...))})
				if !errors.Is(err, ErrInternal) || !strings.Contains(err.Error(), "index out of range") {
					t.Fatalf("%d threads, round %d: Run error %v, want ErrInternal", threads, round, err)
				}
				out, err := s.Run([]*tensor.Tensor{tensor.NewF32(tensor.Shape{4}, []float32{1, 2, 3, 4})})
				if err != nil || out[0].F32[0] != 1 || out[0].F32[3] != 4 || s.plans[0].slicer == nil || s.plans[0].slicer.n != 2 {
					t.Fatalf("%d threads, round %d: the session after a panic: %v, %v", threads, round, out, err)
				}
			}
			s.Close()
		}
	}
}
