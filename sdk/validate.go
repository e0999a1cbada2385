package sdk

import (
	"fmt"
	"math"
)

// ValidDatatype reports whether dt is one of the Open Inference Protocol
// datatypes of this package (FP32, INT64, INT32, BYTES, BOOL).
func ValidDatatype(dt string) bool {
	switch dt {
	case FP32, INT64, INT32, BYTES, BOOL:
		return true
	}
	return false
}

// Len returns the number of elements in the data field of t's datatype
// (−1 for an unknown datatype).
func (t *Tensor) Len() int {
	switch t.Datatype {
	case FP32:
		return len(t.FP32)
	case INT64:
		return len(t.INT64)
	case INT32:
		return len(t.INT32)
	case BYTES:
		return len(t.BYTES)
	case BOOL:
		return len(t.BOOL)
	}
	return -1
}

// otherData reports the name of a data field that is set but does not match
// t's datatype, or "".
func (t *Tensor) otherData() string {
	switch {
	case FP32 != t.Datatype && len(t.FP32) > 0:
		return FP32
	case INT64 != t.Datatype && len(t.INT64) > 0:
		return INT64
	case INT32 != t.Datatype && len(t.INT32) > 0:
		return INT32
	case BYTES != t.Datatype && len(t.BYTES) > 0:
		return BYTES
	case BOOL != t.Datatype && len(t.BOOL) > 0:
		return BOOL
	}
	return ""
}

// maxElements bounds the element count a shape may claim (it is checked
// against the data anyway; this only keeps the product from overflowing).
const maxElements = math.MaxInt32

// CheckTensor checks t against spec: same name, same datatype, same rank,
// every fixed dimension equal, no dimension below 1, and exactly as many
// elements in the datatype's field as the shape says (other fields empty).
// Its errors match ErrInvalidInput and name the tensor.
func CheckTensor(t *Tensor, spec TensorSpec) error {
	if t.Name != spec.Name {
		return InvalidInputf("tensor %q: expected %q", t.Name, spec.Name)
	}
	if t.Datatype != spec.Datatype {
		return InvalidInputf("input %q: datatype %q, want %s", t.Name, t.Datatype, spec.Datatype)
	}
	if len(t.Shape) != len(spec.Shape) {
		return InvalidInputf("input %q: shape %v has %d dimensions, want %d (%s)", t.Name, t.Shape, len(t.Shape), len(spec.Shape), ShapeString(spec.Shape))
	}
	n := int64(1)
	for i, d := range t.Shape {
		if d < 1 {
			return InvalidInputf("input %q is empty: shape %v", t.Name, t.Shape)
		}
		if spec.Shape[i] >= 0 && d != spec.Shape[i] {
			return InvalidInputf("input %q: shape %v, want %s", t.Name, t.Shape, ShapeString(spec.Shape))
		}
		if n > maxElements/d {
			return InvalidInputf("input %q: shape %v is too large", t.Name, t.Shape)
		}
		n *= d
	}
	if other := t.otherData(); other != "" {
		return InvalidInputf("input %q: datatype %s but %s data is set", t.Name, t.Datatype, other)
	}
	if got := t.Len(); int64(got) != n {
		return InvalidInputf("input %q: shape %v holds %d elements but %d are given", t.Name, t.Shape, n, got)
	}
	return nil
}

// ValidateRequest checks req against a model's description: at least one
// input, no unknown or repeated input, every required (not Optional) input present and
// valid by CheckTensor, every requested output described. Its errors match
// ErrInvalidInput. Models call it first in Infer (sdk/sdkrt does).
func ValidateRequest(d *Description, req *InferRequest) error {
	if req == nil {
		return InvalidInputf("no request")
	}
	if len(req.Inputs) == 0 {
		return InvalidInputf("request has no inputs (want %s)", specNames(d.Inputs))
	}
	// In order: every input is the spec at its position (the common
	// case, checked without a map). An input is then given twice only if
	// the description names two specs alike, and then in their places.
	inOrder := len(req.Inputs) <= len(d.Inputs)
	for i := 0; inOrder && i < len(req.Inputs); i++ {
		inOrder = d.Inputs[i].Name == req.Inputs[i].Name
	}
	if inOrder {
		for i := range req.Inputs {
			if err := CheckTensor(&req.Inputs[i], d.Inputs[i]); err != nil {
				return err
			}
		}
		for i := len(req.Inputs); i < len(d.Inputs); i++ {
			if s := &d.Inputs[i]; !s.Optional {
				return InvalidInputf("missing input %q (%s %s)", s.Name, s.Datatype, ShapeString(s.Shape))
			}
		}
	} else if err := validateShuffled(d, req); err != nil {
		return err
	}
	for _, o := range req.Outputs {
		if findSpec(d.Outputs, o) < 0 {
			return InvalidInputf("unknown output %q requested (outputs: %s)", o, specNames(d.Outputs))
		}
	}
	return nil
}

// validateShuffled checks inputs that are not in the description's
// order, with a map of the names seen.
func validateShuffled(d *Description, req *InferRequest) error {
	seen := make(map[string]bool, len(req.Inputs))
	for i := range req.Inputs {
		t := &req.Inputs[i]
		if seen[t.Name] {
			return InvalidInputf("input %q is given twice", t.Name)
		}
		seen[t.Name] = true
		k := findSpec(d.Inputs, t.Name)
		if k < 0 {
			return InvalidInputf("unknown input %q (want %s)", t.Name, specNames(d.Inputs))
		}
		if err := CheckTensor(t, d.Inputs[k]); err != nil {
			return err
		}
	}
	for i := range d.Inputs {
		if s := &d.Inputs[i]; !seen[s.Name] && !s.Optional {
			return InvalidInputf("missing input %q (%s %s)", s.Name, s.Datatype, ShapeString(s.Shape))
		}
	}
	return nil
}

// findSpec is the index of the first spec named name, -1 if none.
func findSpec(specs []TensorSpec, name string) int {
	for i := range specs {
		if specs[i].Name == name {
			return i
		}
	}
	return -1
}

func specNames(specs []TensorSpec) string {
	s := ""
	for i, sp := range specs {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%q", sp.Name)
	}
	return s
}

// ShapeString formats a shape with −1 shown as "?", e.g. [?,128,3].
func ShapeString(shape []int64) string {
	s := "["
	for i, d := range shape {
		if i > 0 {
			s += ","
		}
		if d < 0 {
			s += "?"
		} else {
			s += fmt.Sprint(d)
		}
	}
	return s + "]"
}
