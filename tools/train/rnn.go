package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/edgerun/edgerun/format"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Cell is the recurrent cell of a Recurrent layer.
type Cell int

// The cells, with the engine's equations and PyTorch's gate order.
const (
	// LSTMCell: gates i, f, g, o; c' = f⊙c + i⊙g, h' = o⊙tanh(c'). One
	// bias (b_ih + b_hh), as the engine's LSTM takes it.
	LSTMCell Cell = iota
	// GRUCell: gates r, z, n; n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn)),
	// h' = (1 − z)⊙n + z⊙h.
	GRUCell
)

// String is the engine's operator name.
func (c Cell) String() string {
	if c == GRUCell {
		return "GRU"
	}
	return "LSTM"
}

func (c Cell) gates() int {
	if c == GRUCell {
		return 3
	}
	return 4
}

// Recurrent is an LSTM or GRU over a sequence batch (B·T rows of D, row
// b·T + t): the engine's LSTM and GRU operators, trained by
// backpropagation through time (clip with Config.ClipNorm). Steps whose
// Batch.Mask is 0 keep the state (and output zeros in sequence mode); the
// reverse direction of a bidirectional layer runs over the valid steps
// backwards. The output is the state after the last step ([B, H·dirs]),
// or with Sequence every step's state ([B·T, H·dirs], the batch's T and
// Mask kept).
type Recurrent struct {
	Cell          Cell
	Hidden        int
	Bidirectional bool
	Sequence      bool
	dirs          []*rnnDir

	in       int // input features D
	b, t, te int // batch, steps, steps up to the last valid one
	mask     []float64
	xt       []float64 // input, time-major (row s·B + i), te steps
	// emb, when set (EmbeddingRecurrent), is the layer's input: the
	// batch's ids index its table, and the input projection of an id is
	// a row of table·W_ihᵀ, computed once per batch for the whole
	// vocabulary instead of once per step.
	emb *Embedding
	idt []int // ids, time-major, te steps (emb only)
}

// rnnDir is one direction's parameters and its last Forward's cache.
type rnnDir struct {
	wih, whh, bih, bhh *Param // bhh: GRU only
	reverse            bool

	xp   []float64 // input projections + b_ih, by time: [te·B, G·H]
	proj []float64 // with an embedding input: table·W_ihᵀ, [V, G·H]
	// dhp and dxp are Backward's gate gradients (dxp: reverse and GRU);
	// tbuf is gemmTN's; whhT is W_hhᵀ [H, G·H].
	dhp, dxp, tbuf, whhT []float64
	hs                   []float64 // states by processing order: [(te+1)·B, H]
	cs                   []float64 // LSTM cells, as hs
	act                  []float64 // gate activations by processing order: [te·B, G·H]
	tc                   []float64 // LSTM tanh(c'), GRU W_hn h + b_hn: [te·B, H]
}

// NewLSTM and NewGRU make a recurrent layer over in features with hidden
// state size h, weights and biases drawn from U(−1/√h, 1/√h) as PyTorch
// does.
func NewLSTM(rng *rand.Rand, in, h int, bidirectional, sequence bool) *Recurrent {
	return newRecurrent(rng, LSTMCell, in, h, bidirectional, sequence)
}

// NewGRU: see NewLSTM.
func NewGRU(rng *rand.Rand, in, h int, bidirectional, sequence bool) *Recurrent {
	return newRecurrent(rng, GRUCell, in, h, bidirectional, sequence)
}

func newRecurrent(rng *rand.Rand, cell Cell, in, h int, bidirectional, sequence bool) *Recurrent {
	l := &Recurrent{Cell: cell, Hidden: h, Bidirectional: bidirectional, Sequence: sequence, in: in}
	gh := cell.gates() * h
	lim := 1 / math.Sqrt(float64(h))
	n := 1
	if bidirectional {
		n = 2
	}
	for d := 0; d < n; d++ {
		sfx := ""
		if d == 1 {
			sfx = "_r"
		}
		dir := &rnnDir{reverse: d == 1, wih: newParam("w_ih"+sfx, true, gh, in), whh: newParam("w_hh"+sfx, true, gh, h)}
		if cell == GRUCell {
			dir.bih, dir.bhh = newParam("b_ih"+sfx, false, gh), newParam("b_hh"+sfx, false, gh)
		} else {
			dir.bih = newParam("b"+sfx, false, gh)
		}
		for _, p := range dir.params() {
			for i := range p.W {
				p.W[i] = (rng.Float64()*2 - 1) * lim
			}
		}
		l.dirs = append(l.dirs, dir)
	}
	return l
}

