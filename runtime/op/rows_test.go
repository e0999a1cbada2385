package op

import (
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/edgerun/edgerun/runtime/tensor"
)

// rowsCountPool is a testPool that counts the Do calls that hand out more
// than one unit.
type rowsCountPool struct {
	testPool
	dos atomic.Int32
}

func (p *rowsCountPool) Do(n int, t Task) {
	if n > 1 {
		p.dos.Add(1)
	}
	p.testPool.Do(n, t)
}

// TestRowShares runs the row-wise operators (Embedding f32 and int8,
// AddPositional, LayerNorm, the fused AddLayerNorm in place and not,
// SeqPool with and without a mask) on one goroutine and on three, with
// enough rows that their rowShare hands the rows out, and checks that the
// pool was used and every output bit is the same. With a ragged row count
// the last block is short.
func TestRowShares(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const b, tt, d, v = 9, 61, 128, 64
	rows := b * tt
	x := make([]float32, rows*d)
	for i := range x {
		x[i] = rng.Float32()*8 - 4
	}
	x2 := make([]float32, rows*d)
	for i := range x2 {
		x2[i] = rng.Float32()*2 - 1
	}
	ids := make([]int64, rows)
	for i := range ids {
		ids[i] = rng.Int64N(v)
	}
	mask := make([]float32, rows)
	for i := range mask {
		if rng.IntN(4) > 0 {
			mask[i] = 1
		}
	}
	tab := make([]float32, v*d)
	for i := range tab {
		tab[i] = rng.Float32() - 0.5
	}
	q := make([]int8, v*d)
	for i := range q {
		q[i] = int8(rng.IntN(256) - 128)
	}
	scales := make([]float32, v)
	for i := range scales {
		scales[i] = rng.Float32() / 64
	}
	gamma, beta := make([]float32, d), make([]float32, d)
	for i := range gamma {
		gamma[i], beta[i] = rng.Float32()+0.5, rng.Float32()-0.5
	}
	seq := tensor.Shape{b, tt, d}
	xt := func() *tensor.Tensor { return tensor.NewF32(seq, append([]float32(nil), x...)) }
	i8Tab := Input{Name: "t", Present: true, Const: &Const{Name: "t", T: &tensor.Tensor{DType: tensor.I8, Shape: tensor.Shape{v, d}, I8: q}, Scales: scales, Axis: 0}}
	ln := func() *Node {
		return &Node{Name: "ln", Op: "LayerNorm", Inputs: []Input{dyn("x"), f32Const("g", tensor.Shape{d}, gamma), f32Const("b", tensor.Shape{d}, beta)}, Outputs: 1}
	}
	type run func(workers int) ([]float32, error)
	node := func(n *Node, in ...*tensor.Tensor) run {
		return func(workers int) ([]float32, error) {
			k, err := Build(n)
			if err != nil {
				return nil, err
			}
			return runRows(k, n, workers, in...)
		}
	}
	fused := func(inPlace bool) run {
		return func(workers int) ([]float32, error) {
			add, err := Build(&Node{Name: "add", Op: "Add", Inputs: []Input{dyn("a"), dyn("b")}, Outputs: 1})
			if err != nil {
				return nil, err
			}
			norm, err := Build(ln())
			if err != nil {
				return nil, err
			}
			k := FuseAddLayerNorm(add, norm)
			if k == nil {
				t.Fatal("FuseAddLayerNorm: nil")
			}
			a, bb := xt(), tensor.NewF32(seq, append([]float32(nil), x2...))
			n := &Node{Name: "add+ln", Inputs: []Input{dyn("a"), dyn("b")}, Outputs: 1}
			var out *tensor.Tensor
			if inPlace {
				out = bb
			}
			return runRowsOut(k, n, workers, out, a, bb)
		}
	}
	for name, r := range map[string]run{
		"Embedding f32":         node(&Node{Name: "e", Op: "Embedding", Inputs: []Input{dyn("ids"), f32Const("t", tensor.Shape{v, d}, tab)}, Outputs: 1}, tensor.NewI64(tensor.Shape{b, tt}, ids)),
		"Embedding int8":        node(&Node{Name: "e", Op: "Embedding", Inputs: []Input{dyn("ids"), i8Tab}, Outputs: 1}, tensor.NewI64(tensor.Shape{b, tt}, ids)),
		"AddPositional":         node(&Node{Name: "p", Op: "AddPositional", Inputs: []Input{dyn("x"), f32Const("t", tensor.Shape{tt, d}, tab[:tt*d])}, Outputs: 1}, xt()),
		"LayerNorm":             node(ln(), xt()),
		"AddLayerNorm":          fused(false),
		"AddLayerNorm in place": fused(true),
		"SeqPool":               node(&Node{Name: "s", Op: "SeqPool", Attrs: map[string]Attr{"mode": {Kind: AttrString, String: "mean"}}, Inputs: []Input{dyn("x")}, Outputs: 1}, xt()),
		"SeqPool mask":          node(&Node{Name: "s", Op: "SeqPool", Attrs: map[string]Attr{"mode": {Kind: AttrString, String: "max"}}, Inputs: []Input{dyn("x"), dyn("m")}, Outputs: 1}, xt(), tensor.NewF32(tensor.Shape{b, tt}, mask)),
	} {
		t.Run(name, func(t *testing.T) {
			want, err := r(1)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r(3)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d outputs, want %d", len(got), len(want))
			}
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("3 workers: out[%d] = %g, 1 worker: %g", i, got[i], want[i])
				}
			}
		})
	}
}

// runRows plans and runs k with a rowsCountPool of workers goroutines and
// the kernel's state, fails unless more than one worker was handed rows
// (workers > 1), and returns the first output.
func runRows(k Kernel, n *Node, workers int, in ...*tensor.Tensor) ([]float32, error) {
	return runRowsOut(k, n, workers, nil, in...)
}

// runRowsOut is runRows writing into out when it is not nil (an input, for
// in-place runs).
func runRowsOut(k Kernel, n *Node, workers int, out *tensor.Tensor, in ...*tensor.Tensor) ([]float32, error) {
	full, descs := slotInputs(n, in)
	od, _, err := k.Plan(descs)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = &tensor.Tensor{DType: od[0].DType, Shape: od[0].Shape, F32: make([]float32, od[0].Shape.NumElements())}
		for i := range out.F32 {
			out.F32[i] = 1e30
		}
	}
	pool := &rowsCountPool{testPool: testPool{workers}}
	ctx := &Ctx{Par: pool, State: k.(Stateful).NewState()}
	if err := k.Run(ctx, full, []*tensor.Tensor{out}); err != nil {
		return nil, err
	}
	if workers > 1 && pool.dos.Load() == 0 {
		return nil, errNoShare
	}
	return out.F32, nil
}

var errNoShare = errorString("the rows were not handed out")

type errorString string

func (e errorString) Error() string { return string(e) }
