// Package sentiment is the built-in review-sentiment model: English text
// in, good or bad with probabilities out. The model (model.erm, embedded)
// is edgetrain's text classifier trained on the bundled UCI labelled
// sentences (`make models` regenerates it).
package sentiment

import (
	_ "embed"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdkrt"
)

//go:embed model.erm
var modelFile []byte

// Name is the plugin's name and domain.
const Name = "sentiment"

// Version is the plugin's version.
const Version = "1.0.0"

const dataset = "data/sentiment/uci_labelled_sentences (UCI labelled sentences: Amazon, Yelp and IMDb reviews, CC BY 4.0)"

// New loads the embedded model and serves it: input "text" (BYTES, one
// review per row), outputs "label" (good or bad) and "probabilities"
// ([n, 2]: bad, good).
func New() (sdk.Model, error) {
	em, err := sdkrt.Load(modelFile)
	if err != nil {
		return nil, err
	}
	txt, err := sdkrt.NewText(em, "text")
	if err != nil {
		return nil, err
	}
	cls, err := sdkrt.NewClassifier(em)
	if err != nil {
		return nil, err
	}
	return sdkrt.New(em, sdkrt.Config{
		Name: Name, Version: Version, Domain: Name,
		Summary:    "English review sentiment: text → good or bad with probabilities (word embeddings averaged, int8)",
		Provenance: sdkrt.Provenance(em, dataset),
		Inputs:     []sdk.TensorSpec{txt.Spec()},
		Outputs:    cls.Specs(),
		Pre:        txt.Pre,
		Post:       cls.Post,
	})
}
