// Package diagnose is the built-in diagnosis model: the 30 cell-nucleus
// measurements of a breast mass (Wisconsin Diagnostic Breast Cancer) in,
// benign or malignant with probabilities out. The model (model.erm,
// embedded) is edgetrain's tabular classifier trained on the bundled WDBC
// data (`make models` regenerates it). It is a demonstration, not a
// medical device.
package diagnose

import (
	_ "embed"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdkrt"
)

//go:embed model.erm
var modelFile []byte

// Name is the plugin's name and domain.
const Name = "diagnose"

// Version is the plugin's version.
const Version = "1.0.0"

const dataset = "data/medical/breast_cancer_wdbc (Wisconsin Diagnostic Breast Cancer, UCI, CC BY 4.0)"

// New loads the embedded model and serves it: one FP32 input per feature
// (radius_mean, area_mean, …; NaN or "NA" is imputed with the training
// median), outputs "label" (benign or malignant) and "probabilities".
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
	return sdkrt.New(em, sdkrt.Config{
		Name: Name, Version: Version, Domain: Name,
		Summary: "breast mass diagnosis from 30 named cell-nucleus measurements → benign/malignant probabilities " +
			"(demonstration, not a medical device; a missing value, sent as NaN or \"NA\", is imputed with the training median)",
		Provenance: sdkrt.Provenance(em, dataset),
		Inputs:     tab.Specs(),
		Outputs:    cls.Specs(),
		Pre:        tab.Pre,
		Post:       cls.Post,
	})
}
