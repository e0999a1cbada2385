package sdkrt

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/features"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/sdk"
)

// Tabular is the pre-processing of a tabular model: one request input per
// feature of the model's metadata, named like it, of shape [n] (one value
// per row, 1 ≤ n ≤ MaxBatch, the same n for all). A numeric feature
// takes FP32 values (NaN is a missing value), a categorical feature BYTES
// (one of its categories). Missing values (NaN; "NA", "?", "null", ...)
// are imputed as the trainer did (runtime/features); a missing input, an
// infinite number, an empty string or a category the model never saw is
// an error.
type Tabular struct {
	feats []features.Feature
	enc   *features.Encoder
	cats  []map[string]bool
	specs []sdk.TensorSpec
}

// NewTabular prepares the tabular pre-processing of em, whose single input
// must be f32 [?, W] with W the width of its features' encoding.
func NewTabular(em *engine.Model) (*Tabular, error) {
	if len(em.Meta.Features) == 0 {
		return nil, fmt.Errorf("sdkrt: the model has no features in its metadata")
	}
	if len(em.Inputs) != 1 || em.Inputs[0].DType != tensor.F32 || len(em.Inputs[0].Shape) != 2 {
		return nil, fmt.Errorf("sdkrt: a tabular model takes one f32 input [?,W], this one %s", specNames(ModelInputs(em)))
	}
	t := &Tabular{}
	for _, f := range em.Meta.Features {
		ff := features.Feature{Name: f.Name, Kind: f.Kind, Impute: f.Impute, Categories: f.Categories}
		t.feats = append(t.feats, ff)
		spec := sdk.TensorSpec{Name: f.Name, Datatype: sdk.FP32, Shape: []int64{-1}}
		var cats map[string]bool
		if f.Kind == features.Categorical {
			spec.Datatype = sdk.BYTES
			cats = make(map[string]bool, len(f.Categories))
			for _, c := range f.Categories {
				cats[c] = true
				if c != features.MissingCategory { // sent as "NA", not by name
					spec.Categories = append(spec.Categories, c)
				}
			}
		}
		t.cats = append(t.cats, cats)
		t.specs = append(t.specs, spec)
	}
	t.enc = features.NewEncoder(t.feats)
	t.enc.Strict = true
	if w := em.Inputs[0].Shape[1]; w != t.enc.Width {
		return nil, fmt.Errorf("sdkrt: the model's features encode to %d columns, its input %q has %d", t.enc.Width, em.Inputs[0].Name, w)
	}
	return t, nil
}

// Specs are the request inputs: one per feature, FP32 [-1] for numeric
// ones and BYTES [-1] for categorical ones, with their categories (but
// features.MissingCategory, which a request sends as "NA").
func (t *Tabular) Specs() []sdk.TensorSpec { return cloneSpecs(t.specs) }

// Pre encodes the request's feature inputs into the model's input [n, W].
func (t *Tabular) Pre(req *sdk.InferRequest) ([]*tensor.Tensor, error) {
	if err := onlyInputs(req, t.specs); err != nil {
		return nil, err
	}
	n := -1
	cols := make([][]string, len(t.feats))
	for i, f := range t.feats {
		in := req.Input(f.Name)
		if in == nil {
			var missing []string
			for _, g := range t.feats {
				if req.Input(g.Name) == nil {
					missing = append(missing, g.Name)
				}
			}
			return nil, Invalid("missing feature input%s %s (send \"NA\" or NaN for an unknown value, which is imputed)", plural(len(missing)), quoteList(missing, 8))
		}
		rows, err := column(in)
		if err != nil {
			return nil, err
		}
		if n >= 0 && rows != n {
			return nil, Invalid("input %q has %d rows, input %q has %d", f.Name, rows, t.feats[0].Name, n)
		}
		n = rows
		if cols[i], err = t.fieldText(i, in); err != nil {
			return nil, err
		}
	}
	if n == 0 {
		return nil, Invalid("the feature inputs have no rows")
	}
	row := make([]string, len(t.feats))
	idx := make([]int, len(t.feats))
	for i := range idx {
		idx[i] = i
	}
	enc := make([]float64, t.enc.Width)
	data := make([]float32, 0, n*t.enc.Width)
	for r := range n {
		for i := range t.feats {
			row[i] = cols[i][r]
		}
		if err := t.enc.Encode(enc, row, idx); err != nil {
			return nil, Invalid("row %d: %v", r, err)
		}
		for _, v := range enc {
			data = append(data, float32(v))
		}
	}
	return []*tensor.Tensor{tensor.NewF32(tensor.Shape{n, t.enc.Width}, data)}, nil
}

// fieldText converts feature i's input into the text fields the encoder
// reads, checking datatypes and categories.
func (t *Tabular) fieldText(i int, in *sdk.Tensor) ([]string, error) {
	f := t.feats[i]
	if f.Kind != features.Categorical {
		if in.Datatype != sdk.FP32 {
			return nil, Invalid("input %q is a number: send FP32 (NaN for an unknown value), not %s", f.Name, datatypeText(in.Datatype))
		}
		_, n, err := checkShape(in)
		if err != nil {
			return nil, err
		}
		if len(in.FP32) != n {
			return nil, countError(in, n, len(in.FP32))
		}
		out := make([]string, n)
		for r, v := range in.FP32 {
			switch {
			case math.IsNaN(float64(v)):
				out[r] = "NaN"
			case math.IsInf(float64(v), 0):
				return nil, Invalid("input %q: row %d is %v, not a finite number", f.Name, r, v)
			default:
				out[r] = strconv.FormatFloat(float64(v), 'g', -1, 32)
			}
		}
		return out, nil
	}
	if in.Datatype != sdk.BYTES {
		return nil, Invalid("input %q is categorical: send BYTES (one of %s), not %s", f.Name, quoteList(f.Categories, 6), datatypeText(in.Datatype))
	}
	out, err := Strings(in)
	if err != nil {
		return nil, err
	}
	for r, s := range out {
		if strings.TrimSpace(s) == "" {
			return nil, Invalid("input %q: row %d is empty (send \"NA\" for an unknown value)", f.Name, r)
		}
		if !features.IsMissing(s) && !t.cats[i][strings.TrimSpace(s)] {
			return nil, Invalid("input %q: row %d is %q, not a known category (%s)", f.Name, r, s, quoteList(f.Categories, 12))
		}
	}
	return out, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// quoteList quotes up to max items, then says how many there are.
func quoteList(items []string, limit int) string {
	var b strings.Builder
	for i, s := range items {
		if i == limit {
			fmt.Fprintf(&b, ", … (%d in all)", len(items))
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(s))
	}
	return b.String()
}
