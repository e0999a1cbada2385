package op

import (
	"fmt"
	"math"

	"github.com/edgerun/edgerun/runtime/internal/kernel"
	"github.com/edgerun/edgerun/runtime/tensor"
)

func init() {
	Register(Def{Name: "MultiHeadAttention", Attrs: []string{"heads", "causal"}, Build: buildMHA,
		Doc: "Self-attention. Inputs: x [B, T, D]; W_qkv [3D, D] (rows: the D query, then D key, then D value projections; f32 or i8 per-row symmetric); b_qkv [3D]; " +
			"W_o [D, D] (f32 or i8); b_o [D]; mask [B, T] (optional; 1 = valid key, 0 = padding). The biases may be absent. " +
			"Attributes: heads (required, divides D), causal (0 or 1: query t sees keys 0..t). " +
			"Per head h (columns h·D/heads to (h+1)·D/heads of Q, K, V): softmax(Q Kᵀ / √(D/heads)) V over the valid keys, then the output projection. " +
			"A query with no valid key gets zeros before the output projection (its output is b_o). Output [B, T, D]."})
	Register(Def{Name: "AddPositional", Build: buildAddPositional,
		Doc: "y = x + table[0:T] (broadcast over the batch). Inputs: x [B, T, D], table [maxT, D]. Output: x's shape; T > maxT is an error."})
}

type mha struct {
	qkv, o *Linear
	d      int
	heads  int
	dh     int
	causal bool
	scale  float32 // 1/√dh
	maxSeq int     // Node.MaxSeqLen: 0 for no bound
}

func buildMHA(n *Node) (Kernel, error) {
	if err := wantInputs(n, 4, 6); err != nil {
		return nil, err
	}
	wqkv, err := n.ConstInput(1, "W_qkv", 2)
	if err != nil {
		return nil, err
	}
	bqkv, err := n.OptConstInput(2, "b_qkv", 1)
	if err != nil {
		return nil, err
	}
	wo, err := n.ConstInput(3, "W_o", 2)
	if err != nil {
		return nil, err
	}
	bo, err := n.OptConstInput(4, "b_o", 1)
	if err != nil {
		return nil, err
	}
	k := &mha{d: wqkv.T.Shape[1], maxSeq: n.MaxSeqLen}
	if k.d < 1 || wqkv.T.Shape[0] != 3*k.d {
		return nil, fmt.Errorf("weight W_qkv %q has shape %v, want [3D, D]", wqkv.Name, wqkv.T.Shape)
	}
	if !wo.T.Shape.Equal(tensor.Shape{k.d, k.d}) {
		return nil, fmt.Errorf("weight W_o %q has shape %v, want [%d, %d]", wo.Name, wo.T.Shape, k.d, k.d)
	}
	if k.qkv, err = NewLinear(wqkv, bqkv); err != nil {
		return nil, err
	}
	if k.o, err = NewLinear(wo, bo); err != nil {
		return nil, err
	}
	if _, ok := n.Attrs["heads"]; !ok {
		return nil, fmt.Errorf("attribute heads is required")
	}
	if k.heads, err = cvIntAttr(n, "heads", 0, 1); err != nil {
		return nil, err
	}
	if k.d%k.heads != 0 {
		return nil, fmt.Errorf("attribute heads = %d does not divide the model width %d", k.heads, k.d)
	}
	k.dh = k.d / k.heads
	causal, err := n.IntAttr("causal", 0)
	if err != nil {
		return nil, err
	}
	if causal != 0 && causal != 1 {
		return nil, fmt.Errorf("attribute causal = %d, want 0 or 1", causal)
	}
	k.causal = causal == 1
	k.scale = float32(1 / math.Sqrt(float64(k.dh)))
	return k, nil
}

// attnRows is how many queries the attention core takes at a time: the
// scores of a block of queries are computed as one small GEMM.
const attnRows = 16

// attnDotRows is how many queries' scores one DotsF32 call computes when
// every query sees the same keys (not causal): the AVX-512 kernel lays
// each 16-key block out transposed once per call, so fewer calls
// transpose less (64 queries × 64 keys × 32: 0.75× the time of four
// calls of 16). Softmax and mix still take attnRows queries at a time.
const attnDotRows = 64

