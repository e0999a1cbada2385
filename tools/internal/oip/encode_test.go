package oip

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"testing"
)

// TestWriteResponse: every datatype's data, non-finite FP32 values as
// strings (encoding/json refuses them), optional members only when set,
// and extra members after "outputs".
func TestWriteResponse(t *testing.T) {
	r := &Response{ModelName: "m", ID: "7", Parameters: map[string]string{"b": "2", "a": "1"}, Outputs: []Tensor{
		{Name: "p", Datatype: FP32, Shape: []int64{1, 4}, FP32: []float32{0.1, float32(math.Inf(1)), float32(math.NaN()), 3e-8}},
		{Name: "i", Datatype: INT64, Shape: []int64{2}, INT64: []int64{-1, 1 << 40}},
		{Name: "s", Datatype: BYTES, Shape: []int64{1}, BYTES: [][]byte{[]byte("a\"<b>")}},
		{Name: "b", Datatype: BOOL, Shape: []int64{1}, BOOL: []bool{true}},
		{Name: "e", Datatype: FP32, Shape: []int64{0}},
	}}
	var b bytes.Buffer
	err := WriteResponse(&b, r, func(j *JSONWriter) {
		j.Elem("extra")
		j.Open('[')
		j.Elem("")
		j.F32(1.5)
		j.Close(']')
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "model_name": "m",
  "id": "7",
  "parameters": {
    "a": "1",
    "b": "2"
  },
  "outputs": [
    {
      "name": "p",
      "datatype": "FP32",
      "shape": [
        1,
        4
      ],
      "data": [
        0.1,
        "+Inf",
        "NaN",
        3e-08
      ]
    },
    {
      "name": "i",
      "datatype": "INT64",
      "shape": [
        2
      ],
      "data": [
        -1,
        1099511627776
      ]
    },
    {
      "name": "s",
      "datatype": "BYTES",
      "shape": [
        1
      ],
      "data": [
        "a\"<b>"
      ]
    },
    {
      "name": "b",
      "datatype": "BOOL",
      "shape": [
        1
      ],
      "data": [
        true
      ]
    },
    {
      "name": "e",
      "datatype": "FP32",
      "shape": [
        0
      ],
      "data": []
    }
  ],
  "extra": [
    1.5
  ]
}
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestShapeText(t *testing.T) {
	for shape, want := range map[string][]int64{"[?,4]": {-1, 4}, "[]": {}, "[2,3,1]": {2, 3, 1}} {
		if got := ShapeText(want); got != shape {
			t.Errorf("ShapeText(%v) = %s, want %s", want, got, shape)
		}
	}
}

// FuzzAppendString: AppendString writes what encoding/json writes with
// HTML escaping off, for strings and byte slices alike.
//
// fuzz:budget 200000x
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "a\"b\\c", "\x00\x01\x1f\b\f\n\r\t", "é€😀", "\u2028\u2029", "\xff\xfe", "ab\xc3", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		w := bytes.TrimSuffix(want.Bytes(), []byte("\n"))
		if got := AppendString(nil, s); !bytes.Equal(got, w) {
			t.Fatalf("string %q: %s, encoding/json %s", s, got, w)
		}
		if got := AppendString([]byte("x"), []byte(s)); !bytes.Equal(got[1:], w) {
			t.Fatalf("[]byte %q: %s, encoding/json %s", s, got[1:], w)
		}
	})
}

// TestAppendResponse: the compact form holds the same JSON as the
// indented one.
func TestAppendResponse(t *testing.T) {
	r := &Response{ModelName: "m", ModelVersion: "v", ID: "7", Parameters: map[string]string{"a": "1"}, Outputs: []Tensor{
		{Name: "p", Datatype: FP32, Shape: []int64{1, 2}, FP32: []float32{0.25, float32(math.NaN())}},
		{Name: "s", Datatype: BYTES, Shape: []int64{1}, BYTES: [][]byte{[]byte("x\ny")}},
	}}
	var ind bytes.Buffer
	if err := WriteResponse(&ind, r, nil); err != nil {
		t.Fatal(err)
	}
	got := AppendResponse([]byte("keep"), r)
	want := `{"model_name":"m","model_version":"v","id":"7","parameters":{"a":"1"},"outputs":[{"name":"p","datatype":"FP32","shape":[1,2],"data":[0.25,"NaN"]},{"name":"s","datatype":"BYTES","shape":[1],"data":["x\ny"]}]}` + "\n"
	if string(got) != "keep"+want {
		t.Fatalf("AppendResponse:\n%s\nwant\n%s", got, want)
	}
	var c bytes.Buffer
	if err := json.Compact(&c, ind.Bytes()); err != nil {
		t.Fatal(err)
	}
	if c.String()+"\n" != want {
		t.Fatalf("indented, compacted:\n%s\nwant\n%s", c.String(), want)
	}
}

// TestWriteResponseLarge: an answer larger than the writer's buffer is
// written whole, and the writer's error is returned.
func TestWriteResponseLarge(t *testing.T) {
	r := &Response{ModelName: "m", Outputs: []Tensor{{Name: "p", Datatype: FP32, Shape: []int64{20000}, FP32: make([]float32, 20000)}}}
	var b bytes.Buffer
	if err := WriteResponse(&b, r, nil); err != nil {
		t.Fatal(err)
	}
	var back struct{ Outputs []struct{ Data []float32 } }
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || len(back.Outputs[0].Data) != 20000 {
		t.Fatalf("read back: %v, %d values", err, len(back.Outputs))
	}
	if err := WriteResponse(failWriter{}, r, nil); err == nil {
		t.Fatal("a failing writer's error was lost")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
