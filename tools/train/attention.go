package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/edgerun/edgerun/format"
	"gonum.org/v1/gonum/mat"
)

// MultiHeadAttention is the engine's self-attention over a sequence batch
// (B·T rows of D): Q, K, V = x·W_qkvᵀ + b_qkv (W_qkv [3D, D]: the query,
// key and value projections' rows in that order); per head h (columns
// h·D/H to (h+1)·D/H) softmax(Q Kᵀ/√(D/H)) V over the keys the query may
// see; then y = attn·W_oᵀ + b_o. The keys a query sees are the valid ones
// (Batch.Mask ≠ 0, all without a mask) and, when Causal, only those at or
// before it; a query that sees none gets zeros before the projection.
type MultiHeadAttention struct {
	Wqkv, Bqkv, Wo, Bo *Param
	Heads              int
	Causal             bool
	// MaskName is the graph value ([B, T] f32, 1 = valid key) Export
	// passes as the mask; empty exports no mask. Set it when training
	// with masks.
	MaskName string

	x      *mat.Dense // input
	qkv    []float64  // [B·T, 3D]
	p      []float64  // [B, H, T, T] attention weights (0 for unseen keys)
	attn   *mat.Dense // [B·T, D] before the output projection
	mask   []float64
	bn, t  int
	dh     int
	scaleF float64
}

// NewMultiHeadAttention makes self-attention over d features in heads
// heads (d a multiple of heads) with Glorot-uniform projections and zero
// biases.
func NewMultiHeadAttention(rng *rand.Rand, d, heads int, causal bool) *MultiHeadAttention {
	if heads < 1 || d%heads != 0 {
		panic(fmt.Sprintf("train: MultiHeadAttention: %d features do not split into %d heads", d, heads))
	}
	l := &MultiHeadAttention{Wqkv: newParam("w_qkv", true, 3*d, d), Bqkv: newParam("b_qkv", false, 3*d),
		Wo: newParam("w_o", true, d, d), Bo: newParam("b_o", false, d), Heads: heads, Causal: causal}
	l.Wqkv.glorot(rng, d, d)
	l.Wo.glorot(rng, d, d)
	return l
}

// D is the model width.
func (l *MultiHeadAttention) D() int { return l.Wo.Shape[0] }

// sees reports whether query i of example b attends to key j.
func (l *MultiHeadAttention) sees(b, i, j int) bool {
	if l.Causal && j > i {
		return false
	}
	return l.mask == nil || l.mask[b*l.t+j] != 0
}

// Forward computes the projections, each head's attention and the output
// projection.
func (l *MultiHeadAttention) Forward(in *Batch, train bool) *Batch {
	bn, t, d := seqDims(in, "MultiHeadAttention")
	if d != l.D() {
		panic(fmt.Sprintf("train: MultiHeadAttention has %d features, got %d", l.D(), d))
	}
	if in.Mask != nil && len(in.Mask) != bn*t {
		panic(fmt.Sprintf("train: MultiHeadAttention: mask of %d for %d×%d steps", len(in.Mask), bn, t))
	}
	l.x, l.mask, l.bn, l.t = in.X, in.Mask, bn, t
	l.dh = d / l.Heads
	l.scaleF = 1 / math.Sqrt(float64(l.dh))
	r := bn * t
	qkv := mat64(r, 3*d)
	qkv.Mul(in.X, l.Wqkv.Mat().T())
	q := qkv.RawMatrix().Data
	for i := 0; i < r; i++ {
		row := q[i*3*d : (i+1)*3*d]
		for j, v := range l.Bqkv.W {
			row[j] += v
		}
	}
	l.qkv = q
	l.p = make([]float64, bn*l.Heads*t*t)
	attn := mat64(r, d)
	ad := attn.RawMatrix().Data
	ld, dh := 3*d, l.dh
	for b := 0; b < bn; b++ {
		for h := 0; h < l.Heads; h++ {
			p := l.p[(b*l.Heads+h)*t*t : (b*l.Heads+h+1)*t*t]
			for i := 0; i < t; i++ {
				qi := q[(b*t+i)*ld+h*dh:][:dh]
				pr := p[i*t : (i+1)*t]
				mx, seen := math.Inf(-1), false
				for j := 0; j < t; j++ {
					if !l.sees(b, i, j) {
						continue
					}
					kj := q[(b*t+j)*ld+d+h*dh:][:dh]
					var s float64
					for k, v := range qi {
						s += v * kj[k]
					}
					pr[j] = s * l.scaleF
					mx, seen = max(mx, pr[j]), true
				}
				if !seen {
					continue
				}
				var sum float64
				for j := 0; j < t; j++ {
					if l.sees(b, i, j) {
						pr[j] = math.Exp(pr[j] - mx)
						sum += pr[j]
					}
				}
				o := ad[(b*t+i)*d+h*dh:][:dh]
				for j := 0; j < t; j++ {
					if !l.sees(b, i, j) {
						continue
					}
					pr[j] /= sum
					vj := q[(b*t+j)*ld+2*d+h*dh:][:dh]
					for k, v := range vj {
						o[k] += pr[j] * v
					}
				}
			}
		}
	}
	l.attn = attn
	y := mat64(r, d)
	y.Mul(attn, l.Wo.Mat().T())
	yd := y.RawMatrix().Data
	for i := 0; i < r; i++ {
		row := yd[i*d : (i+1)*d]
		for j, v := range l.Bo.W {
			row[j] += v
		}
	}
	out := *in
	out.X = y
	return &out
}

