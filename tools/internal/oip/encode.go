package oip

import (
	"io"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
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
	writeResponse(j, r, extra)
	return j.Flush()
}

// AppendResponse appends r to dst as compact JSON (no spaces or
// newlines, then one newline), the members as WriteResponse writes them:
// what a server sends. It allocates nothing beyond dst's growth.
func AppendResponse(dst []byte, r *Response) []byte {
	j := JSONWriter{out: dst, compact: true}
	writeResponse(&j, r, nil)
	return j.out
}

func writeResponse(j *JSONWriter, r *Response, extra func(j *JSONWriter)) {
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
			j.out = strconv.AppendInt(j.out, d, 10)
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
			j.out = strconv.AppendBool(j.out, v)
		}
		for _, v := range t.BYTES {
			j.Elem("")
			j.out = AppendString(j.out, v)
		}
		j.Close(']')
		j.Close('}')
		j.spill()
	}
	j.Close(']')
	if extra != nil {
		extra(j)
	}
	j.Close('}')
	j.out = append(j.out, '\n')
}

func writeInts[T int64 | int32 | int8 | uint8](j *JSONWriter, s []T) {
	for _, v := range s {
		j.Elem("")
		j.out = strconv.AppendInt(j.out, int64(v), 10)
	}
	j.spill()
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

// JSONWriter writes JSON a token at a time into a buffer of its own:
// indented (two spaces, as json.MarshalIndent) or, for AppendResponse,
// compact. A JSONWriter to an io.Writer passes the buffer on whenever it
// holds more than 32 KiB, so a large answer costs no more than that;
// the writer's first error is kept and returned by Flush.
type JSONWriter struct {
	w       io.Writer // nil: append only (AppendResponse)
	err     error
	out     []byte
	depth   int
	first   bool // no element yet in the innermost array or object
	compact bool
}

// spillAt is how much a JSONWriter to an io.Writer holds before passing
// it on.
const spillAt = 32 << 10

// NewJSONWriter returns an indenting JSONWriter to w.
func NewJSONWriter(w io.Writer) *JSONWriter {
	return &JSONWriter{w: w, out: make([]byte, 0, 4<<10)}
}

// spill passes the buffer on to the writer once it holds spillAt bytes.
func (j *JSONWriter) spill() {
	if j.w != nil && len(j.out) >= spillAt {
		j.write()
	}
}

func (j *JSONWriter) write() {
	if j.err == nil && len(j.out) > 0 {
		_, j.err = j.w.Write(j.out)
	}
	j.out = j.out[:0]
}

// Flush writes what the buffer holds and returns the writer's first
// error.
func (j *JSONWriter) Flush() error {
	if j.w != nil {
		j.write()
	}
	return j.err
}

func (j *JSONWriter) newline() {
	if j.compact {
		return
	}
	j.out = append(j.out, '\n')
	for range j.depth {
		j.out = append(j.out, "  "...)
	}
}

// Elem starts an array element (key "") or an object member ("key": ).
func (j *JSONWriter) Elem(key string) {
	if !j.first {
		j.out = append(j.out, ',')
	}
	j.first = false
	j.newline()
	if key != "" {
		j.out = AppendString(j.out, key)
		if j.compact {
			j.out = append(j.out, ':')
		} else {
			j.out = append(j.out, ": "...)
		}
	}
	j.spill()
}

// Open opens an object ('{') or an array ('[').
func (j *JSONWriter) Open(c byte) {
	j.out = append(j.out, c)
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
	j.out = append(j.out, c)
}

// String writes a string.
func (j *JSONWriter) String(s string) { j.out = AppendString(j.out, s) }

// F32 writes a float32 as AppendF32 does.
func (j *JSONWriter) F32(f float32) { j.out = AppendF32(j.out, f) }

// Raw writes JSON text as it is.
func (j *JSONWriter) Raw(b []byte) { j.out = append(j.out, b...) }

const hexDigits = "0123456789abcdef"

// AppendString appends s (a string or []byte) as a JSON string, quoted
// and escaped as encoding/json does with HTML escaping off: \" \\ \b
// \f \n \r \t, other control characters as \u00XX, U+2028 and U+2029
// escaped, and invalid UTF-8 as U+FFFD.
func AppendString[S string | []byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		var b [utf8.UTFMax]byte
		r, size := utf8.DecodeRune(b[:copy(b[:], s[i:])])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