// dotRows is how many queries' scores one DotsF32 call computes.
func (k *mha) dotRows() int {
	if k.causal {
		return attnRows // each block of queries sees its own keys
	}
	return attnDotRows
}

// attnTask computes the attention of (batch, head) units; unit u is batch
// u / heads, head u % heads, and uses scratch[u·per : (u+1)·per] alone,
// so units run on any worker with the same bits.
type attnTask struct {
	k       *mha
	qkv     []float32 // [B·T, 3D]
	mask    []float32 // [B, T] or nil
	attn    []float32 // [B·T, D], written by head column block
	scratch []float32 // per unit: the scores of a query block, then with a mask the valid keys and values
	per     int
	t       int
}

// attnScratch is the f32 scratch one unit needs: a block of score rows,
// and with a mask the gathered valid key and value rows.
func (k *mha) attnScratch(t int, mask bool) int {
	n := satMul(min(k.dotRows(), t), t)
	if mask {
		n = satAdd(n, satMul(2, t, k.dh))
	}
	return n
}

// RunRange computes, for each query of each unit, softmax(q·Kᵀ/√dh)·V
// over the keys it sees. The scores of attnRows queries at a time are one
// DotsF32 call, their softmaxes one SoftmaxStridedF32 call (SoftmaxF32 a
// row when causal rows see different keys), and their mix with the
// values one MixF32 call; DotsF32 and MixF32 are defined through DotF32
// and AxpyF32 in the order a query-by-query loop would call them, so the
// result is the same bit for bit on every kernel.
func (a *attnTask) RunRange(lo, hi int) {
	k, t, d, dh := a.k, a.t, a.k.d, a.k.dh
	ld := 3 * d
	for u := lo; u < hi; u++ {
		b, h := u/k.heads, u%k.heads
		sc := a.scratch[u*a.per:][:a.per]
		dotRows := k.dotRows()
		blk := sc[:min(dotRows, t)*t] // the scores of dotRows queries
		base := b * t
		q := a.qkv[base*ld+h*dh:]
		keys, ldk := a.qkv[base*ld+d+h*dh:], ld
		vals, ldv := a.qkv[base*ld+2*d+h*dh:], ld
		nv := t // valid keys
		var mask []float32
		if a.mask != nil && !allNonZero(a.mask[b*t:(b+1)*t]) {
			mask = a.mask[b*t : (b+1)*t]
		}
		if p := validPrefix(mask); p >= 0 {
			// Padding at the end only: the valid keys and values are
			// the first p rows, read in place like an all-valid row's
			// (the kernels' bits depend on the values only).
			nv = p
		} else if mask != nil {
			// Gather the valid keys and values, in order, so the kernels
			// see only them.
			kg := sc[len(blk):][:t*dh]
			vg := sc[len(blk)+t*dh:][:t*dh]
			nv = 0
			for j, mv := range mask {
				if mv == 0 {
					continue
				}
				copy(kg[nv*dh:][:dh], keys[j*ld:][:dh])
				copy(vg[nv*dh:][:dh], vals[j*ld:][:dh])
				nv++
			}
			keys, ldk, vals, ldv = kg, dh, vg, dh
		}
		seen := 0 // causal: the valid keys at or before the query
		for i0 := 0; i0 < t; i0 += attnRows {
			rows := min(attnRows, t-i0)
			// This block's scores: at blk's start when causal, else at
			// row i0 mod dotRows of the scores of the dotRows queries from
			// i0 − i0 mod dotRows, which one call computes at its first
			// block.
			sb := blk
			if !k.causal {
				if r0 := i0 % dotRows; r0 == 0 && nv > 0 {
					kernel.DotsF32(blk, t, q[i0*ld:], ld, keys, ldk, min(dotRows, t-i0), nv, dh, k.scale)
				} else {
					sb = blk[r0*t:]
				}
			}
			// cnt[r]: the keys query i0+r sees (non-decreasing in r).
			var cnt [attnRows]int
			for r := 0; r < rows; r++ {
				if !k.causal {
					cnt[r] = nv
					continue
				}
				if mask == nil || mask[i0+r] != 0 {
					seen++
				}
				cnt[r] = seen
			}
			if nk := cnt[rows-1]; nk > 0 && k.causal {
				kernel.DotsF32(sb, t, q[i0*ld:], ld, keys, ldk, rows, nk, dh, k.scale)
			}
			if cnt[0] == cnt[rows-1] { // every row sees the same keys
				kernel.SoftmaxStridedF32(sb, t, cnt[0], rows) // no valid key: the output stays zero
			} else {
				for r := 0; r < rows; r++ {
					kernel.SoftmaxF32(sb[r*t:][:cnt[r]])
				}
			}
			// The keys every query of the block sees at once, then each
			// query's later keys (causal) in order.
			o := a.attn[(base+i0)*d+h*dh:]
			kernel.MixF32(o, d, sb, t, vals, ldv, rows, cnt[0], dh)
			for r := 1; r < rows; r++ {
				for j := cnt[0]; j < cnt[r]; j++ {
					kernel.AxpyF32(sb[r*t+j], vals[j*ldv:][:dh], o[r*d:][:dh])
				}
			}
		}
	}
}