// Backward runs the output projection, the attention (softmax Jacobian)
// and the input projection backwards.
func (l *MultiHeadAttention) Backward(dout *mat.Dense) *mat.Dense {
	d, t, dh, ld := l.D(), l.t, l.dh, 3*l.D()
	r := l.bn * t
	// Output projection.
	var dwo mat.Dense
	dwo.Mul(dout.T(), l.attn)
	g := l.Wo.GradMat()
	g.Add(g, &dwo)
	dy := seqData(dout)
	for i := 0; i < r; i++ {
		for j, v := range dy[i*d : (i+1)*d] {
			l.Bo.G[j] += v
		}
	}
	da := mat64(r, d)
	da.Mul(dout, l.Wo.Mat())
	dad := da.RawMatrix().Data
	// Attention.
	q := l.qkv
	dqkv := mat64(r, ld)
	dq := dqkv.RawMatrix().Data
	dp := make([]float64, t)
	for b := 0; b < l.bn; b++ {
		for h := 0; h < l.Heads; h++ {
			p := l.p[(b*l.Heads+h)*t*t : (b*l.Heads+h+1)*t*t]
			for i := 0; i < t; i++ {
				pr := p[i*t : (i+1)*t]
				doi := dad[(b*t+i)*d+h*dh:][:dh]
				var dot float64
				for j := 0; j < t; j++ {
					dp[j] = 0
					if pr[j] == 0 || !l.sees(b, i, j) {
						continue
					}
					vj := q[(b*t+j)*ld+2*d+h*dh:][:dh]
					dvj := dq[(b*t+j)*ld+2*d+h*dh:][:dh]
					var s float64
					for k, v := range doi {
						s += v * vj[k]
						dvj[k] += pr[j] * v
					}
					dp[j] = s
					dot += pr[j] * s
				}
				qi := q[(b*t+i)*ld+h*dh:][:dh]
				dqi := dq[(b*t+i)*ld+h*dh:][:dh]
				for j := 0; j < t; j++ {
					if pr[j] == 0 || !l.sees(b, i, j) {
						continue
					}
					ds := pr[j] * (dp[j] - dot) * l.scaleF
					kj := q[(b*t+j)*ld+d+h*dh:][:dh]
					dkj := dq[(b*t+j)*ld+d+h*dh:][:dh]
					for k := range dqi {
						dqi[k] += ds * kj[k]
						dkj[k] += ds * qi[k]
					}
				}
			}
		}
	}
	// Input projection.
	var dw mat.Dense
	dw.Mul(dqkv.T(), l.x)
	gq := l.Wqkv.GradMat()
	gq.Add(gq, &dw)
	for i := 0; i < r; i++ {
		for j, v := range dq[i*ld : (i+1)*ld] {
			l.Bqkv.G[j] += v
		}
	}
	dx := mat64(r, d)
	dx.Mul(dqkv, l.Wqkv.Mat())
	return dx
}

