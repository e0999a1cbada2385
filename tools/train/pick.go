package train

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// PickDense is a linear Dense layer (no activation) that, on a batch with
// Pick, computes only each row's picked output (x·W[pick]ᵀ + b[pick], one
// column; 0 where pick is −1) and updates only those rows of W and b: a
// wide output layer scored on one column per row costs one dot product
// per row instead of a row of the matrix product. Without Pick it is the
// Dense layer, and it exports as one.
type PickDense struct {
	*Dense
	pick []int
}

// NewPickDense makes a linear PickDense as NewDense does.
func NewPickDense(rng *rand.Rand, in, out int) *PickDense {
	return &PickDense{Dense: NewDense(rng, in, out, Linear)}
}

// Forward computes the picked outputs, or all of them without Pick.
func (l *PickDense) Forward(in *Batch, train bool) *Batch {
	l.pick = in.Pick
	if in.Pick == nil {
		return l.Dense.Forward(in, train)
	}
	r, c := in.X.Dims()
	if c != l.In() || len(in.Pick) != r {
		panic(fmt.Sprintf("train: PickDense has %d inputs, got %d; %d picks for %d rows", l.In(), c, len(in.Pick), r))
	}
	x := in.X.RawMatrix()
	z := mat64(max(r, 1), 1)
	zd := z.RawMatrix().Data
	for i, k := range in.Pick {
		if k < 0 {
			continue
		}
		if k >= l.Out() {
			panic(fmt.Sprintf("train: PickDense: row %d picks output %d of %d", i, k, l.Out()))
		}
		zd[i] = dot(x.Data[i*x.Stride:][:c], l.W.W[k*c:(k+1)*c]) + l.B.W[k]
	}
	l.x = in.X
	out := *in
	out.X = z
	return &out
}

// Backward: dW[pick] += dz·x, db[pick] += dz, dx = dz·W[pick].
func (l *PickDense) Backward(dout *mat.Dense) *mat.Dense {
	if l.pick == nil {
		return l.Dense.Backward(dout)
	}
	x := l.x.RawMatrix()
	r, c := l.x.Dims()
	dx := mat64(r, c)
	dxd := dx.RawMatrix().Data
	dd := dout.RawMatrix()
	for i, k := range l.pick {
		g := dd.Data[i*dd.Stride]
		if k < 0 || g == 0 {
			continue
		}
		w, gw, xi := l.W.W[k*c:(k+1)*c], l.W.G[k*c:(k+1)*c], x.Data[i*x.Stride:][:c]
		for j := range c {
			gw[j] += g * xi[j]
			dxd[i*c+j] = g * w[j]
		}
		l.B.G[k] += g
	}
	return dx
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}
