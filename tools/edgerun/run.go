package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
)

// runCmd is the run subcommand.
type runCmd struct {
	Model   string `arg:"" name:"model" help:"Model file (.erm)."`
	Input   string `name:"input" short:"i" xor:"input" required:"" placeholder:"FILE" help:"Inference request as Open Inference Protocol JSON: {\"inputs\":[{\"name\",\"datatype\",\"shape\",\"data\"}],\"outputs\":[{\"name\"}]}; datatypes FP32, INT64, INT32; data flat or nested; null, \"NaN\", \"NA\" imputed for a tabular model only; \"outputs\" picks the outputs printed; no parameters; keys case-sensitive, each once. - reads standard input."`
	Text    string `name:"text" xor:"input" required:"" placeholder:"STRING" help:"Text to classify, for models whose metadata has a tokenizer."`
	CSV     string `name:"csv" xor:"input" required:"" placeholder:"FILE" help:"CSV table for a model with one f32 input [?,N]: one row per batch entry, optional header row naming the model's features exactly; missing values imputed. - reads standard input."`
	JSON    bool   `name:"json" help:"Print the outputs as Open Inference Protocol JSON."`
	Threads int    `name:"threads" default:"1" help:"Goroutines one inference may use."`
	F32     bool   `name:"f32" help:"Run int8 layers with their dequantized f32 weights."`

	MaxRequestBytes int64 `name:"max-request-bytes" default:"67108864" placeholder:"N" help:"Refuse a request (--input or --csv) larger than N bytes (default 64 MiB)."`
	MaxElements     int   `name:"max-elements" default:"67108864" placeholder:"N" help:"Refuse an input tensor of more than N values (default 2^26, the model format's limit)."`
}

// Help is the detailed help of `edgerun run --help`.
func (c *runCmd) Help() string {
	return `Give exactly one of --input, --text or --csv. For example:

  edgerun run model.erm --input request.json --json
  edgerun run model.erm --csv rows.csv
  edgerun run sentiment.erm --text "great battery, awful screen"

A request: {"inputs":[{"name":"x","datatype":"FP32","shape":[2,4],"data":[[1,2,3,4],[5,6,7,8]]}]}.
--json prints {"model_name","outputs":[{"name","datatype","shape","data"}]}, and for models
with labels "predictions": per batch row, the labels by descending probability.`
}

// Run loads the model, decodes the input, runs it once and prints the
// outputs (and, for classifiers, the labels by probability).
func (c *runCmd) Run(env *cliutil.Env) error {
	switch {
	case c.Threads < 1:
		return cliutil.OpError("run", c.Model, fmt.Errorf("--threads=%d: need at least 1", c.Threads))
	case c.MaxRequestBytes < 1:
		return cliutil.OpError("run", c.Model, fmt.Errorf("--max-request-bytes=%d: need at least 1", c.MaxRequestBytes))
	case c.MaxElements < 1:
		return cliutil.OpError("run", c.Model, fmt.Errorf("--max-elements=%d: need at least 1", c.MaxElements))
	}
	m, err := engine.LoadFile(c.Model)
	if err != nil {
		return cliutil.OpError("run", c.Model, err)
	}
	req, err := c.request(m)
	if err != nil {
		return cliutil.OpError("run", c.Model, err)
	}
	opts := []engine.Option{engine.WithThreads(c.Threads)}
	if c.F32 {
		opts = append(opts, engine.WithF32())
	}
	s := m.NewSession(opts...)
	defer s.Close()
	outs, err := s.Run(req.inputs)
	if err != nil {
		return cliutil.OpError("run", c.Model, err)
	}
	res := newRunResult(c.Model, m, outs, req)
	if c.JSON {
		return res.writeJSON(env.Stdout)
	}
	return res.writeText(env.Stdout)
}

// request builds the model's input tensors from whichever of --input,
// --text and --csv was given.
func (c *runCmd) request(m *engine.Model) (*runRequest, error) {
	// kong lets exactly one of the three through; --text may be "".
	switch {
	case c.CSV != "":
		f, name, err := openInput(c.CSV)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		t, err := parseCSV(f, m, c.limits())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return &runRequest{inputs: []*tensor.Tensor{t}}, nil
	case c.Input == "":
		t, err := textInput(m, c.Text)
		if err != nil {
			return nil, fmt.Errorf("--text: %w", err)
		}
		return &runRequest{inputs: []*tensor.Tensor{t}}, nil
	}
	f, name, err := openInput(c.Input)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	req, err := parseRequest(f, m, c.limits())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return req, nil
}

