package train

import (
	"fmt"
	"math/rand/v2"

	"github.com/edgerun/edgerun/format"
	"gonum.org/v1/gonum/mat"
)

// Dense is y = act(x·Wᵀ + b), W [out, in]: the engine's Dense operator.
type Dense struct {
	W, B *Param
	Act  Activation

	x    *mat.Dense // the last input (training)
	z, y []float64  // pre-activation and output of the last Forward
}

// NewDense makes a Dense layer with Glorot-uniform weights (He-style
// scaling is not needed at these sizes) and zero bias.
func NewDense(rng *rand.Rand, in, out int, act Activation) *Dense {
	l := &Dense{W: newParam("w", true, out, in), B: newParam("b", false, out), Act: act}
	l.W.glorot(rng, in, out)
	return l
}

// In and Out are the layer's widths.
func (l *Dense) In() int  { return l.W.Shape[1] }
func (l *Dense) Out() int { return l.W.Shape[0] }

// Forward computes act(x·Wᵀ + b) row by row.
func (l *Dense) Forward(in *Batch, train bool) *Batch {
	r, c := in.X.Dims()
	if c != l.In() {
		panic(fmt.Sprintf("train: Dense has %d inputs, got %d", l.In(), c))
	}
	z := mat64(r, l.Out())
	z.Mul(in.X, l.W.Mat().T())
	zd := z.RawMatrix().Data
	n := l.Out()
	for i := 0; i < r; i++ {
		row := zd[i*n : (i+1)*n]
		for j, b := range l.B.W {
			row[j] += b
		}
	}
	y := z
	if l.Act != Linear {
		y = mat64(r, n)
		l.Act.apply(y.RawMatrix().Data, zd)
	}
	l.x, l.z, l.y = in.X, zd, y.RawMatrix().Data
	out := *in
	out.X = y
	return &out
}

// Backward accumulates dW = dzᵀ·x and db = Σ dz, and returns dz·W.
func (l *Dense) Backward(dout *mat.Dense) *mat.Dense {
	dz := dout
	if l.Act != Linear {
		r, c := dout.Dims()
		dz = mat64(r, c)
		dz.Copy(dout)
		l.Act.grad(dz.RawMatrix().Data, l.z, l.y)
	}
	var dw mat.Dense
	dw.Mul(dz.T(), l.x)
	g := l.W.GradMat()
	g.Add(g, &dw)
	r, n := dz.Dims()
	dd := dz.RawMatrix().Data
	for i := 0; i < r; i++ {
		for j, v := range dd[i*n : (i+1)*n] {
			l.B.G[j] += v
		}
	}
	dx := mat64(r, l.In())
	dx.Mul(dz, l.W.Mat())
	return dx
}

// Params are W and b.
func (l *Dense) Params() []*Param { return []*Param{l.W, l.B} }

// Export writes a Dense node with the activation fused.
func (l *Dense) Export(e *Exporter, in string) (string, error) {
	name := e.Unique("dense")
	w := e.Matrix(name+"/w", l.W)
	b := e.Vector(name+"/b", l.B.W)
	var attrs []format.Attr
	if a := l.Act.String(); a != "" {
		attrs = append(attrs, StrAttr("activation", a))
	}
	return e.NodeNamed(name, "Dense", []string{in, w, b}, attrs...), nil
}
