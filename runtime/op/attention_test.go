package op

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/runtime/internal/kernel"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// mhaTolInt8 is the int8 tolerance of attention (relative to 1 + |want|,
// against the dequantized weights): the uint8 steps of x move Q and K,
// the softmax amplifies that through scores of a few units, and the
// attention output is quantized again for the output projection. The
// worst case measured over 40 seeds of TestMultiHeadAttention is 0.094.
const mhaTolInt8 = 0.15

// mhaCase is one attention configuration with its weights; the *Ref
// fields are the weights the kernel really uses (dequantized for int8).
type mhaCase struct {
	b, t, d, heads int
	causal         bool
	q              bool
	wqkv, wo       []float32 // reference weights
	bqkv, bo       []float32 // nil when absent
	mask           []float32 // nil when absent
	node           *Node
}

func newMHACase(rng *rand.Rand, b, t, d, heads int, causal, q, bias bool, mask []float32) *mhaCase {
	c := &mhaCase{b: b, t: t, d: d, heads: heads, causal: causal, q: q, mask: mask}
	// Weights of size 1/√D keep Q, K, V and the scores near unit scale, so
	// the softmax is neither flat nor one-hot.
	c.wqkv = randF32(rng, 3*d*d, 1.5/math.Sqrt(float64(d)))
	c.wo = randF32(rng, d*d, 1/math.Sqrt(float64(d)))
	wqkvIn := f32Const("W_qkv", tensor.Shape{3 * d, d}, c.wqkv)
	woIn := f32Const("W_o", tensor.Shape{d, d}, c.wo)
	if q {
		wqkvIn, c.wqkv = cvI8RowsConst("W_qkv", tensor.Shape{3 * d, d}, c.wqkv, 3*d, d)
		woIn, c.wo = cvI8RowsConst("W_o", tensor.Shape{d, d}, c.wo, d, d)
	}
	bqkvIn, boIn := absent, absent
	if bias {
		c.bqkv, c.bo = randF32(rng, 3*d, 0.3), randF32(rng, d, 0.3)
		bqkvIn, boIn = f32Const("b_qkv", tensor.Shape{3 * d}, c.bqkv), f32Const("b_o", tensor.Shape{d}, c.bo)
	}
	attrs := map[string]Attr{"heads": {Kind: AttrInt, Int: int64(heads)}}
	if causal {
		attrs["causal"] = Attr{Kind: AttrInt, Int: 1}
	}
	in := []Input{dyn("x"), wqkvIn, bqkvIn, woIn, boIn}
	if mask != nil {
		in = append(in, dyn("mask"))
	}
	c.node = &Node{Name: "mha", Op: "MultiHeadAttention", Attrs: attrs, Inputs: in, Outputs: 1}
	return c
}

func (c *mhaCase) inputs(x []float32) []*tensor.Tensor {
	in := []*tensor.Tensor{tensor.NewF32(tensor.Shape{c.b, c.t, c.d}, x), nil, nil, nil, nil}
	if c.mask != nil {
		in = append(in, tensor.NewF32(tensor.Shape{c.b, c.t}, c.mask))
	}
	return in
}

// linRef is x·wᵀ + b in float64 for m rows.
func linRef(x []float64, w, b []float32, m, n, k int) []float64 {
	y := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			if b != nil {
				s = float64(b[j])
			}
			for p := 0; p < k; p++ {
				s += x[i*k+p] * float64(w[j*k+p])
			}
			y[i*n+j] = s
		}
	}
	return y
}

