package engine

import "unsafe"

// littleEndian is whether this CPU stores numbers as the file does.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// alias returns the little-endian bytes d as a slice of T sharing them,
// or nil when that is not possible (big-endian CPU, misaligned or empty
// data), so that Load can hold a tensor once instead of decoding a copy.
func alias[T int8 | uint8 | int32 | int64 | float32](d []byte) []T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	if len(d) == 0 || len(d)%size != 0 || (size > 1 && !littleEndian) ||
		uintptr(unsafe.Pointer(unsafe.SliceData(d)))%uintptr(unsafe.Alignof(zero)) != 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(d))), len(d)/size)
}

// copyLE returns a new slice of T holding the little-endian bytes d: one
// memory copy on a little-endian CPU (the bytes are the values), nil
// elsewhere or when len(d) is not a whole number of elements, for the
// caller to decode element by element.
func copyLE[T int8 | uint8 | int32 | int64 | float32](d []byte) []T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	if len(d)%size != 0 || (size > 1 && !littleEndian) {
		return nil
	}
	v := make([]T, len(d)/size)
	if len(v) > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), len(d)), d)
	}
	return v
}