// limits are the request limits the flags set.
func (c *runCmd) limits() requestLimits {
	return requestLimits{Bytes: c.MaxRequestBytes, Elements: c.MaxElements, Flag: maxRequestFlag}
}

// openInput opens a file, or standard input for "-". The name is how
// errors refer to it.
func openInput(path string) (io.ReadCloser, string, error) {
	if path == "-" {
		return io.NopCloser(os.Stdin), "standard input", nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	return f, path, nil
}

// The JSON form of run: an Open Inference Protocol response, plus
// "predictions" (one list per batch row, labels by descending
// probability) for models whose metadata has labels:
//
//	{"model_name", "id", "outputs": [{"name", "datatype", "shape", "data"}],
//	 "predictions": [[{"label", "probability"}]]}
//
// "id" is the request's, when it has one; "outputs" are those the
// request asks for (all when it names none), in its order.
// "data" is flat, row-major; f32 values are the shortest decimal that
// reads back as the same float32, infinities and NaN the strings "+Inf",
// "-Inf" and "NaN". Field names are part of the CLI's contract: add
// fields, never rename them. Both forms are written as they are
// computed, row by row, so that printing costs a buffer, not a copy of
// the outputs.
type runResult struct {
	modelName string
	id        string   // the request's, echoed
	names     []string // of the outputs
	outs      []*tensor.Tensor
	labels    []string
	labelled  int // index of the output the predictions come from, -1 for none
}

// newRunResult is the result of running req: the outputs it asks for
// (all when it names none), in its order.
func newRunResult(file string, m *engine.Model, outs []*tensor.Tensor, req *runRequest) *runResult {
	r := &runResult{modelName: strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)), id: req.id, labels: m.Meta.Labels}
	if req.outputs == nil {
		r.outs = outs
		for i := range outs {
			r.names = append(r.names, m.Outputs[i].Name)
		}
	}
	for _, k := range req.outputs {
		r.outs = append(r.outs, outs[k])
		r.names = append(r.names, m.Outputs[k].Name)
	}
	r.labelled = labelledOutput(r.labels, outs)
	return r
}

// prediction is one label with its probability.
type prediction struct {
	label string
	p     float32
}

// appendF32JSON appends a float32 as JSON can always hold it: the
// shortest decimal that reads back as the same float32, or the strings
// "+Inf", "-Inf" and "NaN".
func appendF32JSON(b []byte, f float32) []byte {
	v := float64(f)
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return strconv.AppendQuote(b, strconv.FormatFloat(v, 'g', -1, 32))
	}
	return strconv.AppendFloat(b, v, 'g', -1, 32)
}

// oipDatatype is the Open Inference Protocol name of a dtype.
func oipDatatype(d tensor.DType) string {
	switch d {
	case tensor.F32:
		return "FP32"
	case tensor.I64:
		return "INT64"
	case tensor.I32:
		return "INT32"
	case tensor.I8:
		return "INT8"
	case tensor.U8:
		return "UINT8"
	}
	return strings.ToUpper(d.String())
}

// labelledOutput finds the first f32 output the labels describe: shape
// [B, len(labels)] (softmax), or [B, 1] with one label (sigmoid: the
// label with p and "not <label>" with 1-p) or two labels (the second
// with p, the first with 1-p); -1 for none.
func labelledOutput(labels []string, outs []*tensor.Tensor) int {
	n := len(labels)
	if n == 0 {
		return -1
	}
	for i, t := range outs {
		if t.DType != tensor.F32 || len(t.Shape) != 2 {
			continue
		}
		if width := t.Shape[1]; width == n || (width == 1 && n <= 2) {
			return i
		}
	}
	return -1
}

