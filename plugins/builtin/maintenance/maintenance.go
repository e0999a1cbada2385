// Package maintenance is the built-in predictive-maintenance model: a
// window of machine sensor readings (vibration x, vibration y, motor
// current; 128 steps) in, normal or anomaly with an anomaly score and the
// most likely condition (healthy, bearing fault, imbalance) out. The model
// (model.erm, embedded) is edgetrain's sensor classifier trained on
// SYNTHETIC windows from `edgetrain datasets sensor` (`make models`
// regenerates both): it shows the pipeline, it knows no real machine.
package maintenance

import (
	_ "embed"
	"fmt"
	"slices"

	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdkrt"
)

//go:embed model.erm
var modelFile []byte

// Name is the plugin's name and domain.
const Name = "maintenance"

// Version is the plugin's version.
const Version = "1.0.0"

// DefaultThreshold is the anomaly score at or above which a window is an
// anomaly when the request has no threshold parameter.
const DefaultThreshold = 0.5

// Input and outputs.
const (
	InWindow       = "window"        // FP32 [channels, steps] or [n, channels, steps]
	OutLabel       = "label"         // BYTES [n]: normal or anomaly
	OutScore       = "anomaly_score" // FP32 [n]: 1 − p(healthy)
	OutCondition   = "condition"     // BYTES [n]: the most likely class
	OutProbability = "probabilities" // FP32 [n, classes]
)

const dataset = "SYNTHETIC sensor windows (edgetrain datasets sensor --seed 1: seeded simulated vibration and current, healthy, bearing fault, imbalance)"

// New loads the embedded model and serves it.
func New() (sdk.Model, error) {
	em, err := sdkrt.Load(modelFile)
	if err != nil {
		return nil, err
	}
	win, err := sdkrt.NewWindow(em, InWindow)
	if err != nil {
		return nil, err
	}
	cls, err := sdkrt.NewClassifier(em)
	if err != nil {
		return nil, err
	}
	normalLabel, _ := sdkrt.Extra(em, "normal_label")
	normal := slices.Index(cls.Labels, normalLabel)
	if normal < 0 {
		return nil, fmt.Errorf("maintenance: the model's normal_label %q is not one of its labels %q", normalLabel, cls.Labels)
	}
	L := len(cls.Labels)
	post := func(outs []*tensor.Tensor, req *sdk.InferRequest) (*sdk.InferResponse, error) {
		th, err := sdkrt.FloatParam(req, "threshold", DefaultThreshold, 0, 1)
		if err != nil {
			return nil, err
		}
		p, n, err := cls.Probabilities(outs)
		if err != nil {
			return nil, err
		}
		score := make([]float32, n)
		label := make([]string, n)
		cond := make([]string, n)
		for i := range n {
			row := p[i*L : (i+1)*L]
			score[i] = 1 - row[normal]
			label[i] = "normal"
			if float64(score[i]) >= th {
				label[i] = "anomaly"
			}
			cond[i] = cls.Labels[sdkrt.TopK(row, 1)[0]]
		}
		return &sdk.InferResponse{Outputs: []sdk.Tensor{
			sdkrt.BYTES(OutLabel, []int64{int64(n)}, label),
			sdkrt.FP32(OutScore, []int64{int64(n)}, score),
			sdkrt.BYTES(OutCondition, []int64{int64(n)}, cond),
			sdkrt.FP32(OutProbability, []int64{int64(n), int64(L)}, p),
		}}, nil
	}
	return sdkrt.New(em, sdkrt.Config{
		Name: Name, Version: Version, Domain: Name,
		Summary: fmt.Sprintf("machine condition from a sensor window (%d channels %v × %d steps, channels first) → normal/anomaly, "+
			"anomaly score 1 − p(%s) and the most likely condition; trained on SYNTHETIC data", win.Channels, win.Names, win.Steps, normalLabel),
		Provenance: sdkrt.Provenance(em, dataset),
		Inputs:     []sdk.TensorSpec{win.Spec()},
		Outputs: []sdk.TensorSpec{
			{Name: OutLabel, Datatype: sdk.BYTES, Shape: []int64{-1}},
			{Name: OutScore, Datatype: sdk.FP32, Shape: []int64{-1}},
			{Name: OutCondition, Datatype: sdk.BYTES, Shape: []int64{-1}},
			{Name: OutProbability, Datatype: sdk.FP32, Shape: []int64{-1, int64(L)}},
		},
		Labels:     cls.Labels,
		Parameters: map[string]string{"threshold": fmt.Sprintf("anomaly score at or above which a window is an anomaly, 0 to 1 (default %g)", DefaultThreshold)},
		Pre:        win.Pre,
		Post:       post,
	})
}
