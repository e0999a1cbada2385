// Package intent is the built-in customer-service intent model: a banking
// customer's query in, the top-k of 77 intents with probabilities out.
// The model (model.erm, embedded) is edgetrain's text classifier trained
// on the bundled BANKING77 data (`make models` regenerates it).
//
// Out of scope: the model has a 78th class, OutOfScope ("_other_"),
// trained on out-of-domain text (greetings, chit-chat, weather, sports,
// cooking, other products' support: data/intent/out_of_scope/train.txt,
// and restaurant and movie review sentences: reviews.txt; `edgetrain fit
// --other`). Text outside banking gets label "_other_" with that class's
// probability as its score; "_other_" also ranks in top_k like any
// intent. With out-of-scope as the positive class, on the 60 held-out
// out-of-domain lines (heldout.txt) and the 3080 BANKING77 test queries,
// detection has precision 0.977 and recall 0.717 (TestOutOfScope): about
// one out-of-domain query in four still gets a banking intent.
package intent

import (
	_ "embed"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdkrt"
)

//go:embed model.erm
var modelFile []byte

// Name is the plugin's name and domain.
const Name = "intent"

// Version is the plugin's version.
const Version = "1.0.0"

// OutOfScope is the label of text outside the banking domain.
const OutOfScope = "_other_"

// DefaultTopK is the number of intents returned without a top_k parameter.
const DefaultTopK = 3

const dataset = "data/intent/banking77 (BANKING77, PolyAI, CC BY 4.0)"

// New loads the embedded model and serves it: input "text" (BYTES, one
// query per row), outputs "label", "probabilities" ([n, 78]: the 77
// intents and OutOfScope),
// "top_k_labels" and "top_k_scores" ([n, k], parameter top_k, default 3).
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
	cls.TopK = DefaultTopK
	return sdkrt.New(em, sdkrt.Config{
		Name: Name, Version: Version, Domain: Name,
		Summary: "banking customer-service intent: query text → top-k of 77 intents with probabilities (int8); " +
			"text outside banking (greetings, chit-chat, other topics) is labelled \"" + OutOfScope + "\" (out of scope) with its probability",
		Provenance: sdkrt.Provenance(em, dataset),
		Inputs:     []sdk.TensorSpec{txt.Spec()},
		Outputs:    cls.Specs(),
		Parameters: cls.Parameters(),
		Pre:        txt.Pre,
		Post:       cls.Post,
	})
}
