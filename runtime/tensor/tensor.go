package tensor

import (
	"fmt"
	"strings"
)

// DType is an element type. The numbers match the .erm file format's.
type DType uint8

// Element types.
const (
	F32 DType = 1
	I8  DType = 3
	U8  DType = 4
	I32 DType = 5
	I64 DType = 6
)

// Size is the byte size of one element, 0 for unknown types.
func (d DType) Size() int {
	switch d {
	case I8, U8:
		return 1
	case F32, I32:
		return 4
	case I64:
		return 8
	}
	return 0
}

func (d DType) String() string {
	switch d {
	case F32:
		return "f32"
	case I8:
		return "i8"
	case U8:
		return "u8"
	case I32:
		return "i32"
	case I64:
		return "i64"
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// Shape is a list of dimensions. At run time every dimension is known
// (>= 0); in a model's declared inputs -1 marks a dynamic dimension.
type Shape []int

// NumElements is the product of the dimensions (1 for a scalar). It does
// not check for overflow: call it on shapes the engine planned (bounded by
// its limits) or that Elements or Bounded accepted.
func (s Shape) NumElements() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Equal reports whether s and t are the same shape.
func (s Shape) Equal(t Shape) bool {
	if len(s) != len(t) {
		return false
	}
	for i := range s {
		if s[i] != t[i] {
			return false
		}
	}
	return true
}

func (s Shape) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		if d < 0 {
			b.WriteByte('?')
		} else {
			fmt.Fprint(&b, d)
		}
	}
	b.WriteByte(']')
	return b.String()
}

// Tensor is a typed view: exactly one of the slices is used, the one its
// DType names, and it holds Shape.NumElements() elements in row-major
// order.
type Tensor struct {
	DType DType
	Shape Shape
	F32   []float32
	I32   []int32
	I64   []int64
	U8    []uint8
	I8    []int8
}

// Len is the number of elements of the slice the dtype selects.
func (t *Tensor) Len() int {
	switch t.DType {
	case F32:
		return len(t.F32)
	case I32:
		return len(t.I32)
	case I64:
		return len(t.I64)
	case U8:
		return len(t.U8)
	case I8:
		return len(t.I8)
	}
	return 0
}

// Check reports an error when the tensor's slice does not match its shape.
func (t *Tensor) Check() error {
	if t.DType.Size() == 0 {
		return fmt.Errorf("tensor: unknown dtype %d", uint8(t.DType))
	}
	n, err := t.Shape.Elements()
	if err != nil {
		return err
	}
	if t.Len() != n {
		return fmt.Errorf("tensor: %s%v needs %d elements, has %d", t.DType, t.Shape, n, t.Len())
	}
	return nil
}

// NewF32 returns an f32 tensor of the given shape; data may be nil to
// allocate zeros.
func NewF32(shape Shape, data []float32) *Tensor {
	if data == nil {
		data = make([]float32, shape.NumElements())
	}
	return &Tensor{DType: F32, Shape: shape, F32: data}
}

// NewI64 returns an i64 tensor of the given shape; data may be nil.
func NewI64(shape Shape, data []int64) *Tensor {
	if data == nil {
		data = make([]int64, shape.NumElements())
	}
	return &Tensor{DType: I64, Shape: shape, I64: data}
}

// NewI32 returns an i32 tensor of the given shape; data may be nil.
func NewI32(shape Shape, data []int32) *Tensor {
	if data == nil {
		data = make([]int32, shape.NumElements())
	}
	return &Tensor{DType: I32, Shape: shape, I32: data}
}
