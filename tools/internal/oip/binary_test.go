package oip

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

var binLimits = Options{Limits: Limits{Bytes: 1 << 20, Elements: 1 << 10}}

// binBody is a request of the binary extension: its JSON header, then
// the parts, and the header's length.
func binBody(header string, parts ...[]byte) ([]byte, int64) {
	b := []byte(header)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b, int64(len(header))
}

func le32(v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	return b
}

func le64(v ...int64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	return b
}

// strs is BYTES elements in their binary form.
func strs(v ...string) []byte {
	var b []byte
	for _, s := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

func binIn(name, dt string, shape string, size int) string {
	return `{"name":"` + name + `","datatype":"` + dt + `","shape":` + shape + `,"parameters":{"binary_data_size":` + strconv.Itoa(size) + `}}`
}

// TestDecodeBinary: every datatype, in binary, next to a JSON input, in
// the order of the inputs; the binary parameter leaves the input's.
func TestDecodeBinary(t *testing.T) {
	f := le32(math.Float32bits(1.5), math.Float32bits(float32(math.Inf(-1))), math.Float32bits(-0.25), math.Float32bits(3e-39))
	i64 := le64(-1, math.MaxInt64)
	i32 := le32(uint32(0xffffffff), 7, 0)
	bo := []byte{1, 0, 1}
	by := strs("héllo", "", "a\x00b")
	header := `{"id":"x","inputs":[` + binIn("f", "FP32", "[2,2]", len(f)) + `,` +
		`{"name":"j","datatype":"INT32","shape":[2],"data":[4,5]},` +
		binIn("i64", "INT64", "[2]", len(i64)) + `,` +
		binIn("i32", "INT32", "[3,1]", len(i32)) + `,` +
		`{"name":"b","datatype":"BOOL","shape":[3],"parameters":{"binary_data_size":3,"other":"kept"}},` +
		binIn("s", "BYTES", "[3]", len(by)) + `]}`
	body, n := binBody(header, f, i64, i32, bo, by)
	req, err := DecodeBinary(body, n, binLimits)
	if err != nil {
		t.Fatal(err)
	}
	in := req.Inputs
	if len(in) != 6 || req.ID != "x" {
		t.Fatalf("inputs %d, id %q", len(in), req.ID)
	}
	if want := []float32{1.5, float32(math.Inf(-1)), -0.25, 3e-39}; !reflect.DeepEqual(in[0].FP32, want) || !reflect.DeepEqual(in[0].Shape, []int64{2, 2}) {
		t.Errorf("FP32 %v %v", in[0].FP32, in[0].Shape)
	}
	if in[0].Parameters != nil || !in[0].Binary || in[0].BinarySize != 16 {
		t.Errorf("FP32 parameters %v binary %v %d", in[0].Parameters, in[0].Binary, in[0].BinarySize)
	}
	if !reflect.DeepEqual(in[1].INT32, []int32{4, 5}) || in[1].Binary {
		t.Errorf("JSON input %v", in[1].INT32)
	}
	if !reflect.DeepEqual(in[2].INT64, []int64{-1, math.MaxInt64}) {
		t.Errorf("INT64 %v", in[2].INT64)
	}
	if !reflect.DeepEqual(in[3].INT32, []int32{-1, 7, 0}) {
		t.Errorf("INT32 %v", in[3].INT32)
	}
	if !reflect.DeepEqual(in[4].BOOL, []bool{true, false, true}) || !reflect.DeepEqual(in[4].Parameters, map[string]string{"other": "kept"}) {
		t.Errorf("BOOL %v %v", in[4].BOOL, in[4].Parameters)
	}
	if want := [][]byte{[]byte("héllo"), {}, []byte("a\x00b")}; !reflect.DeepEqual(in[5].BYTES, want) {
		t.Errorf("BYTES %q", in[5].BYTES)
	}

	// Empty tensors, and a header that is the whole body.
	body, n = binBody(`{"inputs":[` + binIn("e", "FP32", "[0,3]", 0) + `,` + binIn("s", "BYTES", "[0]", 0) + `]}`)
	if req, err := DecodeBinary(body, n, binLimits); err != nil || len(req.Inputs[0].FP32) != 0 || len(req.Inputs[1].BYTES) != 0 {
		t.Errorf("empty: %v", err)
	}
	// Without Options.Binary, binary_data_size is a parameter like any,
	// and "data" is missing.
	if _, err := Decode(strings.NewReader(header), binLimits); err == nil || !strings.Contains(err.Error(), `input "f": "data" is missing`) {
		t.Errorf("Decode without Binary: %v", err)
	}
}

// TestDecodeBinaryErrors: every mistake is an error that says which
// input and what.
func TestDecodeBinaryErrors(t *testing.T) {
	f2 := le32(1, 2)
	for _, tc := range []struct {
		name   string
		header string
		parts  [][]byte
		hlen   int64 // -1: the header's
		want   string
	}{
		{"sizes short", `{"inputs":[` + binIn("a", "FP32", "[2]", 8) + `,` + binIn("b", "FP32", "[2]", 8) + `]}`, [][]byte{f2}, -1, `input "b": binary_data_size 8 runs past the end of the body (0 bytes`},
		{"sizes long", `{"inputs":[` + binIn("a", "FP32", "[2]", 8) + `]}`, [][]byte{f2, {0}}, -1, "9 bytes of binary data, the inputs' binary_data_size add up to 8"},
		{"trailing without binary inputs", `{"inputs":[{"name":"a","datatype":"FP32","shape":[1],"data":[1]}]}`, [][]byte{{1, 2}}, -1, "2 bytes of binary data"},
		{"size vs shape", `{"inputs":[` + binIn("a", "FP32", "[3]", 8) + `]}`, [][]byte{f2}, -1, `input "a": binary_data_size is 8 bytes, shape [3] of FP32 needs 12`},
		{"size vs shape INT64", `{"inputs":[` + binIn("a", "INT64", "[2]", 8) + `]}`, [][]byte{f2}, -1, "needs 16"},
		{"size vs shape BOOL", `{"inputs":[` + binIn("a", "BOOL", "[2]", 3) + `]}`, [][]byte{{1, 0, 1}}, -1, "needs 2"},
		{"negative size", `{"inputs":[` + binIn("a", "FP32", "[2]", -8) + `]}`, nil, -1, `binary_data_size "-8" is not a byte count`},
		{"size not a number", `{"inputs":[{"name":"a","datatype":"FP32","shape":[1],"parameters":{"binary_data_size":true}}]}`, nil, -1, `binary_data_size "true"`},
		{"size fraction", `{"inputs":[{"name":"a","datatype":"FP32","shape":[1],"parameters":{"binary_data_size":4.0}}]}`, nil, -1, "not a byte count"},
		{"data and size", `{"inputs":[{"name":"a","datatype":"FP32","shape":[1],"data":[1],"parameters":{"binary_data_size":4}}]}`, [][]byte{f2[:4]}, -1, `input "a": "data" and "binary_data_size" are both given`},
		{"no shape", `{"inputs":[{"name":"a","datatype":"FP32","parameters":{"binary_data_size":4}}]}`, [][]byte{f2[:4]}, -1, `input "a": binary data needs a "shape"`},
		{"huge shape", `{"inputs":[` + binIn("a", "FP32", "[100000]", 400000) + `]}`, nil, -1, `input "a": shape [100000] has a negative or huge dimension`},
		{"BOOL byte", `{"inputs":[` + binIn("a", "BOOL", "[2]", 2) + `]}`, [][]byte{{1, 2}}, -1, `input "a": binary data[1] is the byte 2`},
		{"BYTES length past the end", `{"inputs":[` + binIn("s", "BYTES", "[2]", 9) + `]}`, [][]byte{strs("a"), le32(100)}, -1, `input "s": binary data[1] is 100 bytes long, past the end`},
		{"BYTES length into the next input", `{"inputs":[` + binIn("s", "BYTES", "[1]", 5) + `,` + binIn("t", "BYTES", "[1]", 5) + `]}`, [][]byte{le32(6), {'a'}, strs("b")}, -1, `input "s": binary data[0] is 6 bytes long`},
		{"BYTES bytes left over", `{"inputs":[` + binIn("s", "BYTES", "[1]", 6) + `]}`, [][]byte{strs("a"), {'z'}}, -1, "1 bytes after its 1 BYTES elements"},
		{"BYTES too small for the count", `{"inputs":[` + binIn("s", "BYTES", "[3]", 8) + `]}`, [][]byte{strs("", "")}, -1, "too few for 3 BYTES elements"},
		{"header past the body", `{"inputs":[]}`, nil, 1000, "the body has 13 bytes"},
		{"header negative", `{"inputs":[]}`, nil, -5, "is -5"},
		{"header cuts the JSON", `{"inputs":[]}`, nil, 5, "invalid JSON"},
		{"header empty", `{"inputs":[]}`, nil, 0, "empty"},
		{"binary before JSON data key", `{"inputs":[{"parameters":{"binary_data_size":4},"shape":[1],"datatype":"XX","name":"a"}]}`, [][]byte{f2[:4]}, -1, `datatype "XX"`},
	} {
		body, n := binBody(tc.header, tc.parts...)
		if tc.hlen != -1 {
			n = tc.hlen
		}
		_, err := DecodeBinary(body, n, binLimits)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// Over the byte cap.
	body, n := binBody(`{"inputs":[`+binIn("a", "FP32", "[2]", 8)+`]}`, f2)
	if _, err := DecodeBinary(body, n, Options{Limits: Limits{Bytes: int64(len(body) - 1), Elements: 10}}); err == nil {
		t.Error("over the cap: no error")
	} else if _, ok := err.(*TooLargeError); !ok {
		t.Errorf("over the cap: %T %v", err, err)
	}
}

func TestParseHeaderLength(t *testing.T) {
	for _, tc := range []struct {
		v    string
		body int
		n    int64
		want string
	}{
		{"12", 20, 12, ""},
		{" 20", 20, 20, ""},
		{"0", 0, 0, ""},
		{"21", 20, 0, "more than the body's 20 bytes"},
		{"-1", 20, 0, "not a byte count"},
		{"abc", 20, 0, "not a byte count"},
		{"", 20, 0, "not a byte count"},
		{"99999999999999999999", 20, 0, "not a byte count"},
	} {
		n, err := ParseHeaderLength(tc.v, tc.body)
		if tc.want == "" && (err != nil || n != tc.n) || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("ParseHeaderLength(%q, %d) = %d, %v; want %d %q", tc.v, tc.body, n, err, tc.n, tc.want)
		}
	}
}

// TestWriteBinaryResponse: binary outputs carry their size and no data,
// their data follows the JSON in order, JSON outputs are as
// WriteResponse writes them.
func TestWriteBinaryResponse(t *testing.T) {
	r := &Response{ModelName: "m", ID: "7", Parameters: map[string]string{"p": "v\"é<\n"}, Outputs: []Tensor{
		{Name: "f", Datatype: FP32, Shape: []int64{2}, FP32: []float32{1.5, float32(math.NaN())}},
		{Name: "j", Datatype: INT64, Shape: []int64{1}, INT64: []int64{9}},
		{Name: "s", Datatype: BYTES, Shape: []int64{2}, BYTES: [][]byte{[]byte("ab"), {}}},
		{Name: "b", Datatype: BOOL, Shape: []int64{2}, BOOL: []bool{true, false}},
		{Name: "i", Datatype: INT32, Shape: []int64{1}, INT32: []int32{-2}},
		{Name: "u", Datatype: "UINT8", Shape: []int64{1}, UINT8: []uint8{200}},
	}}
	var buf bytes.Buffer
	n, err := WriteBinaryResponse(&buf, r, []bool{true, false, true, true, true, true})
	if err != nil {
		t.Fatal(err)
	}
	var head struct {
		ModelName  string            `json:"model_name"`
		ID         string            `json:"id"`
		Parameters map[string]string `json:"parameters"`
		Outputs    []struct {
			Name       string           `json:"name"`
			Data       []any            `json:"data"`
			Parameters map[string]int64 `json:"parameters"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(buf.Bytes()[:n], &head); err != nil {
		t.Fatalf("header %q: %v", buf.Bytes()[:n], err)
	}
	if head.ModelName != "m" || head.ID != "7" || head.Parameters["p"] != "v\"é<\n" || len(head.Outputs) != 6 {
		t.Fatalf("header %+v", head)
	}
	sizes := []int64{8, 0, 10, 2, 4, 1}
	for i, o := range head.Outputs {
		if i == 1 {
			if o.Data == nil || o.Data[0] != 9.0 || o.Parameters != nil {
				t.Errorf("JSON output %+v", o)
			}
			continue
		}
		if o.Data != nil || o.Parameters["binary_data_size"] != sizes[i] {
			t.Errorf("output %s: %+v, want size %d", o.Name, o, sizes[i])
		}
	}
	want := append(le32(math.Float32bits(1.5), math.Float32bits(float32(math.NaN()))), strs("ab", "")...)
	want = append(want, 1, 0)
	want = append(want, le32(uint32(0xfffffffe))...)
	want = append(want, 200)
	if got := buf.Bytes()[n:]; !bytes.Equal(got, want) {
		t.Errorf("binary data % x, want % x", got, want)
	}
	// No binary output: WriteResponse's JSON (compact), no binary data.
	buf.Reset()
	n, err = WriteBinaryResponse(&buf, r, nil)
	var plain bytes.Buffer
	if err2 := WriteResponse(&plain, r, nil); err != nil || err2 != nil || int(n) != buf.Len() {
		t.Fatalf("no binary output: %d of %d, %v %v", n, buf.Len(), err, err2)
	}
	var a, b any
	if err := json.Unmarshal(buf.Bytes(), &a); err != nil {
		t.Fatalf("%v: %s", err, buf.Bytes())
	}
	if err := json.Unmarshal(plain.Bytes(), &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("no binary output:\n%s\nwant as\n%s", buf.Bytes(), plain.Bytes())
	}
}

// A binary request decodes to the same tensors as the JSON one.
func TestDecodeBinaryMatchesJSON(t *testing.T) {
	js := `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,3],"data":[0.1,-2,1e30]},{"name":"t","datatype":"BYTES","shape":[1],"data":["ok"]}]}`
	a, err := Decode(strings.NewReader(js), binLimits)
	if err != nil {
		t.Fatal(err)
	}
	f := le32(math.Float32bits(0.1), math.Float32bits(-2), math.Float32bits(1e30))
	body, n := binBody(`{"inputs":[`+binIn("x", "FP32", "[1,3]", 12)+`,`+binIn("t", "BYTES", "[1]", 6)+`]}`, f, strs("ok"))
	b, err := DecodeBinary(body, n, binLimits)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Inputs {
		x, y := a.Inputs[i], b.Inputs[i]
		if !reflect.DeepEqual(x.FP32, y.FP32) || !reflect.DeepEqual(x.BYTES, y.BYTES) || !reflect.DeepEqual(x.Shape, y.Shape) {
			t.Errorf("input %d: JSON %v %q %v, binary %v %q %v", i, x.FP32, x.BYTES, x.Shape, y.FP32, y.BYTES, y.Shape)
		}
	}
}

// FuzzDecodeBinary: any body and header value decode or fail, never
// panic, and what decodes holds what its shape says.
func FuzzDecodeBinary(f *testing.F) {
	body, _ := binBody(`{"inputs":[`+binIn("f", "FP32", "[2]", 8)+`,`+binIn("s", "BYTES", "[2]", 9)+`,`+binIn("b", "BOOL", "[1]", 1)+`]}`, le32(1, 2), strs("a", ""), []byte{1})
	f.Add(body, "111")
	f.Add(body, strconv.Itoa(len(body)))
	f.Add([]byte(`{"inputs":[`+binIn("i", "INT64", "[1]", 8)+`]}`+"\x01\x00\x00\x00\x00\x00\x00\x00"), "71")
	f.Add([]byte(`{"inputs":[{"name":"x","datatype":"INT32","shape":[1],"data":[1]}]}`), "-1")
	f.Add([]byte{}, "0")
	f.Fuzz(func(t *testing.T, body []byte, hdr string) {
		n, err := ParseHeaderLength(hdr, len(body))
		if err != nil {
			return
		}
		req, err := DecodeBinary(body, n, Options{Limits: Limits{Bytes: 1 << 16, Elements: 1 << 12}})
		if err != nil {
			return
		}
		for _, in := range req.Inputs {
			if !in.Binary {
				continue
			}
			want, err := CheckShape(in.Shape, 1<<12)
			if err != nil || int64(in.Len()) != want {
				t.Fatalf("%s: %d elements, shape %v", in.Label(), in.Len(), in.Shape)
			}
		}
	})
}
