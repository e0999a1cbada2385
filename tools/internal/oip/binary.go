package oip

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Triton's binary tensor data extension (REST): a request's body is a
// JSON inference header, HeaderContentLength bytes long, then the data of
// the inputs whose "parameters" carry ParamBinarySize, in their order,
// little-endian, row-major, without padding (BOOL one byte, 0 or 1; a
// BYTES element a 4-byte little-endian length, then its bytes). A
// response carries its outputs the same way when asked: ParamBinaryOutput
// in the request's parameters (every output), ParamBinaryData in a
// requested output's (that one; it overrides the former).
const (
	HeaderContentLength = "Inference-Header-Content-Length"
	ParamBinarySize     = "binary_data_size"
	ParamBinaryData     = "binary_data"
	ParamBinaryOutput   = "binary_data_output"
)

// ExtensionBinary is the extension's name in a server's metadata.
const ExtensionBinary = "binary_tensor_data"

// binary takes an input's binary_data_size, under Options.Binary, and
// reports whether the input is binary. The key leaves its parameters.
func (p *parser) binary(in *Input) (bool, error) {
	if !p.opt.Binary {
		return false, nil
	}
	v, ok := in.Parameters[ParamBinarySize]
	if !ok {
		return false, nil
	}
	if in.hasData {
		return false, fmt.Errorf(`%s: "data" and "binary_data_size" are both given`, in.Label())
	}
	size, err := strconv.ParseInt(v, 10, 64)
	if err != nil || size < 0 {
		return false, fmt.Errorf("%s: binary_data_size %q is not a byte count", in.Label(), v)
	}
	if !in.HasShape {
		return false, fmt.Errorf(`%s: binary data needs a "shape"`, in.Label())
	}
	n, err := CheckShape(in.Shape, p.opt.Elements)
	if err != nil {
		return false, fmt.Errorf("%s: %w", in.Label(), err)
	}
	if es := elementSize(in.Datatype); es > 0 && size != n*es {
		return false, fmt.Errorf("%s: binary_data_size is %d bytes, shape %s of %s needs %d", in.Label(), size, ShapeText(in.Shape), in.Datatype, n*es)
	}
	if in.Datatype == BYTES && size < 4*n {
		return false, fmt.Errorf("%s: binary_data_size is %d bytes, too few for %d BYTES elements (4 bytes of length each)", in.Label(), size, n)
	}
	delete(in.Parameters, ParamBinarySize)
	if len(in.Parameters) == 0 {
		in.Parameters = nil
	}
	in.Binary, in.BinarySize = true, size
	return true, nil
}

// elementSize is the bytes of an element of a fixed-size datatype, 0
// for BYTES.
func elementSize(datatype string) int64 {
	switch datatype {
	case FP32, INT32:
		return 4
	case INT64:
		return 8
	case BOOL, "INT8", "UINT8":
		return 1
	}
	return 0
}

// ParseHeaderLength reads the HeaderContentLength header's value for a
// body of bodyLen bytes: a byte count, at most the body's.
func ParseHeaderLength(v string, bodyLen int) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	switch {
	case err != nil || n < 0:
		return 0, fmt.Errorf("header %s: %q is not a byte count", HeaderContentLength, v)
	case n > int64(bodyLen):
		return 0, fmt.Errorf("header %s is %d, more than the body's %d bytes", HeaderContentLength, n, bodyLen)
	}
	return n, nil
}

