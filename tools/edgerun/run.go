package main

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
	"github.com/edgerun/edgerun/tools/internal/oip"
)

// runCmd is the run subcommand.
type runCmd struct {
	Model   string      `arg:"" name:"model" help:"Model file (.erm)."`
	Input   string      `name:"input" short:"i" group:"Input (give exactly one)" placeholder:"FILE" help:"Inference request as Open Inference Protocol JSON: {\"inputs\":[{\"name\",\"datatype\",\"shape\",\"data\"}],\"outputs\":[{\"name\"}]}; datatypes FP32, INT64, INT32; data flat or nested; null, \"NaN\", \"NA\" imputed for a tabular model only; \"outputs\" picks the outputs printed; no parameters; keys case-sensitive, each once. - reads standard input."`
	Text    *string     `name:"text" group:"Input (give exactly one)" placeholder:"STRING" help:"Text to classify, for models whose metadata has a tokenizer."`
	CSV     string      `name:"csv" group:"Input (give exactly one)" placeholder:"FILE" help:"CSV table, one row per batch entry, for a model with one f32 input [?,N] (columns: its features, categories by name) or [?,steps,channels] (sensor windows, columns CHANNEL_tSTEP); header optional (without one, the columns in the model's order); missing values imputed; an unknown category or a missing column is an error. - reads standard input."`
	WAV     string      `name:"wav" group:"Input (give exactly one)" placeholder:"FILE" help:"Audio clip (WAV: 16-bit PCM or float, the first channel, any rate) for a keyword-spotting model: resampled to the model's rate, padded or cropped to its window (centred), through the front end stored in the model. - reads standard input."`
	JSON    bool        `name:"json" help:"Print the outputs as Open Inference Protocol JSON."`
	Threads cliutil.Int `name:"threads" default:"1" placeholder:"N" help:"Goroutines one inference may use (at least 1)."`
	F32     bool        `name:"f32" help:"Run int8 layers with their dequantized f32 weights."`

	TrustedKeys     []string `name:"trusted-key" sep:"none" placeholder:"PUB.pem" help:"Refuse the model unless it is signed by this public key (written by keygen); repeat for several."`
	MaxRequestBytes int64    `name:"max-request-bytes" default:"67108864" placeholder:"N" help:"Refuse a request (--input or --csv) larger than N bytes (default 64 MiB)."`
	MaxElements     int      `name:"max-elements" default:"67108864" placeholder:"N" help:"Refuse an input tensor of more than N values (default 2^26, the model format's limit)."`
}

// Help is the detailed help of `edgerun run --help`.
func (c *runCmd) Help() string {
	return `Give exactly one of --input, --csv, --text or --wav:

  edgerun run <model> (--input FILE | --csv FILE | --text STRING | --wav FILE) [flags]

For example:

  edgerun run model.erm --input request.json --json
  edgerun run model.erm --csv rows.csv
  edgerun run sentiment.erm --text "great battery, awful screen"
  edgerun run kws.erm --wav clip.wav

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
	case c.Text != nil && strings.TrimSpace(*c.Text) == "":
		return cliutil.OpError("run", c.Model, errors.New("--text is empty: give the text to classify"))
	}
	readOpts, err := trustedKeyOptions(c.TrustedKeys)
	if err != nil {
		return cliutil.OpError("run", c.Model, err)
	}
	m, err := engine.LoadFile(c.Model, readOpts...)
	if err != nil {
		return cliutil.OpError("run", c.Model, err)
	}
	req, err := c.request(m)
	if err != nil {
		return cliutil.OpError("run", c.Model, err)
	}
	opts := []engine.Option{engine.WithThreads(int(c.Threads))}
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

// Validate checks, as the command line is parsed, that exactly one of
// --input, --csv, --text and --wav is given: a usage error otherwise. (kong's
// xor and required groups would do it, but render as a usage line that
// seems to ask for all three.)
func (c *runCmd) Validate() error {
	var given []string
	if c.Input != "" {
		given = append(given, "--input")
	}
	if c.CSV != "" {
		given = append(given, "--csv")
	}
	if c.Text != nil {
		given = append(given, "--text")
	}
	if c.WAV != "" {
		given = append(given, "--wav")
	}
	switch {
	case len(given) == 0:
		return errors.New("no input: give one of --input FILE, --csv FILE, --text STRING or --wav FILE")
	case len(given) > 1:
		return fmt.Errorf("%s given: give only one of --input, --csv, --text and --wav", strings.Join(given, ", "))
	}
	return nil
}

// request builds the model's input tensors from whichever of --input,
// --text and --csv was given.
func (c *runCmd) request(m *engine.Model) (*runRequest, error) {
	// oneInput let exactly one of the three through.
	switch {
	case c.WAV != "":
		f, name, err := openInput(c.WAV)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		t, err := wavInput(m, f, c.MaxRequestBytes)
		if err != nil {
			return nil, fmt.Errorf("--wav %s: %w", name, err)
		}
		return &runRequest{inputs: []*tensor.Tensor{t}}, nil
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
		t, err := textInput(m, *c.Text)
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

// writeJSON writes the result as JSON (oip.WriteResponse), with the
// predictions after the outputs.
func (res *runResult) writeJSON(w io.Writer) error {
	r := &oip.Response{ModelName: res.modelName, ID: res.id, Outputs: make([]oip.Tensor, len(res.outs))}
	for i, t := range res.outs {
		shape := make([]int64, len(t.Shape))
		for k, d := range t.Shape {
			shape[k] = int64(d)
		}
		r.Outputs[i] = oip.Tensor{Name: res.names[i], Datatype: oipDatatype(t.DType), Shape: shape,
			FP32: t.F32, INT64: t.I64, INT32: t.I32, INT8: t.I8, UINT8: t.U8}
	}
	return oip.WriteResponse(w, r, res.writePredictionsJSON)
}

// writePredictionsJSON writes "predictions": per batch row, the labels
// by descending probability.
func (res *runResult) writePredictionsJSON(j *oip.JSONWriter) {
	if res.labelled < 0 || res.outs[res.labelled].Shape[0] == 0 {
		return
	}
	j.Elem("predictions")
	j.Open('[')
	var ps []prediction
	for r := range res.outs[res.labelled].Shape[0] {
		j.Elem("")
		j.Open('[')
		ps = res.rowPredictions(r, ps)
		for _, p := range ps {
			j.Elem("")
			j.Open('{')
			j.Elem("label")
			j.String(p.label)
			j.Elem("probability")
			j.F32(p.p)
			j.Close('}')
		}
		j.Close(']')
	}
	j.Close(']')
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
	return oip.ShapeText(s)
}
