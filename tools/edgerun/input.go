package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/features"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/tools/internal/oip"
)

// Input decoding for `edgerun run`: Open Inference Protocol requests
// (--input, read by tools/internal/oip and mapped onto the model here)
// and CSV tables (--csv). Every error names what is wrong in the
// request, in terms of the model's inputs; none panics on hostile input.

// defaultMaxRequestBytes is the default of run --max-request-bytes: at
// two bytes per number ("1,"), the largest f32 tensor it allows is
// 128 MiB, which a 512 MiB device holds beside a model.
const defaultMaxRequestBytes = 64 << 20

// requestLimits bound what one request may cost: JSON (or CSV) bytes
// read, and elements of one input tensor.
type requestLimits = oip.Limits

// TooLargeError is a request (JSON, CSV or text) longer than the cap.
type TooLargeError = oip.TooLargeError

// maxRequestFlag is the flag that raises the byte cap.
const maxRequestFlag = "--max-request-bytes"

// defaultRequestLimits are run's defaults: 64 MiB of JSON, and no tensor
// larger than the format's element limit.
func defaultRequestLimits() requestLimits {
	return requestLimits{Bytes: defaultMaxRequestBytes, Elements: int(format.DefaultMaxElements), Flag: maxRequestFlag}
}

// runRequest is an inference request mapped onto a model.
type runRequest struct {
	id      string
	inputs  []*tensor.Tensor // in the model's input order
	outputs []int            // the model's outputs asked for, in the request's order; nil: all
}

// parseRequest decodes an inference request (oip.Decode) into one tensor
// per model input, in the model's input order. An input is refused as
// soon as its name, datatype or shape does not fit the model, before
// its data is read. A missing value (null, "NaN", "NA") is imputed where
// the model imputes (see imputes), and refused elsewhere. The request's
// "outputs" pick the outputs printed; run knows no parameters, so any
// is refused.
func parseRequest(r io.Reader, m *engine.Model, lim requestLimits) (*runRequest, error) {
	if lim.Flag == "" {
		lim.Flag = maxRequestFlag
	}
	given := make([]bool, len(m.Inputs))
	check := func(in *oip.Input) error {
		k := inputIndex(m.Inputs, in.Name)
		switch {
		case in.Name == "":
			return fmt.Errorf("inputs[%d] has no name (the model takes %s)", in.Index, inputNames(m.Inputs))
		case k < 0:
			return fmt.Errorf("the model has no input %q (it takes %s)", in.Name, inputNames(m.Inputs))
		case given[k]:
			return fmt.Errorf("input %q is given twice", in.Name)
		}
		given[k] = true
		if err := checkDatatype(in.Datatype, m.Inputs[k]); err != nil {
			return fmt.Errorf("%s: %w", in.Label(), err)
		}
		if len(in.Parameters) > 0 {
			return fmt.Errorf("%s: run takes no input parameters (%s)", in.Label(), oip.QuoteKeys(in.Parameters))
		}
		if in.HasShape {
			if _, err := oip.CheckShape(in.Shape, lim.Elements); err != nil {
				return fmt.Errorf("%s: %w", in.Label(), err)
			}
			if !fits(int64Shape(in.Shape), m.Inputs[k].Shape) {
				return fmt.Errorf("%s: shape %s does not fit the model's %s", in.Label(), oip.ShapeText(in.Shape), intShapeText(m.Inputs[k].Shape))
			}
		}
		return nil
	}
	req, err := oip.Decode(r, oip.Options{Limits: lim, Check: check})
	if err != nil {
		return nil, err
	}
	if len(req.Parameters) > 0 {
		return nil, fmt.Errorf("run takes no request parameters (%s)", oip.QuoteKeys(req.Parameters))
	}
	if len(req.Inputs) == 0 {
		return nil, fmt.Errorf(`no "inputs" in the request (the model takes %s)`, inputNames(m.Inputs))
	}
	var lacks []string
	for k, in := range m.Inputs {
		if !given[k] {
			lacks = append(lacks, strconv.Quote(in.Name))
		}
	}
	switch len(lacks) {
	case 0:
	case 1:
		return nil, fmt.Errorf("input %s is missing (the model takes %s)", lacks[0], inputNames(m.Inputs))
	default:
		return nil, fmt.Errorf("inputs %s are missing (the model takes %s)", strings.Join(lacks, ", "), inputNames(m.Inputs))
	}
	rr := &runRequest{id: req.ID, inputs: make([]*tensor.Tensor, len(m.Inputs))}
	for _, o := range req.Outputs {
		j := slices.IndexFunc(m.Outputs, func(v engine.ValueInfo) bool { return v.Name == o.Name })
		switch {
		case j < 0:
			return nil, fmt.Errorf("the model has no output %q (it has %s)", o.Name, inputNames(m.Outputs))
		case len(o.Parameters) > 0:
			return nil, fmt.Errorf("output %q: run takes no output parameters (%s)", o.Name, oip.QuoteKeys(o.Parameters))
		}
		rr.outputs = append(rr.outputs, j)
	}
	impute := imputes(m)
	for _, in := range req.Inputs {
		k := inputIndex(m.Inputs, in.Name)
		t, err := modelTensor(in, m.Inputs[k], impute)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", in.Label(), err)
		}
		rr.inputs[k] = t
	}
	return rr, nil
}

