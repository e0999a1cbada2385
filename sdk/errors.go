package sdk

import (
	"errors"
	"fmt"
)

// ErrInvalidInput marks an error caused by the request, not the model: a
// missing input, a wrong datatype or shape, empty text, an unknown id. A
// plugin returns such errors wrapped (InvalidInputf, or
// fmt.Errorf("...: %w", sdk.ErrInvalidInput)); they cross the wire as
// gRPC INVALID_ARGUMENT with the message intact, and on the host
// errors.Is(err, ErrInvalidInput) holds again.
var ErrInvalidInput = errors.New("sdk: invalid input")

// ErrUnavailable marks a call that failed because the plugin could not be
// reached: it exited or crashed, or it is restarting, or it was closed.
var ErrUnavailable = errors.New("sdk: plugin unavailable")

// InvalidInputf returns an error with the formatted message that matches
// ErrInvalidInput. Its message is only the formatted text, so that is what
// the caller sees.
func InvalidInputf(format string, args ...any) error {
	return &kindError{msg: fmt.Sprintf(format, args...), kind: ErrInvalidInput}
}

// kindError is an error with its own message that also matches kind.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }
