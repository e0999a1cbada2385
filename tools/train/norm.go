package train

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// LayerNorm is the engine's LayerNorm over the last axis (each row of X):
// y = (x − mean) / √(var + Eps) · γ + β, with the biased variance.
type LayerNorm struct {
	Gamma, Beta *Param
	Eps         float64

	xhat []float64 // the normalised input of the last Forward
	inv  []float64 // per row: 1/√(var + Eps)
	r, d int
}

// NewLayerNorm normalises rows of d features (γ = 1, β = 0, ε = 1e-5).
func NewLayerNorm(d int) *LayerNorm {
	l := &LayerNorm{Gamma: newParam("gamma", false, d), Beta: newParam("beta", false, d), Eps: 1e-5}
	for i := range l.Gamma.W {
		l.Gamma.W[i] = 1
	}
	return l
}

// Forward normalises every row.
func (l *LayerNorm) Forward(in *Batch, train bool) *Batch {
	r, d := in.X.Dims()
	if d != len(l.Gamma.W) {
		panic(fmt.Sprintf("train: LayerNorm has %d features, got %d", len(l.Gamma.W), d))
	}
	x := seqData(in.X)
	xhat := make([]float64, r*d)
	inv := make([]float64, r)
	y := mat64(r, d)
	yd := y.RawMatrix().Data
	for i := 0; i < r; i++ {
		row := x[i*d : (i+1)*d]
		var mu float64
		for _, v := range row {
			mu += v
		}
		mu /= float64(d)
		var vr float64
		for _, v := range row {
			vr += (v - mu) * (v - mu)
		}
		vr /= float64(d)
		s := 1 / math.Sqrt(vr+l.Eps)
		inv[i] = s
		for j, v := range row {
			h := (v - mu) * s
			xhat[i*d+j] = h
			yd[i*d+j] = h*l.Gamma.W[j] + l.Beta.W[j]
		}
	}
	l.xhat, l.inv, l.r, l.d = xhat, inv, r, d
	out := *in
	out.X = y
	return &out
}

// Backward: dγ += Σ dy·x̂, dβ += Σ dy, and
// dx = (g − mean(g) − x̂·mean(g·x̂)) / σ with g = dy·γ.
func (l *LayerNorm) Backward(dout *mat.Dense) *mat.Dense {
	r, d := l.r, l.d
	dy := seqData(dout)
	dx := mat64(r, d)
	dxd := dx.RawMatrix().Data
	g := make([]float64, d)
	for i := 0; i < r; i++ {
		dr := dy[i*d : (i+1)*d]
		xh := l.xhat[i*d : (i+1)*d]
		var mg, mgx float64
		for j, v := range dr {
			l.Gamma.G[j] += v * xh[j]
			l.Beta.G[j] += v
			g[j] = v * l.Gamma.W[j]
			mg += g[j]
			mgx += g[j] * xh[j]
		}
		mg /= float64(d)
		mgx /= float64(d)
		for j := range g {
			dxd[i*d+j] = (g[j] - mg - xh[j]*mgx) * l.inv[i]
		}
	}
	return dx
}

// Params are γ and β.
func (l *LayerNorm) Params() []*Param { return []*Param{l.Gamma, l.Beta} }

// Export writes a LayerNorm node (γ and β stay f32).
func (l *LayerNorm) Export(e *Exporter, in string) (string, error) {
	name := e.Unique("layernorm")
	g := e.Vector(name+"/gamma", l.Gamma.W)
	b := e.Vector(name+"/beta", l.Beta.W)
	return e.NodeNamed(name, "LayerNorm", []string{in, g, b}, FloatAttr("epsilon", l.Eps)), nil
}
