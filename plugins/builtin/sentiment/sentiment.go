// Package sentiment is the built-in review-sentiment model: English text
// in, good or bad with probabilities out. The model (model.erm, embedded)
// is edgetrain's text classifier trained on the bundled UCI labelled
// sentences (`make models` regenerates it).
//
// Besides the model's label, the plugin answers "sentiment": good, bad, or
// neutral when the probability of good is within NeutralBand of 0.5 (a
// text the model cannot decide) or when no word of the text is in the
// model's vocabulary (no evidence: "hello", or made-up words, are
// neutral whatever the probabilities).
package sentiment

import (
	_ "embed"
	"fmt"

	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/runtime/text"
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
const modelKind = "word embeddings → bidirectional LSTM; words seen once in training are unknown"

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
// neutral in the neutral zone, NeutralBand, or with no known word).
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
	unknown := noEvidence(txt.Tokenizer())
	return sdkrt.New(em, sdkrt.Config{
		Name: Name, Version: Version, Domain: Name,
		Summary: fmt.Sprintf("English review sentiment: text → label good or bad with probabilities [bad, good], and sentiment "+
			"good, bad or neutral (neutral when |P(good) − 0.5| < %g, undecided, or when no word of the text is in the vocabulary, "+
			"no evidence, such as \"hello\") "+
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
			texts, err := txt.Texts(req)
			if err != nil {
				return nil, err
			}
			if len(texts) != n {
				return nil, fmt.Errorf("sentiment: %d texts, %d answers", len(texts), n)
			}
			s := make([]string, n)
			for i := range n {
				s[i] = Sentiment(cls.Labels, p[2*i:2*i+2])
				if unknown(texts[i]) {
					s[i] = Neutral
				}
			}
			resp.Outputs = append(resp.Outputs, sdkrt.BYTES(OutSentiment, []int64{int64(n)}, s))
			return resp, nil
		},
	})
}

// noEvidence returns whether a text has no token of tok's vocabulary
// among those the model sees (the first MaxLen): every id is the unknown
// or the padding id. A tokenizer without an unknown id (hashed n-grams)
// has no vocabulary to check, so every text counts as evidence.
func noEvidence(tok *text.Tokenizer) func(string) bool {
	unk, pad := tok.UnknownID(), tok.PadID()
	return func(s string) bool {
		if unk < 0 {
			return false
		}
		for _, id := range tok.Encode(nil, s) {
			if id != unk && id != pad {
				return false
			}
		}
		return true
	}
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