// DecodeBinary reads a request of the binary tensor data extension: the
// first headerLen bytes of body are its JSON, which Decode reads (with
// Options.Binary), the rest the binary inputs' data, which must add up
// to their binary_data_size exactly. A fixed-size input's size is its
// shape's; a BYTES element's length must stay within its input's data.
// BYTES elements share body's memory.
func DecodeBinary(body []byte, headerLen int64, opt Options) (*Request, error) {
	if opt.Bytes >= 1 && int64(len(body)) > opt.Bytes {
		return nil, &TooLargeError{Max: opt.Bytes, Flag: opt.Flag}
	}
	if headerLen < 0 || headerLen > int64(len(body)) {
		return nil, fmt.Errorf("header %s is %d, the body has %d bytes", HeaderContentLength, headerLen, len(body))
	}
	opt.Binary = true
	req, err := Decode(bytes.NewReader(body[:headerLen]), opt)
	if err != nil {
		return nil, err
	}
	rest := body[headerLen:]
	var want int64
	for _, in := range req.Inputs {
		if !in.Binary {
			continue
		}
		want += in.BinarySize
		if in.BinarySize > int64(len(rest)) {
			return nil, fmt.Errorf("%s: binary_data_size %d runs past the end of the body (%d bytes of binary data left)", in.Label(), in.BinarySize, len(rest))
		}
		b := rest[:in.BinarySize:in.BinarySize]
		rest = rest[in.BinarySize:]
		if err := in.fill(b); err != nil {
			return nil, fmt.Errorf("%s: %w", in.Label(), err)
		}
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("the body has %d bytes of binary data, the inputs' binary_data_size add up to %d", int64(len(body))-headerLen, want)
	}
	return req, nil
}

