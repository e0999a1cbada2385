package format

import (
	"encoding/binary"
	"fmt"
	"math"
)

// NumElements is the product of the tensor's shape (1 for a scalar).
func (t *Tensor) NumElements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// ByteSize is the size of the tensor's data as its shape and dtype
// require (what len(Data) is in a valid model, also when Read was told
// to skip the data).
func (t *Tensor) ByteSize() int64 { return t.NumElements() * int64(t.DType.Size()) }

// Float32s decodes an f32 tensor's data.
func (t *Tensor) Float32s() ([]float32, error) {
	if t.DType != F32 || len(t.Data)%4 != 0 {
		return nil, fmt.Errorf("format: tensor %q is %s with %d bytes, not f32", t.Name, t.DType, len(t.Data))
	}
	out := make([]float32, len(t.Data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return out, nil
}

// Int8s returns an i8 tensor's data as int8 values (a copy).
func (t *Tensor) Int8s() ([]int8, error) {
	if t.DType != I8 {
		return nil, fmt.Errorf("format: tensor %q is %s, not i8", t.Name, t.DType)
	}
	out := make([]int8, len(t.Data))
	for i, b := range t.Data {
		out[i] = int8(b)
	}
	return out, nil
}

// Int32s decodes an i32 tensor's data.
func (t *Tensor) Int32s() ([]int32, error) {
	if t.DType != I32 || len(t.Data)%4 != 0 {
		return nil, fmt.Errorf("format: tensor %q is %s with %d bytes, not i32", t.Name, t.DType, len(t.Data))
	}
	out := make([]int32, len(t.Data)/4)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return out, nil
}

// Int64s decodes an i64 tensor's data.
func (t *Tensor) Int64s() ([]int64, error) {
	if t.DType != I64 || len(t.Data)%8 != 0 {
		return nil, fmt.Errorf("format: tensor %q is %s with %d bytes, not i64", t.Name, t.DType, len(t.Data))
	}
	out := make([]int64, len(t.Data)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
	}
	return out, nil
}

// NewF32 makes an f32 tensor from values in row-major order.
func NewF32(name string, shape []int64, values []float32) Tensor {
	b := make([]byte, 4*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return Tensor{Name: name, DType: F32, Shape: shape, Data: b}
}

// NewI8 makes an i8 tensor from values in row-major order; q describes
// its quantization (nil for plain integers).
func NewI8(name string, shape []int64, values []int8, q *Quant) Tensor {
	b := make([]byte, len(values))
	for i, v := range values {
		b[i] = byte(v)
	}
	return Tensor{Name: name, DType: I8, Shape: shape, Quant: q, Data: b}
}

// NewI32 makes an i32 tensor from values in row-major order.
func NewI32(name string, shape []int64, values []int32) Tensor {
	b := make([]byte, 4*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
	}
	return Tensor{Name: name, DType: I32, Shape: shape, Data: b}
}

// NewI64 makes an i64 tensor from values in row-major order.
func NewI64(name string, shape []int64, values []int64) Tensor {
	b := make([]byte, 8*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	return Tensor{Name: name, DType: I64, Shape: shape, Data: b}
}

// Tensor returns the tensor with the given name, or nil.
func (m *Model) Tensor(name string) *Tensor {
	for i := range m.Tensors {
		if m.Tensors[i].Name == name {
			return &m.Tensors[i]
		}
	}
	return nil
}

// Attr returns the node's attribute with the given name, or nil.
func (n *Node) Attr(name string) *Attr {
	for i := range n.Attrs {
		if n.Attrs[i].Name == name {
			return &n.Attrs[i]
		}
	}
	return nil
}
