package oip

import (
	"encoding/json"
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

// Bounds on JSON text that a json.Decoder would otherwise buffer whole:
// it keeps a run of whitespace until the token after it, and a number or
// literal until its end.
const (
	MaxJSONSpace  = 64 << 10
	MaxJSONNumber = 1 << 10
)

// jsonTextError is JSON text that jsonGuard refuses.
type jsonTextError struct{ msg string }

func (e *jsonTextError) Error() string { return e.msg }

// jsonGuard fails on a run of whitespace longer than MaxJSONSpace or a
// number or literal longer than MaxJSONNumber, outside strings (which
// only the byte cap bounds).
type jsonGuard struct {
	r        io.Reader
	inString bool
	escaped  bool
	space    int // whitespace bytes in a row
	literal  int // number or literal bytes in a row
	err      error
}

func (g *jsonGuard) Read(b []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	k, err := g.r.Read(b)
	for i, c := range b[:k] {
		switch {
		case g.inString:
			switch {
			case g.escaped:
				g.escaped = false
			case c == '\\':
				g.escaped = true
			case c == '"':
				g.inString = false
			}
			continue
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			g.space++
			g.literal = 0
		case c == '"':
			g.inString = true
			g.space, g.literal = 0, 0
		case c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':':
			g.space, g.literal = 0, 0
		default:
			g.literal++
			g.space = 0
		}
		switch {
		case g.space > MaxJSONSpace:
			g.err = &jsonTextError{fmt.Sprintf("more than %d bytes of whitespace in a row", MaxJSONSpace)}
		case g.literal > MaxJSONNumber:
			g.err = &jsonTextError{fmt.Sprintf("a number or literal longer than %d bytes", MaxJSONNumber)}
		default:
			continue
		}
		return i, g.err
	}
	return k, err
}

// lineReader remembers where the lines start in what a json.Decoder has
// read but not yet consumed, so that an error can say where it is as a
// line and column. Newlines before the decoder's position are folded
// into a count: what it holds is bounded by the decoder's buffer.
type lineReader struct {
	r     io.Reader
	dec   *json.Decoder
	read  int64   // bytes read
	nl    []int64 // offsets of the newlines not yet folded
	lines int     // newlines folded
	last  int64   // offset of the last folded newline, -1 for none
}

func (l *lineReader) Read(b []byte) (int, error) {
	if l.dec != nil {
		l.fold(l.dec.InputOffset())
	}
	k, err := l.r.Read(b)
	for i, c := range b[:k] {
		if c == '\n' {
			l.nl = append(l.nl, l.read+int64(i))
		}
	}
	l.read += int64(k)
	return k, err
}

// fold counts the newlines before off.
func (l *lineReader) fold(off int64) {
	i := 0
	for i < len(l.nl) && l.nl[i] < off {
		l.last = l.nl[i]
		i++
	}
	l.lines += i
	l.nl = append(l.nl[:0], l.nl[i:]...)
}

// position is the 1-based line and column of the byte at off, which
// must not be before the decoder's position when the newlines were last
// folded.
func (l *lineReader) position(off int64) (line, col int) {
	l.fold(off)
	return l.lines + 1, int(off - l.last)
}