// rowPredictions returns batch row r of the labelled output's
// predictions, sorted by descending probability (ties in label order,
// NaN last), in dst's storage.
func (res *runResult) rowPredictions(r int, dst []prediction) []prediction {
	t, labels := res.outs[res.labelled], res.labels
	width := t.Shape[1]
	row := t.F32[r*width : (r+1)*width]
	dst = dst[:0]
	switch {
	case width > 1:
		for j, l := range labels {
			dst = append(dst, prediction{l, row[j]})
		}
	case len(labels) == 1:
		dst = append(dst, prediction{labels[0], row[0]}, prediction{res.notLabel(), 1 - row[0]})
	default:
		dst = append(dst, prediction{labels[0], 1 - row[0]}, prediction{labels[1], row[0]})
	}
	slices.SortStableFunc(dst, func(a, b prediction) int {
		return cmp.Compare(b.p, a.p) // NaN last
	})
	return dst
}

func (res *runResult) notLabel() string { return "not " + res.labels[0] }

// predictionLabels are every label a row's predictions may show.
func (res *runResult) predictionLabels() []string {
	if len(res.labels) == 1 {
		return []string{res.labels[0], res.notLabel()}
	}
	return res.labels
}

// jsonWriter writes indented JSON as cliutil.WriteJSON does, a token at
// a time.
type jsonWriter struct {
	w     *bufio.Writer
	depth int
	first bool // no element yet in the innermost array or object
	buf   []byte
	str   bytes.Buffer
	enc   *json.Encoder
}

func newJSONWriter(w io.Writer) *jsonWriter {
	j := &jsonWriter{w: bufio.NewWriterSize(w, 64<<10)}
	j.enc = json.NewEncoder(&j.str)
	j.enc.SetEscapeHTML(false)
	return j
}

func (j *jsonWriter) newline() {
	j.w.WriteByte('\n')
	for range j.depth {
		j.w.WriteString("  ")
	}
}

// elem starts an array element or an object member ("key": ).
func (j *jsonWriter) elem(key string) {
	if !j.first {
		j.w.WriteByte(',')
	}
	j.first = false
	j.newline()
	if key != "" {
		j.string(key)
		j.w.WriteString(": ")
	}
}

func (j *jsonWriter) open(c byte) {
	j.w.WriteByte(c)
	j.depth++
	j.first = true
}

func (j *jsonWriter) close(c byte) {
	j.depth--
	if !j.first {
		j.newline()
	}
	j.first = false
	j.w.WriteByte(c)
}

func (j *jsonWriter) string(s string) {
	j.str.Reset()
	j.enc.Encode(s) // a string always encodes
	j.w.Write(bytes.TrimSuffix(j.str.Bytes(), []byte("\n")))
}

func (j *jsonWriter) raw(b []byte) { j.w.Write(b) }

// writeJSON writes the result as JSON.
func (res *runResult) writeJSON(w io.Writer) error {
	j := newJSONWriter(w)
	j.open('{')
	j.elem("model_name")
	j.string(res.modelName)
	if res.id != "" {
		j.elem("id")
		j.string(res.id)
	}
	j.elem("outputs")
	j.open('[')
	for i, t := range res.outs {
		j.elem("")
		j.open('{')
		j.elem("name")
		j.string(res.names[i])
		j.elem("datatype")
		j.string(oipDatatype(t.DType))
		j.elem("shape")
		j.open('[')
		for _, d := range t.Shape {
			j.elem("")
			j.raw(strconv.AppendInt(j.buf[:0], int64(d), 10))
		}
		j.close(']')
		j.elem("data")
		j.open('[')
		for k := range t.Len() {
			b := j.buf[:0]
			switch t.DType {
			case tensor.F32:
				b = appendF32JSON(b, t.F32[k])
			case tensor.I64:
				b = strconv.AppendInt(b, t.I64[k], 10)
			case tensor.I32:
				b = strconv.AppendInt(b, int64(t.I32[k]), 10)
			case tensor.I8:
				b = strconv.AppendInt(b, int64(t.I8[k]), 10)
			case tensor.U8:
				b = strconv.AppendInt(b, int64(t.U8[k]), 10)
			default:
				continue
			}
			j.buf = b
			j.elem("")
			j.raw(b)
		}
		j.close(']')
		j.close('}')
	}
	j.close(']')
	if res.labelled >= 0 && res.outs[res.labelled].Shape[0] > 0 {
		j.elem("predictions")
		j.open('[')
		var ps []prediction
		for r := range res.outs[res.labelled].Shape[0] {
			j.elem("")
			j.open('[')
			ps = res.rowPredictions(r, ps)
			for _, p := range ps {
				j.elem("")
				j.open('{')
				j.elem("label")
				j.string(p.label)
				j.elem("probability")
				j.buf = appendF32JSON(j.buf[:0], p.p)
				j.raw(j.buf)
				j.close('}')
			}
			j.close(']')
		}
		j.close(']')
	}
	j.close('}')
	j.w.WriteByte('\n')
	return j.w.Flush()
}

