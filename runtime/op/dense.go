package op

import (
	"fmt"

	"github.com/edgerun/edgerun/runtime/internal/kernel"
	"github.com/edgerun/edgerun/runtime/tensor"
)

func init() {
	Register(Def{Name: "Dense", Attrs: []string{"activation", "alpha"}, Build: buildDense,
		Doc: "y = act(x · Wᵀ + b). Inputs: x [..., K], W [N, K] (f32, or i8 per-row symmetric), b [N] (optional). Attributes: activation (\"\", relu, leaky_relu, sigmoid, tanh, gelu), alpha (leaky_relu slope, default 0.01)."})
}

// Act is a fused activation.
type Act uint8

// Fused activations.
const (
	ActNone Act = iota
	ActReLU
	ActLeakyReLU
	ActSigmoid
	ActTanh
	ActGELU
)

// ParseAct maps an activation attribute to an Act.
func ParseAct(s string) (Act, error) {
	switch s {
	case "", "linear", "none":
		return ActNone, nil
	case "relu":
		return ActReLU, nil
	case "leaky_relu":
		return ActLeakyReLU, nil
	case "sigmoid":
		return ActSigmoid, nil
	case "tanh":
		return ActTanh, nil
	case "gelu":
		return ActGELU, nil
	}
	return 0, fmt.Errorf("unknown activation %q", s)
}

// Apply applies the activation to x in place.
func (a Act) Apply(x []float32, alpha float32) { a.ApplyTmp(x, nil, alpha) }

// ApplyTmp applies the activation to x in place; tmp, when at least as
// long as x and not overlapping it, is GELU's scratch (else it takes a
// pooled one).
func (a Act) ApplyTmp(x, tmp []float32, alpha float32) {
	switch a {
	case ActReLU:
		kernel.ReluSlice(x)
	case ActLeakyReLU:
		for i, v := range x {
			if v < 0 {
				x[i] = float32(v * alpha)
			}
		}
	case ActSigmoid:
		kernel.SigmoidSlice(x, x)
	case ActTanh:
		kernel.TanhSlice(x, x)
	case ActGELU:
		if len(tmp) >= len(x) || !kernel.GELUNeedsScratch() {
			kernel.GELUSlice(x, x, tmp)
			return
		}
		geluPooled(x)
	}
}

// Linear is a matrix product with weights packed once: the building block
// of Dense and of the recurrent and attention operators. It is f32 or int8
// (per-row symmetric weights, per-row dynamic uint8 activations). It never
// changes after NewLinear, so sessions share it.
type Linear struct {
	N, K int
	I8   *kernel.MatI8 // set for int8 weights
	// f32 are the f32 weights; for int8 weights, their dequantized copy,
	// made only when the weight constant asks for it (Const.Dequant).
	f32    *kernel.MatF32
	Scales []float32 // per output row, int8 only
	Bias   []float32 // N or nil
}

// NewLinear packs a weight constant [N, K] and an optional bias [N].
func NewLinear(w *Const, bias *Const) (*Linear, error) {
	if len(w.T.Shape) != 2 {
		return nil, fmt.Errorf("weight %q has shape %v, want [N, K]", w.Name, w.T.Shape)
	}
	n, k := w.T.Shape[0], w.T.Shape[1]
	l := &Linear{N: n, K: k}
	switch w.T.DType {
	case tensor.F32:
		if w.Own {
			l.f32 = kernel.AdoptF32(w.T.F32, n, k)
		} else {
			l.f32 = kernel.PackF32(w.T.F32, n, k)
		}
	case tensor.I8:
		if w.Axis != 0 || len(w.Scales) != n {
			return nil, fmt.Errorf("int8 weight %q must be quantized per row (axis 0, %d scales)", w.Name, n)
		}
		if w.Dequant { // 4 bytes a weight more: only when asked for
			deq, err := w.F32()
			if err != nil {
				return nil, err
			}
			l.f32 = kernel.AdoptF32(deq, n, k)
		}
		if w.Own { // after dequantizing: adopting may rearrange the bytes
			l.I8 = kernel.AdoptI8(w.T.I8, n, k)
		} else {
			l.I8 = kernel.PackI8(w.T.I8, n, k)
		}
		l.Scales = w.Scales
	default:
		return nil, fmt.Errorf("weight %q is %s, want f32 or i8", w.Name, w.T.DType)
	}
	if bias != nil {
		b, err := bias.F32()
		if err != nil {
			return nil, err
		}
		if len(b) != n {
			return nil, fmt.Errorf("bias %q has %d values, want %d", bias.Name, len(b), n)
		}
		l.Bias = b
	}
	return l, nil
}

