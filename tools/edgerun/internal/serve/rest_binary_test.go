package serve

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// tensorOut is an output of a response, its data decoded from JSON or
// from binary into one of the fields.
type tensorOut struct {
	Name     string
	Datatype string
	Shape    []int64
	FP32     []uint32 // bits, so that equal means bit-identical
	INT      []int64
	BOOL     []bool
	BYTES    []string
	Binary   bool
}

// postInfer sends body (with the binary header hlen when >= 0) and
// returns the status, the Content-Type and the outputs, or the error.
func postInfer(t *testing.T, srv *httptest.Server, path string, body []byte, hlen int) (int, string, []tensorOut, string) {
	t.Helper()
	req, err := http.NewRequest("POST", srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if hlen >= 0 {
		req.Header.Set("Inference-Header-Content-Length", strconv.Itoa(hlen))
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	ct := res.Header.Get("Content-Type")
	head := b
	var rest []byte
	if v := res.Header.Get("Inference-Header-Content-Length"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n > len(b) || ct != "application/octet-stream" {
			t.Fatalf("response header %q, body %d bytes, Content-Type %q", v, len(b), ct)
		}
		head, rest = b[:n], b[n:]
	} else if ct != "application/json" {
		t.Fatalf("Content-Type %q without the binary header", ct)
	}
	var doc struct {
		Error   string `json:"error"`
		Outputs []struct {
			Name       string           `json:"name"`
			Datatype   string           `json:"datatype"`
			Shape      []int64          `json:"shape"`
			Data       []any            `json:"data"`
			Parameters map[string]int64 `json:"parameters"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(head, &doc); err != nil {
		t.Fatalf("%d: JSON %q: %v", res.StatusCode, head, err)
	}
	if doc.Error != "" {
		return res.StatusCode, ct, nil, doc.Error
	}
	var outs []tensorOut
	le := binary.LittleEndian
	for _, o := range doc.Outputs {
		t2 := tensorOut{Name: o.Name, Datatype: o.Datatype, Shape: o.Shape}
		n := int64(1)
		for _, d := range o.Shape {
			n *= d
		}
		if size, ok := o.Parameters["binary_data_size"]; ok {
			if o.Data != nil || size > int64(len(rest)) {
				t.Fatalf("output %s: data %v, binary_data_size %d of %d left", o.Name, o.Data, size, len(rest))
			}
			t2.Binary = true
			d := rest[:size]
			rest = rest[size:]
			for i := int64(0); i < n; i++ {
				switch o.Datatype {
				case "FP32":
					t2.FP32 = append(t2.FP32, le.Uint32(d[4*i:]))
				case "INT64":
					t2.INT = append(t2.INT, int64(le.Uint64(d[8*i:])))
				case "INT32":
					t2.INT = append(t2.INT, int64(int32(le.Uint32(d[4*i:]))))
				case "BOOL":
					t2.BOOL = append(t2.BOOL, d[i] == 1)
				case "BYTES":
					l := le.Uint32(d)
					t2.BYTES = append(t2.BYTES, string(d[4:4+l]))
					d = d[4+l:]
				}
			}
		} else {
			for _, v := range o.Data {
				switch o.Datatype {
				case "FP32":
					f, ok := v.(float64)
					if !ok { // "NaN", "+Inf", "-Inf"
						f, _ = strconv.ParseFloat(v.(string), 64)
					}
					t2.FP32 = append(t2.FP32, math.Float32bits(float32(f)))
				case "INT64", "INT32":
					t2.INT = append(t2.INT, int64(v.(float64)))
				case "BOOL":
					t2.BOOL = append(t2.BOOL, v.(bool))
				case "BYTES":
					t2.BYTES = append(t2.BYTES, v.(string))
				}
			}
		}
		outs = append(outs, t2)
	}
	if len(rest) != 0 {
		t.Errorf("%d bytes of binary data left over", len(rest))
	}
	return res.StatusCode, ct, outs, ""
}

// sameOutputs compares outputs but for how they came.
func sameOutputs(t *testing.T, what string, got, want []tensorOut) {
	t.Helper()
	if len(got) != len(want) || len(want) == 0 {
		t.Fatalf("%s: %d outputs, want %d", what, len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		g.Binary, w.Binary = false, false
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: output %d\n%+v\nwant\n%+v", what, i, g, w)
		}
	}
}

func le32s(v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	return b
}

func bytesBin(v ...string) []byte {
	var b []byte
	for _, s := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

// TestRESTBinary: Triton's binary tensor data extension on real .erm
// models: binary in and out answers bit for bit what JSON does, JSON in
// and binary out too, per output; the server lists the extension; every
// mistake is a 400 that names the input.
func TestRESTBinary(t *testing.T) {
	srv, r := restServer(t, HandlerOptions{MaxBodyBytes: 4096}, Options{})
	st, body := call(t, srv, "GET", "/v2", "", "")
	if ext, _ := body["extensions"].([]any); st != 200 || len(ext) != 1 || ext[0] != "binary_tensor_data" {
		t.Errorf("GET /v2: %d %v, want extensions [binary_tensor_data]", st, body)
	}

	// The tabular model: FP32 and BYTES features, in JSON and in binary.
	info, err := r.Model("risk", "")
	if err != nil {
		t.Fatal(err)
	}
	fvals := []float32{1.5, -0.3, 7e-3}
	svals := []string{"NA", "NA", "NA"} // categories differ by input; NA is missing in each
	var jsIns, binIns []string
	var bin []byte
	for _, in := range info.Desc.Inputs {
		switch in.Datatype {
		case "FP32":
			var data []string
			var part []byte
			for _, f := range fvals {
				data = append(data, strconv.FormatFloat(float64(f), 'g', -1, 32))
				part = append(part, le32s(math.Float32bits(f))...)
			}
			jsIns = append(jsIns, fmt.Sprintf(`{"name":%q,"datatype":"FP32","shape":[3],"data":[%s]}`, in.Name, strings.Join(data, ",")))
			binIns = append(binIns, fmt.Sprintf(`{"name":%q,"datatype":"FP32","shape":[3],"parameters":{"binary_data_size":%d}}`, in.Name, len(part)))
			bin = append(bin, part...)
		case "BYTES":
			q, _ := json.Marshal(svals)
			part := bytesBin(svals...)
			jsIns = append(jsIns, fmt.Sprintf(`{"name":%q,"datatype":"BYTES","shape":[3],"data":%s}`, in.Name, q))
			binIns = append(binIns, fmt.Sprintf(`{"name":%q,"datatype":"BYTES","shape":[3],"parameters":{"binary_data_size":%d}}`, in.Name, len(part)))
			bin = append(bin, part...)
		default:
			t.Fatalf("risk input %s %s", in.Name, in.Datatype)
		}
	}
	path := "/v2/models/risk/infer"
	st, ct, want, msg := postInfer(t, srv, path, []byte(`{"inputs":[`+strings.Join(jsIns, ",")+`]}`), -1)
	if st != 200 || ct != "application/json" {
		t.Fatalf("JSON: %d %s %s", st, ct, msg)
	}
	header := `{"inputs":[` + strings.Join(binIns, ",") + `],"parameters":{"binary_data_output":true}}`
	st, _, got, msg := postInfer(t, srv, path, append([]byte(header), bin...), len(header))
	if st != 200 {
		t.Fatalf("binary: %d %s", st, msg)
	}
	for _, o := range got {
		if !o.Binary {
			t.Errorf("binary_data_output: output %s in JSON", o.Name)
		}
	}
	sameOutputs(t, "binary in, binary out", got, want)
	// Binary in, JSON out (no binary_data_output): the header is the
	// JSON, application/json.
	header = `{"inputs":[` + strings.Join(binIns, ",") + `]}`
	st, ct, got, msg = postInfer(t, srv, path, append([]byte(header), bin...), len(header))
	if st != 200 || ct != "application/json" {
		t.Fatalf("binary in, JSON out: %d %s %s", st, ct, msg)
	}
	sameOutputs(t, "binary in, JSON out", got, want)
	// A mixed request (one input in JSON), binary_data_output with one
	// output overriding it to JSON.
	first := want[0].Name
	header = `{"inputs":[` + jsIns[0] + `,` + strings.Join(binIns[1:], ",") + `],"parameters":{"binary_data_output":true},` +
		`"outputs":[` + func() string {
		var o []string
		for i, w := range want {
			if i == 0 {
				o = append(o, fmt.Sprintf(`{"name":%q,"parameters":{"binary_data":false}}`, w.Name))
			} else {
				o = append(o, fmt.Sprintf(`{"name":%q}`, w.Name))
			}
		}
		return strings.Join(o, ",")
	}() + `]}`
	rest := bin[len(bytesBin(svals...)):] // without the first input's
	if info.Desc.Inputs[0].Datatype == "FP32" {
		rest = bin[4*len(fvals):]
	}
	st, _, got, msg = postInfer(t, srv, path, append([]byte(header), rest...), len(header))
	if st != 200 {
		t.Fatalf("mixed: %d %s", st, msg)
	}
	for _, o := range got {
		if o.Binary != (o.Name != first) {
			t.Errorf("mixed: output %s binary %v", o.Name, o.Binary)
		}
	}
	sameOutputs(t, "mixed", got, want)

	// JSON in, binary out, without the header (as tritonclient sends a
	// request with no binary input): one output asked for in binary.
	js := `{"inputs":[{"name":"text","datatype":"BYTES","shape":[2],"data":["great phone, love it","awful, broke in a day"]}]`
	st, _, want, msg = postInfer(t, srv, "/v2/models/sentiment/infer", []byte(js+`}`), -1)
	if st != 200 || len(want) < 2 {
		t.Fatalf("sentiment JSON: %d %s %v", st, msg, want)
	}
	var outs []string
	for _, w := range want {
		outs = append(outs, fmt.Sprintf(`{"name":%q,"parameters":{"binary_data":true}}`, w.Name))
	}
	st, ct, got, msg = postInfer(t, srv, "/v2/models/sentiment/infer", []byte(js+`,"outputs":[`+strings.Join(outs, ",")+`]}`), -1)
	if st != 200 || ct != "application/octet-stream" {
		t.Fatalf("sentiment binary out: %d %s %s", st, ct, msg)
	}
	for _, o := range got {
		if !o.Binary {
			t.Errorf("sentiment: output %s in JSON", o.Name)
		}
	}
	sameOutputs(t, "JSON in, binary out", got, want)
	// binary_data_output false: JSON, as without it.
	st, ct, got, msg = postInfer(t, srv, "/v2/models/sentiment/infer", []byte(js+`,"parameters":{"binary_data_output":false}}`), -1)
	if st != 200 || ct != "application/json" {
		t.Fatalf("binary_data_output false: %d %s %s", st, ct, msg)
	}
	sameOutputs(t, "binary_data_output false", got, want)

	// Mistakes: 400 (413 over the body limit) with an error naming what.
	text := bytesBin("great")
	textIn := func(size int, extra string) string {
		return fmt.Sprintf(`{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":%d%s}}]}`, size, extra)
	}
	for _, tc := range []struct {
		name   string
		header string
		bin    []byte
		hlen   string // "": the header's length
		status int
		want   string
	}{
		{"sizes short", textIn(len(text)+1, ""), text, "", 400, `input "text": binary_data_size 10 runs past the end`},
		{"sizes long", textIn(len(text), ""), append(text, 0), "", 400, "10 bytes of binary data, the inputs' binary_data_size add up to 9"},
		{"BYTES length past the end", textIn(len(text), ""), append(le32s(6), "great"...), "", 400, `input "text": binary data[0] is 6 bytes long`},
		{"header larger than the body", textIn(len(text), ""), text, "100000", 400, "more than the body's"},
		{"header negative", textIn(len(text), ""), text, "-3", 400, "not a byte count"},
		{"header garbage", textIn(len(text), ""), text, "12abc", 400, "not a byte count"},
		{"header cuts the JSON", textIn(len(text), ""), text, "10", 400, "invalid JSON"},
		{"wrong datatype", `{"inputs":[{"name":"text","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8}}]}`, make([]byte, 8), "", 400, "FP32"},
		{"size vs shape", `{"inputs":[{"name":"text","datatype":"INT64","shape":[2],"parameters":{"binary_data_size":8}}]}`, make([]byte, 8), "", 400, "needs 16"},
		{"other input parameter", textIn(len(text), `,"x":1`), text, "", 400, `input "text": models take no input parameters ("x")`},
		{"output parameter", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["a"]}],"outputs":[{"name":"label","parameters":{"binary_data":true,"classification":2}}]}`, nil, "", 400, `"classification"`},
		{"binary_data not a boolean", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["a"]}],"outputs":[{"name":"label","parameters":{"binary_data":"yes"}}]}`, nil, "", 400, `output "label": parameter "binary_data" must be a boolean`},
		{"binary_data_output not a boolean", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["a"]}],"parameters":{"binary_data_output":1}}`, nil, "", 400, `"binary_data_output" must be a boolean`},
		{"over the body limit", textIn(5000+4, ""), bytesBin(strings.Repeat("a", 5000)), "", 413, "4096"},
	} {
		hl := strconv.Itoa(len(tc.header))
		if tc.hlen != "" {
			hl = tc.hlen
		}
		req, _ := http.NewRequest("POST", srv.URL+"/v2/models/sentiment/infer", bytes.NewReader(append([]byte(tc.header), tc.bin...)))
		req.Header.Set("Inference-Header-Content-Length", hl)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		err = json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		msg, _ := out["error"].(string)
		if err != nil || res.StatusCode != tc.status || !strings.Contains(msg, tc.want) || res.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %v (%v), want %d with %q", tc.name, res.StatusCode, out, err, tc.status, tc.want)
		}
	}
}
