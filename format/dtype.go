package format

import "fmt"

// Size is the number of bytes of one element, or 0 for an unknown type.
func (d DType) Size() int {
	switch d {
	case I8, U8:
		return 1
	case F16:
		return 2
	case F32, I32:
		return 4
	case I64:
		return 8
	}
	return 0
}

// Valid reports whether d is a known element type.
func (d DType) Valid() bool { return d.Size() != 0 }

func (d DType) String() string {
	switch d {
	case F32:
		return "f32"
	case F16:
		return "f16"
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

func (s QuantScheme) String() string {
	switch s {
	case Symmetric:
		return "symmetric"
	case Asymmetric:
		return "asymmetric"
	}
	return fmt.Sprintf("scheme(%d)", uint8(s))
}

func (k AttrKind) String() string {
	switch k {
	case AttrInt:
		return "int"
	case AttrFloat:
		return "float"
	case AttrString:
		return "string"
	case AttrInts:
		return "ints"
	case AttrFloats:
		return "floats"
	case AttrStrings:
		return "strings"
	}
	return fmt.Sprintf("attrkind(%d)", uint8(k))
}

// Codec is the compression of an .erm payload.
type Codec uint8

// Codecs. The numbers are part of the file format.
const (
	CodecNone Codec = 0 // stored as is
	CodecZstd Codec = 1 // zstd: smallest files, the default
	CodecS2   Codec = 2 // S2 (Snappy-compatible family): fastest to load
)

func (c Codec) String() string {
	switch c {
	case CodecNone:
		return "none"
	case CodecZstd:
		return "zstd"
	case CodecS2:
		return "s2"
	}
	return fmt.Sprintf("codec(%d)", uint8(c))
}

// ParseCodec is the inverse of Codec.String.
func ParseCodec(s string) (Codec, error) {
	for _, c := range []Codec{CodecNone, CodecZstd, CodecS2} {
		if c.String() == s {
			return c, nil
		}
	}
	return 0, fmt.Errorf("format: unknown codec %q (want none, zstd or s2)", s)
}
