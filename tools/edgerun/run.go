package main

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
)

// runCmd is the run subcommand.
type runCmd struct {
	Model   string `arg:"" name:"model" help:"Model file (.erm)."`
	Input   string `name:"input" short:"i" xor:"input" required:"" placeholder:"FILE" help:"Inference request as Open Inference Protocol JSON: {\"inputs\":[{\"name\",\"datatype\",\"shape\",\"data\"}]}; datatypes FP32, INT64, INT32; data flat or nested. - reads standard input."`
	Text    string `name:"text" xor:"input" required:"" placeholder:"STRING" help:"Text to classify, for models whose metadata has a tokenizer."`
	CSV     string `name:"csv" xor:"input" required:"" placeholder:"FILE" help:"CSV table for a model with one f32 input [?,N]: one row per batch entry, optional header row (columns are matched to feature names). - reads standard input."`
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
	inputs, err := c.inputs(m)
	if err != nil {
		return cliutil.OpError("run", c.Model, err)
	}
	opts := []engine.Option{engine.WithThreads(c.Threads)}
	if c.F32 {
		opts = append(opts, engine.WithF32())
	}
	s := m.NewSession(opts...)
	defer s.Close()
	outs, err := s.Run(inputs)
	if err != nil {
		return cliutil.OpError("run", c.Model, err)
	}
	res := newRunResult(c.Model, m, outs)
	if c.JSON {
		return cliutil.WriteJSON(env.Stdout, res)
	}
	return res.writeText(env.Stdout)
}

// inputs builds the model's input tensors from whichever of --input,
// --text and --csv was given.
func (c *runCmd) inputs(m *engine.Model) ([]*tensor.Tensor, error) {
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
		return []*tensor.Tensor{t}, nil
	case c.Input == "":
		t, err := textInput(m, c.Text)
		if err != nil {
			return nil, fmt.Errorf("--text: %w", err)
		}
		return []*tensor.Tensor{t}, nil
	}
	f, name, err := openInput(c.Input)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ts, err := parseRequest(f, m.Inputs, c.limits())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ts, nil
}

// limits are the request limits the flags set.
func (c *runCmd) limits() requestLimits {
	return requestLimits{Bytes: c.MaxRequestBytes, Elements: c.MaxElements}
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
// probability) for models whose metadata has labels. Field names are
// part of the CLI's contract: add fields, never rename them.
type (
	runResult struct {
		ModelName   string             `json:"model_name"`
		Outputs     []outputJSON       `json:"outputs"`
		Predictions [][]predictionJSON `json:"predictions,omitempty"`

		labelled int // index of the output the predictions come from, -1 for none
	}
	outputJSON struct {
		Name     string `json:"name"`
		Datatype string `json:"datatype"`
		Shape    []int  `json:"shape"`
		Data     any    `json:"data"` // flat, row-major

		t *tensor.Tensor
	}
	predictionJSON struct {
		Label       string  `json:"label"`
		Probability f32JSON `json:"probability"`
	}
)

// f32JSON is a float32 that JSON can always encode: finite values are
// the shortest decimal that reads back as the same float32, infinities
// and NaN the strings "+Inf", "-Inf" and "NaN".
type f32JSON float32

func (f f32JSON) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return []byte(strconv.Quote(strconv.FormatFloat(v, 'g', -1, 32))), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 32), nil
}

func newRunResult(file string, m *engine.Model, outs []*tensor.Tensor) *runResult {
	r := &runResult{ModelName: strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)), labelled: -1}
	for i, t := range outs {
		o := outputJSON{Name: m.Outputs[i].Name, Datatype: oipDatatype(t.DType), Shape: nonNil([]int(t.Shape)), t: t}
		switch t.DType {
		case tensor.F32:
			d := make([]f32JSON, len(t.F32))
			for j, v := range t.F32 {
				d[j] = f32JSON(v)
			}
			o.Data = d
		case tensor.I64:
			o.Data = nonNil(t.I64)
		case tensor.I32:
			o.Data = nonNil(t.I32)
		case tensor.I8:
			o.Data = nonNil(t.I8)
		case tensor.U8:
			d := make([]int, len(t.U8)) // []byte would encode as base64
			for j, v := range t.U8 {
				d[j] = int(v)
			}
			o.Data = d
		default:
			o.Data = []int{}
		}
		r.Outputs = append(r.Outputs, o)
	}
	r.labelled, r.Predictions = predictions(m.Meta.Labels, outs)
	return r
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

// predictions pairs the labels with the first f32 output they describe:
// shape [B, len(labels)] (softmax), or [B, 1] with one label (sigmoid:
// the label with p and "not <label>" with 1-p) or two labels (the
// second with p, the first with 1-p). Each row is sorted by descending
// probability, ties in label order.
func predictions(labels []string, outs []*tensor.Tensor) (int, [][]predictionJSON) {
	n := len(labels)
	if n == 0 {
		return -1, nil
	}
	for i, t := range outs {
		if t.DType != tensor.F32 || len(t.Shape) != 2 {
			continue
		}
		rows, width := t.Shape[0], t.Shape[1]
		if width != n && (width != 1 || n > 2) {
			continue
		}
		preds := make([][]predictionJSON, rows)
		for r := range rows {
			row := t.F32[r*width : (r+1)*width]
			var ps []predictionJSON
			switch {
			case width > 1:
				ps = make([]predictionJSON, n)
				for j, l := range labels {
					ps[j] = predictionJSON{l, f32JSON(row[j])}
				}
			case n == 1:
				ps = []predictionJSON{{labels[0], f32JSON(row[0])}, {"not " + labels[0], f32JSON(1 - row[0])}}
			default:
				ps = []predictionJSON{{labels[0], f32JSON(1 - row[0])}, {labels[1], f32JSON(row[0])}}
			}
			slices.SortStableFunc(ps, func(a, b predictionJSON) int {
				return cmp.Compare(float32(b.Probability), float32(a.Probability)) // NaN last
			})
			preds[r] = ps
		}
		return i, preds
	}
	return -1, nil
}

// writeText prints every output; the labelled one as labels by
// probability for each batch row, the others as values, one row per line.
func (r *runResult) writeText(w io.Writer) error {
	var b bytes.Buffer
	for i := range r.Outputs {
		o := &r.Outputs[i]
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s  %s  %s\n", text(o.Name), o.t.DType, intShapeText(o.Shape))
		if i == r.labelled {
			writePredictions(&b, r.Predictions)
		} else {
			writeValueRows(&b, o.t)
		}
	}
	_, err := w.Write(trimLines(b.Bytes()))
	return err
}

func writePredictions(b *bytes.Buffer, preds [][]predictionJSON) {
	tw := newTable(b)
	for r, ps := range preds {
		for j, p := range ps {
			row := "" // a row column only when there are several rows
			if len(preds) > 1 {
				row = "\t"
				if j == 0 {
					row = "row " + strconv.Itoa(r) + "\t"
				}
			}
			if j == maxListItems {
				fmt.Fprintf(tw, "  %s… %d labels in all (--json lists every one)\t\n", row, len(ps))
				break
			}
			fmt.Fprintf(tw, "  %s%s\t%.4f\n", row, text(p.Label), float32(p.Probability))
		}
	}
	tw.Flush()
}

// writeValueRows prints a tensor's values, one line per entry of its first
// dimension, at most maxListItems values a line.
func writeValueRows(b *bytes.Buffer, t *tensor.Tensor) {
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
