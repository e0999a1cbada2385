package op

import (
	"fmt"
	"math"

	"github.com/edgerun/edgerun/runtime/internal/kernel"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// FuseEmbeddingDot returns the fused kernel for
// Dot(Embedding(ids_a, A), Embedding(ids_b, B)) when both tables are int8
// with the same width, or nil. The fused kernel takes the two id tensors
// and computes each row's dot product on the int8 rows directly, in
// int32, scaled once: sa·sb·Σ qa·qb. It never materialises the float
// rows, which makes int8 recommendation scoring faster than f32 instead
// of slower (the f32 gather is a plain copy; an int8 gather must
// dequantize every element).
func FuseEmbeddingDot(embA, embB, dot Kernel) Kernel {
	a, ok1 := embA.(*embeddingOp)
	b, ok2 := embB.(*embeddingOp)
	_, ok3 := dot.(dotOp)
	if !ok1 || !ok2 || !ok3 || a.i8 == nil || b.i8 == nil || a.d != b.d ||
		a.v > math.MaxInt32 || b.v > math.MaxInt32 { // row indexes are int32
		return nil
	}
	return &embeddingDot{a: a, b: b}
}

type embeddingDot struct{ a, b *embeddingOp }

func (e *embeddingDot) Plan(in []Desc) ([]Desc, Scratch, error) {
	for i := range 2 {
		if err := basicWantIDs(in[i]); err != nil {
			return nil, Scratch{}, err
		}
	}
	if !in[0].Shape.Equal(in[1].Shape) {
		return nil, Scratch{}, fmt.Errorf("id tensors have shapes %v and %v, want equal", in[0].Shape, in[1].Shape)
	}
	return []Desc{{tensor.F32, append(basicCopyShape(in[0].Shape), 1)}}, Scratch{I32: 3 * embeddingDotChunk}, nil
}

// embeddingDotChunk is how many pairs embeddingDot.Run scores per DotsI8
// call: its scratch holds their two row indexes and int32 sums.
const embeddingDotChunk = 256

// idRows writes the row index of each id to dst (len(dst) ids from
// position off of t) and returns the position of the first id outside
// 0..v-1, or -1.
func idRows(dst []int32, t *tensor.Tensor, off, v int) int {
	if t.DType == tensor.I32 {
		return idRowsOf(dst, t.I32[off:off+len(dst)], off, v)
	}
	return idRowsOf(dst, t.I64[off:off+len(dst)], off, v)
}

func idRowsOf[T int32 | int64](dst []int32, ids []T, off, v int) int {
	dst = dst[:len(ids)]
	for j, id := range ids {
		if uint64(int64(id)) >= uint64(v) {
			return off + j
		}
		dst[j] = int32(id)
	}
	return -1
}

func idAt(t *tensor.Tensor, i int) int64 {
	if t.DType == tensor.I32 {
		return int64(t.I32[i])
	}
	return t.I64[i]
}

func (e *embeddingDot) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	y := out[0].F32
	// Chunks of pairs: check the ids and turn them into row indexes, one
	// DotsI8 call for the chunk's int32 sums, then scale each sum.
	const chunk = embeddingDotChunk
	if len(ctx.I32) < 3*chunk {
		return fmt.Errorf("scratch has %d int32, want %d", len(ctx.I32), 3*chunk)
	}
	ra, rb, acc := ctx.I32[:chunk], ctx.I32[chunk:2*chunk], ctx.I32[2*chunk:3*chunk]
	sa, sb := e.a.scales[:e.a.v], e.b.scales[:e.b.v]
	for c := 0; c < len(y); c += chunk {
		n := min(chunk, len(y)-c)
		if i := idRows(ra[:n], in[0], c, e.a.v); i >= 0 {
			return fmt.Errorf("id %d (position %d) is outside the first table: size %d", idAt(in[0], i), i, e.a.v)
		}
		if i := idRows(rb[:n], in[1], c, e.b.v); i >= 0 {
			return fmt.Errorf("id %d (position %d) is outside the second table: size %d", idAt(in[1], i), i, e.b.v)
		}
		kernel.DotsI8(acc[:n], e.a.i8, ra[:n], e.b.i8, rb[:n], e.a.d)
		ys := y[c : c+n]
		for j, s := range acc[:n] {
			ys[j] = float32(float32(sa[ra[j]]*sb[rb[j]]) * float32(s))
		}
	}
	return nil
}