// Params are W_qkv, b_qkv, W_o and b_o.
func (l *MultiHeadAttention) Params() []*Param { return []*Param{l.Wqkv, l.Bqkv, l.Wo, l.Bo} }

// Export writes a MultiHeadAttention node (both projections int8 per row
// when quantizing), with the mask when MaskName is set.
func (l *MultiHeadAttention) Export(e *Exporter, in string) (string, error) {
	name := e.Unique("attention")
	ins := []string{in, e.Matrix(name+"/w_qkv", l.Wqkv), e.Vector(name+"/b_qkv", l.Bqkv.W),
		e.Matrix(name+"/w_o", l.Wo), e.Vector(name+"/b_o", l.Bo.W)}
	if l.MaskName != "" {
		ins = append(ins, l.MaskName)
	}
	attrs := []format.Attr{IntAttr("heads", int64(l.Heads))}
	if l.Causal {
		attrs = append(attrs, IntAttr("causal", 1))
	}
	return e.NodeNamed(name, "MultiHeadAttention", ins, attrs...), nil
}

// AddPositional adds a learned positional table: row b·T + t gets
// Table[t] added (T at most the table's length).
type AddPositional struct {
	Table *Param // [maxT, D]
	t     int
}

// NewAddPositional makes a table of maxT positions × d features drawn
// from N(0, 0.02²).
func NewAddPositional(rng *rand.Rand, maxT, d int) *AddPositional {
	l := &AddPositional{Table: newParam("positions", false, maxT, d)}
	for i := range l.Table.W {
		l.Table.W[i] = rng.NormFloat64() * 0.02
	}
	return l
}

// Forward adds the table's first T rows to every example.
func (l *AddPositional) Forward(in *Batch, train bool) *Batch {
	bn, t, d := seqDims(in, "AddPositional")
	if maxT, dt := l.Table.Shape[0], l.Table.Shape[1]; t > maxT || d != dt {
		panic(fmt.Sprintf("train: AddPositional table is %d×%d, input has %d steps of %d", maxT, dt, t, d))
	}
	y := mat64(bn*t, d)
	y.Copy(in.X)
	yd := y.RawMatrix().Data
	for b := 0; b < bn; b++ {
		for i, v := range l.Table.W[:t*d] {
			yd[b*t*d+i] += v
		}
	}
	l.t = t
	out := *in
	out.X = y
	return &out
}

// Backward sums the gradient over the batch into the table's rows and
// passes it through.
func (l *AddPositional) Backward(dout *mat.Dense) *mat.Dense {
	r, d := dout.Dims()
	dy := seqData(dout)
	n := l.t * d
	for b := 0; b < r/l.t; b++ {
		for i, v := range dy[b*n : (b+1)*n] {
			l.Table.G[i] += v
		}
	}
	dx := mat64(r, d)
	dx.Copy(dout)
	return dx
}

// Params is the table.
func (l *AddPositional) Params() []*Param { return []*Param{l.Table} }

// Export writes an AddPositional node (the table stays f32).
func (l *AddPositional) Export(e *Exporter, in string) (string, error) {
	name := e.Unique("positional")
	tab := e.F32(name+"/table", []int64{int64(l.Table.Shape[0]), int64(l.Table.Shape[1])}, l.Table.W)
	return e.NodeNamed(name, "AddPositional", []string{in, tab}), nil
}

// EncoderBlock is a transformer encoder layer over a sequence batch:
// post-norm (the default, as enginetest's transformer)
//
//	h = LN1(x + Attn(x)); y = LN2(h + FF2(FF1(h)))
//
// or, with PreNorm,
//
//	h = x + Attn(LN1(x)); y = h + FF2(FF1(LN2(h)))
//
// with FF1 a Dense D→F with GELU and FF2 a Dense F→D. The residual sums
// are exported as Add nodes.
type EncoderBlock struct {
	Attn     *MultiHeadAttention
	LN1, LN2 *LayerNorm
	FF1, FF2 *Dense
	PreNorm  bool
}

