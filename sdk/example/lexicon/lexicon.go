// Package lexicon is the SDK's example plugin: review sentiment from two
// word lists, no model file, so the whole contract fits on one screen.
package lexicon

import (
	"context"
	"slices"
	"strings"
	"unicode"

	"github.com/edgerun/edgerun/sdk"
)

// Model scores text by counting words from two lists. It has no mutable
// state, so concurrent Infer calls are safe.
type Model struct{ good, bad map[string]bool }

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

// Describe says what the model takes and returns: texts in, a score in
// [-1, 1] and a label per text out.
func (m *Model) Describe(context.Context) (*sdk.Description, error) {
	return &sdk.Description{
		Name: "lexicon", Version: "1.0.0", Domain: "sentiment",
		Summary: "Example plugin: counts positive and negative words.",
		Inputs:  []sdk.TensorSpec{{Name: "text", Datatype: sdk.BYTES, Shape: []int64{-1}}},
		Outputs: []sdk.TensorSpec{
			{Name: "score", Datatype: sdk.FP32, Shape: []int64{-1}},
			{Name: "label", Datatype: sdk.BYTES, Shape: []int64{-1}},
		},
		Labels:     []string{"bad", "good"},
		Parameters: map[string]string{"neutral": "label for texts with no known word (default: good)"},
		Provenance: "hand-written word lists (sdk/example/lexicon)",
	}, nil
}

// Infer scores every text of the request: (good − bad) / words found.
func (m *Model) Infer(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	d, _ := m.Describe(ctx)
	if err := sdk.ValidateRequest(d, req); err != nil { // names, datatypes, shapes, sizes
		return nil, err // the host sees an invalid-input error with this message
	}
	neutral := "good"
	if v, ok := req.Parameters["neutral"]; ok {
		neutral = v
	}
	texts := req.Input("text").BYTES
	score := make([]float32, len(texts))
	label := make([][]byte, len(texts)) // BYTES data: one []byte per element
	for i, b := range texts {
		if strings.TrimSpace(string(b)) == "" {
			return nil, sdk.InvalidInputf("text %d is empty", i)
		}
		var good, bad int
		for _, w := range strings.FieldsFunc(strings.ToLower(string(b)), func(r rune) bool { return !unicode.IsLetter(r) }) {
			switch {
			case m.good[w]:
				good++
			case m.bad[w]:
				bad++
			}
		}
		l := neutral
		if good+bad > 0 {
			score[i] = float32(good-bad) / float32(good+bad)
			l = "good"
			if bad > good {
				l = "bad"
			}
		}
		label[i] = []byte(l)
	}
	// Answer with the request's id and the model's name, and only the
	// outputs asked for (req.Outputs; none: all).
	res := &sdk.InferResponse{ID: req.ID, ModelName: d.Name, ModelVersion: d.Version}
	shape := []int64{int64(len(texts))}
	for _, t := range []sdk.Tensor{
		{Name: "score", Datatype: sdk.FP32, Shape: shape, FP32: score},
		{Name: "label", Datatype: sdk.BYTES, Shape: shape, BYTES: label},
	} {
		if len(req.Outputs) == 0 || slices.Contains(req.Outputs, t.Name) {
			res.Outputs = append(res.Outputs, t)
		}
	}
	return res, nil
}

// Health reports the model ready: it has nothing that can fail.
func (m *Model) Health(context.Context) error { return nil }
