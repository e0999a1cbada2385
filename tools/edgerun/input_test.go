package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/tools/edgerun/internal/serve"
	"github.com/edgerun/edgerun/tools/internal/oip"
)

// TestRequestKeys: keys are matched exactly and once; "Data" does not
// stand in for "data" (encoding/json would take it, and the last of two).
func TestRequestKeys(t *testing.T) {
	mlp, _ := archModel(t, "mlp:4-8-3", false)
	for _, tc := range []struct{ name, request, want string }{
		{"case", `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4],"Data":[9,9,9,9]}]}`,
			`invalid request at line 1, column 73: inputs[0] has an unknown key "Data" (keys are case-sensitive: "name", "datatype", "shape", "parameters", "data")`},
		{"case only", `{"inputs":[{"Name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}`, `invalid request at line 1, column 13: inputs[0] has an unknown key "Name"`},
		{"twice", `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4],"data":[9,9,9,9]}]}`, `invalid request at line 1, column 73: inputs[0] has the key "data" twice`},
		{"name twice", `{"inputs":[{"name":"y","name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}`, `invalid request at line 1, column 24: inputs[0] has the key "name" twice`},
		{"top case", `{"Inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}`, `invalid request at line 1, column 2: the request has an unknown key "Inputs" (keys are case-sensitive: "id", "parameters", "inputs", "outputs")`},
		{"top twice", `{"inputs":[],"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}`, `invalid request at line 1, column 14: the request has the key "inputs" twice`},
		{"unknown", `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}],"model":"m"}`, `invalid request at line 1, column 75: the request has an unknown key "model"`},
		{"datatype case", `{"inputs":[{"name":"x","datatype":"fp32","shape":[1,4],"data":[1,2,3,4]}]}`, `input "x": datatype "fp32" is not supported (FP32, INT64 or INT32)`},
		{"id type", `{"id":1,"inputs":[]}`, `invalid request at line 1, column 8: "id" must be a string, not a number`},
		{"parameters type", `{"parameters":[],"inputs":[]}`, `invalid request at line 1, column 15: "parameters" must be an object, not an array`},
		{"input parameters type", `{"inputs":[{"name":"x","parameters":1}]}`, `invalid request at line 1, column 37: input "x": "parameters" must be an object, not a number`},
		{"deep parameters", `{"parameters":` + strings.Repeat("[", 20000) + `}`, `invalid request at line 1, column 15: "parameters" must be an object, not an array`},
		{"deep data", `{"inputs":[{"name":"x","datatype":"FP32","data":` + strings.Repeat("[", 100) + `]}]}`, `input "x": data is nested deeper than 8 arrays`},
		{"deep data first", `{"inputs":[{"data":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `,"name":"x","datatype":"FP32"}]}`, `input "x": data is nested deeper than 8 arrays`},
		{"shape rank", `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,1,1,1,1,1,1,1,1],"data":[1]}]}`, `input "x": shape has more than 8 dimensions`},
		{"input not object", `{"inputs":[1]}`, `invalid request at line 1, column 12: inputs[0] must be an object, not a number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := writeFile(t, "req.json", tc.request)
			runArgs("run", mlp, "--input", req).wantFail(t, 1, "edgerun: run "+mlp+": "+req+": "+tc.want)
		})
	}
}