// NewEncoderBlock makes an encoder layer of width d, heads heads and a
// feed-forward width ffn.
func NewEncoderBlock(rng *rand.Rand, d, heads, ffn int, causal bool) *EncoderBlock {
	return &EncoderBlock{
		Attn: NewMultiHeadAttention(rng, d, heads, causal),
		LN1:  NewLayerNorm(d), LN2: NewLayerNorm(d),
		FF1: NewDense(rng, d, ffn, GELU), FF2: NewDense(rng, ffn, d, Linear),
	}
}

// SetMask names the mask value the attention's export reads.
func (l *EncoderBlock) SetMask(name string) { l.Attn.MaskName = name }

// seqAdd is a + b as a new batch shaped like a.
func seqAdd(a, b *Batch) *Batch {
	r, c := a.X.Dims()
	s := mat64(r, c)
	s.Add(a.X, b.X)
	out := *a
	out.X = s
	return &out
}

func matAdd(a, b *mat.Dense) *mat.Dense {
	r, c := a.Dims()
	s := mat64(r, c)
	s.Add(a, b)
	return s
}

// Forward runs the block.
func (l *EncoderBlock) Forward(in *Batch, train bool) *Batch {
	if l.PreNorm {
		h := seqAdd(in, l.Attn.Forward(l.LN1.Forward(in, train), train))
		return seqAdd(h, l.FF2.Forward(l.FF1.Forward(l.LN2.Forward(h, train), train), train))
	}
	h := l.LN1.Forward(seqAdd(in, l.Attn.Forward(in, train)), train)
	return l.LN2.Forward(seqAdd(h, l.FF2.Forward(l.FF1.Forward(h, train), train)), train)
}

// Backward runs the block backwards through both residual paths.
func (l *EncoderBlock) Backward(dout *mat.Dense) *mat.Dense {
	if l.PreNorm {
		dh := matAdd(dout, l.LN2.Backward(l.FF1.Backward(l.FF2.Backward(dout))))
		return matAdd(dh, l.LN1.Backward(l.Attn.Backward(dh)))
	}
	dr2 := l.LN2.Backward(dout)
	dh := matAdd(dr2, l.FF1.Backward(l.FF2.Backward(dr2)))
	dr1 := l.LN1.Backward(dh)
	return matAdd(dr1, l.Attn.Backward(dr1))
}

// Params lists the attention's, the norms' and the feed-forward's
// parameters.
func (l *EncoderBlock) Params() []*Param {
	var ps []*Param
	for _, s := range []Layer{l.Attn, l.LN1, l.FF1, l.FF2, l.LN2} {
		ps = append(ps, s.Params()...)
	}
	return ps
}

// Export writes the block's nodes with Add nodes for the residuals.
func (l *EncoderBlock) Export(e *Exporter, in string) (string, error) {
	seq := func(x string, ls ...Layer) (string, error) {
		for _, s := range ls {
			var err error
			if x, err = s.Export(e, x); err != nil {
				return "", err
			}
		}
		return x, nil
	}
	add := func(a, b string) string { return e.Node("residual", "Add", []string{a, b}) }
	if l.PreNorm {
		a, err := seq(in, l.LN1, l.Attn)
		if err != nil {
			return "", err
		}
		h := add(in, a)
		f, err := seq(h, l.LN2, l.FF1, l.FF2)
		if err != nil {
			return "", err
		}
		return add(h, f), nil
	}
	a, err := l.Attn.Export(e, in)
	if err != nil {
		return "", err
	}
	h, err := l.LN1.Export(e, add(in, a))
	if err != nil {
		return "", err
	}
	f, err := seq(h, l.FF1, l.FF2)
	if err != nil {
		return "", err
	}
	return l.LN2.Export(e, add(h, f))
}
