package train

import (
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Param is a trainable tensor and its gradient, both row-major with the
// layout the engine's operator expects (a Dense weight is [out, in]).
type Param struct {
	Name  string
	Shape []int
	W, G  []float64
	// Decay: weight decay applies (weights, not biases or norms).
	Decay bool
}

// newParam makes a zeroed parameter.
func newParam(name string, decay bool, shape ...int) *Param {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &Param{Name: name, Shape: shape, W: make([]float64, n), G: make([]float64, n), Decay: decay}
}

// Mat views the parameter as rows × cols (its first dimension by the
// product of the rest).
func (p *Param) Mat() *mat.Dense {
	r := p.Shape[0]
	return mat.NewDense(r, len(p.W)/r, p.W)
}

// GradMat views the gradient like Mat.
func (p *Param) GradMat() *mat.Dense {
	r := p.Shape[0]
	return mat.NewDense(r, len(p.G)/r, p.G)
}

// glorot fills p with Glorot-uniform values for fanIn and fanOut.
func (p *Param) glorot(rng *rand.Rand, fanIn, fanOut int) {
	lim := sqrt(6 / float64(fanIn+fanOut))
	for i := range p.W {
		p.W[i] = (rng.Float64()*2 - 1) * lim
	}
}

// Batch is what flows between layers: a matrix of rows (examples, or
// examples × steps for sequences), or token ids for an embedding.
type Batch struct {
	// X holds one row per example (T = 0) or per step (row b·T + t).
	X *mat.Dense
	// IDs are the input of an Embedding, one per row of its output.
	IDs []int
	// B is the number of examples; T the steps of each (0: not a sequence).
	B, T int
	// Mask marks the valid steps of a sequence (len B·T, 1 or 0); nil
	// when every step is valid.
	Mask []float64
	// Pick, when set, names per row the one output column the loss
	// scores (−1: none), and PickDense computes only that column (an
	// output of one column). Knowledge tracing scores each step on the
	// next answer's skill alone.
	Pick []int
	// H and W > 0 mark a batch of B images of H×W pixels: X has B rows of
	// H·W·C values, channels last (see ToImage and Conv2D).
	H, W int
}

// Layer is one trainable (or parameter-free) stage of a model.
type Layer interface {
	// Forward computes the layer's output. train selects training
	// behaviour (caching for Backward, dropout).
	Forward(in *Batch, train bool) *Batch
	// Backward takes the gradient of the loss with respect to the last
	// Forward's output, adds the parameters' gradients to their G, and
	// returns the gradient with respect to its input X (nil when the
	// input is ids).
	Backward(dout *mat.Dense) *mat.Dense
	// Params lists the trainable parameters (none for activations).
	Params() []*Param
	// Export appends the layer's graph nodes reading the value named in
	// and returns the name of its output.
	Export(e *Exporter, in string) (string, error)
}

// Model is what Fit trains: a function of a batch to an output matrix
// (logits, probabilities' pre-activations or values) with a backward pass.
type Model interface {
	Forward(in *Batch, train bool) *mat.Dense
	Backward(dout *mat.Dense)
	Params() []*Param
}

// Sequential chains layers.
type Sequential struct {
	Layers []Layer
}

// NewSequential chains the layers in order.
func NewSequential(layers ...Layer) *Sequential { return &Sequential{Layers: layers} }

// Forward runs every layer.
func (s *Sequential) Forward(in *Batch, train bool) *mat.Dense {
	b := in
	for _, l := range s.Layers {
		b = l.Forward(b, train)
	}
	return b.X
}

// Backward runs the layers' backward passes in reverse.
func (s *Sequential) Backward(dout *mat.Dense) {
	d := dout
	for i := len(s.Layers) - 1; i >= 0 && d != nil; i-- {
		d = s.Layers[i].Backward(d)
	}
}

// Params lists every layer's parameters in order.
func (s *Sequential) Params() []*Param {
	var ps []*Param
	for _, l := range s.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// Export appends every layer's nodes, the first reading in, and returns
// the last output's name.
func (s *Sequential) Export(e *Exporter, in string) (string, error) {
	x := in
	for _, l := range s.Layers {
		var err error
		if x, err = l.Export(e, x); err != nil {
			return "", err
		}
	}
	return x, nil
}

// zeroGrads clears every gradient.
func zeroGrads(ps []*Param) {
	for _, p := range ps {
		clear(p.G)
	}
}

// mat64 is a new zeroed rows × cols matrix.
func mat64(rows, cols int) *mat.Dense { return mat.NewDense(rows, cols, nil) }