// writeText prints every output; the labelled one as labels by
// probability for each batch row, the others as values, one row per line.
func (res *runResult) writeText(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	for i, t := range res.outs {
		if i > 0 {
			bw.WriteByte('\n')
		}
		fmt.Fprintf(bw, "%s  %s  %s\n", text(res.names[i]), t.DType, intShapeText(t.Shape))
		if i == res.labelled {
			res.writePredictions(bw)
		} else {
			writeValueRows(bw, t)
		}
	}
	return bw.Flush()
}

// writePredictions prints the labels of each row by probability, at most
// maxListItems of them, in aligned columns: a row column when there are
// several rows, the label, the probability.
func (res *runResult) writePredictions(w *bufio.Writer) {
	t := res.outs[res.labelled]
	rows := t.Shape[0]
	more := func(n int) string { return fmt.Sprintf("… %d labels in all (--json lists every one)", n) }
	nLabels := len(res.predictionLabels())
	// Column widths, as a tabwriter with padding 2 would make them.
	labelW := 0
	for _, l := range res.predictionLabels() {
		labelW = max(labelW, utf8.RuneCountInString(text(l)))
	}
	if nLabels > maxListItems {
		labelW = max(labelW, utf8.RuneCountInString(more(nLabels)))
	}
	rowW := 0
	if rows > 1 {
		rowW = utf8.RuneCountInString("  row " + strconv.Itoa(rows-1))
	}
	pad := func(s string, width int) {
		w.WriteString(s)
		for range width + 2 - utf8.RuneCountInString(s) {
			w.WriteByte(' ')
		}
	}
	var ps []prediction
	for r := range rows {
		ps = res.rowPredictions(r, ps)
		for j, p := range ps {
			if rows > 1 {
				row := "  "
				if j == 0 {
					row = "  row " + strconv.Itoa(r)
				}
				pad(row, rowW)
			} else {
				w.WriteString("  ")
			}
			if j == maxListItems {
				w.WriteString(more(len(ps)))
				w.WriteByte('\n')
				break
			}
			pad(text(p.label), labelW)
			fmt.Fprintf(w, "%.4f\n", p.p)
		}
	}
}

// writeValueRows prints a tensor's values, one line per entry of its first
// dimension, at most maxListItems values a line.
func writeValueRows(b *bufio.Writer, t *tensor.Tensor) {
	n := t.Len()
	rows := 1
	if len(t.Shape) >= 2 {
		rows = t.Shape[0]
	}
	if rows == 0 || n == 0 {
		b.WriteString("  (empty)\n")
		return
	}
	width := n / rows
	for r := range rows {
		b.WriteString(" ")
		for j := range min(width, maxListItems) {
			b.WriteByte(' ')
			b.WriteString(valueText(t, r*width+j))
		}
		if width > maxListItems {
			fmt.Fprintf(b, " …+%d", width-maxListItems)
		}
		b.WriteByte('\n')
	}
}

func valueText(t *tensor.Tensor, i int) string {
	switch t.DType {
	case tensor.F32:
		return strconv.FormatFloat(float64(t.F32[i]), 'g', 6, 32)
	case tensor.I64:
		return strconv.FormatInt(t.I64[i], 10)
	case tensor.I32:
		return strconv.FormatInt(int64(t.I32[i]), 10)
	case tensor.I8:
		return strconv.Itoa(int(t.I8[i]))
	case tensor.U8:
		return strconv.Itoa(int(t.U8[i]))
	}
	return "?"
}

// intShapeText prints a shape as [?,4]: -1 (dynamic) is "?".
func intShapeText(shape []int) string {
	s := make([]int64, len(shape))
	for i, d := range shape {
		s[i] = int64(d)
	}
	return shapeText(s)
}