// dequantized returns a new f32 matrix of the int8 weights times their
// row scales (the values Const.F32 gives).
func (l *Linear) dequantized() *kernel.MatF32 {
	out := make([]float32, l.N*l.K)
	var row []int8
	for j := range l.N {
		row = l.I8.Row(j, row)
		s := l.Scales[j]
		for p, q := range row {
			out[j*l.K+p] = float32(q) * s
		}
	}
	return kernel.AdoptF32(out, l.N, l.K)
}

// Quantized reports whether the layer runs in int8.
func (l *Linear) Quantized() bool { return l.I8 != nil }

// Scratch is the working memory Forward needs for m rows.
func (l *Linear) Scratch(m int) Scratch {
	if l.I8 == nil {
		return Scratch{}
	}
	return Scratch{U8: satMul(m, l.K), I32: satMul(m, l.N), F32: satMul(2, m)}
}

// linearTask runs a column range of one Forward call on a worker.
type linearTask struct {
	l      *Linear
	y, x   []float32
	acc    []int32
	q      []uint8
	xs     []float32
	xz     []float32
	m      int
	f32    bool
	wf     *kernel.MatF32
	act    Act
	alpha  float32
	colBlk int
	rowBlk int            // > 0 when rows, not columns, are split among workers
	ownF32 *kernel.MatF32 // this session's dequantized int8 weights (Int8Off without Const.Dequant)
	tmp    []float32      // N floats: per-column scratch for the activation (workers own disjoint columns)
	rtmp   []float32      // N floats a row share, for GELU (made when first needed)
	split  Split          // whether the product is handed out
	quant  quantTask      // the activation rows' quantization before a column split
}

func (t *linearTask) RunRange(lo, hi int) {
	if t.rowBlk > 0 { // rows split among workers, each doing every column
		var tmp []float32
		if len(t.rtmp) >= hi*t.l.N { // a unit's own activation scratch
			tmp = t.rtmp[lo*t.l.N : (lo+1)*t.l.N]
		}
		t.rows(lo*t.rowBlk, min(hi*t.rowBlk, t.m), 0, t.l.N, tmp, true)
		return
	}
	n0, n1 := lo*t.colBlk, min(hi*t.colBlk, t.l.N)
	t.rows(0, t.m, n0, n1, t.tmp[n0:n1], false)
}

// quantTask quantizes the activation rows of a Forward call, blk rows a
// unit, when every column share needs all of them.
type quantTask struct {
	t     *linearTask
	blk   int
	split Split
}

func (q *quantTask) RunRange(lo, hi int) { q.t.quantize(lo*q.blk, min(hi*q.blk, q.t.m)) }

