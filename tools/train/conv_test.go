package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
	"gonum.org/v1/gonum/mat"
)

// seqBatch is a random sequence batch of bn examples × tl steps × c
// channels, with mask (nil: none).
func seqBatch(rng *rand.Rand, bn, tl, c int, mask []float64) *Batch {
	x := make([]float64, bn*tl*c)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return &Batch{X: mat.NewDense(bn*tl, c, x), B: bn, T: tl, Mask: mask}
}

// seqTargets is n random MSE targets.
func seqTargets(rng *rand.Rand, n int) []float64 {
	y := make([]float64, n)
	for i := range y {
		y[i] = rng.NormFloat64()
	}
	return y
}

// seqCheckGrads runs GradCheck on the layers (parameters) and compares
// the input gradient with central differences, under MSE against random
// targets; it fails the test above tol (paramTol for the parameters).
func seqCheckGrads(t *testing.T, name string, rng *rand.Rand, layers []Layer, b *Batch, tol float64) {
	seqCheckGradsTol(t, name, rng, layers, b, tol, tol)
}

// seqCheckGradsTol is seqCheckGrads with its own tolerance for the
// parameters.
func seqCheckGradsTol(t *testing.T, name string, rng *rand.Rand, layers []Layer, b *Batch, tol, paramTol float64) {
	t.Helper()
	m := NewSequential(layers...)
	r, c := m.Forward(b, true).Dims()
	y := seqTargets(rng, r*c)
	if len(m.Params()) > 0 {
		if e := GradCheck(m, MSE{}, b, y, 60); e > paramTol {
			t.Errorf("%s: parameter gradient relative error %.3g", name, e)
		}
	}
	// Input gradient: the backward pass's dX against differences of X.
	worst := InputGradCheck(m, MSE{}, b, y, 80)
	if worst > tol {
		t.Errorf("%s: input gradient relative error %.3g", name, worst)
	}
}

// seqEngineRun exports the layers (input "x" [-1, T, C] and, with a mask,
// "mask" [-1, T]), runs the file through the device engine on b and
// returns the host's and the engine's outputs.
func seqEngineRun(t *testing.T, layers []Layer, b *Batch, int8 bool) (host []float64, dev []float32) {
	t.Helper()
	m := NewSequential(layers...)
	out := m.Forward(b, false)
	hostB := b
	for _, l := range layers { // the output's step count
		hostB = l.Forward(hostB, false)
	}
	_, c := b.X.Dims()
	e := NewExporter(int8)
	e.M.Graph.Inputs = []format.ValueInfo{{Name: "x", DType: format.F32, Shape: []int64{-1, int64(b.T), int64(c)}}}
	if b.Mask != nil {
		e.M.Graph.Inputs = append(e.M.Graph.Inputs, format.ValueInfo{Name: "mask", DType: format.F32, Shape: []int64{-1, int64(b.T)}})
	}
	y, err := m.Export(e, "x")
	if err != nil {
		t.Fatal(err)
	}
	_, oc := out.Dims()
	shape := []int64{-1, int64(oc)}
	if hostB.T > 0 {
		shape = []int64{-1, int64(hostB.T), int64(oc)}
	}
	e.M.Graph.Outputs = []format.ValueInfo{{Name: y, DType: format.F32, Shape: shape}}
	e.M.Metadata.Task = "test"
	fm, err := e.Finish()
	if err != nil {
		t.Fatal(err)
	}
	em, err := engine.Load(fm)
	if err != nil {
		t.Fatal(err)
	}
	s := em.NewSession()
	defer s.Close()
	ins := []*tensor.Tensor{tensor.NewF32(tensor.Shape{b.B, b.T, c}, f32(seqData(b.X)))}
	if b.Mask != nil {
		ins = append(ins, tensor.NewF32(tensor.Shape{b.B, b.T}, f32(b.Mask)))
	}
	res, err := s.Run(ins)
	if err != nil {
		t.Fatal(err)
	}
	return seqData(out), append([]float32(nil), res[0].F32...)
}

// seqCheckExport fails unless the engine's f32 output matches the host's
// within tol.
func seqCheckExport(t *testing.T, name string, layers []Layer, b *Batch, tol float64) {
	t.Helper()
	host, dev := seqEngineRun(t, layers, b, false)
	if len(host) != len(dev) {
		t.Fatalf("%s: host gives %d values, engine %d", name, len(host), len(dev))
	}
	worst := 0.0
	for i, v := range host {
		worst = max(worst, math.Abs(v-float64(dev[i])))
	}
	if worst > tol {
		t.Errorf("%s: engine differs from host by %.3g", name, worst)
	}
}