// validPrefix returns p when mask's non-zero values are exactly its first
// p (trailing padding), −1 when the mask holds a zero before a non-zero
// value, and −1 for no mask. NaN counts as non-zero, as in the mask test
// mv == 0.
func validPrefix(mask []float32) int {
	if mask == nil {
		return -1
	}
	p := 0
	for p < len(mask) && mask[p] != 0 {
		p++
	}
	for _, v := range mask[p:] {
		if v != 0 {
			return -1
		}
	}
	return p
}

// allNonZero reports whether every value of m is non-zero (NaN counts as
// non-zero, as the mask test mv == 0 treats it).
func allNonZero(m []float32) bool {
	for _, v := range m {
		if v == 0 {
			return false
		}
	}
	return true
}

type mhaState struct {
	qkv, o *linearTask
	attn   attnTask
	split  Split
}

func (k *mha) NewState() any {
	return &mhaState{qkv: k.qkv.NewTask(), o: k.o.NewTask(), attn: attnTask{k: k}}
}

// layout is the split of the f32 scratch: QKV rows, the attention
// output, the attention core's, then the linear layers' scratch.
func (k *mha) layout(b, t int, mask bool) (qkv, attn, core int, lin Scratch) {
	m := satMul(b, t)
	qs, ps := k.qkv.Scratch(m), k.o.Scratch(m)
	lin = Scratch{F32: max(qs.F32, ps.F32), U8: max(qs.U8, ps.U8), I32: max(qs.I32, ps.I32)}
	return satMul(m, 3, k.d), satMul(m, k.d), satMul(b, k.heads, k.attnScratch(t, mask)), lin
}

func (k *mha) Plan(in []Desc) ([]Desc, Scratch, error) {
	b, t, _, err := cvCheckSeq(cvInDesc(in, 0), "input", k.d)
	if err != nil {
		return nil, Scratch{}, err
	}
	if err := cvCheckMask(cvInDesc(in, 5), b, t); err != nil {
		return nil, Scratch{}, err
	}
	if k.maxSeq > 0 && t > k.maxSeq {
		return nil, Scratch{}, fmt.Errorf("input has %d steps, over the sequence length limit of %d (attention costs T² per head)", t, k.maxSeq)
	}
	qkv, attn, core, lin := k.layout(b, t, cvInDesc(in, 5).Shape != nil)
	lin.F32 = satAdd(lin.F32, qkv, attn, core)
	return []Desc{{tensor.F32, tensor.Shape{b, t, k.d}}}, lin, nil
}

