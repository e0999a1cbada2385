package oip

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"slices"
	"strconv"
)

// Response is an inference response: its outputs' data in the field of
// their datatype (one of them set), row-major.
type Response struct {
	ModelName    string
	ModelVersion string
	ID           string
	Parameters   map[string]string
	Outputs      []Tensor
}

// Tensor is one output of a Response.
type Tensor struct {
	Name     string
	Datatype string
	Shape    []int64
	FP32     []float32
	INT64    []int64
	INT32    []int32
	INT8     []int8
	UINT8    []uint8
	BOOL     []bool
	BYTES    [][]byte
}

// WriteResponse writes r as indented JSON, a value at a time (printing
// costs a buffer, not a copy of the outputs):
//
//	{"model_name", "model_version", "id", "parameters",
//	 "outputs": [{"name", "datatype", "shape", "data"}]}
//
// model_version, id and parameters only when set; "data" is flat,
// row-major; FP32 values are the shortest decimal that reads back as the
// same float32, infinities and NaN the strings "+Inf", "-Inf" and "NaN";
// BYTES values are strings. extra, when set, writes more members after
// "outputs" with j.Elem and the value writers.
func WriteResponse(w io.Writer, r *Response, extra func(j *JSONWriter)) error {
	j := NewJSONWriter(w)
	j.Open('{')
	j.Elem("model_name")
	j.String(r.ModelName)
	if r.ModelVersion != "" {
		j.Elem("model_version")
		j.String(r.ModelVersion)
	}
	if r.ID != "" {
		j.Elem("id")
		j.String(r.ID)
	}
	if len(r.Parameters) > 0 {
		j.Elem("parameters")
		j.Open('{')
		keys := make([]string, 0, len(r.Parameters))
		for k := range r.Parameters {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			j.Elem(k)
			j.String(r.Parameters[k])
		}
		j.Close('}')
	}
	j.Elem("outputs")
	j.Open('[')
	for i := range r.Outputs {
		t := &r.Outputs[i]
		j.Elem("")
		j.Open('{')
		j.Elem("name")
		j.String(t.Name)
		j.Elem("datatype")
		j.String(t.Datatype)
		j.Elem("shape")
		j.Open('[')
		for _, d := range t.Shape {
			j.Elem("")
			j.buf = strconv.AppendInt(j.buf[:0], d, 10)
			j.Raw(j.buf)
		}
		j.Close(']')
		j.Elem("data")
		j.Open('[')
		for _, v := range t.FP32 {
			j.Elem("")
			j.F32(v)
		}
		writeInts(j, t.INT64)
		writeInts(j, t.INT32)
		writeInts(j, t.INT8)
		writeInts(j, t.UINT8)
		for _, v := range t.BOOL {
			j.Elem("")
			j.buf = strconv.AppendBool(j.buf[:0], v)
			j.Raw(j.buf)
		}
		for _, v := range t.BYTES {
			j.Elem("")
			j.String(string(v))
		}
		j.Close(']')
		j.Close('}')
	}
	j.Close(']')
	if extra != nil {
		extra(j)
	}
	j.Close('}')
	j.w.WriteByte('\n')
	return j.w.Flush()
}

func writeInts[T int64 | int32 | int8 | uint8](j *JSONWriter, s []T) {
	for _, v := range s {
		j.Elem("")
		j.buf = strconv.AppendInt(j.buf[:0], int64(v), 10)
		j.Raw(j.buf)
	}
}

// AppendF32 appends a float32 as JSON can always hold it: the shortest
// decimal that reads back as the same float32, or the strings "+Inf",
// "-Inf" and "NaN".
func AppendF32(b []byte, f float32) []byte {
	v := float64(f)
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return strconv.AppendQuote(b, strconv.FormatFloat(v, 'g', -1, 32))
	}
	return strconv.AppendFloat(b, v, 'g', -1, 32)
}

// JSONWriter writes indented JSON (two spaces, as json.MarshalIndent), a
// token at a time, through a buffer. Errors of the writer are returned
// by the final flush of WriteResponse.
type JSONWriter struct {
	w     *bufio.Writer
	depth int
	first bool // no element yet in the innermost array or object
	buf   []byte
	str   bytes.Buffer
	enc   *json.Encoder
}

// NewJSONWriter returns a JSONWriter to w.
func NewJSONWriter(w io.Writer) *JSONWriter {
	j := &JSONWriter{w: bufio.NewWriterSize(w, 64<<10)}
	j.enc = json.NewEncoder(&j.str)
	j.enc.SetEscapeHTML(false)
	return j
}

func (j *JSONWriter) newline() {
	j.w.WriteByte('\n')
	for range j.depth {
		j.w.WriteString("  ")
	}
}

// Elem starts an array element (key "") or an object member ("key": ).
func (j *JSONWriter) Elem(key string) {
	if !j.first {
		j.w.WriteByte(',')
	}
	j.first = false
	j.newline()
	if key != "" {
		j.String(key)
		j.w.WriteString(": ")
	}
}

// Open opens an object ('{') or an array ('[').
func (j *JSONWriter) Open(c byte) {
	j.w.WriteByte(c)
	j.depth++
	j.first = true
}

// Close closes the innermost object ('}') or array (']').
func (j *JSONWriter) Close(c byte) {
	j.depth--
	if !j.first {
		j.newline()
	}
	j.first = false
	j.w.WriteByte(c)
}

// String writes a string.
func (j *JSONWriter) String(s string) {
	j.str.Reset()
	j.enc.Encode(s) // a string always encodes
	j.w.Write(bytes.TrimSuffix(j.str.Bytes(), []byte("\n")))
}

// F32 writes a float32 as AppendF32 does.
func (j *JSONWriter) F32(f float32) {
	j.buf = AppendF32(j.buf[:0], f)
	j.w.Write(j.buf)
}

// Raw writes JSON text as it is.
func (j *JSONWriter) Raw(b []byte) { j.w.Write(b) }
