package train

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// Activation is an elementwise function with its derivative, by name the
// engine's Dense activation attribute.
type Activation int

// The activations. Linear is none.
const (
	Linear Activation = iota
	ReLU
	LeakyReLU // slope 0.01 below zero, as the engine's default alpha
	Sigmoid
	Tanh
	GELU // tanh approximation, as the engine's
)

// leakySlope is LeakyReLU's slope (the engine's alpha default).
const leakySlope = 0.01

// String is the engine's name for the activation ("" for Linear).
func (a Activation) String() string {
	switch a {
	case ReLU:
		return "relu"
	case LeakyReLU:
		return "leaky_relu"
	case Sigmoid:
		return "sigmoid"
	case Tanh:
		return "tanh"
	case GELU:
		return "gelu"
	}
	return ""
}

// apply sets y[i] = a(z[i]).
func (a Activation) apply(y, z []float64) {
	switch a {
	case Linear:
		copy(y, z)
	case ReLU:
		for i, v := range z {
			y[i] = max(v, 0)
		}
	case LeakyReLU:
		for i, v := range z {
			if v < 0 {
				v *= leakySlope
			}
			y[i] = v
		}
	case Sigmoid:
		for i, v := range z {
			y[i] = sigmoid(v)
		}
	case Tanh:
		for i, v := range z {
			y[i] = math.Tanh(v)
		}
	case GELU:
		for i, v := range z {
			y[i] = gelu(v)
		}
	}
}

// grad sets d[i] *= a'(z[i]) given z and y = a(z).
func (a Activation) grad(d, z, y []float64) {
	switch a {
	case ReLU:
		for i, v := range z {
			if v <= 0 {
				d[i] = 0
			}
		}
	case LeakyReLU:
		for i, v := range z {
			if v < 0 {
				d[i] *= leakySlope
			}
		}
	case Sigmoid:
		for i, v := range y {
			d[i] *= v * (1 - v)
		}
	case Tanh:
		for i, v := range y {
			d[i] *= 1 - v*v
		}
	case GELU:
		for i, v := range z {
			d[i] *= geluGrad(v)
		}
	}
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

const geluC = 0.7978845608028654 // √(2/π)

func gelu(x float64) float64 {
	return 0.5 * x * (1 + math.Tanh(geluC*(x+0.044715*x*x*x)))
}

func geluGrad(x float64) float64 {
	u := geluC * (x + 0.044715*x*x*x)
	t := math.Tanh(u)
	du := geluC * (1 + 3*0.044715*x*x)
	return 0.5*(1+t) + 0.5*x*(1-t*t)*du
}

func sqrt(x float64) float64 { return math.Sqrt(x) }

// Act is a parameter-free activation layer (for activations that do not
// follow a Dense, e.g. after pooling).
type Act struct {
	A    Activation
	z, y []float64
}

// Forward applies the activation.
func (l *Act) Forward(in *Batch, train bool) *Batch {
	r, c := in.X.Dims()
	y := mat64(r, c)
	l.z = in.X.RawMatrix().Data
	l.A.apply(y.RawMatrix().Data, l.z)
	l.y = y.RawMatrix().Data
	out := *in
	out.X = y
	return &out
}

// Backward multiplies by the derivative.
func (l *Act) Backward(dout *mat.Dense) *mat.Dense {
	r, c := dout.Dims()
	d := mat64(r, c)
	d.Copy(dout)
	l.A.grad(d.RawMatrix().Data, l.z, l.y)
	return d
}

// Params: none.
func (l *Act) Params() []*Param { return nil }

// Export writes the engine's activation operator.
func (l *Act) Export(e *Exporter, in string) (string, error) {
	op := map[Activation]string{ReLU: "Relu", LeakyReLU: "LeakyRelu", Sigmoid: "Sigmoid", Tanh: "Tanh", GELU: "Gelu"}[l.A]
	if op == "" {
		return in, nil
	}
	return e.Node("act", op, []string{in}), nil
}

// SoftmaxLayer is softmax over each row (the engine's Softmax, last axis),
// for models that need probabilities inside the graph; classifiers end in
// logits and SoftmaxCE instead, which is steadier.
type SoftmaxLayer struct {
	y *mat.Dense
}

// Forward computes softmax row by row.
func (l *SoftmaxLayer) Forward(in *Batch, train bool) *Batch {
	r, c := in.X.Dims()
	y := mat64(r, c)
	xd, yd := in.X.RawMatrix().Data, y.RawMatrix().Data
	for i := 0; i < r; i++ {
		softmax(yd[i*c:(i+1)*c], xd[i*c:(i+1)*c])
	}
	l.y = y
	out := *in
	out.X = y
	return &out
}

// Backward is dx = y ⊙ (dy − Σ_j dy_j·y_j) per row.
func (l *SoftmaxLayer) Backward(dout *mat.Dense) *mat.Dense {
	r, c := dout.Dims()
	dx := mat64(r, c)
	yd, dd, xd := l.y.RawMatrix().Data, dout.RawMatrix().Data, dx.RawMatrix().Data
	for i := 0; i < r; i++ {
		y, d := yd[i*c:(i+1)*c], dd[i*c:(i+1)*c]
		var s float64
		for j := range y {
			s += d[j] * y[j]
		}
		for j := range y {
			xd[i*c+j] = y[j] * (d[j] - s)
		}
	}
	return dx
}

// Params: none.
func (l *SoftmaxLayer) Params() []*Param { return nil }

// Export writes a Softmax node.
func (l *SoftmaxLayer) Export(e *Exporter, in string) (string, error) {
	return e.Node("softmax", "Softmax", []string{in}), nil
}
