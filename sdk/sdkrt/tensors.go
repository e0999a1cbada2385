package sdkrt

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/sdk"
)

// Datatype is the Open Inference Protocol datatype that carries an engine
// dtype ("" for none).
func Datatype(d tensor.DType) string {
	switch d {
	case tensor.F32:
		return sdk.FP32
	case tensor.I64:
		return sdk.INT64
	case tensor.I32:
		return sdk.INT32
	}
	return ""
}

func specOf(v engine.ValueInfo) sdk.TensorSpec {
	shape := make([]int64, len(v.Shape))
	for i, d := range v.Shape {
		shape[i] = int64(d)
	}
	return sdk.TensorSpec{Name: v.Name, Datatype: Datatype(v.DType), Shape: shape}
}

// ModelInputs is the schema of the model's own inputs.
func ModelInputs(em *engine.Model) []sdk.TensorSpec {
	out := make([]sdk.TensorSpec, len(em.Inputs))
	for i, v := range em.Inputs {
		out[i] = specOf(v)
	}
	return out
}

// ModelOutputs is the schema of the model's own outputs.
func ModelOutputs(em *engine.Model) []sdk.TensorSpec {
	out := make([]sdk.TensorSpec, len(em.Outputs))
	for i, v := range em.Outputs {
		out[i] = specOf(v)
	}
	return out
}

// Raw is the pre-processing that passes the request's tensors, named like
// the model's inputs, straight to the engine, after checking each one's
// datatype and shape against the model's (INT32 data is accepted for
// INT64 inputs and the other way round).
func Raw(em *engine.Model) PreFunc {
	return func(req *sdk.InferRequest) ([]*tensor.Tensor, error) {
		if err := onlyInputs(req, ModelInputs(em)); err != nil {
			return nil, err
		}
		ins := make([]*tensor.Tensor, len(em.Inputs))
		for i, want := range em.Inputs {
			t, err := Require(req, want.Name)
			if err != nil {
				return nil, err
			}
			if ins[i], err = ToEngine(t, want); err != nil {
				return nil, err
			}
		}
		return ins, nil
	}
}

// ToEngine converts a request tensor to the engine tensor the model input
// want takes, checking its datatype and shape.
func ToEngine(t *sdk.Tensor, want engine.ValueInfo) (*tensor.Tensor, error) {
	shape, n, err := checkShape(t)
	if err != nil {
		return nil, err
	}
	if len(shape) != len(want.Shape) {
		return nil, Invalid("input %q has shape %s, want %s", t.Name, sdk.ShapeString(t.Shape), sdk.ShapeString(specOf(want).Shape))
	}
	for i, d := range want.Shape {
		if d >= 0 && shape[i] != d {
			return nil, Invalid("input %q has shape %s, want %s", t.Name, sdk.ShapeString(t.Shape), sdk.ShapeString(specOf(want).Shape))
		}
	}
	out := &tensor.Tensor{DType: want.DType, Shape: shape}
	switch want.DType {
	case tensor.F32:
		if t.Datatype != sdk.FP32 {
			return nil, Invalid("input %q is %s, want FP32", t.Name, t.Datatype)
		}
		if len(t.FP32) != n {
			return nil, countError(t, n, len(t.FP32))
		}
		out.F32 = t.FP32
	case tensor.I64, tensor.I32:
		v, err := Ints(t)
		if err != nil {
			return nil, err
		}
		if want.DType == tensor.I64 {
			out.I64 = v
			break
		}
		out.I32 = make([]int32, len(v))
		for i, x := range v {
			if x < math.MinInt32 || x > math.MaxInt32 {
				return nil, Invalid("input %q: element %d = %d is out of the INT32 range", t.Name, i, x)
			}
			out.I32[i] = int32(x)
		}
	default:
		return nil, fmt.Errorf("sdkrt: the model's input %q is %s, which requests cannot carry", want.Name, want.DType)
	}
	return out, nil
}

// checkShape validates a request tensor's shape (nil: a vector of its
// data) and returns it with its element count.
func checkShape(t *sdk.Tensor) (tensor.Shape, int, error) {
	if t.Shape == nil {
		n := max(t.Len(), 0) // 0 for an unknown datatype, which the caller refuses
		return tensor.Shape{n}, n, nil
	}
	shape := make(tensor.Shape, len(t.Shape))
	n := 1
	for i, d := range t.Shape {
		if d < 0 || d > math.MaxInt32 {
			return nil, 0, Invalid("input %q has a negative or huge dimension in shape %v", t.Name, t.Shape)
		}
		if d > 0 && int64(n) > (1<<30)/d { // n stays within a 32-bit int
			return nil, 0, Invalid("input %q: shape %v is too large", t.Name, t.Shape)
		}
		n *= int(d)
		shape[i] = int(d)
	}
	return shape, n, nil
}

func countError(t *sdk.Tensor, want, got int) error {
	return Invalid("input %q: shape %s needs %d values, the %s data has %d", t.Name, sdk.ShapeString(t.Shape), want, t.Datatype, got)
}

// Require returns the request's input named name, or an InputError.
func Require(req *sdk.InferRequest, name string) (*sdk.Tensor, error) {
	if t := req.Input(name); t != nil {
		return t, nil
	}
	return nil, Invalid("input %q is missing", name)
}

// onlyInputs refuses inputs the schema does not name and inputs given
// twice.
func onlyInputs(req *sdk.InferRequest, specs []sdk.TensorSpec) error {
	if len(req.Inputs) == 0 {
		return Invalid("no inputs (the model takes %s)", specNames(specs))
	}
	for i, in := range req.Inputs {
		if in.Name == "" {
			return Invalid("inputs[%d] has no name (the model takes %s)", i, specNames(specs))
		}
		if !slices.ContainsFunc(specs, func(s sdk.TensorSpec) bool { return s.Name == in.Name }) {
			return Invalid("the model has no input %q (it takes %s)", in.Name, specNames(specs))
		}
		for _, prev := range req.Inputs[:i] {
			if prev.Name == in.Name {
				return Invalid("input %q is given twice", in.Name)
			}
		}
	}
	return nil
}