func (k *mha) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	st, ok := ctx.State.(*mhaState)
	if !ok {
		return fmt.Errorf("MultiHeadAttention: no session state")
	}
	x := in[0]
	b, t := x.Shape[0], x.Shape[1]
	m := b * t
	if m == 0 {
		return nil // no query: the output [B, T, D] holds no element
	}
	hasMask := len(in) > 5 && in[5] != nil
	nq, na, ns, _ := k.layout(b, t, hasMask)
	a := &st.attn
	a.qkv = ctx.F32[:nq]
	a.attn = ctx.F32[nq : nq+na]
	a.scratch = ctx.F32[nq+na : nq+na+ns]
	a.per = k.attnScratch(t, hasMask)
	a.t = t
	a.mask = nil
	if hasMask {
		a.mask = in[5].F32
	}
	sub := Ctx{Par: ctx.Par, F32: ctx.F32[nq+na+ns:], U8: ctx.U8, I32: ctx.I32, Int8Off: ctx.Int8Off}
	k.qkv.Forward(&sub, st.qkv, a.qkv, x.F32, m, ActNone, 0)
	// Two multiply-adds per (query, key, channel); spread the (batch,
	// head) units over the workers when that is worth waking them.
	units := b * k.heads
	st.split.Do(ctx, units, units, a, 2*b*t*t*k.d, 1<<16)
	k.o.Forward(&sub, st.o, out[0].F32, a.attn, m, ActNone, 0)
	return nil
}

type addPositional struct {
	table    []float32
	maxT, d  int
	tableRef string
}

func buildAddPositional(n *Node) (Kernel, error) {
	if err := wantInputs(n, 2, 2); err != nil {
		return nil, err
	}
	c, err := n.ConstInput(1, "table", 2)
	if err != nil {
		return nil, err
	}
	tab, err := c.F32()
	if err != nil {
		return nil, err
	}
	return &addPositional{table: tab, maxT: c.T.Shape[0], d: c.T.Shape[1], tableRef: c.Name}, nil
}

func (p *addPositional) Plan(in []Desc) ([]Desc, Scratch, error) {
	b, t, _, err := cvCheckSeq(cvInDesc(in, 0), "input", p.d)
	if err != nil {
		return nil, Scratch{}, err
	}
	if t > p.maxT {
		return nil, Scratch{}, fmt.Errorf("input has %d steps, the positional table %q only %d", t, p.tableRef, p.maxT)
	}
	return []Desc{{tensor.F32, tensor.Shape{b, t, p.d}}}, Scratch{}, nil
}

func (p *addPositional) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x, y := in[0], out[0]
	t := x.Shape[1]
	if t > p.maxT {
		return fmt.Errorf("AddPositional: input has %d steps, the positional table %q only %d", t, p.tableRef, p.maxT)
	}
	if t == 0 || p.d == 0 {
		return nil
	}
	rows := len(x.F32) / p.d
	st, ok := ctx.State.(*addPositionalState)
	if !ok { // run without the session state: every row here
		one := addPositionalState{p: p, x: x.F32, y: y.F32, t: t}
		one.rows(0, rows)
		return nil
	}
	st.x, st.y, st.t = x.F32, y.F32, t
	st.rs.do(ctx, rows, 2*p.d, 1)
	st.x, st.y = nil, nil
	return nil
}

// addPositionalState is the per-session state of AddPositional: the
// [B·T] rows of one Run, handed out in blocks.
type addPositionalState struct {
	p    *addPositional
	x, y []float32
	t    int
	rs   rowShare
}

func (p *addPositional) NewState() any {
	st := &addPositionalState{p: p}
	st.rs.run = st.rows
	return st
}

// rows sets rows [r0, r1) of y to x's plus the position's row of the
// table: dst = src + 1·tab, a vector add with the scalar loop's bits.
func (st *addPositionalState) rows(r0, r1 int) {
	d := st.p.d
	for r := r0; r < r1; {
		pos := r % st.t
		e := min(r1, r-pos+st.t) // the rows of r's sequence, one call
		src, dst := st.x[r*d:e*d], st.y[r*d:e*d]
		if &src[0] != &dst[0] {
			copy(dst, src)
		}
		kernel.AxpyF32(1, st.p.table[pos*d:(pos+e-r)*d], dst)
		r = e
	}
}