func int64Shape(s []int64) tensor.Shape {
	out := make(tensor.Shape, len(s))
	for i, d := range s {
		out[i] = int(d)
	}
	return out
}

// imputes returns, for a model that imputes a missing value of its
// input, the value imputed in each column: one f32 input [?,N] whose
// metadata has N numeric features, as --csv encodes them; nil for
// another model.
func imputes(m *engine.Model) []float32 {
	if len(m.Inputs) != 1 || m.Inputs[0].DType != tensor.F32 || len(m.Inputs[0].Shape) != 2 || m.Inputs[0].Shape[1] <= 0 {
		return nil
	}
	enc, feats := csvEncoder(m, m.Inputs[0].Shape[1])
	if enc == nil || len(feats) != m.Inputs[0].Shape[1] {
		return nil
	}
	out := make([]float32, len(feats))
	for i, f := range feats {
		if f.Kind == features.Categorical {
			return nil
		}
		out[i] = float32(f.Impute)
	}
	return out
}

// modelTensor turns a decoded input into the tensor of the model's
// input want, whose name, datatype and shape check (parseRequest) has
// accepted. impute is the model's imputed values, or nil.
func modelTensor(in *oip.Input, want engine.ValueInfo, impute []float32) (*tensor.Tensor, error) {
	shape := int64Shape(in.Shape)
	if !fits(shape, want.Shape) {
		return nil, fmt.Errorf("shape %s does not fit the model's %s", oip.ShapeText(in.Shape), intShapeText(want.Shape))
	}
	if i := in.FirstMissing(); i >= 0 {
		if impute == nil {
			return nil, fmt.Errorf("data[%d] is a missing value (null, \"NaN\" or \"NA\"), which only a tabular model (numeric features in its metadata) imputes", i)
		}
		for j, miss := range in.Missing {
			if miss {
				in.FP32[j] = impute[j%len(impute)]
			}
		}
	}
	t := &tensor.Tensor{DType: want.DType, Shape: shape}
	switch want.DType {
	case tensor.F32:
		t.F32 = nonNil(in.FP32)
	case tensor.I64:
		t.I64 = nonNil(in.INT64)
		if in.Datatype == oip.INT32 {
			t.I64 = make([]int64, len(in.INT32))
			for i, v := range in.INT32 {
				t.I64[i] = int64(v)
			}
		}
	case tensor.I32:
		t.I32 = nonNil(in.INT32)
		if in.Datatype == oip.INT64 {
			t.I32 = make([]int32, len(in.INT64))
			for i, v := range in.INT64 {
				if v != int64(int32(v)) {
					return nil, fmt.Errorf("data[%d] = %d is out of the INT32 range", i, v)
				}
				t.I32[i] = int32(v)
			}
		}
	}
	return t, nil
}

// checkDatatype checks a request datatype against the model's input.
func checkDatatype(dt string, want engine.ValueInfo) error {
	switch dt {
	case "":
		return errors.New(`"datatype" is missing (FP32, INT64 or INT32)`)
	case "FP32", "INT64", "INT32":
	default:
		return fmt.Errorf("datatype %q is not supported (FP32, INT64 or INT32)", dt)
	}
	isInt := dt != "FP32"
	switch want.DType {
	case tensor.F32:
		if isInt {
			return fmt.Errorf("datatype %s does not fit the model's f32 input (use FP32)", dt)
		}
	case tensor.I64, tensor.I32:
		if !isInt {
			return fmt.Errorf("datatype %s does not fit the model's %s input (use INT64 or INT32)", dt, want.DType)
		}
	default:
		return fmt.Errorf("the model's input is %s, which run cannot feed", want.DType)
	}
	return nil
}

func inputIndex(inputs []engine.ValueInfo, name string) int {
	for i, in := range inputs {
		if in.Name == name {
			return i
		}
	}
	return -1
}

// inputNames lists the model's inputs for error messages: x f32 [?,4].
func inputNames(inputs []engine.ValueInfo) string {
	parts := make([]string, len(inputs))
	for i, in := range inputs {
		parts[i] = fmt.Sprintf("%s %s %s", quoteIfNeeded(in.Name), in.DType, intShapeText(in.Shape))
	}
	return strings.Join(parts, ", ")
}

