package oip

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"
)

var testLimits = Limits{Bytes: 1 << 20, Elements: 1 << 20, Flag: "--max-request-bytes"}

func decode(t *testing.T, s string) *Request {
	t.Helper()
	req, err := Decode(strings.NewReader(s), Options{Limits: testLimits})
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return req
}

// TestSpecExamples: the inference request examples of the KServe v2 /
// Open Inference Protocol REST documentation.
func TestSpecExamples(t *testing.T) {
	// "Inference Request Examples", with INT32 for the spec's UINT32
	// (not a datatype of edgerun models): two inputs and one output
	// requested.
	req := decode(t, `{
  "id" : "42",
  "inputs" : [
    {
      "name" : "input0",
      "shape" : [ 2, 2 ],
      "datatype" : "INT32",
      "data" : [ 1, 2, 3, 4 ]
    },
    {
      "name" : "input1",
      "shape" : [ 3 ],
      "datatype" : "BOOL",
      "data" : [ true, false, true ]
    }
  ],
  "outputs" : [
    {
      "name" : "output0"
    }
  ]
}`)
	in0, in1 := req.Inputs[0], req.Inputs[1]
	if req.ID != "42" || len(req.Inputs) != 2 || fmt.Sprint(req.OutputNames()) != "[output0]" ||
		in0.Name != "input0" || in0.Datatype != INT32 || fmt.Sprint(in0.Shape) != "[2 2]" || fmt.Sprint(in0.INT32) != "[1 2 3 4]" ||
		in1.Name != "input1" || fmt.Sprint(in1.BOOL) != "[true false true]" || in0.Missing != nil {
		t.Errorf("request %+v, inputs %+v %+v", req, in0, in1)
	}

	// The tensor data section: "[ [ 1, 2 ], [ 4, 5 ] ]" and its flat
	// form "[ 1, 2, 4, 5 ]" are the same FP32 tensor of shape [2, 2].
	nested := decode(t, `{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[[1,2],[4,5]]}]}`).Inputs[0]
	flat := decode(t, `{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[1,2,4,5]}]}`).Inputs[0]
	noShape := decode(t, `{"inputs":[{"name":"x","datatype":"FP32","data":[[1,2],[4,5]]}]}`).Inputs[0]
	for _, in := range []*Input{nested, flat, noShape} {
		if fmt.Sprint(in.Shape) != "[2 2]" || fmt.Sprint(in.FP32) != "[1 2 4 5]" {
			t.Errorf("input %+v", in)
		}
	}

	// BYTES: strings, and the request parameters of the extensions
	// (strings, numbers, booleans).
	req = decode(t, `{"parameters":{"top_k":3,"binary_data_output":false,"content_type":"str"},"inputs":[{"name":"text","shape":[2],"datatype":"BYTES","data":["hello","wörld"]}],"outputs":[{"name":"label","parameters":{"classification":2}}]}`)
	if in := req.Inputs[0]; fmt.Sprintf("%q", in.BYTES) != `["hello" "wörld"]` || fmt.Sprint(req.Parameters) != "map[binary_data_output:false content_type:str top_k:3]" ||
		req.Outputs[0].Parameters["classification"] != "2" {
		t.Errorf("request %+v", req)
	}
}

// TestMissing: null, "NaN" and "NA" are missing values of numeric data,
// null of BOOL and BYTES data, marked in Missing; the consumer decides.
func TestMissing(t *testing.T) {
	req := decode(t, `{"inputs":[
		{"name":"f","datatype":"FP32","data":[[1,null],["NaN","NA"]]},
		{"name":"i","datatype":"INT64","data":[null,2]},
		{"name":"b","datatype":"BOOL","data":[true,null]},
		{"name":"s","datatype":"BYTES","data":["NA",null]},
		{"name":"c","datatype":"FP32","data":[1,2]}]}`)
	f, i, b, s, c := req.Inputs[0], req.Inputs[1], req.Inputs[2], req.Inputs[3], req.Inputs[4]
	if fmt.Sprint(f.Missing) != "[false true true true]" || f.FP32[0] != 1 || !math.IsNaN(float64(f.FP32[3])) || f.FirstMissing() != 1 {
		t.Errorf("f %+v", f)
	}
	if fmt.Sprint(i.Missing) != "[true false]" || fmt.Sprint(i.INT64) != "[0 2]" {
		t.Errorf("i %+v", i)
	}
	if fmt.Sprint(b.Missing) != "[false true]" || fmt.Sprint(s.Missing) != "[false true]" || string(s.BYTES[0]) != "NA" {
		t.Errorf("b %+v, s %+v", b, s)
	}
	if c.Missing != nil || c.FirstMissing() != -1 {
		t.Errorf("c %+v", c)
	}
}