// ref is the float64 attention: the QKV projection, per head
// softmax(q·k/√dh) over the valid keys (mask ≠ 0, and j ≤ i when causal)
// applied to v, zeros for a query without valid keys, then the output
// projection.
func (c *mhaCase) ref(x []float32) []float64 {
	m, d, dh := c.b*c.t, c.d, c.d/c.heads
	x64 := make([]float64, len(x))
	for i, v := range x {
		x64[i] = float64(v)
	}
	qkv := linRef(x64, c.wqkv, c.bqkv, m, 3*d, d)
	attn := make([]float64, m*d)
	for b := 0; b < c.b; b++ {
		for h := 0; h < c.heads; h++ {
			for i := 0; i < c.t; i++ {
				var keys []int
				for j := 0; j < c.t; j++ {
					if (c.mask == nil || c.mask[b*c.t+j] != 0) && (!c.causal || j <= i) {
						keys = append(keys, j)
					}
				}
				if len(keys) == 0 {
					continue
				}
				s := make([]float64, len(keys))
				mx := math.Inf(-1)
				for n, j := range keys {
					for p := 0; p < dh; p++ {
						s[n] += qkv[(b*c.t+i)*3*d+h*dh+p] * qkv[(b*c.t+j)*3*d+d+h*dh+p]
					}
					s[n] /= math.Sqrt(float64(dh))
					mx = math.Max(mx, s[n])
				}
				sum := 0.0
				for n := range s {
					s[n] = math.Exp(s[n] - mx)
					sum += s[n]
				}
				for n, j := range keys {
					for p := 0; p < dh; p++ {
						attn[(b*c.t+i)*d+h*dh+p] += s[n] / sum * qkv[(b*c.t+j)*3*d+2*d+h*dh+p]
					}
				}
			}
		}
	}
	return linRef(attn, c.wo, c.bo, m, d, d)
}

// mhaMask makes a [b, t] mask: batch 0 random with its first key masked
// (so a causal query 0 sees nothing), batch 1 fully masked, the rest all
// valid.
func mhaMask(rng *rand.Rand, b, t int) []float32 {
	m := make([]float32, b*t)
	for i := range m {
		switch {
		case i < t:
			if i > 0 && rng.IntN(3) > 0 {
				m[i] = 1
			}
		case i >= 2*t:
			m[i] = 1
		}
	}
	return m
}

