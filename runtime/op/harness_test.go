package op

import (
	"os"
	"sync"
	"testing"

	"github.com/edgerun/edgerun/runtime/tensor"
)

// testPool is a Parallel for tests: it runs ranges on real goroutines so
// the race detector sees the sharing.
type testPool struct{ n int }

func (p testPool) Workers() int { return p.n }
func (p testPool) Do(n int, t Task) {
	if p.n <= 1 || n <= 1 {
		t.RunRange(0, n)
		return
	}
	parts := min(p.n, n)
	var wg sync.WaitGroup
	for i := 0; i < parts; i++ {
		lo, hi := i*n/parts, (i+1)*n/parts
		wg.Add(1)
		go func() { defer wg.Done(); t.RunRange(lo, hi) }()
	}
	wg.Wait()
}

// withDequant asks n's constants for their dequantized f32 copy too
// (Const.Dequant), as the engine's WithF32Weights does, so the node can
// run with Ctx.Int8Off.
func withDequant(n *Node) *Node {
	for _, in := range n.Inputs {
		if in.Const != nil {
			in.Const.Dequant = true
		}
	}
	return n
}

// f32Const makes an f32 constant input.
func f32Const(name string, shape tensor.Shape, v []float32) Input {
	return Input{Name: name, Present: true, Const: &Const{Name: name, T: tensor.NewF32(shape, v), Axis: -1}}
}

// dyn is a dynamic (run-time) input slot.
func dyn(name string) Input { return Input{Name: name, Present: true} }

// absent is an absent optional input.
var absent = Input{}

// runNode builds the node, plans it for the given inputs (nil for constant
// and absent slots), runs it with workers goroutines and returns the
// outputs. Scratch is filled with garbage first, as a real arena may be.
func runNode(t testing.TB, n *Node, workers int, in ...*tensor.Tensor) []*tensor.Tensor {
	t.Helper()
	k, err := Build(n)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := runKernel(k, n, workers, in...)
	if err != nil {
		t.Fatal(err)
	}
	return outs
}

func runKernel(k Kernel, n *Node, workers int, in ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	full, descs := slotInputs(n, in)
	od, sc, err := k.Plan(descs)
	if err != nil {
		return nil, err
	}
	outs := make([]*tensor.Tensor, len(od))
	for i, d := range od {
		outs[i] = &tensor.Tensor{DType: d.DType, Shape: d.Shape}
		switch d.DType {
		case tensor.F32:
			outs[i].F32 = make([]float32, d.Shape.NumElements())
			for j := range outs[i].F32 {
				outs[i].F32[j] = 1e30 // garbage: the op must overwrite
			}
		case tensor.I32:
			outs[i].I32 = make([]int32, d.Shape.NumElements())
		case tensor.I64:
			outs[i].I64 = make([]int64, d.Shape.NumElements())
		}
	}
	ctx := &Ctx{Par: testPool{workers}, F32: make([]float32, sc.F32), U8: make([]uint8, sc.U8), I32: make([]int32, sc.I32)}
	for i := range ctx.F32 {
		ctx.F32[i] = -7e29
	}
	for i := range ctx.I32 {
		ctx.I32[i] = -123456
	}
	if s, ok := k.(Stateful); ok {
		ctx.State = s.NewState()
	}
	if err := k.Run(ctx, full, outs); err != nil {
		return nil, err
	}
	return outs, nil
}

// slotInputs fills a node's input slots: constants from the node, dynamic
// inputs from in (indexed by slot), absent ones nil; and their Descs.
func slotInputs(n *Node, in []*tensor.Tensor) ([]*tensor.Tensor, []Desc) {
	descs := make([]Desc, len(n.Inputs))
	full := make([]*tensor.Tensor, len(n.Inputs))
	for i, slot := range n.Inputs {
		switch {
		case slot.Const != nil:
			full[i] = slot.Const.T
		case slot.Present:
			full[i] = in[i]
		}
		if full[i] != nil {
			descs[i] = Desc{full[i].DType, full[i].Shape}
		}
	}
	return full, descs
}

// TestMain lowers the work thresholds above which Linear shares a product
// between workers, so the tests' small layers take the split paths too
// (the thresholds decide speed only; a split never changes a bit).
func TestMain(m *testing.M) {
	splitI8, splitF32 = 1<<17, 1<<17
	os.Exit(m.Run())
}
