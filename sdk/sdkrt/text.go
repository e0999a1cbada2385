package sdkrt

import (
	"fmt"
	"math"
	"strings"

	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/runtime/text"
	"github.com/edgerun/edgerun/sdk"
)

// MaxTextBytes bounds one text of a request.
const MaxTextBytes = 64 << 10

// Text is the pre-processing of a text model: a BYTES input, one UTF-8
// string per row, tokenized with the tokenizer of the model's metadata
// into the model's single integer input [batch, T].
type Text struct {
	// Input is the name of the request's BYTES input.
	Input string
	tok   *text.Tokenizer
	in    engine.ValueInfo
}

// NewText prepares the text pre-processing of em, whose single input
// must be integer ids [?, T] and whose metadata must have a tokenizer.
// input names the request's BYTES input (e.g. "text").
func NewText(em *engine.Model, input string) (*Text, error) {
	md := em.Meta.Tokenizer
	if md == nil {
		return nil, fmt.Errorf("sdkrt: the model has no tokenizer in its metadata")
	}
	if len(em.Inputs) != 1 || (em.Inputs[0].DType != tensor.I64 && em.Inputs[0].DType != tensor.I32) || len(em.Inputs[0].Shape) != 2 {
		return nil, fmt.Errorf("sdkrt: a text model takes one integer input [?,T], this one %s", specNames(ModelInputs(em)))
	}
	in := em.Inputs[0]
	for _, v := range []int64{md.MaxLen, md.NgramMin, md.NgramMax, md.Buckets} {
		if v < 0 || v > math.MaxInt32 {
			return nil, fmt.Errorf("sdkrt: the model's tokenizer metadata is out of range")
		}
	}
	cfg := text.Config{Kind: md.Kind, Lowercase: md.Lowercase, MaxLen: int(md.MaxLen), Vocab: md.Vocab,
		Unknown: md.Unknown, Padding: md.Padding, NgramMin: int(md.NgramMin), NgramMax: int(md.NgramMax), Buckets: int(md.Buckets)}
	switch seq := in.Shape[1]; {
	case seq == -1:
	case cfg.MaxLen == 0:
		cfg.MaxLen = seq
	case cfg.MaxLen != seq:
		return nil, fmt.Errorf("sdkrt: the tokenizer's max_len %d does not fit the model's input %q [?,%d]", cfg.MaxLen, in.Name, seq)
	}
	tok, err := text.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("sdkrt: the model's tokenizer: %w", err)
	}
	return &Text{Input: input, tok: tok, in: in}, nil
}

// Tokenizer returns the model's tokenizer (the sentiment plugin checks
// with it whether a text has any known word).
func (t *Text) Tokenizer() *text.Tokenizer { return t.tok }

// Spec is the request input: BYTES [-1], one text per row.
func (t *Text) Spec() sdk.TensorSpec {
	return sdk.TensorSpec{Name: t.Input, Datatype: sdk.BYTES, Shape: []int64{-1}}
}

// Pre reads the texts of the request's input and encodes them.
func (t *Text) Pre(req *sdk.InferRequest) ([]*tensor.Tensor, error) {
	if err := onlyInputs(req, []sdk.TensorSpec{t.Spec()}); err != nil {
		return nil, err
	}
	texts, err := t.Texts(req)
	if err != nil {
		return nil, err
	}
	return []*tensor.Tensor{t.Encode(texts)}, nil
}

// Texts reads and checks the texts of the request's input: BYTES of
// shape [n], 1 ≤ n ≤ MaxBatch, none empty or longer than
// MaxTextBytes.
func (t *Text) Texts(req *sdk.InferRequest) ([]string, error) {
	in, err := Require(req, t.Input)
	if err != nil {
		return nil, err
	}
	if _, err := column(in); err != nil {
		return nil, err
	}
	texts, err := Strings(in)
	if err != nil {
		return nil, err
	}
	if len(texts) == 0 {
		return nil, Invalid("input %q has no text", t.Input)
	}
	for i, s := range texts {
		switch {
		case strings.TrimSpace(s) == "":
			return nil, Invalid("input %q: text %d is empty", t.Input, i)
		case len(s) > MaxTextBytes:
			return nil, Invalid("input %q: text %d is %d bytes, at most %d are allowed", t.Input, i, len(s), MaxTextBytes)
		}
	}
	return texts, nil
}

// Encode tokenizes texts into the model's input [len(texts), T].
func (t *Text) Encode(texts []string) *tensor.Tensor {
	ids, seq := t.tok.EncodeBatch(nil, texts)
	if seq == 0 { // no length limit and no token at all: one padding id each
		seq = 1
		ids = make([]int32, len(texts))
		for i := range ids {
			ids[i] = t.tok.PadID()
		}
	}
	out := &tensor.Tensor{DType: t.in.DType, Shape: tensor.Shape{len(texts), seq}}
	if t.in.DType == tensor.I32 {
		out.I32 = ids
		return out
	}
	out.I64 = make([]int64, len(ids))
	for i, id := range ids {
		out.I64[i] = int64(id)
	}
	return out
}