func TestMultiHeadAttention(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	cases, worst := 0, 0.0
	for _, tl := range []int{1, 5, 8} {
		for _, d := range []int{1, 3, 8, 16} {
			for _, heads := range []int{1, 2, 4} {
				if d%heads != 0 {
					continue
				}
				for _, masked := range []bool{false, true} {
					for _, causal := range []bool{false, true} {
						for _, q := range []bool{false, true} {
							cases++
							b := 2
							var mask []float32
							if masked {
								b = 3
								mask = mhaMask(rng, b, tl)
							}
							c := newMHACase(rng, b, tl, d, heads, causal, q, cases%4 != 0, mask)
							name := fmt.Sprintf("B=%d,T=%d,D=%d,heads=%d,mask=%v,causal=%v,int8=%v,bias=%v", b, tl, d, heads, masked, causal, q, c.bo != nil)
							x := randF32(rng, b*tl*d, 1)
							y1 := runNode(t, c.node, 1, c.inputs(x)...)[0]
							if !y1.Shape.Equal(tensor.Shape{b, tl, d}) {
								t.Fatalf("%s: output shape %v", name, y1.Shape)
							}
							y3 := runNode(t, c.node, 3, c.inputs(x)...)[0]
							cvCheckSameBits(t, name, y1.F32, y3.F32)
							want := c.ref(x)
							tol := cvTolF32
							if q {
								tol = mhaTolInt8
								for i, v := range y1.F32 {
									worst = max(worst, math.Abs(float64(v)-want[i])/(1+math.Abs(want[i])))
								}
							}
							cvCheckClose(t, name, y1.F32, want, tol)
							if masked {
								// Batch 1 has no valid key: every output is exactly b_o (0
								// without bias), in f32 and int8 alike.
								for i, v := range y1.F32[tl*d : 2*tl*d] {
									var bo float32
									if c.bo != nil {
										bo = c.bo[i%d]
									}
									if v != bo {
										t.Fatalf("%s: fully masked batch: y[%d] = %v, want b_o = %v", name, i, v, bo)
									}
								}
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d cases; worst int8 error %.3g (tolerance %g)", cases, worst, mhaTolInt8)
}

// TestMultiHeadAttentionLarge is big enough for the projections and the
// heads to be split among workers.
func TestMultiHeadAttentionLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	b, tl, d, heads := 3, 40, 64, 4
	for _, q := range []bool{false, true} {
		for _, causal := range []bool{false, true} {
			c := newMHACase(rng, b, tl, d, heads, causal, q, true, mhaMask(rng, b, tl))
			x := randF32(rng, b*tl*d, 1)
			y1 := runNode(t, c.node, 1, c.inputs(x)...)[0].F32
			y3 := runNode(t, c.node, 3, c.inputs(x)...)[0].F32
			cvCheckSameBits(t, "large", y1, y3)
			tol := cvTolF32
			if q {
				tol = mhaTolInt8
			}
			cvCheckClose(t, fmt.Sprintf("large,int8=%v,causal=%v", q, causal), y1, c.ref(x), tol)
		}
	}
}

// TestMultiHeadAttentionInt8Off runs int8 projections through the f32
// fallback: the dequantized weights at f32 precision.
func TestMultiHeadAttentionInt8Off(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	c := newMHACase(rng, 2, 5, 8, 2, true, true, true, nil)
	x := randF32(rng, 2*5*8, 1)
	y := newCVRig(t, c.node, 1, true, c.inputs(x)...).run(t)
	cvCheckClose(t, "int8 off", y, c.ref(x), cvTolF32)
}

func TestMultiHeadAttentionNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(37, 38))
	for _, q := range []bool{false, true} {
		for _, masked := range []bool{false, true} {
			var mask []float32
			if masked {
				mask = mhaMask(rng, 3, 6)
			}
			c := newMHACase(rng, 3, 6, 8, 2, masked, q, true, mask)
			newCVRig(t, c.node, 1, false, c.inputs(randF32(rng, 3*6*8, 1))...).noAllocs(t)
		}
	}
}

func TestMultiHeadAttentionErrors(t *testing.T) {
	d := 4
	w := func(name string, s ...int) Input {
		return f32Const(name, s, make([]float32, tensor.Shape(s).NumElements()))
	}
	node := func(attrs map[string]Attr, in ...Input) *Node {
		if attrs == nil {
			attrs = map[string]Attr{"heads": {Kind: AttrInt, Int: 2}}
		}
		return &Node{Name: "a", Op: "MultiHeadAttention", Attrs: attrs, Inputs: append([]Input{dyn("x")}, in...)}
	}
	good := []Input{w("W_qkv", 3*d, d), w("b_qkv", 3*d), w("W_o", d, d), w("b_o", d)}
	with := func(i int, in Input) []Input {
		s := append([]Input(nil), good...)
		s[i] = in
		return s
	}
	heads := func(h int64) map[string]Attr { return map[string]Attr{"heads": {Kind: AttrInt, Int: h}} }
	for i, n := range []*Node{
		node(nil, good[:2]...),
		node(nil, append(good, dyn("mask"), dyn("extra"))...),
		node(nil, with(0, w("W_qkv", 2*d, d))...),
		node(nil, with(0, dyn("W_qkv"))...),
		node(nil, with(1, w("b_qkv", 2*d))...),
		node(nil, with(2, w("W_o", d, d+1))...),
		node(nil, with(3, w("b_o", d, 1))...),
		node(map[string]Attr{}, good...),
		node(heads(0), good...),
		node(heads(3), good...),
		node(heads(8), good...),
		node(map[string]Attr{"heads": {Kind: AttrInt, Int: 2}, "causal": {Kind: AttrInt, Int: 2}}, good...),
		node(map[string]Attr{"heads": {Kind: AttrInt, Int: 2}, "causal": {Kind: AttrString, String: "yes"}}, good...),
		node(map[string]Attr{"heads": {Kind: AttrInt, Int: 2}, "dropout": {Kind: AttrFloat, Float: 0.1}}, good...),
		{Name: "p", Op: "AddPositional", Inputs: []Input{dyn("x"), w("table", 8)}},
		{Name: "p", Op: "AddPositional", Inputs: []Input{dyn("x"), dyn("table")}},
		{Name: "p", Op: "AddPositional", Inputs: []Input{dyn("x")}},
	} {
		if _, err := Build(n); err == nil {
			t.Errorf("bad node %d (%s) built", i, n.Op)
		} else {
			t.Logf("%d: %v", i, err)
		}
	}
	f32 := func(s ...int) Desc { return Desc{tensor.F32, s} }
	pos := &Node{Name: "p", Op: "AddPositional", Inputs: []Input{dyn("x"), w("table", 8, d)}}
	for _, tc := range []struct {
		n    *Node
		in   []Desc
		want string
	}{
		{node(nil, good...), []Desc{f32(2, 5, d+1)}, "input is f32[2,5,5], want f32 [B, T, 4]"},
		{node(nil, good...), []Desc{f32(5, d)}, "want f32 [B, T, 4]"},
		{node(nil, good...), []Desc{{tensor.I64, tensor.Shape{1, 5, d}}}, "input is i64"},
		{node(nil, append(good, dyn("mask"))...), []Desc{f32(2, 5, d), {}, {}, {}, {}, f32(2, 4)}, "mask is f32[2,4], want f32 [2, 5]"},
		{node(nil, append(good, dyn("mask"))...), []Desc{f32(2, 5, d), {}, {}, {}, {}, {tensor.I32, tensor.Shape{2, 5}}}, "mask is i32"},
		{pos, []Desc{f32(2, 9, d)}, "input has 9 steps, the positional table \"table\" only 8"},
		{pos, []Desc{f32(2, 5, d+1)}, "want f32 [B, T, 4]"},
		{pos, []Desc{f32(5, d)}, "want f32 [B, T, 4]"},
	} {
		if got := cvPlanErr(t, tc.n, tc.in...); !strings.Contains(got, tc.want) {
			t.Errorf("%s %v: Plan error %q, want %q", tc.n.Op, tc.in, got, tc.want)
		}
	}
	// An absent mask and absent biases plan fine.
	if got := cvPlanErr(t, node(nil, w("W_qkv", 3*d, d), absent, w("W_o", d, d)), f32(1, 1, d)); got != "" {
		t.Errorf("no biases: %s", got)
	}
}

func TestAddPositional(t *testing.T) {
	rng := rand.New(rand.NewPCG(39, 40))
	const maxT = 8
	for _, tl := range []int{0, 1, 5, 8} {
		for _, d := range []int{1, 3, 16} {
			b := 2
			table := randF32(rng, maxT*d, 1)
			node := &Node{Name: "p", Op: "AddPositional", Inputs: []Input{dyn("x"), f32Const("table", tensor.Shape{maxT, d}, table)}, Outputs: 1}
			x := tensor.NewF32(tensor.Shape{b, tl, d}, randF32(rng, b*tl*d, 1))
			y := runNode(t, node, 3, x, nil)[0]
			if !y.Shape.Equal(x.Shape) {
				t.Fatalf("T=%d D=%d: shape %v", tl, d, y.Shape)
			}
			for i, v := range y.F32 {
				// One float32 addition: exact to compare.
				if want := x.F32[i] + table[i%(tl*d)]; v != want {
					t.Fatalf("T=%d D=%d: y[%d] = %v, want %v", tl, d, i, v, want)
				}
			}
			newCVRig(t, node, 1, false, x, nil).noAllocs(t)
		}
	}
}

// attnRef is the query-by-query attention core the blocked one replaced:
// one DotF32 per (query, valid key), one SoftmaxF32 over them, one
// AxpyF32 per (query, valid key). The
// blocked core must give its bits exactly.
func attnRef(k *mha, qkv, mask []float32, b, t int) []float32 {
	d, dh := k.d, k.dh
	out := make([]float32, b*t*d)
	for u := 0; u < b*k.heads; u++ {
		bi, h := u/k.heads, u%k.heads
		base := bi * t
		for i := 0; i < t; i++ {
			q := qkv[(base+i)*3*d+h*dh:][:dh]
			o := out[(base+i)*d+h*dh:][:dh]
			nk := t
			if k.causal {
				nk = i + 1
			}
			var idx []int
			var p []float32
			for j := 0; j < nk; j++ {
				if mask != nil && mask[bi*t+j] == 0 {
					continue
				}
				p = append(p, float32(kernel.DotF32(q, qkv[(base+j)*3*d+d+h*dh:][:dh])*k.scale))
				idx = append(idx, j)
			}
			kernel.SoftmaxF32(p)
			for jj, j := range idx {
				kernel.AxpyF32(p[jj], qkv[(base+j)*3*d+2*d+h*dh:][:dh], o)
			}
		}
	}
	return out
}

// TestAttentionCoreBits: the blocked attention core (DotsF32, MixF32 on
// blocks of attnRows queries, gathered keys under a mask) gives exactly
// the query-by-query loop's bits on every kernel implementation, with and
// without mask and causality, across block boundaries.
func TestAttentionCoreBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, im := range kernel.Impls() {
		restore, err := kernel.Use(im.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, tl := range []int{1, 15, 16, 17, 40, 64, 81} { // 81: two blocks of attnDotRows
			for _, dh := range []int{3, 8, 32} {
				for _, masked := range []bool{false, true} {
					for _, causal := range []bool{false, true} {
						const b, heads = 3, 2
						k := &mha{d: dh * heads, heads: heads, dh: dh, causal: causal, scale: float32(1 / math.Sqrt(float64(dh)))}
						qkv := randF32(rng, b*tl*3*k.d, 2)
						var mask []float32
						if masked {
							mask = mhaMask(rng, b, tl)
						}
						want := attnRef(k, qkv, mask, b, tl)
						a := &attnTask{k: k, qkv: qkv, mask: mask, attn: make([]float32, b*tl*k.d), t: tl,
							per: k.attnScratch(tl, masked)}
						a.scratch = make([]float32, b*heads*a.per)
						a.RunRange(0, b*heads)
						name := fmt.Sprintf("%s T=%d dh=%d mask=%v causal=%v", im.Name, tl, dh, masked, causal)
						cvCheckSameBits(t, name, a.attn, want)
					}
				}
			}
		}
		restore()
	}
}

// TestMultiHeadAttentionAllValidMask checks that a mask whose keys are all
// valid, which the core reads in place instead of gathering, gives the
// same bits as no mask, and that a batch row with a padded key next to
// all-valid rows still matches its own run.
func TestMultiHeadAttentionAllValidMask(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	for _, q := range []bool{false, true} {
		for _, causal := range []bool{false, true} {
			const b, tl, d, heads = 3, 20, 16, 2
			ones := make([]float32, b*tl)
			for i := range ones {
				ones[i] = 1
			}
			c := newMHACase(rng, b, tl, d, heads, causal, q, true, ones)
			x := randF32(rng, b*tl*d, 1)
			masked := runNode(t, c.node, 1, c.inputs(x)...)[0]
			plain := *c
			plain.mask = nil
			plain.node = &Node{Name: c.node.Name, Op: c.node.Op, Attrs: c.node.Attrs, Inputs: c.node.Inputs[:5], Outputs: 1}
			unmasked := runNode(t, plain.node, 1, plain.inputs(x)...)[0]
			name := fmt.Sprintf("int8=%v,causal=%v", q, causal)
			cvCheckSameBits(t, name+" all-valid mask vs none", masked.F32, unmasked.F32)

			// Pad the last key of batch row 1: rows 0 and 2 keep their bits.
			ones[1*tl+tl-1] = 0
			mixed := runNode(t, c.node, 1, c.inputs(x)...)[0]
			for _, r := range []int{0, 2} {
				cvCheckSameBits(t, name+" untouched row", mixed.F32[r*tl*d:(r+1)*tl*d], unmasked.F32[r*tl*d:(r+1)*tl*d])
			}
			cvCheckClose(t, name+" padded", mixed.F32, c.ref(x), map[bool]float64{false: cvTolF32, true: mhaTolInt8}[q])
		}
	}
}
