package oip

import (
	"fmt"
	"io"
)

// Limits bound what one request may cost.
type Limits struct {
	Bytes    int64  // JSON bytes read; at least 1
	Elements int    // elements of one input; at least 1
	Flag     string // the flag that raises Bytes, named in TooLargeError
}

// TooLargeError is a request (JSON, CSV or text) longer than the cap.
type TooLargeError struct {
	Max  int64
	Flag string // the flag that raises the cap, if any
}

func (e *TooLargeError) Error() string {
	s := fmt.Sprintf("the request is larger than %d bytes", e.Max)
	if e.Flag != "" {
		s += " (" + e.Flag + ")"
	}
	return s
}

// CapReader reads at most max bytes from r, and then fails with a
// TooLargeError instead of io.EOF when r has more.
type CapReader struct {
	r    io.Reader
	n    int64 // bytes read
	max  int64
	flag string
	err  error // the TooLargeError, once the cap is passed
}

// NewCapReader returns a CapReader of r; flag is the flag that raises max.
func NewCapReader(r io.Reader, max int64, flag string) *CapReader {
	return &CapReader{r: io.LimitReader(r, max+1), max: max, flag: flag}
}

func (c *CapReader) Read(b []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	k, err := c.r.Read(b)
	c.n += int64(k)
	if c.n > c.max { // the one byte past the cap that LimitReader lets through
		k = max(k-int(c.n-c.max), 0)
		c.n = c.max
		c.err = &TooLargeError{Max: c.max, Flag: c.flag}
		return k, c.err
	}
	return k, err
}

// Bounds on JSON text: a run of whitespace, and a number or literal
// (which the scanner holds whole until its end).
const (
	MaxJSONSpace  = 64 << 10
	MaxJSONNumber = 1 << 10
)

// jsonTextError is JSON text past those bounds.
type jsonTextError struct{ msg string }

func (e *jsonTextError) Error() string { return e.msg }