func (d *rnnDir) params() []*Param {
	if d.bhh != nil {
		return []*Param{d.wih, d.whh, d.bih, d.bhh}
	}
	return []*Param{d.wih, d.whh, d.bih}
}

// Out is the output width, H·dirs.
func (l *Recurrent) Out() int { return l.Hidden * len(l.dirs) }

// gemm is C = alpha·op(A)·op(B) + beta·C on row-major slices.
func gemm(ta, tb bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m == 0 || n == 0 || k == 0 {
		if beta == 0 {
			for i := 0; i < m; i++ {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	t := func(x bool) blas.Transpose {
		if x {
			return blas.Trans
		}
		return blas.NoTrans
	}
	blas64.Implementation().Dgemm(t(ta), t(tb), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func (l *Recurrent) valid(i, t int) bool { return l.mask == nil || l.mask[i*l.t+t] != 0 }

// Forward runs every direction over the steps.
func (l *Recurrent) Forward(in *Batch, train bool) *Batch {
	b, t := in.B, in.T
	var r, D int
	if l.emb != nil {
		r, D = len(in.IDs), l.emb.Dim()
	} else {
		r, D = in.X.Dims()
	}
	if t <= 0 || r != b*t {
		panic(fmt.Sprintf("train: %v needs a sequence batch, got %d rows for B=%d, T=%d", l.Cell, r, b, t))
	}
	if D != l.in {
		panic(fmt.Sprintf("train: %v has %d inputs, got %d", l.Cell, l.in, D))
	}
	l.b, l.t, l.mask = b, t, in.Mask
	// Steps after the last valid one change no state: skip them.
	l.te = t
	if in.Mask != nil {
		l.te = 0
		for i := 0; i < b; i++ {
			for s := t - 1; s >= l.te; s-- {
				if in.Mask[i*t+s] != 0 {
					l.te = s + 1
					break
				}
			}
		}
	}
	te, H := l.te, l.Hidden
	if l.emb != nil {
		v := l.emb.Vocab()
		l.idt = l.idt[:0]
		for s := 0; s < te; s++ {
			for i := 0; i < b; i++ {
				id := in.IDs[i*t+s]
				if id < 0 || id >= v {
					panic(fmt.Sprintf("train: Embedding: id %d (row %d) outside the vocabulary of %d", id, i*t+s, v))
				}
				l.idt = append(l.idt, id)
			}
		}
	} else {
		x := in.X.RawMatrix()
		l.xt = resize(l.xt, te*b*D)
		for s := 0; s < te; s++ {
			for i := 0; i < b; i++ {
				copy(l.xt[(s*b+i)*D:(s*b+i+1)*D], x.Data[(i*t+s)*x.Stride:][:D])
			}
		}
	}
	w := l.Out()
	var y *mat.Dense
	if l.Sequence {
		y = mat64(max(b*t, 1), w)
	} else {
		y = mat64(max(b, 1), w)
	}
	yd := y.RawMatrix().Data
	for di, d := range l.dirs {
		l.forwardDir(d)
		if l.Sequence {
			for k := 0; k < te; k++ {
				s := d.step(k, te)
				for i := 0; i < b; i++ {
					if l.valid(i, s) {
						copy(yd[(i*t+s)*w+di*H:][:H], d.hs[((k+1)*b+i)*H:][:H])
					}
				}
			}
		} else {
			for i := 0; i < b; i++ {
				copy(yd[i*w+di*H:][:H], d.hs[(te*b+i)*H:][:H])
			}
		}
	}
	if b == 0 {
		y = &mat.Dense{}
	}
	if l.Sequence {
		out := *in
		out.X = y
		out.IDs = nil
		return &out
	}
	return &Batch{X: y, B: b}
}

// step is the time of the k-th processed step.
func (d *rnnDir) step(k, te int) int {
	if d.reverse {
		return te - 1 - k
	}
	return k
}

func resize(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	s = s[:n]
	clear(s)
	return s
}

func (l *Recurrent) forwardDir(d *rnnDir) {
	b, te, H, D := l.b, l.te, l.Hidden, l.in
	G := l.Cell.gates()
	gh := G * H
	d.xp = resize(d.xp, te*b*gh)
	if l.emb != nil {
		v := l.emb.Vocab()
		d.proj = resize(d.proj, v*gh)
		gemm(false, true, v, gh, D, 1, l.emb.Table.W, D, d.wih.W, D, 0, d.proj, gh)
		for r, id := range l.idt {
			copy(d.xp[r*gh:(r+1)*gh], d.proj[id*gh:(id+1)*gh])
		}
	} else {
		gemm(false, true, te*b, gh, D, 1, l.xt, D, d.wih.W, D, 0, d.xp, gh)
	}
	for r := 0; r < te*b; r++ {
		row := d.xp[r*gh : (r+1)*gh]
		for j, v := range d.bih.W {
			row[j] += v
		}
	}
	d.hs = resize(d.hs, (te+1)*b*H)
	d.act = resize(d.act, te*b*gh)
	d.tc = resize(d.tc, te*b*H)
	if l.Cell == LSTMCell {
		d.cs = resize(d.cs, (te+1)*b*H)
	}
	for k := 0; k < te; k++ {
		s := d.step(k, te)
		h0, h1 := d.hs[k*b*H:(k+1)*b*H], d.hs[(k+1)*b*H:(k+2)*b*H]
		a := d.act[k*b*gh : (k+1)*b*gh]
		// Rows are independent within a step: split them among the
		// cores (the same arithmetic per row, so the same bits).
		parRows(b, gh*H, func(lo, hi int) {
			gemm(false, true, hi-lo, gh, H, 1, h0[lo*H:], H, d.whh.W, H, 0, a[lo*gh:], gh)
			for i := lo; i < hi; i++ {
				l.forwardRow(d, k, s, i, h0, h1, a)
			}
		})
	}
}

// forwardRow is step k (time s) of row i: the gates from the state
// product in a and the input projection, the new cell and state.
func (l *Recurrent) forwardRow(d *rnnDir, k, s, i int, h0, h1, a []float64) {
	b, H := l.b, l.Hidden
	gh := l.Cell.gates() * H
	hp, hn := h0[i*H:(i+1)*H], h1[i*H:(i+1)*H]
	if !l.valid(i, s) {
		copy(hn, hp)
		if d.cs != nil {
			copy(d.cs[((k+1)*b+i)*H:][:H], d.cs[(k*b+i)*H:][:H])
		}
		return
	}
	g := a[i*gh : (i+1)*gh]
	xr := d.xp[(s*b+i)*gh : (s*b+i+1)*gh]
	tc := d.tc[(k*b+i)*H:][:H]
	if l.Cell == LSTMCell {
		for j := range g {
			g[j] += xr[j]
		}
		for j := 0; j < 2*H; j++ {
			g[j] = sigmoid(g[j])
		}
		for j := 2 * H; j < 3*H; j++ {
			g[j] = math.Tanh(g[j])
		}
		for j := 3 * H; j < 4*H; j++ {
			g[j] = sigmoid(g[j])
		}
		c0, c1 := d.cs[(k*b+i)*H:][:H], d.cs[((k+1)*b+i)*H:][:H]
		for j := 0; j < H; j++ {
			c := g[H+j]*c0[j] + g[j]*g[2*H+j]
			c1[j] = c
			tc[j] = math.Tanh(c)
			hn[j] = g[3*H+j] * tc[j]
		}
		return
	}
	bh := d.bhh.W
	for j := 0; j < 2*H; j++ {
		g[j] = sigmoid(g[j] + bh[j] + xr[j])
	}
	for j := 0; j < H; j++ {
		hh := g[2*H+j] + bh[2*H+j]
		tc[j] = hh
		n := math.Tanh(xr[2*H+j] + g[j]*hh)
		g[2*H+j] = n
		z := g[H+j]
		hn[j] = (1-z)*n + z*hp[j]
	}
}

// parRows calls f on ranges covering rows [0, n): on two or more
// goroutines when there are enough rows and each row costs at least
// parMinCost multiply-adds (perRow), else once on [0, n).
func parRows(n, perRow int, f func(lo, hi int)) {
	w := min(runtime.GOMAXPROCS(0), n/parMinRows)
	if w < 2 || perRow < parMinCost {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for p := 1; p < w; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(p*n/w, (p+1)*n/w)
		}()
	}
	f(0, n/w)
	wg.Wait()
}

// parRows' thresholds: a goroutine hand-off costs a few µs, a row of an
// LSTM-128 step about 65,000 multiply-adds (tens of µs).
// (Variables so that a test can force either path.)
var (
	parMinRows = 4
	parMinCost = 1 << 14
)

// Backward runs backpropagation through time over every direction.
func (l *Recurrent) Backward(dout *mat.Dense) *mat.Dense {
	b, t, te, D := l.b, l.t, l.te, l.in
	if l.emb != nil {
		if te > 0 && b > 0 {
			g := dout.RawMatrix()
			for di, d := range l.dirs {
				l.backwardDir(d, di, g, nil)
			}
		}
		return nil // the input is ids
	}
	dx := mat64(max(b*t, 1), D)
	if te == 0 || b == 0 {
		return dx
	}
	dxt := make([]float64, te*b*D)
	g := dout.RawMatrix()
	for di, d := range l.dirs {
		l.backwardDir(d, di, g, dxt)
	}
	xd := dx.RawMatrix().Data
	for s := 0; s < te; s++ {
		for i := 0; i < b; i++ {
			copy(xd[(i*t+s)*D:(i*t+s+1)*D], dxt[(s*b+i)*D:(s*b+i+1)*D])
		}
	}
	return dx
}

func (l *Recurrent) backwardDir(d *rnnDir, di int, dy blas64.General, dxt []float64) {
	b, t, te, H, D := l.b, l.t, l.te, l.Hidden, l.in
	gh := l.Cell.gates() * H
	dh := make([]float64, b*H)
	dc := make([]float64, b*H)
	dhp := make([]float64, b*H)
	// The gate gradients live in buffers kept across batches (a fresh
	// te·B·G·H slice per batch costs page faults as well as the clearing).
	d.dhp = resize(d.dhp, te*b*gh)
	dHP := d.dhp // by processing order
	dXP := dHP   // by time
	if d.reverse || l.Cell == GRUCell {
		d.dxp = resize(d.dxp, te*b*gh)
		dXP = d.dxp
	}
	if !l.Sequence {
		for i := 0; i < b; i++ {
			copy(dh[i*H:(i+1)*H], dy.Data[i*dy.Stride+di*H:][:H])
		}
	}
	// W_hhᵀ, so that each step's dh·W_hh is dot products (gonum's dot
	// kernel, not its memory-bound axpy one).
	d.whhT = resize(d.whhT, H*gh)
	transpose(d.whhT, d.whh.W, gh, H)
	for k := te - 1; k >= 0; k-- {
		s := d.step(k, te)
		a := d.act[k*b*gh : (k+1)*b*gh]
		parRows(b, gh*H, func(lo, hi int) { // rows are independent within a step
			for i := lo; i < hi; i++ {
				if !l.valid(i, s) {
					continue
				}
				dhi := dh[i*H : (i+1)*H]
				if l.Sequence {
					for j, v := range dy.Data[(i*t+s)*dy.Stride+di*H:][:H] {
						dhi[j] += v
					}
				}
				g := a[i*gh : (i+1)*gh]
				tc := d.tc[(k*b+i)*H:][:H]
				zh := dHP[(k*b+i)*gh:][:gh]
				zx := dXP[(s*b+i)*gh:][:gh]
				if l.Cell == LSTMCell {
					dci := dc[i*H : (i+1)*H]
					c0 := d.cs[(k*b+i)*H:][:H]
					for j := 0; j < H; j++ {
						ig, fg, gg, og := g[j], g[H+j], g[2*H+j], g[3*H+j]
						dct := dci[j] + dhi[j]*og*(1-tc[j]*tc[j])
						zh[j] = dct * gg * ig * (1 - ig)
						zh[H+j] = dct * c0[j] * fg * (1 - fg)
						zh[2*H+j] = dct * ig * (1 - gg*gg)
						zh[3*H+j] = dhi[j] * tc[j] * og * (1 - og)
						dci[j] = dct * fg
					}
					if d.reverse {
						copy(zx, zh)
					}
					continue
				}
				hp := d.hs[(k*b+i)*H:][:H]
				for j := 0; j < H; j++ {
					r, z, n := g[j], g[H+j], g[2*H+j]
					dn := dhi[j] * (1 - z) * (1 - n*n)
					dr := dn * tc[j] * r * (1 - r)
					dz := dhi[j] * (hp[j] - n) * z * (1 - z)
					zx[j], zx[H+j], zx[2*H+j] = dr, dz, dn
					zh[j], zh[H+j], zh[2*H+j] = dr, dz, dn*r
					dhi[j] *= z // the direct path; the gates' part is added below
				}
			}
			gemm(false, true, hi-lo, H, gh, 1, dHP[(k*b+lo)*gh:(k+1)*b*gh], gh, d.whhT, gh, 0, dhp[lo*H:], H)
			for i := lo; i < hi; i++ {
				if !l.valid(i, s) {
					continue
				}
				dhi, pi := dh[i*H:(i+1)*H], dhp[i*H:(i+1)*H]
				if l.Cell == LSTMCell {
					copy(dhi, pi)
					continue
				}
				for j, v := range pi {
					dhi[j] += v
				}
			}
		})
	}
	rows := te * b
	d.tbuf = gemmTN(gh, H, rows, dHP, d.hs[:rows*H], d.whh.G, d.tbuf)
	colSum(d.bih.G, dXP, gh)
	if d.bhh != nil {
		colSum(d.bhh.G, dHP, gh)
	}
	if l.emb != nil {
		// The projection's gradient per id, then W_ih's (dPᵀ·table) and
		// the table's (dP·W_ih).
		v := l.emb.Vocab()
		dp := make([]float64, v*gh)
		for r, id := range l.idt {
			row := dp[id*gh : (id+1)*gh]
			for j, x := range dXP[r*gh : (r+1)*gh] {
				row[j] += x
			}
		}
		gemm(true, false, gh, D, v, 1, dp, gh, l.emb.Table.W, D, 1, d.wih.G, D)
		gemm(false, false, v, D, gh, 1, dp, gh, d.wih.W, D, 1, l.emb.Table.G, D)
		return
	}
	d.tbuf = gemmTN(gh, D, rows, dXP, l.xt, d.wih.G, d.tbuf)
	gemm(false, false, rows, D, gh, 1, dXP, gh, d.wih.W, D, 1, dxt, D)
}

// gemmTN is C += Aᵀ·B for row-major A [k, m], B [k, n], C [m, n] (a
// weight gradient summed over k rows), computed as the dot products of
// Aᵀ's and Bᵀ's rows: gonum's Aᵀ·B kernel updates a row of C per row of
// A (axpy, memory-bound), the dot kernel keeps its sums in registers,
// about three times faster here. buf holds the transposes; it is
// returned, grown, for the next call.
func gemmTN(m, n, k int, a, b, c, buf []float64) []float64 {
	if m == 0 || n == 0 || k == 0 {
		return buf
	}
	if cap(buf) < (m+n)*k {
		buf = make([]float64, (m+n)*k)
	}
	at, bt := buf[:m*k], buf[m*k:(m+n)*k]
	transpose(at, a, k, m)
	transpose(bt, b, k, n)
	gemm(false, true, m, n, k, 1, at, k, bt, k, 1, c, n)
	return buf
}

// transpose writes the [c, r] transpose of the row-major [r, c] src to
// dst, in tiles.
func transpose(dst, src []float64, r, c int) {
	const t = 32
	for i0 := 0; i0 < r; i0 += t {
		for j0 := 0; j0 < c; j0 += t {
			for i := i0; i < min(i0+t, r); i++ {
				row := src[i*c:]
				for j := j0; j < min(j0+t, c); j++ {
					dst[j*r+i] = row[j]
				}
			}
		}
	}
}

// colSum adds the column sums of the rows of width n in m to dst.
func colSum(dst, m []float64, n int) {
	for r := 0; r+n <= len(m); r += n {
		for j, v := range m[r : r+n] {
			dst[j] += v
		}
	}
}

// Params are each direction's W_ih, W_hh and bias(es).
func (l *Recurrent) Params() []*Param {
	var ps []*Param
	for _, d := range l.dirs {
		ps = append(ps, d.params()...)
	}
	return ps
}

// Export writes an LSTM or GRU node (gate weights int8 per row when
// quantizing), masked by the ids' PadMask when the model reads token ids.
func (l *Recurrent) Export(e *Exporter, in string) (string, error) {
	base := "lstm"
	if l.Cell == GRUCell {
		base = "gru"
	}
	name := e.Unique(base)
	inputs := []string{in}
	for _, d := range l.dirs {
		for _, p := range d.params() {
			if len(p.Shape) == 2 {
				inputs = append(inputs, e.Matrix(name+"/"+p.Name, p))
			} else {
				inputs = append(inputs, e.Vector(name+"/"+p.Name, p.W))
			}
		}
	}
	attrs := []format.Attr{IntAttr("hidden", int64(l.Hidden))}
	if l.Bidirectional {
		attrs = append(attrs, StrAttr("direction", "bidirectional"))
	}
	if l.Sequence {
		attrs = append(attrs, StrAttr("return", "sequence"))
	}
	if m := exportMask(e); m != "" {
		per := len(l.dirs[0].params())
		for len(inputs) < 1+2*per {
			inputs = append(inputs, "")
		}
		inputs = append(inputs, m)
	}
	return e.NodeNamed(name, l.Cell.String(), inputs, attrs...), nil
}

// ExportState writes a forward layer whose state a device keeps between
// calls: the node reads its initial hidden and cell state from the values
// h0 and c0 (LSTM inputs 8 and 9; a GRU's h0 is input 10 and c0 must be
// "") and writes the state after each row's last valid step as the
// values named hOut and cOut (outputs 1 and 2). It returns the name of
// the node's first output (the last state or every step's, as Export).
func (l *Recurrent) ExportState(e *Exporter, in, h0, c0, hOut, cOut string) (string, error) {
	if l.Bidirectional {
		return "", fmt.Errorf("train: a bidirectional %v has no state to carry between calls", l.Cell)
	}
	if (l.Cell == GRUCell) != (c0 == "" && cOut == "") {
		return "", fmt.Errorf("train: an LSTM's state is h and c, a GRU's h only")
	}
	if _, err := l.Export(e, in); err != nil {
		return "", err
	}
	n := &e.M.Graph.Nodes[len(e.M.Graph.Nodes)-1]
	per := len(l.dirs[0].params())
	for len(n.Inputs) < 2+2*per {
		n.Inputs = append(n.Inputs, "") // up to and with the mask
	}
	n.Inputs = append(n.Inputs, h0)
	n.Outputs = append(n.Outputs, hOut)
	if l.Cell == LSTMCell {
		n.Inputs = append(n.Inputs, c0)
		n.Outputs = append(n.Outputs, cOut)
	}
	return n.Outputs[0], nil
}

// EmbeddingRecurrent is an Embedding feeding a Recurrent layer, trained
// as one layer: the input projection of an id is a row of table·W_ihᵀ,
// computed once per batch for the vocabulary (V·D·G·H multiply-adds)
// instead of per step (B·T·D·G·H), and its gradients go back to the table
// and W_ih the same way. It computes what Sequential(emb, rnn) computes
// and exports the same nodes.
type EmbeddingRecurrent struct {
	Emb *Embedding
	RNN *Recurrent
}

// NewEmbeddingRecurrent joins emb and rnn (rnn's input size must be
// emb's dimension).
func NewEmbeddingRecurrent(emb *Embedding, rnn *Recurrent) *EmbeddingRecurrent {
	if rnn.in != emb.Dim() {
		panic(fmt.Sprintf("train: %v has %d inputs, the embedding %d", rnn.Cell, rnn.in, emb.Dim()))
	}
	rnn.emb = emb
	return &EmbeddingRecurrent{Emb: emb, RNN: rnn}
}

// Forward runs the recurrent layer over the embedded ids.
func (l *EmbeddingRecurrent) Forward(in *Batch, train bool) *Batch { return l.RNN.Forward(in, train) }

// Backward adds the table's and the recurrent layer's gradients; the input
// is ids, so it returns nil.
func (l *EmbeddingRecurrent) Backward(dout *mat.Dense) *mat.Dense { return l.RNN.Backward(dout) }

// Params are the table's, then the recurrent layer's.
func (l *EmbeddingRecurrent) Params() []*Param {
	return append(l.Emb.Params(), l.RNN.Params()...)
}

// Export writes the Embedding node, then the recurrent one.
func (l *EmbeddingRecurrent) Export(e *Exporter, in string) (string, error) {
	x, err := l.Emb.Export(e, in)
	if err != nil {
		return "", err
	}
	return l.RNN.Export(e, x)
}
