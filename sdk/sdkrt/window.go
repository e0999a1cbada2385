package sdkrt

import (
	"fmt"
	"math"

	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/sdk"
)

// Window is the pre-processing of a sensor-window model: an FP32 request
// input [n, channels, steps] (n windows, 1 ≤ n ≤ MaxBatch, each channel
// by channel as a sensor delivers them) into the model's channels-last
// input [n, steps, channels]. Every value must be finite.
type Window struct {
	// Input is the name of the request's FP32 input.
	Input string
	// Channels and Steps are the window's size; Names are the channels'
	// names from the model's metadata (may be empty).
	Channels, Steps int
	Names           []string
}

// NewWindow prepares the window pre-processing of em, whose single input
// must be f32 [?, steps, channels] with both sizes fixed. input names the
// request's FP32 input.
func NewWindow(em *engine.Model, input string) (*Window, error) {
	if len(em.Inputs) != 1 || em.Inputs[0].DType != tensor.F32 || len(em.Inputs[0].Shape) != 3 ||
		em.Inputs[0].Shape[1] <= 0 || em.Inputs[0].Shape[2] <= 0 {
		return nil, fmt.Errorf("sdkrt: a window model takes one f32 input [?,steps,channels], this one %s", specNames(ModelInputs(em)))
	}
	w := &Window{Input: input, Steps: em.Inputs[0].Shape[1], Channels: em.Inputs[0].Shape[2]}
	if len(em.Meta.Features) == w.Channels {
		for _, f := range em.Meta.Features {
			w.Names = append(w.Names, f.Name)
		}
	}
	return w, nil
}

// Spec is the request input: FP32 [-1, channels, steps].
func (w *Window) Spec() sdk.TensorSpec {
	return sdk.TensorSpec{Name: w.Input, Datatype: sdk.FP32, Shape: []int64{-1, int64(w.Channels), int64(w.Steps)}}
}

// Pre transposes the request's windows into the model's input.
func (w *Window) Pre(req *sdk.InferRequest) ([]*tensor.Tensor, error) {
	if err := onlyInputs(req, []sdk.TensorSpec{w.Spec()}); err != nil {
		return nil, err
	}
	in, err := Require(req, w.Input)
	if err != nil {
		return nil, err
	}
	if in.Datatype != sdk.FP32 {
		return nil, Invalid("input %q is %s, want FP32", w.Input, datatypeText(in.Datatype))
	}
	shape, size, err := checkShape(in)
	if err != nil {
		return nil, err
	}
	if len(shape) != 3 || shape[1] != w.Channels || shape[2] != w.Steps || shape[0] < 1 || shape[0] > MaxBatch {
		return nil, Invalid("input %q has shape %s, want [n,%d,%d] (n windows of channels %s × %d steps, 1 ≤ n ≤ %d)",
			w.Input, sdk.ShapeString(in.Shape), w.Channels, w.Steps, w.channelText(), w.Steps, MaxBatch)
	}
	n := shape[0]
	if len(in.FP32) != size {
		return nil, countError(in, size, len(in.FP32))
	}
	C, T := w.Channels, w.Steps
	out := tensor.NewF32(tensor.Shape{n, T, C}, nil)
	for b := range n {
		for c := range C {
			for s := range T {
				v := in.FP32[(b*C+c)*T+s]
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return nil, Invalid("input %q: window %d, channel %d, step %d is %v, not a finite number", w.Input, b, c, s, v)
				}
				out.F32[(b*T+s)*C+c] = v
			}
		}
	}
	return []*tensor.Tensor{out}, nil
}

func (w *Window) channelText() string {
	if len(w.Names) == 0 {
		return fmt.Sprint(w.Channels)
	}
	return fmt.Sprint(w.Names)
}
