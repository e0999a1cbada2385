package op

import (
	"fmt"

	"github.com/edgerun/edgerun/runtime/internal/kernel"
	"github.com/edgerun/edgerun/runtime/tensor"
)

func init() {
	Register(Def{Name: "LayerNorm", Attrs: []string{"epsilon"}, Build: buildLayerNorm,
		Doc: "y = (x − mean) / sqrt(var + epsilon) · gamma + beta over the last axis (biased variance). Inputs: x [..., D], gamma [D], beta [D]. Attribute: epsilon (1e-5). Output: x's shape."})
}

type layerNorm struct {
	gamma, beta []float32
	eps         float32
}

func buildLayerNorm(n *Node) (Kernel, error) {
	if err := wantInputs(n, 3, 3); err != nil {
		return nil, err
	}
	g, err := n.ConstInput(1, "gamma", 1)
	if err != nil {
		return nil, err
	}
	b, err := n.ConstInput(2, "beta", 1)
	if err != nil {
		return nil, err
	}
	k := &layerNorm{}
	if k.gamma, err = g.F32(); err != nil {
		return nil, err
	}
	if k.beta, err = b.F32(); err != nil {
		return nil, err
	}
	if len(k.gamma) != len(k.beta) {
		return nil, fmt.Errorf("gamma %q has %d values, beta %q has %d", g.Name, len(k.gamma), b.Name, len(k.beta))
	}
	eps, err := n.FloatAttr("epsilon", 1e-5)
	if err != nil {
		return nil, err
	}
	if !(eps >= 0 && eps <= 1) {
		return nil, fmt.Errorf("attribute epsilon = %g, want 0 to 1", eps)
	}
	k.eps = float32(eps)
	return k, nil
}

func (k *layerNorm) Plan(in []Desc) ([]Desc, Scratch, error) {
	x := cvInDesc(in, 0)
	d := len(k.gamma)
	if x.DType != tensor.F32 || len(x.Shape) < 1 || x.Shape[len(x.Shape)-1] != d {
		return nil, Scratch{}, fmt.Errorf("input is %s%v, want f32 [..., %d]", x.DType, x.Shape, d)
	}
	return []Desc{{tensor.F32, append(tensor.Shape(nil), x.Shape...)}}, Scratch{}, nil
}

// Run normalizes each row in float32: the mean and the biased variance
// are sums in index order divided by D, the square root is math.Sqrt of
// the float32 value (correctly rounded, the same everywhere).
func (k *layerNorm) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	d := len(k.gamma)
	if d == 0 {
		return nil
	}
	st, ok := ctx.State.(*layerNormState)
	if !ok { // run without the session state (fused AddLayerNorm's fallback): here
		kernel.LayerNormRows(out[0].F32, in[0].F32, k.gamma, k.beta, d, k.eps)
		return nil
	}
	st.x, st.y = in[0].F32, out[0].F32
	st.rs.do(ctx, len(st.x)/d, 6*d, 4)
	st.x, st.y = nil, nil
	return nil
}

// layerNormState is the per-session state of LayerNorm: the rows of one
// Run, handed out in blocks of whole four-row groups.
type layerNormState struct {
	k    *layerNorm
	x, y []float32
	rs   rowShare
}

func (k *layerNorm) NewState() any {
	st := &layerNormState{k: k}
	st.rs.run = st.rows
	return st
}

func (st *layerNormState) rows(r0, r1 int) {
	k := st.k
	d := len(k.gamma)
	kernel.LayerNormRows(st.y[r0*d:r1*d], st.x[r0*d:r1*d], k.gamma, k.beta, d, k.eps)
}
