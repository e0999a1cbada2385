package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/features"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// Input decoding for `edgerun run`: Open Inference Protocol requests
// (--input) and CSV tables (--csv). Every error names what is wrong in
// the request, in terms of the model's inputs; none panics on hostile
// input.

// oipRequest is the part of an Open Inference Protocol (KServe v2)
// inference request that run uses. Other fields ("id", "parameters",
// "outputs") are accepted and ignored.
type oipRequest struct {
	Inputs []oipInput `json:"inputs"`
}

type oipInput struct {
	Name     string          `json:"name"`
	Datatype string          `json:"datatype"`
	Shape    *[]int64        `json:"shape"` // nil: taken from the nesting of data
	Data     json.RawMessage `json:"data"`
}

// maxInputElements bounds the size of one input tensor, so that a shape
// like [1e12] is refused before anything is allocated for it.
const maxInputElements = 1 << 28

// parseRequest decodes an inference request into one tensor per model
// input, in the model's input order.
func parseRequest(data []byte, inputs []engine.ValueInfo) ([]*tensor.Tensor, error) {
	var req oipRequest
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&req); err != nil {
		return nil, jsonError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: data after the request object")
	}
	if len(req.Inputs) == 0 {
		return nil, fmt.Errorf(`no "inputs" in the request (the model takes %s)`, inputNames(inputs))
	}
	out := make([]*tensor.Tensor, len(inputs))
	for i := range req.Inputs {
		in := &req.Inputs[i]
		k := inputIndex(inputs, in.Name)
		switch {
		case in.Name == "":
			return nil, fmt.Errorf("inputs[%d] has no name (the model takes %s)", i, inputNames(inputs))
		case k < 0:
			return nil, fmt.Errorf("the model has no input %q (it takes %s)", in.Name, inputNames(inputs))
		case out[k] != nil:
			return nil, fmt.Errorf("input %q is given twice", in.Name)
		}
		t, err := decodeInput(in, inputs[k])
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", in.Name, err)
		}
		out[k] = t
	}
	for k, t := range out {
		if t == nil {
			return nil, fmt.Errorf("input %q is missing (the model takes %s)", inputs[k].Name, inputNames(inputs))
		}
	}
	return out, nil
}