// Ints returns the values of an INT64 or INT32 tensor (shape checked).
func Ints(t *sdk.Tensor) ([]int64, error) {
	_, n, err := checkShape(t)
	if err != nil {
		return nil, err
	}
	switch t.Datatype {
	case sdk.INT64:
		if len(t.INT64) != n {
			return nil, countError(t, n, len(t.INT64))
		}
		return t.INT64, nil
	case sdk.INT32:
		if len(t.INT32) != n {
			return nil, countError(t, n, len(t.INT32))
		}
		v := make([]int64, n)
		for i, x := range t.INT32 {
			v[i] = int64(x)
		}
		return v, nil
	}
	return nil, Invalid("input %q is %s, want INT64 or INT32", t.Name, datatypeText(t.Datatype))
}

// Strings returns the values of a BYTES tensor as strings (shape checked).
func Strings(t *sdk.Tensor) ([]string, error) {
	_, n, err := checkShape(t)
	if err != nil {
		return nil, err
	}
	if t.Datatype != sdk.BYTES {
		return nil, Invalid("input %q is %s, want BYTES", t.Name, datatypeText(t.Datatype))
	}
	if len(t.BYTES) != n {
		return nil, countError(t, n, len(t.BYTES))
	}
	out := make([]string, n)
	for i, b := range t.BYTES {
		out[i] = string(b)
	}
	return out, nil
}

// column checks a one-column input, shape [n] with 1 ≤ n ≤ MaxBatch, and
// returns n.
func column(t *sdk.Tensor) (int, error) {
	dims, n := 1, max(t.Len(), 0)
	if t.Shape != nil {
		// checkShape's checks, without making the shape.
		dims, n = len(t.Shape), 1
		for _, d := range t.Shape {
			if d < 0 || d > math.MaxInt32 {
				return 0, Invalid("input %q has a negative or huge dimension in shape %v", t.Name, t.Shape)
			}
			if d > 0 && int64(n) > (1<<30)/d {
				return 0, Invalid("input %q: shape %v is too large", t.Name, t.Shape)
			}
			n *= int(d)
		}
	}
	if dims != 1 {
		return 0, Invalid("input %q has shape %s, want [n] (one value per row)", t.Name, sdk.ShapeString(t.Shape))
	}
	if n < 1 || n > MaxBatch {
		return 0, Invalid("input %q has %d rows, want 1 to %d", t.Name, n, MaxBatch)
	}
	return n, nil
}

func datatypeText(dt string) string {
	if dt == "" {
		return "without a datatype"
	}
	return dt
}

// IntParam reads an integer request parameter in [lo, hi], def when absent.
func IntParam(req *sdk.InferRequest, name string, def, lo, hi int) (int, error) {
	s, ok := req.Parameters[name]
	if !ok || strings.TrimSpace(s) == "" {
		return def, nil
	}
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || v < lo || v > hi {
		return 0, Invalid("parameter %q = %q: want an integer from %d to %d", name, s, lo, hi)
	}
	return v, nil
}

// FloatParam reads a number request parameter in [lo, hi], def when
// absent.
func FloatParam(req *sdk.InferRequest, name string, def, lo, hi float64) (float64, error) {
	s, ok := req.Parameters[name]
	if !ok || strings.TrimSpace(s) == "" {
		return def, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || v < lo || v > hi {
		return 0, Invalid("parameter %q = %q: want a number from %g to %g", name, s, lo, hi)
	}
	return v, nil
}

// FP32 returns an FP32 output tensor (data is used as is).
func FP32(name string, shape []int64, data []float32) sdk.Tensor {
	return sdk.Tensor{Name: name, Datatype: sdk.FP32, Shape: shape, FP32: data}
}

// INT64 returns an INT64 output tensor (data is used as is).
func INT64(name string, shape []int64, data []int64) sdk.Tensor {
	return sdk.Tensor{Name: name, Datatype: sdk.INT64, Shape: shape, INT64: data}
}

// BYTES returns a BYTES output tensor of strings.
func BYTES(name string, shape []int64, data []string) sdk.Tensor {
	b := make([][]byte, len(data))
	for i, s := range data {
		b[i] = []byte(s)
	}
	return sdk.Tensor{Name: name, Datatype: sdk.BYTES, Shape: shape, BYTES: b}
}

// RawPost is the post-processing that returns the model's outputs as
// they are (copied), named like the model's outputs.
func RawPost(em *engine.Model) PostFunc {
	return func(outs []*tensor.Tensor, req *sdk.InferRequest) (*sdk.InferResponse, error) {
		resp := &sdk.InferResponse{}
		for i, t := range outs {
			shape := make([]int64, len(t.Shape))
			for j, d := range t.Shape {
				shape[j] = int64(d)
			}
			o := sdk.Tensor{Name: em.Outputs[i].Name, Datatype: Datatype(t.DType), Shape: shape}
			switch t.DType {
			case tensor.F32:
				o.FP32 = slices.Clone(t.F32)
			case tensor.I64:
				o.INT64 = slices.Clone(t.I64)
			case tensor.I32:
				o.INT32 = slices.Clone(t.I32)
			default:
				return nil, fmt.Errorf("sdkrt: output %q is %s, which responses cannot carry", em.Outputs[i].Name, t.DType)
			}
			resp.Outputs = append(resp.Outputs, o)
		}
		return resp, nil
	}
}