// fill reads a binary input's data from b (its binary_data_size bytes,
// checked against the shape by binary).
func (in *Input) fill(b []byte) error {
	n64, err := CheckShape(in.Shape, math.MaxInt32)
	if err != nil {
		return err
	}
	n := int(n64)
	le := binary.LittleEndian
	switch in.Datatype {
	case FP32:
		in.FP32 = make([]float32, n)
		for i := range in.FP32 {
			in.FP32[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
	case INT64:
		in.INT64 = make([]int64, n)
		for i := range in.INT64 {
			in.INT64[i] = int64(le.Uint64(b[8*i:]))
		}
	case INT32:
		in.INT32 = make([]int32, n)
		for i := range in.INT32 {
			in.INT32[i] = int32(le.Uint32(b[4*i:]))
		}
	case BOOL:
		in.BOOL = make([]bool, n)
		for i, c := range b[:n] {
			if c > 1 {
				return fmt.Errorf("binary data[%d] is the byte %d, not a BOOL (0 or 1)", i, c)
			}
			in.BOOL[i] = c == 1
		}
	case BYTES:
		if int64(len(b)) < 4*n64 { // binary checks it; a BYTES element takes 4 bytes at least
			return fmt.Errorf("%d bytes of binary data cannot hold %d BYTES elements", len(b), n)
		}
		in.BYTES = make([][]byte, n)
		for i := range in.BYTES {
			if len(b) < 4 {
				return fmt.Errorf("binary data ends in element %d's length", i)
			}
			l := le.Uint32(b)
			b = b[4:]
			if uint64(l) > uint64(len(b)) {
				return fmt.Errorf("binary data[%d] is %d bytes long, past the end of the input's data (%d bytes left)", i, l, len(b))
			}
			in.BYTES[i] = b[:l:l]
			b = b[l:]
		}
		if len(b) > 0 {
			return fmt.Errorf("binary data has %d bytes after its %d BYTES elements", len(b), n)
		}
	default:
		return errors.New("binary data of datatype " + strconv.Quote(in.Datatype))
	}
	return nil
}

// BinarySize is the bytes of t's data in the binary tensor data
// extension.
func (t *Tensor) BinarySize() int64 {
	n := int64(4*len(t.FP32) + 8*len(t.INT64) + 4*len(t.INT32) + len(t.INT8) + len(t.UINT8) + len(t.BOOL))
	for _, v := range t.BYTES {
		n += 4 + int64(len(v))
	}
	return n
}

// WriteBinaryResponse writes r as the binary tensor data extension does:
// compact JSON with the members of WriteResponse's, where an output whose
// flag is set (bin[i] for r.Outputs[i]) has "parameters":
// {"binary_data_size": K} instead of "data", then those outputs' data in
// their order. It returns the JSON's length, the response's
// HeaderContentLength. (It writes its JSON itself, with the exported
// AppendF32 only, so that WriteResponse's internals stay its own.)
func WriteBinaryResponse(w io.Writer, r *Response, bin []bool) (int64, error) {
	b := append(make([]byte, 0, 512), `{"model_name":`...)
	b = appendJSONString(b, r.ModelName)
	if r.ModelVersion != "" {
		b = appendJSONString(append(b, `,"model_version":`...), r.ModelVersion)
	}
	if r.ID != "" {
		b = appendJSONString(append(b, `,"id":`...), r.ID)
	}
	if len(r.Parameters) > 0 {
		keys := make([]string, 0, len(r.Parameters))
		for k := range r.Parameters {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, `,"parameters":{`...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = appendJSONString(append(b, ':'), r.Parameters[k])
		}
		b = append(b, '}')
	}
	b = append(b, `,"outputs":[`...)
	for i := range r.Outputs {
		t := &r.Outputs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(append(b, `{"name":`...), t.Name)
		b = appendJSONString(append(b, `,"datatype":`...), t.Datatype)
		b = append(b, `,"shape":[`...)
		for k, d := range t.Shape {
			if k > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, d, 10)
		}
		b = append(b, ']')
		if i < len(bin) && bin[i] {
			b = append(b, `,"parameters":{"binary_data_size":`...)
			b = strconv.AppendInt(b, t.BinarySize(), 10)
			b = append(b, "}}"...)
			continue
		}
		b = append(b, `,"data":[`...)
		n := 0
		sep := func() {
			if n > 0 {
				b = append(b, ',')
			}
			n++
		}
		for _, v := range t.FP32 {
			sep()
			b = AppendF32(b, v)
		}
		for _, v := range t.INT64 {
			sep()
			b = strconv.AppendInt(b, v, 10)
		}
		for _, v := range t.INT32 {
			sep()
			b = strconv.AppendInt(b, int64(v), 10)
		}
		for _, v := range t.INT8 {
			sep()
			b = strconv.AppendInt(b, int64(v), 10)
		}
		for _, v := range t.UINT8 {
			sep()
			b = strconv.AppendUint(b, uint64(v), 10)
		}
		for _, v := range t.BOOL {
			sep()
			b = strconv.AppendBool(b, v)
		}
		for _, v := range t.BYTES {
			sep()
			b = appendJSONString(b, string(v))
		}
		b = append(b, "]}"...)
	}
	b = append(b, "]}"...)
	if _, err := w.Write(b); err != nil {
		return int64(len(b)), err
	}
	header := int64(len(b))
	bw := bufio.NewWriterSize(w, 64<<10)
	le := binary.LittleEndian
	for i := range r.Outputs {
		if i >= len(bin) || !bin[i] {
			continue
		}
		t := &r.Outputs[i]
		for _, v := range t.FP32 {
			b = le.AppendUint32(b[:0], math.Float32bits(v))
			bw.Write(b)
		}
		for _, v := range t.INT64 {
			b = le.AppendUint64(b[:0], uint64(v))
			bw.Write(b)
		}
		for _, v := range t.INT32 {
			b = le.AppendUint32(b[:0], uint32(v))
			bw.Write(b)
		}
		for _, v := range t.INT8 {
			bw.WriteByte(byte(v))
		}
		bw.Write(t.UINT8)
		for _, v := range t.BOOL {
			c := byte(0)
			if v {
				c = 1
			}
			bw.WriteByte(c)
		}
		for _, v := range t.BYTES {
			b = le.AppendUint32(b[:0], uint32(len(v)))
			bw.Write(b)
			bw.Write(v)
		}
	}
	return header, bw.Flush()
}

// appendJSONString appends s as a JSON string (invalid UTF-8 as U+FFFD).
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}
