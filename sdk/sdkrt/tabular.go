package sdkrt

import (
	"bytes"
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
	// Precomputed for Pre: a feature's index by name, its first column
	// in the encoding, and a categorical one's column of each category
	// (the first of a category listed twice, as features.Encoder).
	index  map[string]int
	canon  []int // the index of the first feature of feature i's name
	offset []int
	catCol []map[string]int
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
	t.index = make(map[string]int, len(t.feats))
	t.offset = make([]int, len(t.feats))
	t.canon = make([]int, len(t.feats))
	t.catCol = make([]map[string]int, len(t.feats))
	k := 0
	for i, f := range t.feats {
		if _, dup := t.index[f.Name]; !dup {
			t.index[f.Name] = i
		}
		t.canon[i] = t.index[f.Name]
		t.offset[i] = k
		if f.Kind != features.Categorical {
			k++
			continue
		}
		m := make(map[string]int, len(f.Categories))
		for j, c := range f.Categories {
			if _, dup := m[c]; !dup {
				m[c] = j
			}
		}
		t.catCol[i] = m
		k += len(f.Categories)
	}
	if w := em.Inputs[0].Shape[1]; w != t.enc.Width {
		return nil, fmt.Errorf("sdkrt: the model's features encode to %d columns, its input %q has %d", t.enc.Width, em.Inputs[0].Name, w)
	}
	return t, nil
}

// Specs are the request inputs: one per feature, FP32 [-1] for numeric
// ones and BYTES [-1] for categorical ones, with their categories (but
// features.MissingCategory, which a request sends as "NA").
func (t *Tabular) Specs() []sdk.TensorSpec { return cloneSpecs(t.specs) }

// Pre encodes the request's feature inputs into the model's input [n, W],
// as features.Encoder (Strict) encodes the text of a row: a number as
// itself, NaN as the feature's imputed value, a category one-hot (a
// missing one as features.MissingCategory, when the feature has it).
func (t *Tabular) Pre(req *sdk.InferRequest) ([]*tensor.Tensor, error) {
	// The request's input of each feature name: inputs[t.canon[i]] is
	// feature i's index in req.Inputs plus one, 0 when none. On the
	// stack for the usual few features.
	var buf [64]int
	var inputs []int
	if len(t.feats) > len(buf) {
		inputs = make([]int, len(t.feats))
	} else {
		inputs = buf[:len(t.feats)]
	}
	if len(req.Inputs) == 0 {
		return nil, Invalid("no inputs (the model takes %s)", specNames(t.specs))
	}
	for j := range req.Inputs {
		name := req.Inputs[j].Name
		if name == "" {
			return nil, Invalid("inputs[%d] has no name (the model takes %s)", j, specNames(t.specs))
		}
		i := j // inputs in the features' order are found at once
		if i < len(t.feats) && t.feats[i].Name == name {
			i = t.canon[i]
		} else {
			var ok bool
			if i, ok = t.index[name]; !ok {
				return nil, Invalid("the model has no input %q (it takes %s)", name, specNames(t.specs))
			}
		}
		if inputs[i] != 0 {
			return nil, Invalid("input %q is given twice", name)
		}
		inputs[i] = j + 1
	}
	n := -1
	for i, f := range t.feats {
		if inputs[t.canon[i]] == 0 {
			var missing []string
			for g, h := range t.feats {
				if inputs[t.canon[g]] == 0 {
					missing = append(missing, h.Name)
				}
			}
			return nil, Invalid("missing feature input%s %s (send \"NA\" or NaN for an unknown value, which is imputed)", plural(len(missing)), quoteList(missing, 8))
		}
		in := &req.Inputs[inputs[t.canon[i]]-1]
		rows, err := column(in)
		if err != nil {
			return nil, err
		}
		if n >= 0 && rows != n {
			return nil, Invalid("input %q has %d rows, input %q has %d", f.Name, rows, t.feats[0].Name, n)
		}
		n = rows
		if err := t.check(i, in, rows); err != nil {
			return nil, err
		}
	}
	if n <= 0 {
		return nil, Invalid("the feature inputs have no rows")
	}
	w := t.enc.Width
	data := make([]float32, n*w)
	for i, f := range t.feats {
		in := &req.Inputs[inputs[t.canon[i]]-1]
		off := t.offset[i]
		if f.Kind != features.Categorical {
			impute := float32(f.Impute)
			for r, v := range in.FP32[:n] {
				if v != v { // NaN: missing
					v = impute
				}
				data[r*w+off] = v
			}
			continue
		}
		for r, b := range in.BYTES[:n] {
			b = bytes.TrimSpace(b)
			j, ok := t.catCol[i][string(b)]
			if missing(b) {
				j, ok = t.catCol[i][features.MissingCategory]
			}
			if ok {
				data[r*w+off+j] = 1
			}
		}
	}
	return []*tensor.Tensor{tensor.NewF32(tensor.Shape{n, w}, data)}, nil
}

// check checks feature i's input of rows values: its datatype, the
// number of values, finite numbers and known categories.
func (t *Tabular) check(i int, in *sdk.Tensor, rows int) error {
	f := t.feats[i]
	if f.Kind != features.Categorical {
		if in.Datatype != sdk.FP32 {
			return Invalid("input %q is a number: send FP32 (NaN for an unknown value), not %s", f.Name, datatypeText(in.Datatype))
		}
		if len(in.FP32) != rows {
			return countError(in, rows, len(in.FP32))
		}
		for r, v := range in.FP32 {
			if math.IsInf(float64(v), 0) {
				return Invalid("input %q: row %d is %v, not a finite number", f.Name, r, v)
			}
		}
		return nil
	}
	if in.Datatype != sdk.BYTES {
		return Invalid("input %q is categorical: send BYTES (one of %s), not %s", f.Name, quoteList(f.Categories, 6), datatypeText(in.Datatype))
	}
	if len(in.BYTES) != rows {
		return countError(in, rows, len(in.BYTES))
	}
	for r, b := range in.BYTES {
		s := bytes.TrimSpace(b)
		if len(s) == 0 {
			return Invalid("input %q: row %d is empty (send \"NA\" for an unknown value)", f.Name, r)
		}
		if !missing(s) && !t.cats[i][string(s)] {
			return Invalid("input %q: row %d is %q, not a known category (%s)", f.Name, r, string(b), quoteList(f.Categories, 12))
		}
	}
	return nil
}

// missing is features.IsMissing of a field already trimmed, without
// making a string of it: only ASCII letters fold to those of the missing
// values' names.
func missing(b []byte) bool {
	for _, m := range []string{"", "na", "n/a", "?", "nan", "null"} {
		if len(b) == len(m) && bytes.EqualFold(b, []byte(m)) {
			return true
		}
	}
	return false
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
