package train

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Loss scores a model's output against targets. Eval returns the mean
// loss over the batch and, when grad is set, its gradient with respect to
// out (already divided by the batch's weight).
type Loss interface {
	Eval(out *mat.Dense, y []float64, grad bool) (float64, *mat.Dense)
}

// MSE is the mean squared error over every output (y row-major like out).
type MSE struct{}

// Eval is mean((out − y)²).
func (MSE) Eval(out *mat.Dense, y []float64, grad bool) (float64, *mat.Dense) {
	r, c := out.Dims()
	o := out.RawMatrix().Data
	if len(y) != r*c {
		panic(fmt.Sprintf("train: MSE: %d targets for %d outputs", len(y), r*c))
	}
	var s float64
	var g *mat.Dense
	var gd []float64
	if grad {
		g = mat64(r, c)
		gd = g.RawMatrix().Data
	}
	n := float64(r * c)
	for i, v := range o {
		d := v - y[i]
		s += d * d
		if grad {
			gd[i] = 2 * d / n
		}
	}
	return s / n, g
}

// SigmoidBCE is binary cross-entropy on logits (one output column; the
// model's export ends in a sigmoid). PosWeight > 0 weighs positives (for
// imbalanced data), as PyTorch's pos_weight.
type SigmoidBCE struct{ PosWeight float64 }

// Eval is mean(−w·y·log σ(z) − (1−y)·log(1−σ(z))).
func (l SigmoidBCE) Eval(out *mat.Dense, y []float64, grad bool) (float64, *mat.Dense) {
	r, c := out.Dims()
	if c != 1 || len(y) != r {
		panic(fmt.Sprintf("train: SigmoidBCE: output %d×%d, %d targets", r, c, len(y)))
	}
	pw := l.PosWeight
	if pw <= 0 {
		pw = 1
	}
	o := out.RawMatrix().Data
	var g *mat.Dense
	var gd []float64
	if grad {
		g = mat64(r, 1)
		gd = g.RawMatrix().Data
	}
	var s float64
	for i, z := range o {
		// log σ(z) = −softplus(−z), log(1−σ(z)) = −softplus(z).
		w := 1.0
		if y[i] > 0.5 {
			w = pw
		}
		s += w*y[i]*softplus(-z) + (1-y[i])*softplus(z)
		if grad {
			p := sigmoid(z)
			gd[i] = (w*y[i]*(p-1) + (1-y[i])*p) / float64(r)
		}
	}
	return s / float64(r), g
}

func softplus(x float64) float64 {
	if x > 30 {
		return x
	}
	return math.Log1p(math.Exp(x))
}

// SoftmaxCE is categorical cross-entropy on logits (the model's export
// ends in a softmax); y holds class indices. ClassWeights, when set, weigh
// each example by its class, normalised by the batch's total weight (as
// PyTorch's weighted mean).
type SoftmaxCE struct{ ClassWeights []float64 }

// Eval is Σ w_y·(−log softmax(z)_y) / Σ w_y.
func (l SoftmaxCE) Eval(out *mat.Dense, y []float64, grad bool) (float64, *mat.Dense) {
	r, c := out.Dims()
	if len(y) != r {
		panic(fmt.Sprintf("train: SoftmaxCE: %d rows, %d targets", r, len(y)))
	}
	o := out.RawMatrix().Data
	var g *mat.Dense
	var gd []float64
	if grad {
		g = mat64(r, c)
		gd = g.RawMatrix().Data
	}
	var s, wsum float64
	p := make([]float64, c)
	for i := 0; i < r; i++ {
		row := o[i*c : (i+1)*c]
		k := int(y[i])
		if k < 0 || k >= c {
			panic(fmt.Sprintf("train: SoftmaxCE: class %d of %d", k, c))
		}
		softmax(p, row)
		w := 1.0
		if l.ClassWeights != nil {
			w = l.ClassWeights[k]
		}
		s += -w * math.Log(max(p[k], 1e-300))
		wsum += w
		if grad {
			gr := gd[i*c : (i+1)*c]
			for j, v := range p {
				gr[j] = w * v
			}
			gr[k] -= w
		}
	}
	if wsum == 0 {
		wsum = 1
	}
	if grad {
		for i := range gd {
			gd[i] /= wsum
		}
	}
	return s / wsum, g
}

// softmax sets p = softmax(z).
func softmax(p, z []float64) {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = max(mx, v)
	}
	var sum float64
	for j, v := range z {
		p[j] = math.Exp(v - mx)
		sum += p[j]
	}
	for j := range p {
		p[j] /= sum
	}
}
