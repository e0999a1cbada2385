// Package risk is the built-in credit-risk model: the features of a loan
// application (Lending Club) in, a risk score (the probability that the
// loan goes bad) and an approve/decline decision at a configurable
// threshold out. The model (model.erm, embedded) is edgetrain's tabular
// classifier trained on the bundled Lending Club sample with the bad loans
// weighted up (`make models` regenerates it).
package risk

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
const Name = "risk"

// Version is the plugin's version.
const Version = "1.0.0"

// DefaultThreshold is the risk score at or above which a loan is declined
// when the request has no threshold parameter. The model was trained
// with the bad loans weighted to balance the classes, so 0.5 is its
// balanced operating point (test: about 70 % of bad loans declined, 32 %
// of good ones).
const DefaultThreshold = 0.5

// Outputs.
const (
	OutScore    = "risk_score" // FP32 [n]: probability the loan goes bad
	OutDecision = "decision"   // BYTES [n]: approve or decline
)

const dataset = "data/fraud_risk/lending_club (Lending Club loan sample via modeldata, MIT)"

// New loads the embedded model and serves it: one input per loan feature
// (numbers as FP32, categories such as sub_grade "C4" as BYTES; NaN or
// "NA" is imputed), outputs "risk_score" and "decision" (parameter
// threshold, default 0.5).
func New() (sdk.Model, error) {
	em, err := sdkrt.Load(modelFile)
	if err != nil {
		return nil, err
	}
	tab, err := sdkrt.NewTabular(em)
	if err != nil {
		return nil, err
	}
	cls, err := sdkrt.NewClassifier(em)
	if err != nil {
		return nil, err
	}
	bad := slices.Index(cls.Labels, "bad")
	if bad < 0 {
		return nil, fmt.Errorf("risk: the model's labels %q have no \"bad\"", cls.Labels)
	}
	post := func(outs []*tensor.Tensor, req *sdk.InferRequest) (*sdk.InferResponse, error) {
		th, err := sdkrt.FloatParam(req, "threshold", DefaultThreshold, 0, 1)
		if err != nil {
			return nil, err
		}
		p, n, err := cls.Probabilities(outs)
		if err != nil {
			return nil, err
		}
		L := len(cls.Labels)
		score := make([]float32, n)
		decision := make([]string, n)
		for i := range n {
			score[i] = p[i*L+bad]
			decision[i] = "approve"
			if float64(score[i]) >= th {
				decision[i] = "decline"
			}
		}
		return &sdk.InferResponse{Outputs: []sdk.Tensor{
			sdkrt.FP32(OutScore, []int64{int64(n)}, score),
			sdkrt.BYTES(OutDecision, []int64{int64(n)}, decision),
		}}, nil
	}
	return sdkrt.New(em, sdkrt.Config{
		Name: Name, Version: Version, Domain: Name,
		Summary: "loan default risk from named application features → risk score (probability the loan goes bad) " +
			"and approve/decline at a threshold (a missing value, sent as NaN or \"NA\", is imputed as in training)",
		Provenance: sdkrt.Provenance(em, dataset),
		Inputs:     tab.Specs(),
		Outputs: []sdk.TensorSpec{
			{Name: OutScore, Datatype: sdk.FP32, Shape: []int64{-1}},
			{Name: OutDecision, Datatype: sdk.BYTES, Shape: []int64{-1}},
		},
		Labels:     []string{"approve", "decline"},
		Parameters: map[string]string{"threshold": fmt.Sprintf("risk score at or above which a loan is declined, 0 to 1 (default %g)", DefaultThreshold)},
		Pre:        tab.Pre,
		Post:       post,
	})
}