// TestConv1DGradients: Conv1D over "same"/"valid" padding, strides,
// dilations and activations matches finite differences in its weights,
// bias and input.
func TestConv1DGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, pad := range []string{"same", "valid"} {
		for _, stride := range []int{1, 2} {
			for _, dil := range []int{1, 2} {
				for _, act := range []Activation{Linear, Tanh, GELU} {
					kw := 3
					if stride == 2 {
						kw = 4 // even width: "same" pads unevenly
					}
					l := NewConv1D(rng, 3, 4, kw, pad, stride, dil, act)
					name := fmt.Sprintf("pad=%s,stride=%d,dil=%d,%v", pad, stride, dil, act)
					seqCheckGrads(t, name, rng, []Layer{l}, seqBatch(rng, 2, 9, 3, nil), 1e-6)
				}
			}
		}
	}
}

// TestPoolGradients: MaxPool1D (overlapping and not) and the masked and
// unmasked GlobalAveragePool1D pass their gradients back exactly.
func TestPoolGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	mask := []float64{1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 1, 0, 1}
	for _, tc := range []struct {
		name   string
		layers []Layer
		mask   []float64
	}{
		{"maxpool2", []Layer{NewMaxPool1D(2, 0)}, nil},
		{"maxpool3/1", []Layer{NewMaxPool1D(3, 1)}, nil},
		{"gap", []Layer{&GlobalAveragePool1D{}}, nil},
		{"gap-masked", []Layer{&GlobalAveragePool1D{MaskName: "mask"}}, mask},
		{"conv-pool-conv-gap", []Layer{NewConv1D(rng, 3, 5, 3, "same", 1, 1, Tanh), NewMaxPool1D(2, 2),
			NewConv1D(rng, 5, 4, 3, "same", 1, 1, GELU), &GlobalAveragePool1D{}, NewDense(rng, 4, 2, Linear)}, nil},
	} {
		seqCheckGrads(t, tc.name, rng, tc.layers, seqBatch(rng, 2, 8, 3, tc.mask), 1e-6)
	}
}

// TestConv1DExport: Conv1D, MaxPool1D and GlobalAveragePool1D exported f32
// and run by the engine give the host's outputs within 1e-4, for every
// padding, stride, dilation and fused activation, masked and not.
func TestConv1DExport(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, pad := range []string{"same", "valid"} {
		for _, stride := range []int{1, 2, 3} {
			for _, dil := range []int{1, 2} {
				for _, act := range []Activation{Linear, ReLU, LeakyReLU, Sigmoid, Tanh, GELU} {
					for _, kw := range []int{1, 3, 4} {
						l := NewConv1D(rng, 3, 5, kw, pad, stride, dil, act)
						for i := range l.B.W {
							l.B.W[i] = rng.NormFloat64() * 0.1
						}
						name := fmt.Sprintf("kw=%d,pad=%s,stride=%d,dil=%d,%v", kw, pad, stride, dil, act)
						seqCheckExport(t, name, []Layer{l}, seqBatch(rng, 3, 11, 3, nil), 1e-4)
					}
				}
			}
		}
	}
	mask := []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 1}
	for _, tc := range []struct {
		name   string
		layers []Layer
		mask   []float64
	}{
		{"maxpool2", []Layer{NewMaxPool1D(2, 0)}, nil},
		{"maxpool3/2", []Layer{NewMaxPool1D(3, 2)}, nil},
		{"gap", []Layer{&GlobalAveragePool1D{}}, nil},
		{"gap-masked", []Layer{&GlobalAveragePool1D{MaskName: "mask"}}, mask},
		{"conv-pool-conv-gap-dense", []Layer{NewConv1D(rng, 3, 8, 5, "same", 1, 1, ReLU), NewMaxPool1D(2, 0),
			NewConv1D(rng, 8, 8, 3, "same", 1, 2, ReLU), &GlobalAveragePool1D{}, NewDense(rng, 8, 3, Linear)}, nil},
	} {
		seqCheckExport(t, tc.name, tc.layers, seqBatch(rng, 3, 8, 3, tc.mask), 1e-4)
	}
}