// FuseAddLayerNorm returns the fused kernel for LayerNorm(Add(a, b)) (a
// residual connection and the norm after it), or nil when add is not an
// Add or norm not a LayerNorm. The fused kernel takes Add's two inputs
// and computes each row's sum and its normalization while the row is in
// the cache, writing the sum nowhere else; its bits are those of the two
// kernels run one after the other. The engine may use it when the sum
// feeds nothing but the norm.
func FuseAddLayerNorm(add, norm Kernel) Kernel {
	a, ok1 := add.(binaryOp)
	ln, ok2 := norm.(*layerNorm)
	if !ok1 || !ok2 || a.mul {
		return nil
	}
	return &addLayerNorm{add: a, ln: ln}
}

type addLayerNorm struct {
	add binaryOp
	ln  *layerNorm
}

func (f *addLayerNorm) Plan(in []Desc) ([]Desc, Scratch, error) {
	out, _, err := f.add.Plan(in)
	if err != nil {
		return nil, Scratch{}, err
	}
	return f.ln.Plan(out)
}

func (f *addLayerNorm) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	d := len(f.ln.gamma)
	a, b, y := in[0].F32, in[1].F32, out[0].F32
	if d == 0 || len(a) == 0 {
		return nil
	}
	if len(b) < 2 || len(b)%d != 0 || len(a)%len(b) != 0 || len(y) != len(a) {
		// b is a scalar or shorter than a row: add, then normalize.
		if err := f.add.Run(ctx, in, out); err != nil {
			return err
		}
		return f.ln.Run(ctx, out, out)
	}
	inPlace := len(b) == len(a) && &y[0] == &b[0]
	st, ok := ctx.State.(*addLayerNormState)
	if !ok { // run without the session state (the fallback above): here
		one := addLayerNormState{f: f, a: a, b: b, y: y, inPlace: inPlace}
		one.rows(0, len(a)/d)
		return nil
	}
	st.a, st.b, st.y, st.inPlace = a, b, y, inPlace
	st.rs.do(ctx, len(a)/d, 8*d, 4)
	st.a, st.b, st.y = nil, nil, nil
	return nil
}

// addLayerNormState is the per-session state of the fused kernel: the rows
// of one Run, handed out in blocks of whole four-row groups.
type addLayerNormState struct {
	f       *addLayerNorm
	a, b, y []float32
	inPlace bool // y is b: each row is b's row + a's row (the same bits)
	rs      rowShare
}

func (f *addLayerNorm) NewState() any {
	st := &addLayerNormState{f: f}
	st.rs.run = st.rows
	return st
}

// rows computes rows [r0, r1): each row's sum and its norm, four rows a
// kernel call while they are in the cache (AddLayerNormRows: y's row +
// 1·x's row, AxpyF32's operations, with y = b and x = a in place, else
// y = a and x = b, as the Add kernel computes them).
func (st *addLayerNormState) rows(r0, r1 int) {
	ln := st.f.ln
	d := len(ln.gamma)
	a, b, y := st.a, st.b, st.y
	rows := y[r0*d : r1*d]
	if st.inPlace {
		kernel.AddLayerNormRows(rows, rows, a[r0*d:r1*d], ln.gamma, ln.beta, d, ln.eps)
		return
	}
	// Row r adds b's row at r·d mod len(b) (b holds whole rows). When
	// r0's is not b's first row, the rows go in blocks that end where b
	// wraps, each with the view of b from its first row's.
	if r0*d%len(b) != 0 {
		for r := r0; r < r1; {
			o := r * d % len(b)
			e := min(r1, r+(len(b)-o)/d) // the rows before b wraps
			kernel.AddLayerNormRows(y[r*d:e*d], a[r*d:e*d], b[o:], ln.gamma, ln.beta, d, ln.eps)
			r = e
		}
		return
	}
	kernel.AddLayerNormRows(rows, a[r0*d:r1*d], b, ln.gamma, ln.beta, d, ln.eps)
}