// jsonError turns a decoding error into one line that says where.
func jsonError(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := position(data, se.Offset)
		return fmt.Errorf("invalid JSON at line %d, column %d: %v", line, col, se)
	case errors.As(err, &te):
		line, col := position(data, te.Offset)
		field := te.Field
		if field == "" {
			field = "the request"
		}
		return fmt.Errorf("invalid request at line %d, column %d: %s must be %s, not a JSON %s", line, col, field, jsonTypeName(te.Type.String()), te.Value)
	case errors.Is(err, io.EOF):
		return errors.New("invalid JSON: the input is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("invalid JSON: unexpected end of input")
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

func jsonTypeName(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"), strings.HasPrefix(goType, "*[]"):
		return "an array"
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"), strings.HasPrefix(goType, "float"):
		return "a number"
	}
	return "an object"
}

// position converts a byte offset into a 1-based line and column.
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, max(col, 1)
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

// decodeInput checks one request input against the model's and converts
// its data.
func decodeInput(in *oipInput, want engine.ValueInfo) (*tensor.Tensor, error) {
	dt := strings.ToUpper(in.Datatype)
	switch dt {
	case "":
		return nil, errors.New(`"datatype" is missing (FP32, INT64 or INT32)`)
	case "FP32", "INT64", "INT32":
	default:
		return nil, fmt.Errorf("datatype %q is not supported (FP32, INT64 or INT32)", in.Datatype)
	}
	isInt := dt != "FP32"
	switch want.DType {
	case tensor.F32:
		if isInt {
			return nil, fmt.Errorf("datatype %s does not fit the model's f32 input (use FP32)", dt)
		}
	case tensor.I64, tensor.I32:
		if !isInt {
			return nil, fmt.Errorf("datatype %s does not fit the model's %s input (use INT64 or INT32)", dt, want.DType)
		}
	default:
		return nil, fmt.Errorf("the model's input is %s, which run cannot feed", want.DType)
	}
	if len(in.Data) == 0 || string(in.Data) == "null" {
		return nil, errors.New(`"data" is missing`)
	}
	var tree any
	dec := json.NewDecoder(bytes.NewReader(in.Data))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("data: %v", err)
	}
	if _, ok := tree.([]any); !ok {
		return nil, errors.New(`"data" is not an array`)
	}
	var nums []json.Number
	nested, err := flatten(tree, 0, nil, &nums)
	if err != nil {
		return nil, err
	}
	var shape tensor.Shape
	if in.Shape != nil {
		n := 1
		for _, d := range *in.Shape {
			if d < 0 || d > maxInputElements {
				return nil, fmt.Errorf("shape %v has a negative or huge dimension", *in.Shape)
			}
			if d > 0 && n > maxInputElements/int(d) {
				return nil, fmt.Errorf("shape %v is too large", *in.Shape)
			}
			n *= int(d)
			shape = append(shape, int(d))
		}
		if len(nested) > 1 && !shape.Equal(tensor.Shape(nested)) {
			return nil, fmt.Errorf("shape %s does not match the nesting of data, %s", shapeText(*in.Shape), intShapeText(nested))
		}
	} else {
		shape = tensor.Shape(nested)
	}
	if !fits(shape, want.Shape) {
		return nil, fmt.Errorf("shape %s does not fit the model's %s", intShapeText(shape), intShapeText(want.Shape))
	}
	if n := shape.NumElements(); n != len(nums) {
		return nil, fmt.Errorf("shape %s needs %d values, data has %d", intShapeText(shape), n, len(nums))
	}
	t := &tensor.Tensor{DType: want.DType, Shape: shape}
	switch want.DType {
	case tensor.F32:
		t.F32 = make([]float32, len(nums))
		for i, s := range nums {
			v, err := strconv.ParseFloat(string(s), 32)
			if err != nil {
				return nil, fmt.Errorf("data[%d] = %s is out of the FP32 range", i, s)
			}
			t.F32[i] = float32(v)
		}
	case tensor.I64, tensor.I32:
		bits := 64
		if want.DType == tensor.I32 || dt == "INT32" {
			bits = 32
		}
		vals := make([]int64, len(nums))
		for i, s := range nums {
			v, err := strconv.ParseInt(string(s), 10, bits)
			if err != nil {
				if errors.Is(err, strconv.ErrRange) {
					return nil, fmt.Errorf("data[%d] = %s is out of the INT%d range", i, s, bits)
				}
				return nil, fmt.Errorf("data[%d] = %s is not an integer", i, s)
			}
			vals[i] = v
		}
		if want.DType == tensor.I64 {
			t.I64 = vals
		} else {
			t.I32 = make([]int32, len(vals))
			for i, v := range vals {
				t.I32[i] = int32(v)
			}
		}
	}
	return t, nil
}

