package main

import (
	"errors"
	"fmt"
	"math"

	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
	tokenize "github.com/edgerun/edgerun/runtime/text"
)

var errNoTokenizer = errors.New("the model has no tokenizer in its metadata (use --input or --csv)")

// textInput tokenizes s with the tokenizer the model's metadata describes
// into the model's single integer input, shape [1, max_len].
func textInput(m *engine.Model, s string) (*tensor.Tensor, error) {
	md := m.Meta.Tokenizer
	if md == nil {
		return nil, errNoTokenizer
	}
	if len(m.Inputs) != 1 || (m.Inputs[0].DType != tensor.I64 && m.Inputs[0].DType != tensor.I32) || len(m.Inputs[0].Shape) != 2 {
		return nil, fmt.Errorf("needs a model with one integer input of shape [?,T]; this one takes %s", inputNames(m.Inputs))
	}
	in := m.Inputs[0]
	for _, v := range []int64{md.MaxLen, md.NgramMin, md.NgramMax, md.Buckets} {
		if v < 0 || v > math.MaxInt32 {
			return nil, fmt.Errorf("the model's tokenizer metadata is out of range (max_len %d, n-grams %d..%d, %d buckets)",
				md.MaxLen, md.NgramMin, md.NgramMax, md.Buckets)
		}
	}
	cfg := tokenize.Config{Kind: md.Kind, Lowercase: md.Lowercase, MaxLen: int(md.MaxLen), Vocab: md.Vocab,
		Unknown: md.Unknown, Padding: md.Padding, NgramMin: int(md.NgramMin), NgramMax: int(md.NgramMax), Buckets: int(md.Buckets)}
	switch seq := in.Shape[1]; {
	case seq == -1:
	case cfg.MaxLen == 0:
		cfg.MaxLen = seq // pad or cut to the model's fixed length
	case cfg.MaxLen != seq:
		return nil, fmt.Errorf("the tokenizer's max_len %d does not fit the model's input %s %s", cfg.MaxLen, text(in.Name), intShapeText(in.Shape))
	}
	tok, err := tokenize.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("the model's tokenizer: %w", err)
	}
	ids := tok.Encode(nil, s)
	if len(ids) == 0 { // no limit and no token: one padding id
		ids = append(ids, tok.PadID())
	}
	t := &tensor.Tensor{DType: in.DType, Shape: tensor.Shape{1, len(ids)}}
	if in.DType == tensor.I32 {
		t.I32 = ids
		return t, nil
	}
	t.I64 = make([]int64, len(ids))
	for i, id := range ids {
		t.I64[i] = int64(id)
	}
	return t, nil
}
