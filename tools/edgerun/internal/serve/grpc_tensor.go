package serve

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/edgerun/edgerun/sdk"
	pb "github.com/edgerun/edgerun/tools/edgerun/internal/serve/kservepb"
	"github.com/edgerun/edgerun/tools/internal/oip"
)

// The mapping between the gRPC messages of grpc_predict_v2.proto and the
// SDK's request and response. Every error about the request matches
// sdk.ErrInvalidInput (INVALID_ARGUMENT).

// rawSize is the bytes of one element of a fixed-size datatype in
// raw_input_contents and raw_output_contents (0 for BYTES).
func rawSize(datatype string) int {
	switch datatype {
	case sdk.FP32, sdk.INT32:
		return 4
	case sdk.INT64:
		return 8
	case sdk.BOOL:
		return 1
	}
	return 0
}

// inferRequestFromPB maps a ModelInferRequest onto an sdk.InferRequest:
// the id, the parameters, the outputs asked for, and each input's data,
// from its typed contents or from raw_input_contents (one per input, in
// order; then no input has contents). Typed contents are used in place.
// The data must match the shape exactly; shapes may claim at most
// maxElements elements. Whether the inputs fit the model is the model's
// check (sdk.ValidateRequest).
func inferRequestFromPB(r *pb.ModelInferRequest, maxElements int) (*sdk.InferRequest, error) {
	req := &sdk.InferRequest{ID: r.GetId()}
	var err error
	if req.Parameters, err = parameters("request", r.GetParameters()); err != nil {
		return nil, err
	}
	for i, o := range r.GetOutputs() {
		if o.GetName() == "" {
			return nil, sdk.InvalidInputf("outputs[%d] has no name", i)
		}
		if len(o.GetParameters()) > 0 {
			return nil, sdk.InvalidInputf("output %q: output parameters are not supported", o.GetName())
		}
		req.Outputs = append(req.Outputs, o.GetName())
	}
	raw := r.GetRawInputContents()
	if len(raw) > 0 && len(raw) != len(r.GetInputs()) {
		return nil, sdk.InvalidInputf("raw_input_contents has %d entries for %d inputs (one per input, in order)", len(raw), len(r.GetInputs()))
	}
	req.Inputs = make([]sdk.Tensor, len(r.GetInputs()))
	for i, in := range r.GetInputs() {
		t := &req.Inputs[i]
		label := fmt.Sprintf("input %q", in.GetName())
		if in.GetName() == "" {
			return nil, sdk.InvalidInputf("inputs[%d] has no name", i)
		}
		if !sdk.ValidDatatype(in.GetDatatype()) {
			return nil, sdk.InvalidInputf("%s: datatype %q is not one of %s", label, in.GetDatatype(), oip.Datatypes)
		}
		if len(in.GetParameters()) > 0 {
			return nil, sdk.InvalidInputf("%s: input parameters are not supported", label)
		}
		if len(in.GetShape()) > oip.MaxDims {
			return nil, sdk.InvalidInputf("%s: shape %s has more than %d dimensions", label, oip.ShapeText(in.GetShape()), oip.MaxDims)
		}
		n, err := oip.CheckShape(in.GetShape(), maxElements)
		if err != nil {
			return nil, sdk.InvalidInputf("%s: %v", label, err)
		}
		t.Name, t.Datatype, t.Shape = in.GetName(), in.GetDatatype(), in.GetShape()
		if len(raw) > 0 {
			if hasContents(in.GetContents()) {
				return nil, sdk.InvalidInputf("%s: contents and raw_input_contents are both given (one or the other)", label)
			}
			if err := fromRaw(t, raw[i], int(n)); err != nil {
				return nil, sdk.InvalidInputf("%s: raw_input_contents[%d]: %v", label, i, err)
			}
			continue
		}
		if err := fromContents(t, in.GetContents(), int(n)); err != nil {
			return nil, sdk.InvalidInputf("%s: %v", label, err)
		}
	}
	return req, nil
}

// parameters maps protocol parameters to the SDK's strings: booleans
// "true" and "false", integers in decimal, strings as they are.
func parameters(what string, m map[string]*pb.InferParameter) (map[string]string, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(m))
	for k, p := range m {
		switch v := p.GetParameterChoice().(type) {
		case *pb.InferParameter_BoolParam:
			out[k] = strconv.FormatBool(v.BoolParam)
		case *pb.InferParameter_Int64Param:
			out[k] = strconv.FormatInt(v.Int64Param, 10)
		case *pb.InferParameter_StringParam:
			out[k] = v.StringParam
		default:
			return nil, sdk.InvalidInputf("%s parameter %q has no value", what, k)
		}
	}
	return out, nil
}