// rows computes rows [r0, r1) and columns [n0, n1) of the output;
// quantize says the rows' activations still need quantizing (row split).
func (t *linearTask) rows(r0, r1, n0, n1 int, tmp []float32, quantize bool) {
	l := t.l
	K, N := l.K, l.N
	if r1 <= r0 {
		return
	}
	if t.f32 {
		kernel.GemmF32(t.y[r0*N:], t.x[r0*K:], r1-r0, t.wf, n0, n1)
		for i := r0; i < r1; i++ {
			row := t.y[i*N+n0 : i*N+n1]
			if l.Bias != nil {
				for j := range row {
					row[j] += l.Bias[n0+j]
				}
			}
			t.act.ApplyTmp(row, tmp, t.alpha)
		}
		return
	}
	if quantize {
		t.quantize(r0, r1)
	}
	if t.act == ActNone || t.act == ActReLU {
		// the dequantize, bias and ReLU epilogue on the GEMM's tiles
		kernel.GemmI8F32(t.y[r0*N:], t.acc[r0*N:], t.q[r0*K:], r1-r0, l.I8, n0, n1,
			t.xs[r0:], t.xz[r0:], l.Scales, l.Bias, 0, t.act == ActReLU)
		return
	}
	// Other activations: the fused dequantize epilogue, a block of rows
	// at a time, then the activation on those rows while they are hot.
	for b0 := r0; b0 < r1; b0 += actRowBlk {
		b1 := min(b0+actRowBlk, r1)
		kernel.GemmI8F32(t.y[b0*N:], t.acc[b0*N:], t.q[b0*K:], b1-b0, l.I8, n0, n1,
			t.xs[b0:], t.xz[b0:], l.Scales, l.Bias, 0, false)
		if n0 == 0 && n1 == N && (t.act != ActGELU || !kernel.GELUNeedsScratch()) {
			// Whole rows, and an activation that needs no scratch of
			// the block's size: one call over the block (GELU's vector
			// loop keeps eight vectors in flight, so long runs waste less
			// on its start and end than a call a row).
			t.act.ApplyTmp(t.y[b0*N:b1*N], tmp, t.alpha)
			continue
		}
		for i := b0; i < b1; i++ {
			t.act.ApplyTmp(t.y[i*N+n0:i*N+n1], tmp, t.alpha)
		}
	}
}

// actRowBlk is how many rows the int8 product computes before a
// non-ReLU activation runs on them while they are in the cache (a multiple
// of the 6-row tiles; 48 measured faster than 6 and 12 on the transformer's
// FFN, 48×512 floats).
const actRowBlk = 48

// quantize turns activation rows [r0, r1) into uint8 with their scales.
func (t *linearTask) quantize(r0, r1 int) {
	K := t.l.K
	kernel.QuantizeRowsU8(t.q[r0*K:r1*K], t.x[r0*K:r1*K], r1-r0, K, t.xs[r0:r1], t.xz[r0:r1])
}

// NewTask returns the per-session state Forward needs.
func (l *Linear) NewTask() *linearTask {
	t := &linearTask{l: l, tmp: make([]float32, l.N)}
	t.quant.t = t
	return t
}

