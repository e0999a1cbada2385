package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/engine/enginetest"
	"github.com/edgerun/edgerun/runtime/op"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// archSpecs are small models of every architecture `edgetrain init`
// writes (it writes what enginetest.Build makes).
var archSpecs = []string{
	"mlp:8-16-3",
	"mlp:8-16-1",
	"textcls:vocab=50,emb=8,lstm=8,classes=3,seq=12",
	"textcls:vocab=50,emb=8,gru=8,classes=1,seq=12,bidir=1",
	"transformer:vocab=50,d=16,heads=2,ffn=32,layers=1,seq=8,classes=2",
	"recommender:users=10,items=20,dim=4",
	"conv1d:window=16,channels=3,filters=4,kernel=3,classes=2",
}

// archModel builds a spec like `edgetrain init` and writes it; it fails
// the test when the runtime lacks one of its operators.
func archModel(t *testing.T, spec string, int8 bool) (string, *format.Model) {
	t.Helper()
	fm, err := enginetest.Build(spec, enginetest.Options{Int8: int8, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range fm.Graph.Nodes {
		if op.Lookup(fm.Graph.Nodes[i].Op) == nil {
			t.Fatalf("operator %s is not in the runtime", fm.Graph.Nodes[i].Op)
		}
	}
	name := strings.NewReplacer(":", "_", ",", "_", "=", "").Replace(spec)
	if int8 {
		name += "-int8"
	}
	return writeModel(t, name+".erm", fm), fm
}

// runJSON is run --json's output, decoded.
type runJSON struct {
	ModelName string `json:"model_name"`
	ID        string `json:"id"`
	Outputs   []struct {
		Name     string    `json:"name"`
		Datatype string    `json:"datatype"`
		Shape    []int     `json:"shape"`
		Data     []float64 `json:"data"`
	} `json:"outputs"`
	Predictions [][]struct {
		Label       string  `json:"label"`
		Probability float64 `json:"probability"`
	} `json:"predictions"`
}

func decodeRun(t *testing.T, r result) runJSON {
	t.Helper()
	r.wantOK(t)
	var out runJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	return out
}

// reference runs the model in-process on inputs.
func reference(t *testing.T, fm *format.Model, inputs []*tensor.Tensor) (*engine.Model, []*tensor.Tensor) {
	t.Helper()
	m, err := engine.Load(fm)
	if err != nil {
		t.Fatal(err)
	}
	s := m.NewSession()
	t.Cleanup(s.Close)
	outs, err := s.Run(inputs)
	if err != nil {
		t.Fatal(err)
	}
	return m, outs
}

// checkOutputs compares run's JSON with the reference outputs, exactly,
// and the predictions with the labels.
func checkOutputs(t *testing.T, got runJSON, m *engine.Model, want []*tensor.Tensor) {
	t.Helper()
	if len(got.Outputs) != len(want) {
		t.Fatalf("%d outputs, want %d", len(got.Outputs), len(want))
	}
	for i, w := range want {
		o := got.Outputs[i]
		if o.Name != m.Outputs[i].Name || o.Datatype != "FP32" || !slices.Equal(o.Shape, []int(w.Shape)) || len(o.Data) != len(w.F32) {
			t.Fatalf("output %d = %s %s %v with %d values, want %s FP32 %v with %d", i, o.Name, o.Datatype, o.Shape, len(o.Data), m.Outputs[i].Name, w.Shape, len(w.F32))
		}
		for j, v := range w.F32 {
			if float32(o.Data[j]) != v {
				t.Fatalf("output %s[%d] = %v, want %v", o.Name, j, o.Data[j], v)
			}
		}
	}
	labels := m.Meta.Labels
	if len(labels) == 0 {
		if got.Predictions != nil {
			t.Errorf("predictions without labels: %v", got.Predictions)
		}
		return
	}
	if len(got.Predictions) != want[0].Shape[0] {
		t.Fatalf("%d prediction rows, want %d", len(got.Predictions), want[0].Shape[0])
	}
	for r, ps := range got.Predictions {
		var sum float64
		var names []string
		for j, p := range ps {
			sum += p.Probability
			names = append(names, p.Label)
			if j > 0 && p.Probability > ps[j-1].Probability {
				t.Errorf("row %d: predictions not sorted: %v", r, ps)
			}
		}
		wantNames := slices.Clone(labels)
		if len(labels) == 1 {
			wantNames = append(wantNames, "not "+labels[0])
		}
		slices.Sort(names)
		slices.Sort(wantNames)
		if !slices.Equal(names, wantNames) || math.Abs(sum-1) > 1e-4 {
			t.Errorf("row %d: predictions %v (sum %v), want labels %v summing to 1", r, ps, sum, labels)
		}
	}
}

// requestJSON writes inputs as an inference request, the data nested
// like the shape or flat.
func requestJSON(t *testing.T, m *engine.Model, inputs []*tensor.Tensor, nested bool) string {
	t.Helper()
	type in struct {
		Name     string `json:"name"`
		Datatype string `json:"datatype"`
		Shape    []int  `json:"shape"`
		Data     any    `json:"data"`
	}
	var req struct {
		Inputs []in `json:"inputs"`
	}
	for i, x := range inputs {
		var flat []any
		for j := range x.Len() {
			switch x.DType {
			case tensor.F32:
				flat = append(flat, x.F32[j])
			case tensor.I64:
				flat = append(flat, x.I64[j])
			case tensor.I32:
				flat = append(flat, x.I32[j])
			}
		}
		data := any(flat)
		if nested {
			data = nest(flat, x.Shape)
		}
		req.Inputs = append(req.Inputs, in{m.Inputs[i].Name, oipDatatype(x.DType), x.Shape, data})
	}
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func nest(flat []any, shape []int) any {
	if len(shape) <= 1 {
		return flat
	}
	n := len(flat) / shape[0]
	out := make([]any, shape[0])
	for i := range out {
		out[i] = nest(flat[i*n:(i+1)*n], shape[1:])
	}
	return out
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunEveryArchitecture(t *testing.T) {
	for _, spec := range archSpecs {
		for _, int8 := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/int8=%v", spec, int8), func(t *testing.T) {
				path, fm := archModel(t, spec, int8)
				m, err := engine.Load(fm)
				if err != nil {
					t.Fatal(err)
				}
				inputs, err := benchInputs(m, idBounds(fm), 3)
				if err != nil {
					t.Fatal(err)
				}
				_, want := reference(t, fm, inputs)
				for _, nested := range []bool{false, true} {
					req := writeFile(t, "req.json", requestJSON(t, m, inputs, nested))
					got := decodeRun(t, runArgs("run", path, "--input", req, "--json", "--threads", "2"))
					if got.ModelName != strings.TrimSuffix(filepath.Base(path), ".erm") {
						t.Errorf("model_name = %q", got.ModelName)
					}
					checkOutputs(t, got, m, want)
				}

				// The text form names every output; labelled models list
				// their labels per row.
				req := writeFile(t, "req.json", requestJSON(t, m, inputs, false))
				r := runArgs("run", path, "--input", req)
				r.wantOK(t)
				for _, o := range m.Outputs {
					if !strings.HasPrefix(r.stdout, o.Name+"  f32  [3,") {
						t.Errorf("text output lacks %s:\n%s", o.Name, r.stdout)
					}
				}
				for _, l := range m.Meta.Labels {
					if strings.Count(r.stdout, "  "+l+" ") != 3 {
						t.Errorf("text output does not list label %s for each of 3 rows:\n%s", l, r.stdout)
					}
				}
				if len(m.Meta.Labels) > 0 && !strings.Contains(r.stdout, "row 2 ") {
					t.Errorf("text output lacks row 2:\n%s", r.stdout)
				}
			})
		}
	}
}

func TestRunText(t *testing.T) {
	for _, spec := range []string{
		"textcls:vocab=50,emb=8,lstm=8,classes=3,seq=12",
		"textcls:vocab=50,emb=8,gru=8,classes=1,seq=12,bidir=1",
		"transformer:vocab=50,d=16,heads=2,ffn=32,layers=1,seq=8,classes=2",
	} {
		t.Run(spec, func(t *testing.T) {
			path, fm := archModel(t, spec, true)
			seq := int(fm.Metadata.Tokenizer.MaxLen)
			// The vocabulary is <pad>, <unk>, w2, w3, ...; the tokenizer
			// lowercases.
			ids := make([]int64, seq)
			copy(ids, []int64{5, 7, 1, 1, 12})
			m, want := reference(t, fm, []*tensor.Tensor{tensor.NewI64(tensor.Shape{1, seq}, ids)})
			got := decodeRun(t, runArgs("run", path, "--text", "W5 w7 zzz ! w12", "--json"))
			checkOutputs(t, got, m, want)

			r := runArgs("run", path, "--text", "W5 w7 zzz ! w12")
			r.wantOK(t)
			if !strings.Contains(r.stdout, m.Meta.Labels[0]+" ") || strings.Contains(r.stdout, "row 0") {
				t.Errorf("text output:\n%s", r.stdout)
			}

			// Empty or blank text is refused, as the text plugins refuse it
			// (it was run as all padding); a text longer than max_len is cut.
			runArgs("run", path, "--text", "").wantFail(t, 1, "edgerun: run "+path+": --text is empty: give the text to classify")
			runArgs("run", path, "--text", " \t").wantFail(t, 1, "edgerun: run "+path+": --text is empty: give the text to classify")
			decodeRun(t, runArgs("run", path, "--text", strings.Repeat("w3 ", 3*seq), "--json"))
		})
	}

	t.Run("i32 input", func(t *testing.T) {
		fm, err := enginetest.Build("textcls:vocab=50,emb=8,lstm=8,classes=3,seq=12", enginetest.Options{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		fm.Graph.Inputs[0].DType = format.I32
		if _, err := engine.Load(fm); err != nil {
			t.Fatalf("the runtime does not take i32 token ids: %v", err)
		}
		path := writeModel(t, "i32.erm", fm)
		ids := make([]int32, 12)
		copy(ids, []int32{5, 7, 1})
		m, want := reference(t, fm, []*tensor.Tensor{tensor.NewI32(tensor.Shape{1, 12}, ids)})
		checkOutputs(t, decodeRun(t, runArgs("run", path, "--text", "w5 W7 what", "--json")), m, want)
	})
}

func TestRunCSV(t *testing.T) {
	path, fm := archModel(t, "mlp:4-8-3", true)
	rows := [][]float32{{1, 2, 3, 4}, {-0.5, 0, 0.25, 1e-3}, {10, -10, 3.5, 2}}
	var flat []float32
	var plain, named, bom strings.Builder
	named.WriteString("label, f3,f1,f0 ,f2\n")
	bom.WriteString(utf8BOM + "f0,f1,f2,f3\n")
	for _, r := range rows {
		flat = append(flat, r...)
		s := func(i int) string { return strconv.FormatFloat(float64(r[i]), 'g', -1, 32) }
		fmt.Fprintf(&plain, "%s,%s,%s,%s\n", s(0), s(1), s(2), s(3))
		fmt.Fprintf(&bom, "%s, %s, %s, %s\n", s(0), s(1), s(2), s(3))
		fmt.Fprintf(&named, "yes,%s,%s,%s,%s\n", s(3), s(1), s(0), s(2))
	}
	m, want := reference(t, fm, []*tensor.Tensor{tensor.NewF32(tensor.Shape{3, 4}, flat)})
	for name, content := range map[string]string{"plain": plain.String(), "named": named.String(), "bom header": bom.String(),
		"bom data": utf8BOM + plain.String()} {
		t.Run(name, func(t *testing.T) {
			csv := writeFile(t, "x.csv", content)
			checkOutputs(t, decodeRun(t, runArgs("run", path, "--csv", csv, "--json")), m, want)
			r := runArgs("run", path, "--csv", csv)
			r.wantOK(t)
			if !strings.HasPrefix(r.stdout, "probs  f32  [3,3]\n  row 0  class_") {
				t.Errorf("text output:\n%s", r.stdout)
			}
		})
	}

	// A sigmoid model shows p and 1-p.
	path, _ = archModel(t, "mlp:2-4-1", false)
	r := runArgs("run", path, "--csv", writeFile(t, "x.csv", "0.5,1\n"))
	r.wantOK(t)
	if !strings.Contains(r.stdout, "  positive ") || !strings.Contains(r.stdout, "  not positive ") {
		t.Errorf("sigmoid output:\n%s", r.stdout)
	}
}

func TestRunErrors(t *testing.T) {
	mlp, _ := archModel(t, "mlp:4-8-3", false)
	good := `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}`
	runArgs("run", mlp, "--input", writeFile(t, "ok.json", good)).wantOK(t)

	for _, tc := range []struct{ name, request, want string }{
		{"wrong name", `{"inputs":[{"name":"y","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}`, `the model has no input "y" (it takes x f32 [?,4])`},
		{"wrong shape", `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,5],"data":[1,2,3,4,5]}]}`, `input "x": shape [1,5] does not fit the model's [?,4]`},
		{"wrong rank", `{"inputs":[{"name":"x","datatype":"FP32","shape":[4],"data":[1,2,3,4]}]}`, `input "x": shape [4] does not fit the model's [?,4]`},
		{"too few values", `{"inputs":[{"name":"x","datatype":"FP32","shape":[2,4],"data":[1,2,3,4]}]}`, `input "x": shape [2,4] needs 8 values, data has 4`},
		{"nesting against shape", `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[[1,2],[3,4]]}]}`, `input "x": shape [1,4] does not match the nesting of data, [2,2]`},
		{"ragged", `{"inputs":[{"name":"x","datatype":"FP32","data":[[1,2,3,4],[1,2,3]]}]}`, `input "x": data is ragged: arrays of lengths 4 and 3 at depth 1`},
		{"ragged depth", `{"inputs":[{"name":"x","datatype":"FP32","data":[[1,2,3,4],5]}]}`, `input "x": data is ragged`},
		{"string value", `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,"2",3,4]}]}`, `input "x": data[1] is "2", not a number (FP32 data)`},
		{"boolean value", `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,true,4]}]}`, `input "x": data[2] is a boolean, not a number (FP32 data)`},
		{"parameters", `{"parameters":{"top_k":3,"a":"b"},"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}`, `run takes no request parameters ("a", "top_k")`},
		{"input parameters", `{"inputs":[{"name":"x","parameters":{"binary_data_size":16},"datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}`, `input "x": run takes no input parameters ("binary_data_size")`},
		{"unknown output", `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}],"outputs":[{"name":"nope"}]}`, `the model has no output "nope" (it has probs f32 [?,3])`},
		{"output twice", `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}],"outputs":[{"name":"probs"},{"name":"probs"}]}`, `output "probs" is asked for twice`},
		{"output parameters", `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}],"outputs":[{"name":"probs","parameters":{"classification":2}}]}`, `output "probs": run takes no output parameters ("classification")`},
		{"no data", `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4]}]}`, `input "x": "data" is missing`},
		{"data not array", `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":{}}]}`, `input "x": "data" is not an array`},
		{"int for f32", `{"inputs":[{"name":"x","datatype":"INT64","shape":[1,4],"data":[1,2,3,4]}]}`, `input "x": datatype INT64 does not fit the model's f32 input (use FP32)`},
		{"bad datatype", `{"inputs":[{"name":"x","datatype":"BYTES","shape":[1,4],"data":[1,2,3,4]}]}`, `input "x": datatype "BYTES" is not supported (FP32, INT64 or INT32)`},
		{"no datatype", `{"inputs":[{"name":"x","shape":[1,4],"data":[1,2,3,4]}]}`, `input "x": "datatype" is missing`},
		{"out of range", `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,1e39]}]}`, `input "x": data[3] = 1e39 is out of the FP32 range`},
		{"negative dim", `{"inputs":[{"name":"x","datatype":"FP32","shape":[-1,4],"data":[1,2,3,4]}]}`, `input "x": shape [-1 4] has a negative or huge dimension`},
		{"huge dim", `{"inputs":[{"name":"x","datatype":"FP32","shape":[100000000,4],"data":[1]}]}`, `input "x": shape [100000000 4] has a negative or huge dimension`},
		{"huge shape", `{"inputs":[{"name":"x","datatype":"FP32","shape":[60000000,60000000],"data":[1]}]}`, `input "x": shape [60000000 60000000] is too large (more than 67108864 elements)`},
		{"twice", `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]},{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}`, `input "x" is given twice`},
		{"no name", `{"inputs":[{"datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}`, `inputs[0] has no name (the model takes x f32 [?,4])`},
		{"no inputs", `{"outputs":[]}`, `no "inputs" in the request (the model takes x f32 [?,4])`},
		{"malformed", `{"inputs":[{"name":"x",}]}`, `invalid JSON at line 1, column 24: invalid character '}'`},
		{"malformed line", "{\n  \"inputs\": [\n    {\"name\": \"x\" \"datatype\": \"FP32\"}]}", `invalid JSON at line 3, column 18: `},
		{"truncated", `{"inputs":[{"name":"x"`, `invalid JSON: unexpected end of input`},
		{"empty", ``, `invalid JSON: the input is empty`},
		{"array", `[1,2]`, `invalid request at line 1, column 1: the request must be an object, not a JSON array`},
		{"shape type", `{"inputs":[{"name":"x","datatype":"FP32","shape":[1.5],"data":[1]}]}`, `invalid request at line 1, column `},
		{"trailing", good + ` {}`, `invalid JSON: data after the request object`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := writeFile(t, "req.json", tc.request)
			runArgs("run", mlp, "--input", req).wantFail(t, 1, "edgerun: run "+mlp+": "+req+": "+tc.want)
		})
	}

	for _, tc := range []struct{ name, csv, want string }{
		{"not a number, no header", "1,2,3,4\n1,two,3,4\n", `row 2 (line 2), column 2 "f1": "two" is not a number`},
		{"not a number", "f0,f1,f2,f3\n1,x,3,4\n", `row 1 (line 2), column 2 "f1": "x" is not a number`},
		{"infinite", "f0,f1,f2,f3\n1,2,-Inf,4\n", `row 1 (line 2), column 3 "f2": "-Inf" is not a finite number`},
		{"infinite, no header", "1,2,3,4\n1,2,3,inf\n", `row 2 (line 2), column 4 "f3": "inf" is not a finite number`},
		{"too large", "1,2,3,4\n1,2,3,1e999\n", `row 2 (line 2), column 4 "f3": "1e999" is not a finite number`},
		{"wrong width", "1,2,3\n", `line 1: the first row is neither a header (it names none of the columns "f0", "f1", "f2", "f3") nor a data row (3 fields, not 4)`},
		{"ragged", "1,2,3,4\n1,2,3\n", `invalid CSV at line 2: 3 fields, the first row has 4`},
		{"wrong header", "a,b,c\n1,2,3\n", `line 1: the first row is neither a header (it names none of the columns "f0", "f1", "f2", "f3") nor a data row (3 fields, not 4)`},
		{"positional header", "a,b,c,d\n1,2,3,4\n", `line 1: the first row is neither a header (it names none of the columns "f0", "f1", "f2", "f3") nor a data row (column 1 "f0": "a" is not a number)`},
		{"header case", "F0,f1,f2,f3\n1,2,3,4\n", `line 1: column "f0" is missing from the header (it also has "F0"); the model takes "f0", "f1", "f2", "f3"`},
		{"partial header", "f0,f1,2,3\n1,2,3,4\n", `line 1: columns "f2", "f3" are missing from the header (it also has "2", "3"); the model takes "f0", "f1", "f2", "f3"`},
		{"header twice", "f0,f1,f2,f3,f1\n1,2,3,4,5\n", `line 1: the header names "f1" twice (columns 2 and 5)`},
		{"bom, wrong header", utf8BOM + "a,f1,f2,f3\n1,2,3,4\n", `line 1: column "f0" is missing from the header (it also has "a"); the model takes "f0", "f1", "f2", "f3"`},
		{"header only", "f0,f1,f2,f3\n", `the table has no data rows`},
		{"empty", "", `the table has no data rows`},
		{"quote", "1,2,3,\"4\n", `invalid CSV at line 1: extraneous or missing " in quoted-field`},
	} {
		t.Run("csv "+tc.name, func(t *testing.T) {
			csv := writeFile(t, "x.csv", tc.csv)
			runArgs("run", mlp, "--csv", csv).wantFail(t, 1, "edgerun: run "+mlp+": "+csv+": "+tc.want)
		})
	}

	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	req := writeFile(t, "ok.json", good)
	runArgs("run", mlp, "--input", missing).wantFail(t, 1, "edgerun: run "+mlp+": open "+missing+": no such file or directory")
	runArgs("run", mlp, "--csv", missing).wantFail(t, 1, "edgerun: run "+mlp+": open "+missing+": no such file or directory")
	runArgs("run", missing, "--input", req).wantFail(t, 1, "edgerun: run "+missing+": open: no such file or directory")
	runArgs("run", mlp, "--text", "hello").wantFail(t, 1, "edgerun: run "+mlp+": --text: the model has no tokenizer in its metadata (use --input or --csv)")
	runArgs("run", mlp, "--input", req, "--threads", "0").wantFail(t, 1, "edgerun: run "+mlp+": --threads=0: need at least 1")
	// A negative count as its own argument is refused by the range check,
	// not by the parser taking "-1" for a short flag.
	runArgs("run", mlp, "--input", req, "--threads", "-1").wantFail(t, 1, "edgerun: run "+mlp+": --threads=-1: need at least 1")
	runArgs("run", mlp, "--input", req, "--threads=-1").wantFail(t, 1, "edgerun: run "+mlp+": --threads=-1: need at least 1")
	runArgs("run", mlp, "--input", req, "--threads", "two").wantFail(t, 2, `edgerun: --threads: expected an integer but got "two" (see 'edgerun run --help')`)
	runArgs("run", mlp, "--input", req, "--threads").wantFail(t, 2, "edgerun: --threads: expected an integer (see 'edgerun run --help')")
	// Exactly one input: a usage error otherwise (exit 2), --text ''
	// counted as given.
	runArgs("run", mlp).wantFail(t, 2, "edgerun: run: no input: give one of --input FILE, --csv FILE, --text STRING or --wav FILE (see 'edgerun run --help')")
	runArgs("run", mlp, "--input", req, "--csv", req).wantFail(t, 2, "edgerun: run: --input, --csv given: give only one of --input, --csv, --text and --wav (see 'edgerun run --help')")
	runArgs("run", mlp, "--csv", req, "--text", "").wantFail(t, 2, "edgerun: run: --csv, --text given: give only one of --input, --csv, --text and --wav (see 'edgerun run --help')")
	runArgs("run", "--input", req).wantFail(t, 2, "edgerun: ")

	// A request the model refuses at run time (an id outside the
	// vocabulary) is one line too.
	rec, _ := archModel(t, "recommender:users=10,items=20,dim=4", false)
	bad := writeFile(t, "rec.json", `{"inputs":[{"name":"user","datatype":"INT64","shape":[1],"data":[10]},{"name":"item","datatype":"INT32","shape":[1],"data":[0]}]}`)
	runArgs("run", rec, "--input", bad).wantFail(t, 1, "edgerun: run "+rec+": engine: ")
	half := writeFile(t, "rec.json", `{"inputs":[{"name":"user","datatype":"INT64","shape":[1],"data":[1]}]}`)
	runArgs("run", rec, "--input", half).wantFail(t, 1, "edgerun: run "+rec+": "+half+`: input "item" is missing (the model takes user i64 [?], item i64 [?])`)
	frac := writeFile(t, "rec.json", `{"inputs":[{"name":"user","datatype":"INT64","shape":[1],"data":[1.5]},{"name":"item","datatype":"INT64","shape":[1],"data":[1]}]}`)
	runArgs("run", rec, "--input", frac).wantFail(t, 1, "edgerun: run "+rec+": "+frac+`: input "user": data[0] = 1.5 is not an integer`)
	big := writeFile(t, "rec.json", `{"inputs":[{"name":"user","datatype":"INT32","shape":[1],"data":[3000000000]},{"name":"item","datatype":"INT64","shape":[1],"data":[1]}]}`)
	runArgs("run", rec, "--input", big).wantFail(t, 1, "edgerun: run "+rec+": "+big+`: input "user": data[0] = 3000000000 is out of the INT32 range`)
	fp := writeFile(t, "rec.json", `{"inputs":[{"name":"user","datatype":"FP32","shape":[1],"data":[1]},{"name":"item","datatype":"INT64","shape":[1],"data":[1]}]}`)
	runArgs("run", rec, "--input", fp).wantFail(t, 1, "edgerun: run "+rec+": "+fp+`: input "user": datatype FP32 does not fit the model's i64 input (use INT64 or INT32)`)
	csv := writeFile(t, "x.csv", "1,2\n")
	runArgs("run", rec, "--csv", csv).wantFail(t, 1, "edgerun: run "+rec+": "+csv+": --csv needs a model with one f32 input of shape [?,N], or [?,steps,channels] with the channels named in its metadata; this one takes user i64 [?], item i64 [?]")
	runArgs("run", rec, "--text", "hi").wantFail(t, 1, "edgerun: run "+rec+": --text: the model has no tokenizer")
}

func TestRunStdin(t *testing.T) {
	path, fm := archModel(t, "mlp:4-8-3", false)
	x := tensor.NewF32(tensor.Shape{1, 4}, []float32{1, 2, 3, 4})
	m, want := reference(t, fm, []*tensor.Tensor{x})
	defer func(f *os.File) { os.Stdin = f }(os.Stdin)
	for _, tc := range []struct{ flag, content string }{
		{"--input", requestJSON(t, m, []*tensor.Tensor{x}, true)},
		{"--csv", "f0,f1,f2,f3\n1,2,3,4\n"},
	} {
		f, err := os.Open(writeFile(t, "stdin", tc.content))
		if err != nil {
			t.Fatal(err)
		}
		os.Stdin = f
		checkOutputs(t, decodeRun(t, runArgs("run", path, tc.flag, "-", "--json")), m, want)
		f.Close()
	}
	f, err := os.Open(writeFile(t, "stdin", "{"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	os.Stdin = f
	runArgs("run", path, "--input", "-").wantFail(t, 1, "edgerun: run "+path+": standard input: invalid JSON: unexpected end of input")
}

// TestRunCSVFeatures: a model whose metadata has categorical and imputed
// features gets each CSV row encoded as the trainer prepared it (one-hot,
// missing values imputed, unknown categories all zeros), columns matched
// by name.
func TestRunCSVFeatures(t *testing.T) {
	id := []float32{1, 0, 0, 0, 1, 0, 0, 0, 1}
	fm := &format.Model{
		Graph: format.Graph{
			Inputs:  []format.ValueInfo{{Name: "x", DType: format.F32, Shape: []int64{-1, 3}}},
			Outputs: []format.ValueInfo{{Name: "y", DType: format.F32, Shape: []int64{-1, 3}}},
			Nodes:   []format.Node{{Name: "d", Op: "Dense", Inputs: []string{"x", "w"}, Outputs: []string{"y"}}},
		},
		Tensors: []format.Tensor{format.NewF32("w", []int64{3, 3}, id)},
		Metadata: format.Metadata{Task: "tabular-regression", Features: []format.Feature{
			{Name: "a", Kind: "numeric", Impute: 5},
			{Name: "c", Kind: "categorical", Categories: []string{"u", "v"}},
		}},
	}
	path := filepath.Join(t.TempDir(), "f.erm")
	if err := format.WriteFile(path, fm); err != nil {
		t.Fatal(err)
	}
	// A missing category without a "<missing>" category is all zeros.
	want := []float64{2.5, 0, 1, 5, 0, 0, 5, 1, 0}
	for name, table := range map[string]string{
		"header":    "c,id,a\nv,1,2.5\nNA,2,NA\n u ,3,\n",
		"no header": "2.5,v\nNA,\n,u\n", // the features in the metadata's order
	} {
		got := decodeRun(t, runArgs("run", path, "--csv", writeFile(t, "x.csv", table), "--json"))
		if len(got.Outputs) != 1 || fmt.Sprint(got.Outputs[0].Data) != fmt.Sprint(want) {
			t.Errorf("%s: outputs %+v, want %v", name, got.Outputs, want)
		}
	}
	for _, tc := range []struct{ csv, want string }{
		// An unknown category names the data row, the line and the column.
		{"c,id,a\nv,1,2.5\nw,2,NA\n", `row 2 (line 3), column 1 "c": "w" is not one of the column's categories ("u", "v")`},
		{"2.5,v\n1,x\n", `row 2 (line 2), column 2 "c": "x" is not one of the column's categories ("u", "v")`},
		{"1,x\n", `line 1: the first row is neither a header (it names none of the columns "a", "c") nor a data row (column 2 "c": "x" is not one of the column's categories ("u", "v"))`},
		// A missing or renamed column is named, with the columns the
		// model takes (not its encoded width, 3).
		{"grade,a,id\nv,1,2\n", `line 1: column "c" is missing from the header (it also has "grade", "id"); the model takes "a", "c"`},
		// Headerless: the raw features' count, not the encoded width.
		{"1,0,1\n", `line 1: the first row is neither a header (it names none of the columns "a", "c") nor a data row (3 fields, not 2)`},
		{"a,c\n1,v,3\n", `invalid CSV at line 2: 3 fields, the first row has 2`},
	} {
		csv := writeFile(t, "x.csv", tc.csv)
		runArgs("run", path, "--csv", csv).wantFail(t, 1, "edgerun: run "+path+": "+csv+": "+tc.want)
	}
}

// TestRunOutputs: the request's "outputs" pick the outputs run prints,
// in the request's order, and its "id" is echoed.
func TestRunOutputs(t *testing.T) {
	fm := &format.Model{
		Graph: format.Graph{
			Inputs:  []format.ValueInfo{{Name: "x", DType: format.F32, Shape: []int64{-1, 2}}},
			Outputs: []format.ValueInfo{{Name: "y", DType: format.F32, Shape: []int64{-1, 2}}, {Name: "z", DType: format.F32, Shape: []int64{-1, 2}}},
			Nodes: []format.Node{
				{Name: "d1", Op: "Dense", Inputs: []string{"x", "w1"}, Outputs: []string{"y"}},
				{Name: "d2", Op: "Dense", Inputs: []string{"x", "w2"}, Outputs: []string{"z"}},
			},
		},
		Tensors: []format.Tensor{format.NewF32("w1", []int64{2, 2}, []float32{1, 0, 0, 1}), format.NewF32("w2", []int64{2, 2}, []float32{2, 0, 0, 2})},
	}
	path := writeModel(t, "two.erm", fm)
	names := func(got runJSON) string {
		var s []string
		for _, o := range got.Outputs {
			s = append(s, fmt.Sprintf("%s=%v", o.Name, o.Data))
		}
		return strings.Join(s, " ")
	}
	for _, tc := range []struct{ outputs, want string }{
		{``, "y=[1 2] z=[2 4]"},
		{`,"outputs":[]`, "y=[1 2] z=[2 4]"},
		{`,"outputs":[{"name":"z"}]`, "z=[2 4]"},
		{`,"outputs":[{"name":"z"},{"name":"y"}]`, "z=[2 4] y=[1 2]"},
	} {
		req := writeFile(t, "req.json", `{"id":"r7","inputs":[{"name":"x","datatype":"FP32","data":[[1,2]]}]`+tc.outputs+`}`)
		got := decodeRun(t, runArgs("run", path, "--input", req, "--json"))
		if names(got) != tc.want || got.ID != "r7" {
			t.Errorf("%s: id %q, outputs %s, want %s", tc.outputs, got.ID, names(got), tc.want)
		}
	}
	req := writeFile(t, "req.json", `{"inputs":[{"name":"x","datatype":"FP32","data":[[1,2]]}],"outputs":[{"name":"z"}]}`)
	if r := runArgs("run", path, "--input", req); r.code != 0 || strings.Contains(r.stdout, "y ") || !strings.HasPrefix(r.stdout, "z  f32  [1,2]") {
		t.Errorf("text: %v", r)
	}
}

// TestRunHelp: run's usage shows its input flags as alternatives (kong's
// required xor group printed "run --input=FILE --text=STRING --csv=FILE",
// as if all three were needed), and lists them in a group of their own.
func TestRunHelp(t *testing.T) {
	r := runArgs("run", "--help")
	r.wantOK(t)
	for _, want := range []string{
		"Usage: edgerun run <model> [flags]\n",
		"    edgerun run <model> (--input FILE | --csv FILE | --text STRING | --wav FILE) [flags]\n",
		"Give exactly one of --input, --csv, --text or --wav:",
		"Input (give exactly one)\n  -i, --input=FILE ",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("run --help lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "--input=FILE --text=STRING") {
		t.Errorf("run --help shows the inputs as if all were needed:\n%s", r.stdout)
	}
	in, csv, text := strings.Index(r.stdout, "--input=FILE "), strings.Index(r.stdout, "--csv=FILE "), strings.Index(r.stdout, "--text=STRING ")
	if group := strings.Index(r.stdout, "Input (give exactly one)"); in < group || csv < group || text < group {
		t.Errorf("the input flags are not in their group:\n%s", r.stdout)
	}
}
