package format

import (
	"errors"
	"fmt"
)

// Error classes. Every error returned by this package matches exactly one
// of ErrChecksum, ErrVersion, ErrLimit, ErrSignature or ErrCorrupt with
// errors.Is (the more precise ErrUnsigned and ErrUntrustedKey also match
// ErrSignature), and its text names the part of the file that is wrong.
var (
	// ErrCorrupt: the bytes are not a well-formed model (bad magic, bad
	// msgpack, inconsistent sizes, a tensor whose data does not match its
	// shape, a graph that references unknown values, trailing data).
	ErrCorrupt = errors.New("corrupt model")
	// ErrChecksum: the xxhash64 over preamble and payload does not match.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrVersion: the file's major format version is not one this reader
	// understands.
	ErrVersion = errors.New("unsupported format version")
	// ErrLimit: a size in the file exceeds a decode limit (see Option).
	ErrLimit = errors.New("limit exceeded")
	// ErrSignature: the signature is invalid, missing where required, or
	// made by a key that is not trusted.
	ErrSignature = errors.New("signature check failed")
	// ErrUnsigned: a signature is required and the file has none.
	ErrUnsigned = fmt.Errorf("%w: model is not signed", ErrSignature)
	// ErrUntrustedKey: the file is validly signed, but by a key that is
	// not among the trusted keys.
	ErrUntrustedKey = fmt.Errorf("%w: signed by an untrusted key", ErrSignature)
)

// Error is the error type returned by Read, Write and Validate. Part names
// the piece of the file that is wrong ("preamble", "payload",
// `tensor "dense_1/w"`, `node "lstm" (3)`, ...).
type Error struct {
	Part  string // the part of the file that is wrong
	Class error  // one of the Err* sentinels
	Msg   string // what is wrong, for a person
	Err   error  // underlying error, if any (I/O, msgp, zstd)
}

func (e *Error) Error() string {
	s := "format: "
	if e.Part != "" {
		s += e.Part + ": "
	}
	s += e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Class != nil {
		s += " (" + e.Class.Error() + ")"
	}
	return s
}

// Unwrap lets errors.Is match both the class and the underlying error.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Class != nil {
		errs = append(errs, e.Class)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

func newErr(class error, part, format string, args ...any) *Error {
	return &Error{Part: part, Class: class, Msg: fmt.Sprintf(format, args...)}
}

func wrapErr(class error, part string, err error, format string, args ...any) *Error {
	return &Error{Part: part, Class: class, Msg: fmt.Sprintf(format, args...), Err: err}
}