// TestErrors: keys exactly and once, datatypes, data against shape, and
// where a structural error is.
func TestErrors(t *testing.T) {
	for _, tc := range []struct{ request, want string }{
		{`{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4],"Data":[9,9,9,9]}]}`, `invalid request at line 1, column 73: inputs[0] has an unknown key "Data" (keys are case-sensitive: "name", "datatype", "shape", "parameters", "data")`},
		{`{"inputs":[{"Name":"x","datatype":"FP32","data":[1]}]}`, `invalid request at line 1, column 13: inputs[0] has an unknown key "Name"`},
		{`{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4],"data":[9,9,9,9]}]}`, `invalid request at line 1, column 73: inputs[0] has the key "data" twice`},
		{`{"inputs":[],"inputs":[]}`, `invalid request at line 1, column 14: the request has the key "inputs" twice`},
		{"{\n\"Inputs\":[]}", `invalid request at line 2, column 1: the request has an unknown key "Inputs" (keys are case-sensitive: "id", "parameters", "inputs", "outputs")`},
		{`{"inputs":[],"model":"m"}`, `invalid request at line 1, column 14: the request has an unknown key "model"`},
		{`{"outputs":[{"name":"y","Name":"z"}]}`, `invalid request at line 1, column 25: outputs[0] has an unknown key "Name"`},
		{`{"outputs":[{"name":"y"},{"name":"y"}]}`, `output "y" is asked for twice`},
		{`{"outputs":[{}]}`, `outputs[0] has no "name"`},
		{`{"outputs":{}}`, `invalid request at line 1, column 12: "outputs" must be an array, not an object`},
		{`{"parameters":{"k":"a","k":"b"}}`, `invalid request at line 1, column 27: "parameters" has the key "k" twice`},
		{`{"parameters":{"k":null}}`, `invalid request at line 1, column 24: "parameters": "k" must be a string, a number or a boolean, not null`},
		{`{"parameters":` + strings.Repeat("[", 20000) + `}`, `invalid request at line 1, column 15: "parameters" must be an object, not an array`},
		{`{"id":1}`, `invalid request at line 1, column 8: "id" must be a string, not a number`},
		{`[]`, `invalid request at line 1, column 1: the request must be an object, not a JSON array`},
		{`{"inputs":[1]}`, `invalid request at line 1, column 12: inputs[0] must be an object, not a number`},
		{`{"inputs":[{"name":"x","datatype":"fp32","data":[1]}]}`, `input "x": datatype "fp32" is not one of FP32, INT64, INT32, BOOL or BYTES`},
		{`{"inputs":[{"name":"x","data":[1]}]}`, `input "x": "datatype" is missing (FP32, INT64, INT32, BOOL or BYTES)`},
		{`{"inputs":[{"datatype":"FP32","data":[1]}]}`, `inputs[0] has no name`},
		{`{"inputs":[{"name":"x","datatype":"FP32"}]}`, `input "x": "data" is missing`},
		{`{"inputs":[{"name":"x","datatype":"FP32","data":null}]}`, `input "x": "data" is missing`},
		{`{"inputs":[{"name":"x","datatype":"FP32","data":[1,"2"]}]}`, `input "x": data[1] is "2", not a number (FP32 data)`},
		{`{"inputs":[{"name":"x","datatype":"FP32","data":[1e39]}]}`, `input "x": data[0] = 1e39 is out of the FP32 range`},
		{`{"inputs":[{"name":"x","datatype":"INT32","data":[3000000000]}]}`, `input "x": data[0] = 3000000000 is out of the INT32 range`},
		{`{"inputs":[{"name":"x","datatype":"INT64","data":[1.5]}]}`, `input "x": data[0] = 1.5 is not an integer`},
		{`{"inputs":[{"name":"x","datatype":"BOOL","data":[true,1]}]}`, `input "x": data[1] is 1, not a boolean (BOOL data)`},
		{`{"inputs":[{"name":"x","datatype":"BYTES","data":["a",{}]}]}`, `input "x": data[1] is an object, not a string (BYTES data)`},
		{`{"inputs":[{"name":"x","datatype":"FP32","data":[[1,2],[3]]}]}`, `input "x": data is ragged: arrays of lengths 2 and 1 at depth 1`},
		{`{"inputs":[{"name":"x","datatype":"FP32","data":[[1,2],3]}]}`, `input "x": data is ragged: a value at depth 1, arrays at depth 1`},
		{`{"inputs":[{"name":"x","datatype":"FP32","data":` + strings.Repeat("[", 100) + `]}]}`, `input "x": data is nested deeper than 8 arrays`},
		{`{"inputs":[{"data":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `,"name":"x","datatype":"FP32"}]}`, `input "x": data is nested deeper than 8 arrays`},
		{`{"inputs":[{"name":"x","datatype":"FP32","shape":[2,4],"data":[1,2,3,4]}]}`, `input "x": shape [2,4] needs 8 values, data has 4`},
		{`{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[[1,2],[3,4]]}]}`, `input "x": shape [1,4] does not match the nesting of data, [2,2]`},
		{`{"inputs":[{"name":"x","datatype":"FP32","shape":[1,1,1,1,1,1,1,1,1],"data":[1]}]}`, `input "x": shape has more than 8 dimensions`},
		{`{"inputs":[{"name":"x","datatype":"FP32","shape":[-1],"data":[1]}]}`, `input "x": shape [-1] has a negative or huge dimension`},
		{`{"inputs":[{"name":"x","datatype":"FP32","shape":[1.5],"data":[1]}]}`, `invalid request at line 1, column 54: input "x": "shape" must be an array of integers, not hold 1.5`},
		{`{"inputs":[{"name":"x",}]}`, `invalid JSON at line 1, column 24: invalid character '}'`},
		{`{"inputs":[]} {}`, `invalid JSON: data after the request object`},
		{`{"inputs":[`, `invalid JSON: unexpected end of input`},
		{``, `invalid JSON: the input is empty`},
	} {
		_, err := Decode(strings.NewReader(tc.request), Options{Limits: testLimits})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%.80s: err %v, want %q", tc.request, err, tc.want)
		}
	}
}

// TestCheck: the consumer's Check sees an input before its data is read,
// and its error stops the decoding there.
func TestCheck(t *testing.T) {
	var seen []string
	check := func(in *Input) error {
		seen = append(seen, fmt.Sprintf("%s %s %v %d", in.Name, in.Datatype, in.Shape, in.Len()))
		if in.Name == "bad" {
			return fmt.Errorf("no input %q", in.Name)
		}
		return nil
	}
	r := &repeatReader{prefix: `{"inputs":[{"name":"a","datatype":"FP32","shape":[1],"data":[1]},{"name":"bad","datatype":"FP32","data":[`, b: "1,"}
	_, err := Decode(r, Options{Limits: testLimits, Check: check})
	if err == nil || err.Error() != `no input "bad"` || fmt.Sprint(seen) != "[a FP32 [1] 0 bad FP32 [] 0]" || r.n > 64<<10 {
		t.Errorf("err %v, seen %q, read %d bytes", err, seen, r.n)
	}
}

// TestLimits: an endless input is refused after the byte cap, or sooner,
// not read until memory runs out: NUL bytes are a syntax error at once, a
// run of whitespace (which the decoder would buffer whole) fails after
// 64 KiB, and an endless array at the byte cap or the element cap.
func TestLimits(t *testing.T) {
	lim := Limits{Bytes: 1 << 20, Elements: 1 << 30, Flag: "--max-request-bytes"}
	prefix := `{"inputs":[{"name":"x","datatype":"FP32","data":[`
	for _, tc := range []struct {
		name string
		r    *repeatReader
		lim  Limits
		want string
	}{
		{"spaces", &repeatReader{b: " "}, lim, "invalid JSON: more than 65536 bytes of whitespace in a row"},
		{"zeros", &repeatReader{b: "\x00"}, lim, "invalid JSON at line 1, column 1: invalid character '\\x00'"},
		{"digits", &repeatReader{prefix: prefix, b: "1"}, lim, "invalid JSON: a number or literal longer than 1024 bytes"},
		{"values", &repeatReader{prefix: prefix, b: "1,"}, lim, "the request is larger than 1048576 bytes (--max-request-bytes)"},
		{"strings", &repeatReader{prefix: `{"inputs":[{"name":"x","datatype":"BYTES","data":[`, b: `"ab",`}, lim, "the request is larger than 1048576 bytes (--max-request-bytes)"},
		{"data first", &repeatReader{prefix: `{"inputs":[{"data":[`, b: "1,"}, lim, "the request is larger than 1048576 bytes (--max-request-bytes)"},
		{"elements", &repeatReader{prefix: prefix, b: "1,"}, Limits{Bytes: 1 << 20, Elements: 1000}, `input "x": data has more than 1000 values`},
		{"nulls", &repeatReader{prefix: prefix, b: "null,"}, Limits{Bytes: 1 << 20, Elements: 1000}, `input "x": data has more than 1000 values`},
	} {
		_, err := Decode(tc.r, Options{Limits: tc.lim})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
		if tc.r.n > 1<<20+64<<10 {
			t.Errorf("%s: read %d bytes, the cap is %d", tc.name, tc.r.n, 1<<20)
		}
	}
	good := `{"inputs":[{"name":"x","datatype":"FP32","shape":[2,4],"data":[1,2,3,4,5,6,7,8]}]}`
	if _, err := Decode(strings.NewReader(good), Options{Limits: Limits{Bytes: int64(len(good)), Elements: 8}}); err != nil {
		t.Errorf("at the caps: %v", err)
	}
	if _, err := Decode(strings.NewReader(good), Options{Limits: Limits{Bytes: int64(len(good)) - 1, Elements: 8}}); err == nil || err.Error() != fmt.Sprintf("the request is larger than %d bytes", len(good)-1) {
		t.Errorf("a byte over: %v", err)
	}
	if _, err := Decode(strings.NewReader(good), Options{Limits: Limits{Bytes: 1000, Elements: 7}}); err == nil || err.Error() != `input "x": shape [2 4] is too large (more than 7 elements)` {
		t.Errorf("an element over: %v", err)
	}
	if _, err := io.ReadAll(NewCapReader(&repeatReader{b: " "}, 1000, "--max-request-bytes")); err == nil || err.Error() != "the request is larger than 1000 bytes (--max-request-bytes)" {
		t.Errorf("CapReader: %v", err)
	}
	if data, err := io.ReadAll(NewCapReader(strings.NewReader("abc"), 3, "")); err != nil || string(data) != "abc" {
		t.Errorf("CapReader at the cap: %q, %v", data, err)
	}
}

// TestPrealloc: when the shape comes before the data, the values go
// into a slice allocated once at the shape's size; when not, or when the
// shape promises more than the bytes can hold, the slice grows with what
// is read.
func TestPrealloc(t *testing.T) {
	const n = 1000
	data := "[" + strings.TrimSuffix(strings.Repeat("1.5,", n), ",") + "]"
	for _, tc := range []struct {
		request string
		cap     func(c int) bool
	}{
		{fmt.Sprintf(`{"inputs":[{"name":"x","datatype":"FP32","shape":[%d],"data":%s}]}`, n, data), func(c int) bool { return c == n }},
		{fmt.Sprintf(`{"inputs":[{"name":"x","datatype":"FP32","data":%s,"shape":[%d]}]}`, data, n), func(c int) bool { return c >= n }},
	} {
		req := decode(t, tc.request)
		if in := req.Inputs[0]; len(in.FP32) != n || !tc.cap(cap(in.FP32)) {
			t.Errorf("%.60s: len %d, cap %d", tc.request, len(in.FP32), cap(in.FP32))
		}
	}
	// A shape of 2^20 elements in a request of 100 bytes reserves room
	// for what the bytes left can hold, not 4 MiB.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Decode(strings.NewReader(`{"inputs":[{"name":"x","datatype":"FP32","shape":[1048576],"data":[1]}]}`), Options{Limits: Limits{Bytes: 100, Elements: 1 << 20}})
	runtime.ReadMemStats(&after)
	if err == nil || err.Error() != `input "x": shape [1048576] needs 1048576 values, data has 1` {
		t.Errorf("err %v", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("decoding a 100-byte request allocated %d bytes", grew)
	}
}

// repeatReader reads prefix, then b forever.
type repeatReader struct {
	prefix, b string
	n         int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	k := 0
	if r.n < len(r.prefix) {
		k = copy(p, r.prefix[r.n:])
	}
	for k < len(p) {
		k += copy(p[k:], r.b[(r.n+k-len(r.prefix))%len(r.b):])
	}
	r.n += k
	return k, nil
}

// FuzzDecode: any input decodes or fails with an error, never a panic;
// a decoded input holds as many values as its shape says, in the field
// of its datatype, and a missing mask of the same length.
//
// fuzz:budget 300000x
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"id":"1","inputs":[{"name":"x","datatype":"FP32","shape":[2,2],"data":[[1,null],["NaN",4]]}],"outputs":[{"name":"y"}],"parameters":{"k":1}}`,
		`{"inputs":[{"data":[[true],[false]],"name":"b","datatype":"BOOL"},{"name":"s","datatype":"BYTES","data":["a",null]}]}`,
		`{"inputs":[{"name":"i","datatype":"INT32","shape":[3],"data":[1,"NA",-3]},{"name":"j","datatype":"INT64","data":[[[1]]]}]}`,
		`{"inputs":[{"name":"x","datatype":"FP32","data":[[1,2],[3]]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := Decode(bytes.NewReader(b), Options{Limits: Limits{Bytes: 1 << 16, Elements: 1 << 12}})
		if err != nil {
			return
		}
		for _, in := range req.Inputs {
			n := int64(1)
			for _, d := range in.Shape {
				n *= d
			}
			if int64(in.Len()) != n || (in.Missing != nil && len(in.Missing) != in.Len()) {
				t.Fatalf("input %+v: %d values for shape %v", in, in.Len(), in.Shape)
			}
		}
	})
}