// flatten appends the numbers of a JSON array, nested or flat, in
// row-major order and returns the shape its nesting describes. Nested
// arrays must be rectangular.
func flatten(v any, depth int, shape []int, nums *[]json.Number) ([]int, error) {
	switch v := v.(type) {
	case json.Number:
		if depth != len(shape) {
			return nil, fmt.Errorf("data is ragged: a number at depth %d, arrays at depth %d", depth, len(shape))
		}
		if len(*nums) >= maxInputElements {
			return nil, errors.New("data is too large")
		}
		*nums = append(*nums, v)
		return shape, nil
	case []any:
		switch {
		case depth == len(shape) && (depth == 0 || len(*nums) == 0):
			shape = append(shape, len(v)) // first array at this depth
		case depth >= len(shape):
			return nil, fmt.Errorf("data is ragged: an array where a number belongs (depth %d)", depth)
		case shape[depth] != len(v):
			return nil, fmt.Errorf("data is ragged: arrays of lengths %d and %d at depth %d", shape[depth], len(v), depth)
		}
		var err error
		for _, e := range v {
			if shape, err = flatten(e, depth+1, shape, nums); err != nil {
				return nil, err
			}
		}
		return shape, nil
	case nil:
		return nil, fmt.Errorf("data[%d] is null, not a number", len(*nums))
	default:
		return nil, fmt.Errorf("data[%d] is %s, not a number", len(*nums), jsonKind(v))
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "an object"
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

// parseCSV reads a table with one row per batch entry for a model with a
// single f32 input of shape [?, N]. A first row that is not all numbers is
// a header: when it names every feature the model's metadata lists, the
// columns are picked by name (in any order, other columns ignored) and
// each row is encoded as the trainer prepared it (runtime/features:
// missing values imputed, categorical columns one-hot); otherwise they
// are taken in order, as numbers.
func parseCSV(r io.Reader, m *engine.Model) (*tensor.Tensor, error) {
	if len(m.Inputs) != 1 || m.Inputs[0].DType != tensor.F32 || len(m.Inputs[0].Shape) != 2 || m.Inputs[0].Shape[1] <= 0 {
		return nil, fmt.Errorf("--csv needs a model with one f32 input of shape [?,N]; this one takes %s", inputNames(m.Inputs))
	}
	width := m.Inputs[0].Shape[1]
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	var (
		data []float32
		cols []int // column of each feature; nil: the first width columns
		rows int
		enc  *features.Encoder // set when the header names the metadata's features
		row  []float64
	)
	for first := true; ; first = false {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("invalid CSV at line %d: %v", pe.Line, pe.Err)
			}
			return nil, err
		}
		if first && !allNumbers(rec) {
			if enc, cols = featureColumns(rec, m, width); enc != nil {
				row = make([]float64, width)
				continue
			}
			if cols, err = headerColumns(rec, m, width); err != nil {
				return nil, err
			}
			continue
		}
		if enc != nil {
			if len(rec) <= maxIndex(cols) {
				line, _ := cr.FieldPos(0)
				return nil, fmt.Errorf("line %d has %d columns, the header %d", line, len(rec), maxIndex(cols)+1)
			}
			if len(data)+width > maxInputElements {
				return nil, errors.New("the table is too large")
			}
			if err := enc.Encode(row, rec, cols); err != nil {
				line, _ := cr.FieldPos(0)
				return nil, fmt.Errorf("line %d, %v", line, err)
			}
			for _, v := range row {
				data = append(data, float32(v))
			}
			rows++
			continue
		}
		if cols == nil && len(rec) != width {
			line, _ := cr.FieldPos(0)
			return nil, fmt.Errorf("line %d has %d columns, the model takes %d features", line, len(rec), width)
		}
		if len(data)+width > maxInputElements {
			return nil, errors.New("the table is too large")
		}
		for f := range width {
			c := f
			if cols != nil {
				c = cols[f]
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(rec[c]), 32)
			if err != nil {
				line, col := cr.FieldPos(c)
				return nil, fmt.Errorf("line %d, column %d: %q is not a number", line, col, rec[c])
			}
			data = append(data, float32(v))
		}
		rows++
	}
	if rows == 0 {
		return nil, errors.New("the table has no data rows")
	}
	return tensor.NewF32(tensor.Shape{rows, width}, data), nil
}

// featureColumns returns the encoder of the model's feature metadata and
// each feature's column when the header names every feature and their
// encoding is the model's input width; nil otherwise.
func featureColumns(header []string, m *engine.Model, width int) (*features.Encoder, []int) {
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
	cols, err := enc.Columns(header)
	if err != nil {
		return nil, nil
	}
	return enc, cols
}

func maxIndex(cols []int) int {
	m := 0
	for _, c := range cols {
		m = max(m, c)
	}
	return m
}

func allNumbers(rec []string) bool {
	for _, f := range rec {
		if _, err := strconv.ParseFloat(strings.TrimSpace(f), 64); err != nil {
			return false
		}
	}
	return true
}

// headerColumns maps the model's features to columns of a header row, or
// returns nil to take the columns in order.
func headerColumns(header []string, m *engine.Model, width int) ([]int, error) {
	feats := m.Meta.Features
	if len(feats) == width {
		pos := make(map[string]int, len(header))
		for i, h := range header {
			h = strings.TrimSpace(h)
			if _, dup := pos[h]; !dup {
				pos[h] = i
			}
		}
		cols := make([]int, width)
		named := true
		for f := range feats {
			c, ok := pos[feats[f].Name]
			if !ok {
				named = false
				break
			}
			cols[f] = c
		}
		if named {
			return cols, nil
		}
	}
	if len(header) != width {
		return nil, fmt.Errorf("the header has %d columns, the model takes %d features", len(header), width)
	}
	return nil, nil
}
