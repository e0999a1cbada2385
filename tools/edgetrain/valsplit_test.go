package main

import (
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/tools/train"
)

// disagreeing is a Trained whose int8 export is useless on its validation
// split and as good as f32 on its test split: its "int8" model (unless
// node "dense" is kept f32) has the Dense weight negated. On Val (x = -2,
// -1, 1, 2; y = 0, 0, 1, 1) f32 ranks perfectly (AUC 1) and the negated
// model inversely (AUC 0): a drop of 100 points. On Test (x = -1, 1, -1,
// 1; y = 0, 0, 1, 1) both score AUC 0.5: no drop.
func disagreeing(t *testing.T) *train.Trained {
	t.Helper()
	set := func(x, y []float64) *train.EvalSet {
		in := make([]float32, len(x))
		for i, v := range x {
			in[i] = float32(v)
		}
		return &train.EvalSet{Y: y, Batches: [][]*tensor.Tensor{{tensor.NewF32(tensor.Shape{len(x), 1}, in)}}}
	}
	exp := func(int8 bool, keep map[string]bool) (*format.Model, error) {
		d := train.NewDense(rand.New(rand.NewPCG(1, 2)), 1, 1, train.Linear)
		d.W.W[0], d.B.W[0] = 1, 0
		if int8 && !keep["dense"] {
			d.W.W[0] = -1
		}
		e := train.NewExporter(false)
		e.M.Graph.Inputs = []format.ValueInfo{{Name: "x", DType: format.F32, Shape: []int64{-1, 1}}}
		out, err := train.NewSequential(d).Export(e, "x")
		if err != nil {
			return nil, err
		}
		e.Output(e.Node("sigmoid", "Sigmoid", []string{out}), 1)
		e.M.Metadata.Task = "test"
		return e.Finish()
	}
	return &train.Trained{Kind: train.Binary, Labels: []string{"no", "yes"}, MetricName: "roc_auc", Export: exp,
		Quantizable: []string{"dense"},
		Val:         set([]float64{-2, -1, 1, 2}, []float64{0, 0, 1, 1}),
		Test:        set([]float64{-1, 1, -1, 1}, []float64{0, 0, 1, 1})}
}

// TestQuantizeDecidesOnValidation: fit's int8 fallback measures the drop
// on the validation split, not the test split. With a Trained whose
// splits disagree, the layer is kept f32 (the validation drop is 100
// points) although the test split shows none; the figures returned are
// the test split's.
func TestQuantizeDecidesOnValidation(t *testing.T) {
	tr := disagreeing(t)
	f32m, err := tr.Export(false, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The premise: on the test split int8 costs nothing.
	q, _ := tr.Export(true, nil)
	a, _, err := tr.Score(f32m)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := tr.Score(q)
	if err != nil {
		t.Fatal(err)
	}
	if d := metricDrop("roc_auc", a, b); d != 0 {
		t.Fatalf("premise: test drop %v, want 0", d)
	}
	c := &fitCmd{MaxDrop: 1}
	_, met, kept, err := c.quantize(tr, f32m, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(kept, []string{"dense"}) {
		t.Errorf("kept f32 %v, want [dense] (decided on validation)", kept)
	}
	if met["roc_auc"] != 0.5 {
		t.Errorf("reported %v, want the test split's roc_auc 0.5", met)
	}
	// Without --force and with nothing left to keep, the refusal names the
	// validation split.
	tr.Quantizable = nil
	if _, _, _, err := c.quantize(tr, f32m, io.Discard); err == nil {
		t.Error("int8 losing 100 validation points with no fallback was accepted")
	}
}

// TestQuantizeNeedsValidation: a Trained without a validation split is
// refused (ErrNoValidation), not silently decided on the test split.
func TestQuantizeNeedsValidation(t *testing.T) {
	tr := disagreeing(t)
	tr.Val = nil
	f32m, err := tr.Export(false, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = (&fitCmd{MaxDrop: 1}).quantize(tr, f32m, io.Discard)
	if !errors.Is(err, train.ErrNoValidation) {
		t.Errorf("err %v, want ErrNoValidation", err)
	}
}
