package oip

import (
	"bytes"
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
