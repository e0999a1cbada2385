// Package sentiment is the built-in review-sentiment model: English text
// in, good or bad with probabilities out. The model (model.erm, embedded)
// is edgetrain's text classifier trained on the bundled UCI labelled
// sentences (`make models` regenerates it).
//
// Besides the model's label, the plugin answers "sentiment": good, bad, or
// neutral when the probability of good is within NeutralBand of 0.5 (the
// model was trained on good and bad sentences only, so a text that is
// neither, such as "hello", or one it cannot decide, lands near 0.5).
package sentiment

import (
	_ "embed"
	"fmt"

	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdkrt"
)

//go:embed model.erm
var modelFile []byte

// Name is the plugin's name and domain.
const Name = "sentiment"

// Version is the plugin's version.
const Version = "1.0.0"

// modelKind is the architecture of model.erm (tools/train/textcls).
const modelKind = "embeddings of words and word pairs averaged"

const dataset = "data/sentiment/uci_labelled_sentences (UCI labelled sentences: Amazon, Yelp and IMDb reviews, CC BY 4.0)"

// NeutralBand is the neutral zone: the "sentiment" output is neutral when
// |P(good) − 0.5| < NeutralBand, that is when neither label has a
// probability far from an even split (both lie between 0.4 and 0.6).
const NeutralBand = 0.1

// OutSentiment is the output that holds good, bad or neutral.
const OutSentiment = "sentiment"

// Neutral is the sentiment of a text in the neutral zone.
const Neutral = "neutral"

// New loads the embedded model and serves it: input "text" (BYTES, one
// review per row), outputs "label" (good or bad: the more probable),
// "probabilities" ([n, 2]: bad, good) and "sentiment" (good, bad, or
// neutral in the neutral zone, NeutralBand).
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
		Summary: fmt.Sprintf("English review sentiment: text → label good or bad with probabilities [bad, good], and sentiment "+
			"good, bad or neutral (neutral when |P(good) − 0.5| < %g: texts that are not reviews, such as \"hello\", or undecided) "+
			"(%s, int8)", NeutralBand, modelKind),
		Provenance: sdkrt.Provenance(em, dataset),
		Inputs:     []sdk.TensorSpec{txt.Spec()},
		Outputs:    append(cls.Specs(), sdk.TensorSpec{Name: OutSentiment, Datatype: sdk.BYTES, Shape: []int64{-1}}),
		Pre:        txt.Pre,
		Post: func(outs []*tensor.Tensor, req *sdk.InferRequest) (*sdk.InferResponse, error) {
			resp, err := cls.Post(outs, req)
			if err != nil {
				return nil, err
			}
			p, n, err := cls.Probabilities(outs)
			if err != nil {
				return nil, err
			}
			s := make([]string, n)
			for i := range n {
				s[i] = Sentiment(cls.Labels, p[2*i:2*i+2])
			}
			resp.Outputs = append(resp.Outputs, sdkrt.BYTES(OutSentiment, []int64{int64(n)}, s))
			return resp, nil
		},
	})
}

// Sentiment is labels' more probable label for the probabilities p of a
// two-label model, or Neutral when p[1] is within NeutralBand of 0.5.
func Sentiment(labels []string, p []float32) string {
	switch d := float64(p[1]) - 0.5; {
	case d > -NeutralBand && d < NeutralBand:
		return Neutral
	case d > 0:
		return labels[1]
	}
	return labels[0]
}