// contentFields names the fields of c that hold data, with their lengths.
func contentFields(c *pb.InferTensorContents) map[string]int {
	f := map[string]int{}
	add := func(name string, n int) {
		if n > 0 {
			f[name] = n
		}
	}
	add("bool_contents", len(c.GetBoolContents()))
	add("int_contents", len(c.GetIntContents()))
	add("int64_contents", len(c.GetInt64Contents()))
	add("uint_contents", len(c.GetUintContents()))
	add("uint64_contents", len(c.GetUint64Contents()))
	add("fp32_contents", len(c.GetFp32Contents()))
	add("fp64_contents", len(c.GetFp64Contents()))
	add("bytes_contents", len(c.GetBytesContents()))
	return f
}

func hasContents(c *pb.InferTensorContents) bool { return len(contentFields(c)) > 0 }

// contentsField is the InferTensorContents field of a datatype.
func contentsField(datatype string) string {
	switch datatype {
	case sdk.FP32:
		return "fp32_contents"
	case sdk.INT64:
		return "int64_contents"
	case sdk.INT32:
		return "int_contents"
	case sdk.BOOL:
		return "bool_contents"
	}
	return "bytes_contents"
}

// fromContents sets t's data from typed contents: the field of its
// datatype, n elements, no other field.
func fromContents(t *sdk.Tensor, c *pb.InferTensorContents, n int) error {
	want := contentsField(t.Datatype)
	fields := contentFields(c)
	for f := range fields {
		if f != want {
			return fmt.Errorf("contents has %s, but %s data goes in %s", f, t.Datatype, want)
		}
	}
	if got := fields[want]; got != n {
		if got == 0 && n > 0 {
			return fmt.Errorf("no data: neither contents.%s nor raw_input_contents is given", want)
		}
		return fmt.Errorf("shape %s needs %d elements, contents.%s has %d", oip.ShapeText(t.Shape), n, want, got)
	}
	switch t.Datatype {
	case sdk.FP32:
		t.FP32 = c.GetFp32Contents()
	case sdk.INT64:
		t.INT64 = c.GetInt64Contents()
	case sdk.INT32:
		t.INT32 = c.GetIntContents()
	case sdk.BOOL:
		t.BOOL = c.GetBoolContents()
	case sdk.BYTES:
		t.BYTES = c.GetBytesContents()
	}
	return nil
}

