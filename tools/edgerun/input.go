package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
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
			return fmt.Errorf("%s: run takes no input parameters (%s)", in.Label(), quoteKeys(in.Parameters))
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
		return nil, fmt.Errorf("run takes no request parameters (%s)", quoteKeys(req.Parameters))
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
			return nil, fmt.Errorf("output %q: run takes no output parameters (%s)", o.Name, quoteKeys(o.Parameters))
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

// quoteKeys lists a map's keys, sorted and quoted.
func quoteKeys(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return quoteList(keys, 8)
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

// utf8BOM is the byte order mark some editors write at the start of a
// UTF-8 file.
const utf8BOM = "\xef\xbb\xbf"

// maxCSVLine bounds one line of a CSV table: the CSV reader holds a
// line, and its fields, several times over.
const maxCSVLine = 1 << 20

// lineCapReader fails when a line is longer than max bytes.
type lineCapReader struct {
	r    io.Reader
	max  int
	run  int // bytes since the last newline
	line int // 1-based number of the current line
	err  error
}

func (l *lineCapReader) Read(b []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	k, err := l.r.Read(b)
	for i, c := range b[:k] {
		if c == '\n' {
			l.run = 0
			l.line++
			continue
		}
		if l.run++; l.run > l.max {
			l.err = fmt.Errorf("line %d is longer than %d bytes", l.line, l.max)
			return i, l.err
		}
	}
	return k, err
}

// parseCSV reads a table with one row per batch entry for a model with a
// single f32 input of shape [?, N], reading at most lim.Bytes bytes and
// lim.Elements values. A UTF-8 byte order mark is skipped.
//
// The first row is a header when it names every feature of the model's
// metadata (exactly, surrounding spaces aside), and data when every cell
// is a number (or, for a tabular model, a missing value); a row that is
// both or neither is an error, never a guess. With a header, the columns
// are picked by name (in any order, other columns ignored). Rows are
// encoded as the trainer prepared them and as the tabular plugins do
// (runtime/features): missing values (NaN, "NA", "", ...) imputed,
// categorical columns one-hot, an infinite number an error. Without a
// header, the columns are the model's features in order when they are
// all numeric (encoded the same way), otherwise the model's input
// columns, which must be finite numbers.
func parseCSV(r io.Reader, m *engine.Model, lim requestLimits) (*tensor.Tensor, error) {
	if len(m.Inputs) != 1 || m.Inputs[0].DType != tensor.F32 || len(m.Inputs[0].Shape) != 2 || m.Inputs[0].Shape[1] <= 0 {
		return nil, fmt.Errorf("--csv needs a model with one f32 input of shape [?,N]; this one takes %s", inputNames(m.Inputs))
	}
	width := m.Inputs[0].Shape[1]
	br := bufio.NewReader(&lineCapReader{r: oip.NewCapReader(r, lim.Bytes, maxRequestFlag), max: maxCSVLine, line: 1})
	if b, _ := br.Peek(len(utf8BOM)); string(b) == utf8BOM {
		br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(br)
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	enc, feats := csvEncoder(m, width)
	var (
		data []float32
		cols []int // column of each feature (with enc); nil: in order
		rows int
		row  = make([]float64, width)
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
		line, _ := cr.FieldPos(0)
		if first {
			header, err := csvHeader(rec, feats, enc != nil && len(feats) == width)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			if header != nil {
				cols = header
				continue
			}
			if enc != nil && len(feats) != width {
				enc = nil // categorical features: rows are the encoded columns
			}
		}
		if cols == nil && len(rec) != width {
			return nil, fmt.Errorf("line %d has %d columns, the model takes %d features", line, len(rec), width)
		}
		if len(data)+width > lim.Elements {
			return nil, fmt.Errorf("the table has more than %d values", lim.Elements)
		}
		if enc != nil {
			at := cols
			if at == nil {
				at = inOrder(len(feats))
				cols = at
			}
			if len(rec) <= maxIndex(at) {
				return nil, fmt.Errorf("line %d has %d columns, the header %d", line, len(rec), maxIndex(at)+1)
			}
			for f, c := range at {
				if feats[f].Kind != features.Categorical && isInf(rec[c]) {
					return nil, fmt.Errorf("line %d, field %d (%s): %q is not a finite number", line, c+1, feats[f].Name, rec[c])
				}
			}
			if err := enc.Encode(row, rec, at); err != nil {
				return nil, fmt.Errorf("line %d, %v", line, err)
			}
			for _, v := range row {
				data = append(data, float32(v))
			}
			rows++
			continue
		}
		for c := range width {
			v, err := strconv.ParseFloat(strings.TrimSpace(rec[c]), 32)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				l, col := cr.FieldPos(c)
				what := "a number"
				if math.IsNaN(v) || isInf(rec[c]) {
					what = "a finite number"
				}
				return nil, fmt.Errorf("line %d, column %d: %q is not %s", l, col, rec[c], what)
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

// csvHeader decides what the first row of a table is. It returns the
// column of each feature when the row is a header, nil when it is data,
// and an error when it is both, or neither. missingOK says whether a
// data cell may be a missing value (a tabular model's features, in
// order).
func csvHeader(rec []string, feats []features.Feature, missingOK bool) ([]int, error) {
	isData := true
	for _, f := range rec {
		if _, err := strconv.ParseFloat(strings.TrimSpace(f), 64); err != nil && !(missingOK && features.IsMissing(f)) {
			isData = false
			break
		}
	}
	if len(feats) == 0 {
		if isData {
			return nil, nil
		}
		return nil, fmt.Errorf("the first row is not numbers, and the model has no feature names to match a header against: %s", quoteList(rec, 8))
	}
	pos := make(map[string]int, len(rec))
	for i, h := range rec {
		h = strings.TrimSpace(h)
		if j, dup := pos[h]; dup && slices.ContainsFunc(feats, func(f features.Feature) bool { return f.Name == h }) {
			return nil, fmt.Errorf("the header names %q twice (columns %d and %d)", h, j+1, i+1)
		}
		pos[h] = i
	}
	cols := make([]int, len(feats))
	var lacks []string
	for i, f := range feats {
		c, ok := pos[f.Name]
		if !ok {
			lacks = append(lacks, f.Name)
		}
		cols[i] = c
	}
	switch {
	case len(lacks) == 0 && isData:
		return nil, errors.New("the first row is ambiguous: it names the model's features and is also a row of numbers")
	case len(lacks) == 0:
		return cols, nil
	case isData:
		return nil, nil
	}
	var extra []string
	for _, h := range rec {
		h = strings.TrimSpace(h)
		if !slices.ContainsFunc(feats, func(f features.Feature) bool { return f.Name == h }) {
			extra = append(extra, h)
		}
	}
	msg := fmt.Sprintf("the first row is neither data nor a header naming the model's features (matched exactly): it lacks %s", quoteList(lacks, 8))
	if len(extra) > 0 {
		msg += " and has " + quoteList(extra, 8)
	}
	return nil, errors.New(msg)
}

// quoteList quotes at most n strings, and counts the others.
func quoteList(s []string, n int) string {
	q := make([]string, 0, min(len(s), n)+1)
	for i, v := range s {
		if i == n {
			q = append(q, fmt.Sprintf("and %d more", len(s)-n))
			break
		}
		q = append(q, strconv.Quote(v))
	}
	return strings.Join(q, ", ")
}

// isInf reports whether a field is an infinite number, or one too large
// for a float64.
func isInf(s string) bool {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return math.IsInf(v, 0) && (err == nil || errors.Is(err, strconv.ErrRange))
}

func inOrder(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func maxIndex(cols []int) int {
	m := 0
	for _, c := range cols {
		m = max(m, c)
	}
	return m
}