// fits reports whether a run-time shape fits a declared one, where -1 is
// any size.
func fits(shape tensor.Shape, want []int) bool {
	if len(shape) != len(want) {
		return false
	}
	for i, d := range want {
		if d != -1 && d != shape[i] {
			return false
		}
	}
	return true
}

// parseCSV reads a CSV table (readCSV) for a model with a single f32
// input: a table [?, N], one row per batch entry, or sensor windows
// [?, steps, channels], one window per row.
//
// A tabular model's columns are the features of its metadata (in that
// order without a header): numbers, with missing values ("", NA, NaN,
// ...) imputed, and categories one-hot, an unknown category an error;
// rows are encoded as the trainer prepared them and as the tabular
// plugins do (runtime/features). A model without feature metadata takes
// N finite numbers a row.
//
// A window model whose metadata names its channels (edgetrain's sensor
// models) takes the columns CHANNEL_tSTEP, as `edgetrain datasets sensor`
// writes them (vib_x_t0 … vib_x_t127, vib_y_t0 …): without a header, all
// steps of the first channel, then of the next, in the metadata's
// channel order. A missing value is imputed with the channel's training
// mean, as the trainer does.
func parseCSV(r io.Reader, m *engine.Model, lim requestLimits) (*tensor.Tensor, error) {
	var shape []int
	if len(m.Inputs) == 1 && m.Inputs[0].DType == tensor.F32 {
		shape = m.Inputs[0].Shape
	}
	switch {
	case len(shape) == 2 && shape[1] > 0:
		return tableCSV(r, m, shape[1], lim)
	case len(shape) == 3 && shape[1] > 0 && shape[2] > 0 && len(m.Meta.Features) == shape[2]:
		return windowCSV(r, m, shape[1], shape[2], lim)
	}
	return nil, fmt.Errorf("--csv needs a model with one f32 input of shape [?,N], or [?,steps,channels] with the channels named in its metadata; this one takes %s", inputNames(m.Inputs))
}

// tableCSV reads the rows of a model whose input is [?, width].
func tableCSV(r io.Reader, m *engine.Model, width int, lim requestLimits) (*tensor.Tensor, error) {
	enc, feats := csvEncoder(m, width)
	cols := make([]csvColumn, width)
	if enc != nil {
		cols = make([]csvColumn, len(feats))
		for i, f := range feats {
			cols[i] = csvColumn{Name: f.Name, Kind: csvNumber, MissingOK: true}
			if f.Kind == features.Categorical {
				cols[i].Kind, cols[i].Categories = csvCategory, f.Categories
			}
		}
	}
	var data []float32
	row := make([]float64, width)
	idx := inOrder(len(cols))
	rows, err := readCSV(r, "the model", cols, lim, func(fields []string) error {
		if len(data)+width > lim.Elements {
			return fmt.Errorf("the table has more than %d values", lim.Elements)
		}
		if enc == nil {
			for _, f := range fields {
				v, _ := features.ParseNumber(f) // readCSV checked it
				data = append(data, float32(v))
			}
			return nil
		}
		if err := enc.Encode(row, fields, idx); err != nil {
			return err
		}
		for _, v := range row {
			data = append(data, float32(v))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return tensor.NewF32(tensor.Shape{rows, width}, data), nil
}

// windowCSV reads the windows of a model whose input is [?, steps,
// channels], the channels named by its metadata's features.
func windowCSV(r io.Reader, m *engine.Model, steps, channels int, lim requestLimits) (*tensor.Tensor, error) {
	cols := make([]csvColumn, 0, steps*channels)
	for _, f := range m.Meta.Features {
		for t := range steps {
			cols = append(cols, csvColumn{Name: f.Name + "_t" + strconv.Itoa(t), Kind: csvNumber, MissingOK: true})
		}
	}
	var data []float32
	rows, err := readCSV(r, "the model", cols, lim, func(fields []string) error {
		base := len(data)
		data = append(data, make([]float32, steps*channels)...)
		for c, f := range m.Meta.Features {
			for t := range steps {
				v, ok := features.ParseNumber(fields[c*steps+t])
				if !ok { // missing: readCSV let only that through
					v = f.Impute
				}
				data[base+t*channels+c] = float32(v)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return tensor.NewF32(tensor.Shape{rows, steps, channels}, data), nil
}

// csvEncoder returns the strict encoder of the model's feature metadata
// and the features, or nil when the features do not encode to the
// model's input width.
func csvEncoder(m *engine.Model, width int) (*features.Encoder, []features.Feature) {
	if len(m.Meta.Features) == 0 {
		return nil, nil
	}
	fs := make([]features.Feature, len(m.Meta.Features))
	for i, f := range m.Meta.Features {
		fs[i] = features.Feature{Name: f.Name, Kind: f.Kind, Impute: f.Impute, Categories: f.Categories}
	}
	enc := features.NewEncoder(fs)
	enc.Strict = true
	if enc.Width != width {
		return nil, nil
	}
	return enc, fs
}