// fromRaw sets t's data from its raw bytes: n elements, little-endian,
// BOOL one byte 0 or 1, BYTES each a 4-byte little-endian length and that
// many bytes. BYTES elements alias b.
func fromRaw(t *sdk.Tensor, b []byte, n int) error {
	if t.Datatype == sdk.BYTES {
		// Every element takes at least its 4-byte length: check before
		// allocating what the shape claims.
		if n > len(b)/4 {
			return fmt.Errorf("%d bytes cannot hold the %d BYTES elements of shape %s (4-byte length each)", len(b), n, oip.ShapeText(t.Shape))
		}
		t.BYTES = make([][]byte, n)
		for i := range n {
			if len(b) < 4 {
				return fmt.Errorf("element %d: %d bytes left, its 4-byte length is missing", i, len(b))
			}
			l := binary.LittleEndian.Uint32(b)
			b = b[4:]
			if uint64(l) > uint64(len(b)) {
				return fmt.Errorf("element %d: length %d, only %d bytes left", i, l, len(b))
			}
			t.BYTES[i], b = b[:l:l], b[l:]
		}
		if len(b) > 0 {
			return fmt.Errorf("%d bytes left after the %d BYTES elements of shape %s", len(b), n, oip.ShapeText(t.Shape))
		}
		return nil
	}
	size := rawSize(t.Datatype)
	if int64(len(b)) != int64(n)*int64(size) {
		return fmt.Errorf("%d bytes, but shape %s of %s needs %d (%d × %d)", len(b), oip.ShapeText(t.Shape), t.Datatype, n*size, n, size)
	}
	switch t.Datatype {
	case sdk.FP32:
		t.FP32 = make([]float32, n)
		for i := range t.FP32 {
			t.FP32[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case sdk.INT32:
		t.INT32 = make([]int32, n)
		for i := range t.INT32 {
			t.INT32[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case sdk.INT64:
		t.INT64 = make([]int64, n)
		for i := range t.INT64 {
			t.INT64[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
		}
	case sdk.BOOL:
		t.BOOL = make([]bool, n)
		for i, v := range b {
			if v > 1 {
				return fmt.Errorf("element %d is byte %d, not a BOOL (0 or 1)", i, v)
			}
			t.BOOL[i] = v == 1
		}
	}
	return nil
}

// inferResponseToPB maps a model's answer onto a ModelInferResponse: the
// outputs asked for (all when none was), their data as typed contents, or
// in raw_output_contents when raw is set. The id is the request's when the
// model gave none. A malformed output (an unknown datatype, data that does
// not match its shape) is the model's fault: an error that is not
// sdk.ErrInvalidInput.
func inferResponseToPB(resp *sdk.InferResponse, req *sdk.InferRequest, raw bool) (*pb.ModelInferResponse, error) {
	out := &pb.ModelInferResponse{ModelName: resp.ModelName, ModelVersion: resp.ModelVersion, Id: resp.ID}
	if out.Id == "" {
		out.Id = req.ID
	}
	if len(resp.Parameters) > 0 {
		out.Parameters = make(map[string]*pb.InferParameter, len(resp.Parameters))
		for k, v := range resp.Parameters {
			out.Parameters[k] = &pb.InferParameter{ParameterChoice: &pb.InferParameter_StringParam{StringParam: v}}
		}
	}
	for i := range resp.Outputs {
		t := &resp.Outputs[i]
		if len(req.Outputs) > 0 && !slices.Contains(req.Outputs, t.Name) {
			continue
		}
		if err := checkOutput(t); err != nil {
			return nil, err
		}
		o := &pb.ModelInferResponse_InferOutputTensor{Name: t.Name, Datatype: t.Datatype, Shape: t.Shape}
		if raw {
			out.RawOutputContents = append(out.RawOutputContents, appendRaw(nil, t))
		} else {
			o.Contents = contents(t)
		}
		out.Outputs = append(out.Outputs, o)
	}
	return out, nil
}

// checkOutput checks an output of a model: a known datatype and as many
// elements as its shape says.
func checkOutput(t *sdk.Tensor) error {
	if !sdk.ValidDatatype(t.Datatype) {
		return fmt.Errorf("serve: the model returned output %q of datatype %q", t.Name, t.Datatype)
	}
	n := int64(1)
	for _, d := range t.Shape {
		if d < 0 || (d > 0 && n > math.MaxInt32/d) {
			return fmt.Errorf("serve: the model returned output %q of shape %s", t.Name, oip.ShapeText(t.Shape))
		}
		n *= d
	}
	if got := t.Len(); int64(got) != n {
		return fmt.Errorf("serve: the model returned output %q of shape %s with %d elements", t.Name, oip.ShapeText(t.Shape), got)
	}
	return nil
}

// contents is t's data as typed contents (sharing t's slices).
func contents(t *sdk.Tensor) *pb.InferTensorContents {
	c := &pb.InferTensorContents{}
	switch t.Datatype {
	case sdk.FP32:
		c.Fp32Contents = t.FP32
	case sdk.INT64:
		c.Int64Contents = t.INT64
	case sdk.INT32:
		c.IntContents = t.INT32
	case sdk.BOOL:
		c.BoolContents = t.BOOL
	case sdk.BYTES:
		c.BytesContents = t.BYTES
	}
	return c
}

// appendRaw appends t's data to b in the raw form fromRaw reads.
func appendRaw(b []byte, t *sdk.Tensor) []byte {
	size := t.Len() * rawSize(t.Datatype)
	for _, v := range t.BYTES {
		size += 4 + len(v)
	}
	b = slices.Grow(b, size)
	switch t.Datatype {
	case sdk.FP32:
		for _, v := range t.FP32 {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	case sdk.INT32:
		for _, v := range t.INT32 {
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		}
	case sdk.INT64:
		for _, v := range t.INT64 {
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
	case sdk.BOOL:
		for _, v := range t.BOOL {
			if v {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		}
	case sdk.BYTES:
		for _, v := range t.BYTES {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
			b = append(b, v...)
		}
	}
	return b
}