// TestRequestOrder: the keys of a request come in any order, with the
// optional ones the protocol defines; "data" before "name" or
// "datatype" is read whole, then converted.
func TestRequestOrder(t *testing.T) {
	path, fm := archModel(t, "mlp:4-8-3", false)
	x := tensor.NewF32(tensor.Shape{2, 4}, []float32{1, 2, 3, 4, -1, 0.5, 0, 1e-3})
	m, want := reference(t, fm, []*tensor.Tensor{x})
	const data = `[[1,2,3,4],[-1,0.5,0,1e-3]]`
	for name, req := range map[string]string{
		"usual":        `{"inputs":[{"name":"x","datatype":"FP32","shape":[2,4],"data":` + data + `}]}`,
		"data first":   `{"inputs":[{"data":` + data + `,"shape":[2,4],"datatype":"FP32","name":"x"}]}`,
		"shape last":   `{"inputs":[{"name":"x","datatype":"FP32","data":` + data + `,"shape":[2,4]}]}`,
		"no shape":     `{"inputs":[{"name":"x","datatype":"FP32","data":` + data + `}]}`,
		"flat":         `{"inputs":[{"name":"x","datatype":"FP32","shape":[2,4],"data":[1,2,3,4,-1,0.5,0,1e-3]}]}`,
		"protocol":     `{"id":"r1","parameters":{},"inputs":[{"name":"x","parameters":{},"datatype":"FP32","shape":[2,4],"data":` + data + `}],"outputs":[{"name":"probs"}]}`,
		"inputs first": "\n{ \"inputs\" : [ { \"name\" : \"x\" , \"datatype\" : \"FP32\" , \"data\" : " + data + " } ] , \"id\" : \"\" }\n",
	} {
		t.Run(name, func(t *testing.T) {
			checkOutputs(t, decodeRun(t, runArgs("run", path, "--input", writeFile(t, "req.json", req), "--json")), m, want)
		})
	}
}

// TestRequestLimits: the byte and element caps are errors that say so.
func TestRequestLimits(t *testing.T) {
	mlp, _ := archModel(t, "mlp:4-8-3", false)
	good := `{"inputs":[{"name":"x","datatype":"FP32","shape":[2,4],"data":[1,2,3,4,5,6,7,8]}]}`
	req := writeFile(t, "req.json", good)
	n := strconv.Itoa(len(good))
	prefix := "edgerun: run " + mlp + ": " + req + ": "
	runArgs("run", mlp, "--input", req, "--max-request-bytes", n).wantOK(t)
	runArgs("run", mlp, "--input", req, "--max-request-bytes", strconv.Itoa(len(good)-1)).wantFail(t, 1,
		prefix+"the request is larger than "+strconv.Itoa(len(good)-1)+" bytes (--max-request-bytes)")
	runArgs("run", mlp, "--input", req, "--max-request-bytes", "20").wantFail(t, 1, prefix+"the request is larger than 20 bytes (--max-request-bytes)")
	runArgs("run", mlp, "--input", req, "--max-elements", "8").wantOK(t)
	runArgs("run", mlp, "--input", req, "--max-elements", "7").wantFail(t, 1, prefix+`input "x": shape [2 4] is too large (more than 7 elements)`)
	noShape := writeFile(t, "req.json", `{"inputs":[{"name":"x","datatype":"FP32","data":[1,2,3,4,5,6,7,8]}]}`)
	runArgs("run", mlp, "--input", noShape, "--max-elements", "7").wantFail(t, 1, "edgerun: run "+mlp+": "+noShape+`: input "x": data has more than 7 values`)
	runArgs("run", mlp, "--input", req, "--max-request-bytes", "0").wantFail(t, 1, "edgerun: run "+mlp+": --max-request-bytes=0: need at least 1")

	csv := writeFile(t, "x.csv", "1,2,3,4\n5,6,7,8\n")
	runArgs("run", mlp, "--csv", csv, "--max-elements", "8").wantOK(t)
	runArgs("run", mlp, "--csv", csv, "--max-elements", "7").wantFail(t, 1, "edgerun: run "+mlp+": "+csv+": the table has more than 7 values")
	runArgs("run", mlp, "--csv", csv, "--max-request-bytes", "10").wantFail(t, 1, "edgerun: run "+mlp+": "+csv+": the request is larger than 10 bytes (--max-request-bytes)")

	// An endless input is cut at the cap.
	if _, err := os.Stat("/dev/zero"); err == nil {
		runArgs("run", mlp, "--input", "/dev/zero", "--max-request-bytes", "1000000").wantFail(t, 1, "edgerun: run "+mlp+": /dev/zero: ")
		runArgs("run", mlp, "--csv", "/dev/zero", "--max-request-bytes", "1000000").wantFail(t, 1, "edgerun: run "+mlp+": /dev/zero: the request is larger than 1000000 bytes (--max-request-bytes)")
		runArgs("run", mlp, "--csv", "/dev/zero").wantFail(t, 1, "edgerun: run "+mlp+": /dev/zero: line 1 is longer than 1048576 bytes")
	}
	long := writeFile(t, "x.csv", "1,2,3,4\n1,2,3,4"+strings.Repeat(" ", maxCSVLine)+"\n")
	runArgs("run", mlp, "--csv", long).wantFail(t, 1, "edgerun: run "+mlp+": "+long+": line 2 is longer than 1048576 bytes")
}

