package pipeline

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/sdk"
)

// shapeModel describes one input of a given shape; it is never run.
type shapeModel struct{ shape []int64 }

func (m shapeModel) Describe(context.Context) (*sdk.Description, error) {
	return &sdk.Description{
		Inputs:  []sdk.TensorSpec{{Name: "window", Datatype: sdk.FP32, Shape: m.shape}},
		Outputs: []sdk.TensorSpec{{Name: "probabilities", Datatype: sdk.FP32, Shape: []int64{-1, 3}}},
		Labels:  []string{"bearing_fault", "healthy", "imbalance"},
	}, nil
}
func (shapeModel) Infer(context.Context, *sdk.InferRequest) (*sdk.InferResponse, error) {
	return nil, errors.New("not run")
}
func (shapeModel) Health(context.Context) error { return nil }

func stageFor(t *testing.T, shape []int64, extra string) (*stage, error) {
	t.Helper()
	y := strings.Replace(goodYAML, "  erm: model.erm\n", "  serve: m\n"+extra, 1)
	y = strings.Replace(y, "size: 128\n  hop: 64", "size: 4\n  hop: 4", 1)
	y = strings.Replace(y, "output: anomaly_score", "output: probabilities\n  column: healthy", 1)
	c, err := parse(t, y)
	if err != nil {
		t.Fatal(err)
	}
	return newStage(context.Background(), c, shapeModel{shape}, 3)
}

// TestLayout: a window goes to the model steps × channels or channels ×
// steps, as its input's shape says (or the file).
func TestLayout(t *testing.T) {
	w := &Window{Data: []float32{0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32}} // 4 steps × 3 channels
	s, err := stageFor(t, []int64{-1, 3, 4}, "")
	if err != nil {
		t.Fatal(err)
	}
	in := s.request(w).Inputs[0]
	if s.layout != ChannelsSteps || s.input != "window" || s.column != 1 || !slices.Equal(in.Shape, []int64{1, 3, 4}) ||
		!slices.Equal(in.FP32, []float32{0, 10, 20, 30, 1, 11, 21, 31, 2, 12, 22, 32}) {
		t.Errorf("channels × steps: layout %s input %s column %d, request %v %v", s.layout, s.input, s.column, in.Shape, in.FP32)
	}
	s, err = stageFor(t, []int64{-1, 4, 3}, "")
	if err != nil {
		t.Fatal(err)
	}
	if in := s.request(w).Inputs[0]; s.layout != StepsChannels || !slices.Equal(in.FP32, w.Data) {
		t.Errorf("steps × channels: layout %s request %v", s.layout, in.FP32)
	}
	if _, err := stageFor(t, []int64{-1, 128, 3}, ""); err == nil || !strings.Contains(err.Error(), `model.input: input "window" has shape [?,128,3]; the window is 4 steps × 3 channels`) {
		t.Errorf("wrong window size: %v", err)
	}
	if _, err := stageFor(t, []int64{-1, 4, 3}, "  layout: channels_steps\n"); err == nil {
		t.Error("layout channels_steps accepted for a [?,4,3] input and 4 steps × 3 channels")
	}
	if _, err := stageFor(t, []int64{-1, 4, 3}, "  input: x\n"); err == nil || !strings.Contains(err.Error(), `the model has no input "x"`) {
		t.Errorf("unknown input: %v", err)
	}
	// The rule's column picks one value of a response.
	s, _ = stageFor(t, []int64{-1, 4, 3}, "")
	v, _, err := s.value(&sdk.InferResponse{Outputs: []sdk.Tensor{{Name: "probabilities", Datatype: sdk.FP32, Shape: []int64{1, 3}, FP32: []float32{0.1, 0.7, 0.2}}}})
	if err != nil || v != float64(float32(0.7)) {
		t.Errorf("column healthy: %v %v", v, err)
	}
	if _, _, err := s.value(&sdk.InferResponse{Outputs: []sdk.Tensor{{Name: "probabilities", Datatype: sdk.FP32, Shape: []int64{1}, FP32: []float32{0.1}}}}); err == nil {
		t.Error("a column past the output's values was read")
	}
	if _, _, err := s.value(&sdk.InferResponse{Outputs: []sdk.Tensor{{Name: "probabilities", Datatype: sdk.BYTES, BYTES: [][]byte{{'a'}, {'b'}}}}}); err == nil {
		t.Error("a threshold rule read a text")
	}
}