// Forward computes y[m×N] = act(x[m×K] · Wᵀ + b) using scratch from ctx.
// With more than one worker it cuts the product into shares, by rows
// when there are many, else by output columns (N panels), and its Split
// measures whether handing them out beats running them on the caller.
// Row shares quantize their own activation rows; column shares all need
// every row, which are quantized first (in row shares when that pays).
func (l *Linear) Forward(ctx *Ctx, t *linearTask, y, x []float32, m int, act Act, alpha float32) {
	t.y, t.x, t.m, t.act, t.alpha = y, x, m, act, alpha
	// Int8Off runs int8 layers in f32: on the dequantized weights built
	// at load (Const.Dequant), or else on the session's own copy, made on
	// its first such run; the shared Linear never changes.
	t.f32 = l.I8 == nil || ctx.Int8Off
	if t.f32 {
		t.wf = l.f32
		if t.wf == nil {
			if t.ownF32 == nil {
				t.ownF32 = l.dequantized()
			}
			t.wf = t.ownF32
		}
	}
	if !t.f32 {
		t.q = ctx.U8[:m*l.K]
		t.acc = ctx.I32[:m*l.N]
		t.xs = ctx.F32[:m]
		t.xz = ctx.F32[m : 2*m]
	}
	t.colBlk, t.rowBlk = l.N, 0
	blocks := 1
	if w := ctx.Par; m*l.N*l.K >= splitFloor && w != nil && w.Workers() > 1 {
		switch {
		case m >= 8*w.Workers() && m >= l.N:
			// More rows than columns: split rows, each share quantizing
			// its own and dequantizing whole rows (column shares would
			// multiply the per-row epilogue calls; with few rows they win,
			// streaming each weight once).
			blocks = min(w.Workers()*4, m/2)
			t.rowBlk = (m + blocks - 1) / blocks
			blocks = (m + t.rowBlk - 1) / t.rowBlk
		case l.N >= 16*w.Workers():
			blocks = min(w.Workers()*4, l.N/16)
			t.colBlk = (l.N + blocks - 1) / blocks
			t.colBlk = (t.colBlk + 15) &^ 15
			blocks = (l.N + t.colBlk - 1) / t.colBlk
		case m >= 2*w.Workers():
			blocks = min(w.Workers()*4, m/2)
			t.rowBlk = (m + blocks - 1) / blocks
			blocks = (m + t.rowBlk - 1) / t.rowBlk
		}
	}
	if blocks == 1 {
		t.rowBlk, t.colBlk = 0, l.N
		if !t.f32 {
			t.quantize(0, m)
		}
		t.RunRange(0, 1)
		return
	}
	if t.rowBlk > 0 && act == ActGELU && len(t.rtmp) < blocks*l.N {
		t.rtmp = make([]float32, blocks*l.N)
	}
	key := 2*m + b2i(t.f32)
	if t.rowBlk == 0 && !t.f32 {
		q := &t.quant
		q.blk = max(1, (m+4*ctx.Par.Workers()-1)/(4*ctx.Par.Workers()))
		q.split.Do(ctx, key, (m+q.blk-1)/q.blk, q, m*l.K, splitI8/64)
	}
	minWork := splitI8
	if t.f32 {
		minWork = splitF32
	}
	t.split.Do(ctx, key, blocks, t, m*l.N*l.K, minWork)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// splitI8 and splitF32 are the smallest products (multiply-adds) Linear
// hands out on a Parallel that is not Timed (see Split); variables so
// tests can move them.
var splitI8, splitF32 = 1 << 22, 1 << 20

type dense struct {
	lin   *Linear
	act   Act
	alpha float32
}

func buildDense(n *Node) (Kernel, error) {
	if err := wantInputs(n, 2, 3); err != nil {
		return nil, err
	}
	w, err := n.ConstInput(1, "weight", 2)
	if err != nil {
		return nil, err
	}
	b, err := n.OptConstInput(2, "bias", 1)
	if err != nil {
		return nil, err
	}
	lin, err := NewLinear(w, b)
	if err != nil {
		return nil, err
	}
	s, err := n.StringAttr("activation", "")
	if err != nil {
		return nil, err
	}
	act, err := ParseAct(s)
	if err != nil {
		return nil, err
	}
	alpha, err := n.FloatAttr("alpha", 0.01)
	if err != nil {
		return nil, err
	}
	return &dense{lin: lin, act: act, alpha: float32(alpha)}, nil
}

func (d *dense) NewState() any { return d.lin.NewTask() }

func (d *dense) Plan(in []Desc) ([]Desc, Scratch, error) {
	x := in[0]
	if x.DType != tensor.F32 || len(x.Shape) < 1 || x.Shape[len(x.Shape)-1] != d.lin.K {
		return nil, Scratch{}, fmt.Errorf("input is %s%v, want f32 [..., %d]", x.DType, x.Shape, d.lin.K)
	}
	out := append(tensor.Shape(nil), x.Shape...)
	out[len(out)-1] = d.lin.N
	m := x.Shape.NumElements() / max(d.lin.K, 1)
	return []Desc{{tensor.F32, out}}, d.lin.Scratch(m), nil
}

func (d *dense) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	m := len(in[0].F32) / max(d.lin.K, 1)
	d.lin.Forward(ctx, ctx.State.(*linearTask), out[0].F32, in[0].F32, m, d.act, d.alpha)
	return nil
}