// bigRequest writes a request of rows×4 single-digit values in a file (with
// rows = 6553600 it is 65 MB).
func bigRequest(t *testing.T, rows int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "big.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, `{"inputs":[{"name":"x","datatype":"FP32","shape":[%d,4],"data":[`, rows)
	for i := range rows {
		if i > 0 {
			w.WriteByte(',')
		}
		fmt.Fprintf(w, "[%d,2,3,4]", i%10)
	}
	w.WriteString("]}]}\n")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRequestMemory: a request costs its tensor plus a small constant,
// not a tree of its values (before: 5.1 GB of peak RSS for a
// 65 MB request, 49× its 105 MB tensor). A child process parses a 10 MB
// request of 4M values (16 MiB of f32) and reports the growth of its
// peak RSS, which must stay under 2× the tensor's bytes (measured: about
// 1.07× since the codec's own scanner allocates nothing per value; 2.5×
// with encoding/json's Token before it).
func TestRequestMemory(t *testing.T) {
	if os.Getenv("EDGERUN_REQUEST_MEMORY_CHILD") != "" {
		requestMemoryChild()
		return
	}
	if raceEnabled {
		t.Skip("the race detector multiplies memory")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc/self/status")
	}
	const rows = 1 << 20
	path := bigRequest(t, rows)
	cmd := exec.Command(os.Args[0], "-test.run=^TestRequestMemory$")
	cmd.Env = append(os.Environ(), "EDGERUN_REQUEST_MEMORY_CHILD="+path, "GOGC=100", "GOMEMLIMIT=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var before, after, elements int64
	if _, err := fmt.Sscanf(lastLine(string(out)), "rss %d %d elements %d", &before, &after, &elements); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	if elements != rows*4 {
		t.Fatalf("child parsed %d values, want %d", elements, rows*4)
	}
	tensorBytes := elements * 4
	grew := after - before
	t.Logf("peak RSS grew by %d bytes for a %d-byte tensor (%.2f×)", grew, tensorBytes, float64(grew)/float64(tensorBytes))
	if grew > 2*tensorBytes {
		t.Errorf("peak RSS grew by %d bytes parsing a %d-byte tensor: more than 2×", grew, tensorBytes)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "rss ") {
			return lines[i]
		}
	}
	return ""
}

func requestMemoryChild() {
	f, err := os.Open(os.Getenv("EDGERUN_REQUEST_MEMORY_CHILD"))
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	inputs := []engine.ValueInfo{{Name: "x", DType: tensor.F32, Shape: []int{-1, 4}}}
	before := peakRSS()
	req, err := parseRequest(f, &engine.Model{Inputs: inputs}, defaultRequestLimits())
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Printf("rss %d %d elements %d\n", before, peakRSS(), req.inputs[0].Len())
}

// TestRunCSVMissing: NaN, "NA" and empty cells of a tabular model's
// numeric features are imputed, with or without a header, as the tabular
// plugins impute NaN; infinities are refused, as they refuse them. A
// model without feature metadata takes finite numbers only.
func TestRunCSVMissing(t *testing.T) {
	fm := &format.Model{
		Graph: format.Graph{
			Inputs:  []format.ValueInfo{{Name: "x", DType: format.F32, Shape: []int64{-1, 2}}},
			Outputs: []format.ValueInfo{{Name: "y", DType: format.F32, Shape: []int64{-1, 2}}},
			Nodes:   []format.Node{{Name: "d", Op: "Dense", Inputs: []string{"x", "w"}, Outputs: []string{"y"}}},
		},
		Tensors:  []format.Tensor{format.NewF32("w", []int64{2, 2}, []float32{1, 0, 0, 1})},
		Metadata: format.Metadata{Task: "tabular-regression", Features: []format.Feature{{Name: "a", Impute: 5}, {Name: "b", Impute: -2}}},
	}
	tabular := filepath.Join(t.TempDir(), "tab.erm")
	if err := format.WriteFile(tabular, fm); err != nil {
		t.Fatal(err)
	}
	fm.Metadata.Features = nil
	plain := filepath.Join(t.TempDir(), "plain.erm")
	if err := format.WriteFile(plain, fm); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint([]float64{1, -2, 5, 3, 5, -2})
	for name, csv := range map[string]string{
		"header":    "b,a\nNaN,1\n3,NA\n,nan\n",
		"no header": "1,NaN\nNA,3\n,\n",
		"bom":       utf8BOM + "1,NaN\nNA,3\n,\n",
	} {
		t.Run(name, func(t *testing.T) {
			got := decodeRun(t, runArgs("run", tabular, "--csv", writeFile(t, "x.csv", csv), "--json"))
			if len(got.Outputs) != 1 || fmt.Sprint(got.Outputs[0].Data) != want {
				t.Errorf("outputs %+v, want %v", got.Outputs, want)
			}
		})
	}
	// The same rows as an --input request: null, "NaN" and "NA" are
	// missing values where the model imputes, and refused elsewhere.
	req := writeFile(t, "req.json", `{"inputs":[{"name":"x","datatype":"FP32","data":[[1,null],["NA",3],["NaN",null]]}]}`)
	if got := decodeRun(t, runArgs("run", tabular, "--input", req, "--json")); len(got.Outputs) != 1 || fmt.Sprint(got.Outputs[0].Data) != want {
		t.Errorf("--input: outputs %+v, want %v", got.Outputs, want)
	}
	runArgs("run", plain, "--input", req).wantFail(t, 1, "edgerun: run "+plain+": "+req+`: input "x": data[1] is a missing value (null, "NaN" or "NA"), which only a tabular model (numeric features in its metadata) imputes`)
	for _, tc := range []struct{ model, csv, want string }{
		{tabular, "a,b\n1,+Inf\n", `row 1 (line 2), column 2 "b": "+Inf" is not a finite number`},
		{plain, "1,2\n1,NaN\n", `row 2 (line 2), column 2: "NaN" is not a finite number`},
		{plain, "1,2\n1,-inf\n", `row 2 (line 2), column 2: "-inf" is not a finite number`},
		{plain, "1,2\n1,\n", `row 2 (line 2), column 2: "" is not a number`},
		{plain, "a,b\n1,2\n", `line 1: the first row is not a row of 2 numbers, and the model has no column names to match a header against: column 1: "a" is not a number`},
		{tabular, "a,b\n", `the table has no data rows`},
	} {
		csv := writeFile(t, "x.csv", tc.csv)
		runArgs("run", tc.model, "--csv", csv).wantFail(t, 1, "edgerun: run "+tc.model+": "+csv+": "+tc.want)
	}
	// Numeric feature names make a first row both a header and data.
	fm.Metadata.Features = []format.Feature{{Name: "1"}, {Name: "2"}}
	numeric := filepath.Join(t.TempDir(), "num.erm")
	if err := format.WriteFile(numeric, fm); err != nil {
		t.Fatal(err)
	}
	csv := writeFile(t, "x.csv", "1,2\n3,4\n")
	runArgs("run", numeric, "--csv", csv).wantFail(t, 1, "edgerun: run "+numeric+": "+csv+": line 1: the first row is ambiguous: it names every column and is also a row of data")
}

// TestLatenciesBounded: bench keeps at most maxLatencySamples latencies
// whatever the number of runs, adds without allocating, and keeps count,
// total, minimum and maximum exact.
func TestLatenciesBounded(t *testing.T) {
	l := newLatencies(math.MaxInt) // a huge --iters does not allocate for them
	if cap(l.sample) != maxLatencySamples {
		t.Fatalf("sample capacity %d", cap(l.sample))
	}
	const n = 1 << 20
	for i := range n {
		l.add(time.Duration(n - i)) // n … 1
	}
	if allocs := testing.AllocsPerRun(1000, func() { l.add(n / 2) }); allocs != 0 {
		t.Errorf("%v allocations adding a latency", allocs)
	}
	l = newLatencies(0)
	for i := range n {
		l.add(time.Duration(n - i))
	}
	if l.n != n || l.lo != 1 || l.hi != n || l.total != n*(n+1)/2 || len(l.sample) != maxLatencySamples {
		t.Fatalf("n %d, min %v, max %v, total %v, sample %d", l.n, l.lo, l.hi, l.total, len(l.sample))
	}
	// A uniform sample of 65536 puts the median within 1% of n/2.
	if p := float64(l.percentile(50)); math.Abs(p-n/2) > n/100 {
		t.Errorf("p50 %v, want about %d", p, n/2)
	}
	small := newLatencies(3)
	for _, d := range []time.Duration{3, 1, 2} {
		small.add(d)
	}
	if cap(small.sample) != 3 || small.percentile(50) != 2 || small.percentile(99) != 3 {
		t.Errorf("small: %v", small.sample)
	}
}

// TestBenchItersAndTime: --iters and --time together end at whichever
// comes first, so a huge --iters is bounded by --time (and allocates
// nothing per run for the latencies).
func TestBenchItersAndTime(t *testing.T) {
	path, _ := archModel(t, "mlp:4-8-3", false)
	b := benchJSON(t, path, "--iters", strconv.Itoa(math.MaxInt), "--time", "50ms", "--warmup", "0")
	if b.Iters < 1 || b.Iters == math.MaxInt || b.LatencySamples != min(b.Iters, maxLatencySamples) {
		t.Errorf("iters %d, latency_samples %d", b.Iters, b.LatencySamples)
	}
	b = benchJSON(t, path, "--iters", "3", "--time", "1h", "--warmup", "0")
	if b.Iters != 3 || b.LatencySamples != 3 {
		t.Errorf("iters %d, latency_samples %d, want 3", b.Iters, b.LatencySamples)
	}
}

// parsePluginRequest decodes a request as plugins infer --input does,
// for a plugin whose description is d.
func parsePluginRequest(d *sdk.Description, data string) (*sdk.InferRequest, error) {
	req, err := oip.Decode(strings.NewReader(data), oip.Options{Limits: defaultRequestLimits()})
	if err != nil {
		return nil, err
	}
	return serve.RequestFromOIP(d, req)
}

// TestPluginRequest: plugins infer reads --input with the same codec as
// run (tools/internal/oip), and at most --max-request-bytes of it, before
// starting the plugin.
func TestPluginRequest(t *testing.T) {
	desc := &sdk.Description{Name: "p", Outputs: []sdk.TensorSpec{{Name: "label", Datatype: sdk.BYTES, Shape: []int64{-1}}}}
	for _, in := range []string{
		`{"id":"a","parameters":{"top_k":"2"},"inputs":[{"name":"t","datatype":"BYTES","shape":[1],"data":["hi"]},{"name":"f","datatype":"FP32","shape":[2],"data":[1.5,2]},{"name":"b","datatype":"BOOL","data":[true]}],"outputs":[]}`,
		`{"inputs":[{"data":["hi"],"shape":[1],"datatype":"BYTES","name":"t"},{"name":"f","parameters":{},"data":[1.5,2],"datatype":"FP32","shape":[2]},{"name":"b","datatype":"BOOL","data":[true]}],"parameters":{"top_k":2},"id":"a"}`,
	} {
		req, err := parsePluginRequest(desc, in)
		if err != nil {
			t.Fatal(err)
		}
		if req.ID != "a" || req.Parameters["top_k"] != "2" || len(req.Inputs) != 3 || string(req.Inputs[0].BYTES[0]) != "hi" ||
			fmt.Sprint(req.Inputs[0].Shape) != "[1]" || fmt.Sprint(req.Inputs[1].FP32) != "[1.5 2]" || fmt.Sprint(req.Inputs[2].BOOL) != "[true]" {
			t.Errorf("%s: request %+v", in, req)
		}
	}
	// Nested data as run takes it; missing FP32 values as NaN, the string
	// "NA" as a string; the outputs asked for passed on.
	req, err := parsePluginRequest(desc, `{"inputs":[{"name":"f","datatype":"FP32","data":[[1,null],["NaN","NA"]]},{"name":"c","datatype":"BYTES","data":["NA","x"]}],"outputs":[{"name":"label"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	f, c := req.Inputs[0], req.Inputs[1]
	if fmt.Sprint(f.Shape) != "[2 2]" || f.FP32[0] != 1 || !math.IsNaN(float64(f.FP32[1])) || !math.IsNaN(float64(f.FP32[2])) || !math.IsNaN(float64(f.FP32[3])) ||
		fmt.Sprintf("%q", c.BYTES) != `["NA" "x"]` || fmt.Sprint(req.Outputs) != "[label]" {
		t.Errorf("request %+v", req)
	}
	// Every input the request lacks is named in one error, before the
	// plugin is asked.
	three := &sdk.Description{Name: "p", Inputs: []sdk.TensorSpec{{Name: "a", Datatype: sdk.FP32, Shape: []int64{1}}, {Name: "b", Datatype: sdk.FP32, Shape: []int64{1}}, {Name: "c", Datatype: sdk.BYTES, Shape: []int64{1}}}}
	one, err := oip.Decode(strings.NewReader(`{"inputs":[{"name":"a","datatype":"FP32","data":[1]}]}`), oip.Options{Limits: defaultRequestLimits()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&pluginsInferCmd{}).request(three, one); err == nil || err.Error() != `p: 2 of its 3 inputs missing: "b", "c"` {
		t.Errorf("missing inputs: %v", err)
	}
	for _, tc := range []struct{ request, want string }{
		{`{"inputs":[{"name":"f","datatype":"FP32","data":[1],"Data":[2]}]}`, `invalid request at line 1, column 53: inputs[0] has an unknown key "Data"`},
		{`{"inputs":[{"name":"f","datatype":"FP32","data":[1],"data":[2]}]}`, `inputs[0] has the key "data" twice`},
		{`{"Parameters":{},"inputs":[]}`, `the request has an unknown key "Parameters"`},
		{`{"inputs":[{"name":"f","datatype":"INT32","data":[3000000000]}]}`, `input "f": data[0] = 3000000000 is out of the INT32 range`},
		{`{"inputs":[{"name":"f","datatype":"FP16","data":[1]}]}`, `input "f": datatype "FP16" is not one of`},
		{`[]`, `invalid request at line 1, column 1: the request must be an object, not a JSON array`},
		{`{"inputs":[]} {}`, `invalid JSON: data after the request object`},
		{`{"parameters":{"k":[1]}}`, `invalid request at line 1, column 20: "parameters": "k" must be a string, a number or a boolean, not an array`},
		{`{"inputs":[{"name":"f","datatype":"FP32","data":[1],"parameters":{"binary_data_size":4}}]}`, `input "f": models take no input parameters ("binary_data_size")`},
		{`{"inputs":[{"name":"f","datatype":"FP32","data":[1]}],"outputs":[{"name":"probs"}]}`, `p has no output "probs" (outputs: label BYTES)`},
		{`{"inputs":[{"name":"f","datatype":"INT64","data":[1,null]}]}`, `input "f": data[1] is a missing value (null, "NaN" or "NA"), which INT64 data cannot carry (FP32 sends it as NaN)`},
		{`{"inputs":[{"name":"t","datatype":"BYTES","data":[null]}]}`, `input "t": data[0] is a missing value (null, "NaN" or "NA"), which BYTES data cannot carry (FP32 sends it as NaN; send the string "NA" where the model imputes)`},
		{`{"parameters":{"k":"a","k":"b"}}`, `invalid request at line 1, column 27: "parameters" has the key "k" twice`},
		{`{"inputs":[{"name":"f","data":[1]}]}`, `input "f": "datatype" is missing`},
		{`{"inputs":[{"name":"f","datatype":"BOOL","data":[true,1]}]}`, `input "f": data[1] is 1, not a boolean (BOOL data)`},
		{`{"inputs":[{"name":"f","datatype":"FP32","data":[1,2`, `invalid JSON: unexpected end of input`},
	} {
		_, err := parsePluginRequest(desc, tc.request)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.request, err, tc.want)
		}
	}

	// The cap holds before any plugin starts: the plugin path does not
	// even exist.
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-plugin")
	if _, err := os.Stat("/dev/zero"); err == nil {
		runArgs("plugins", "infer", missing, "--insecure", "--input", "/dev/zero").wantFail(t, 1,
			`edgerun: plugins infer: /dev/zero: invalid JSON at line 1, column 1: invalid character '\x00' looking for beginning of value`)
	}
	spaces := writeFile(t, "req.json", strings.Repeat(" ", 2000))
	runArgs("plugins", "infer", missing, "--insecure", "--input", spaces, "--max-request-bytes", "1000").wantFail(t, 1,
		"edgerun: plugins infer: "+spaces+": the request is larger than 1000 bytes (--max-request-bytes)")
	big := writeFile(t, "req.json", `{"inputs":[{"name":"f","datatype":"FP32","data":[`+strings.Repeat("1,", 100)+`1]}]}`)
	runArgs("plugins", "infer", missing, "--insecure", "--input", big, "--max-request-bytes", "100").wantFail(t, 1,
		"edgerun: plugins infer: "+big+": the request is larger than 100 bytes (--max-request-bytes)")
	bad := writeFile(t, "req.json", `{"inputs":[{"name":"f","datatype":"FP32","data":[1],"DATA":[2]}]}`)
	runArgs("plugins", "infer", missing, "--insecure", "--input", bad).wantFail(t, 1,
		"edgerun: plugins infer: "+bad+`: invalid request at line 1, column 53: inputs[0] has an unknown key "DATA"`)
}

// TestRequestMissingInputs: every input a request lacks is named in one
// error, not one per round trip.
func TestRequestMissingInputs(t *testing.T) {
	m := &engine.Model{Inputs: []engine.ValueInfo{
		{Name: "a", DType: tensor.F32, Shape: []int{-1, 1}},
		{Name: "b", DType: tensor.F32, Shape: []int{-1, 1}},
		{Name: "c", DType: tensor.I64, Shape: []int{-1}},
	}}
	_, err := parseRequest(strings.NewReader(`{"inputs":[{"name":"b","datatype":"FP32","data":[[1]]}]}`), m, defaultRequestLimits())
	if want := `inputs "a", "c" are missing (the model takes a f32 [?,1], b f32 [?,1], c i64 [?])`; err == nil || err.Error() != want {
		t.Errorf("err %v, want %s", err, want)
	}
}
