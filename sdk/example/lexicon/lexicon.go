// Package lexicon is the example plugin of the edgerun SDK: a tiny
// review-sentiment model that needs no model file, only a word list, so
// the whole contract fits on one screen. Its command, cmd/lexicon, is a
// complete plugin binary; sdk/README.md walks through writing it.
//
// A real domain model would serve an .erm file through sdk/sdkrt instead
// (see plugins/builtin/sentiment); the contract is the same.
package lexicon

import (
	"context"
	"strings"
	"unicode"

	"github.com/edgerun/edgerun/sdk"
)

// Model scores text by counting words from two lists.
type Model struct {
	good, bad map[string]bool
}

// New returns the model.
func New() *Model {
	set := func(words string) map[string]bool {
		m := map[string]bool{}
		for _, w := range strings.Fields(words) {
			m[w] = true
		}
		return m
	}
	return &Model{
		good: set("good great excellent love loved amazing perfect nice best happy fantastic recommend works"),
		bad:  set("bad terrible awful hate hated worst poor broken disappointed waste refund useless slow"),
	}
}

// Describe says what the plugin takes and returns: one text in, a score
// and a label out.
func (m *Model) Describe(context.Context) (*sdk.Description, error) { return describe(), nil }

func describe() *sdk.Description {
	return &sdk.Description{
		Name: "lexicon", Version: "1.0.0", Domain: "sentiment",
		Summary:    "Example plugin: counts positive and negative words.",
		Inputs:     []sdk.TensorSpec{{Name: "text", Datatype: sdk.BYTES, Shape: []int64{-1}}},
		Outputs:    []sdk.TensorSpec{{Name: "score", Datatype: sdk.FP32, Shape: []int64{-1}}, {Name: "label", Datatype: sdk.BYTES, Shape: []int64{-1}}},
		Labels:     []string{"bad", "good"},
		Parameters: map[string]string{"neutral": "label for texts with no known word (default: good)"},
		Provenance: "hand-written word lists (sdk/example/lexicon)",
	}
}

// Infer scores every text of the request: (good − bad) / words seen.
func (m *Model) Infer(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	// The SDK checks names, datatypes, shapes and sizes against the
	// description (an invalid-input error the host sees as such).
	if err := sdk.ValidateRequest(describe(), req); err != nil {
		return nil, err
	}
	in := req.Input("text")
	neutral := "good"
	if v, ok := req.Parameters["neutral"]; ok {
		neutral = v
	}
	score := make([]float32, len(in.BYTES))
	label := make([][]byte, len(in.BYTES))
	for i, b := range in.BYTES {
		if len(strings.TrimSpace(string(b))) == 0 {
			return nil, sdk.InvalidInputf("text %d is empty", i)
		}
		var g, n int
		for _, w := range strings.FieldsFunc(strings.ToLower(string(b)), func(r rune) bool { return !unicode.IsLetter(r) }) {
			switch {
			case m.good[w]:
				g++
			case m.bad[w]:
				n++
			}
		}
		l := neutral
		if g+n > 0 {
			score[i] = float32(g-n) / float32(g+n)
			l = "good"
			if g < n {
				l = "bad"
			}
		}
		label[i] = []byte(l)
	}
	shape := []int64{int64(len(score))}
	res := &sdk.InferResponse{ID: req.ID, ModelName: "lexicon", ModelVersion: "1.0.0"}
	for _, t := range []sdk.Tensor{
		{Name: "score", Datatype: sdk.FP32, Shape: shape, FP32: score},
		{Name: "label", Datatype: sdk.BYTES, Shape: shape, BYTES: label},
	} {
		if wanted(req.Outputs, t.Name) {
			res.Outputs = append(res.Outputs, t)
		}
	}
	return res, nil
}

// wanted reports whether the request asks for output name (no list: all).
func wanted(outputs []string, name string) bool {
	if len(outputs) == 0 {
		return true
	}
	for _, o := range outputs {
		if o == name {
			return true
		}
	}
	return false
}

// Health: always ready.
func (m *Model) Health(context.Context) error { return nil }
