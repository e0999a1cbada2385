package oip

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// The kinds of token the scanner reads: the delimiters as themselves,
// '"' a string, '0' a number, 't', 'f' and 'n' the literals.
const (
	tokString = '"'
	tokNumber = '0'
	tokTrue   = 't'
	tokFalse  = 'f'
	tokNull   = 'n'
)

// What the scanner expects next, as encoding/json's Decoder.Token.
const (
	stTop = iota
	stArrayStart
	stArrayValue
	stArrayComma
	stObjectStart
	stObjectKey
	stObjectColon
	stObjectValue
	stObjectComma
)

// maxNesting bounds the nesting of arrays and objects (encoding/json's
// limit), which only a "data" read before its input's name and datatype
// may reach.
const maxNesting = 10000

// scanBufSize is the size of the scanner's read buffer.
const scanBufSize = 4096

// syntaxError is JSON that is not valid, at an offset.
type syntaxError struct {
	msg string
	off int64 // of the offending byte
}

func (e *syntaxError) Error() string { return e.msg }

// scanner reads JSON tokens from a stream without allocating per token:
// a token's text (a string unescaped, or a number as written) is in val,
// valid until the next call. It checks the JSON's syntax as
// encoding/json's Decoder.Token does (commas and colons in their place),
// and bounds what it buffers: a run of whitespace longer than
// MaxJSONSpace or a number or literal longer than MaxJSONNumber is an
// error; a string is bounded by the reader's byte cap. It keeps the line
// of the token it read last, for errors that say where.
type scanner struct {
	r    io.Reader
	buf  []byte
	pos  int   // next byte of buf to read
	base int64 // offset of buf[0]
	rerr error // the reader's error, once buf is used up

	kind  byte
	val   []byte
	start int64 // offset of the token's first byte
	end   int64 // offset just after it
	begun bool  // a token was read

	state int
	stack []byte // '[' or '{' of each open array or object

	scratch []byte // a string's text when it is escaped or spans reads

	line    int   // newlines before pos
	last    int64 // offset of the last of them, -1 for none
	tokLine int   // line and last at the token's start
	tokLast int64
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, scanBufSize); return &b }}

func newScanner(r io.Reader) *scanner {
	b := bufPool.Get().(*[]byte)
	return &scanner{r: r, buf: (*b)[:0], last: -1}
}

// release returns the scanner's buffer; the scanner is not used after.
func (s *scanner) release() {
	if cap(s.buf) == scanBufSize {
		b := s.buf[:scanBufSize]
		bufPool.Put(&b)
	}
	s.buf, s.val = nil, nil
}

// fill reads more bytes, keeping buf[keep:], and reports whether any
// were read; when none is, s.rerr is the reason.
func (s *scanner) fill(keep int) bool {
	if s.rerr != nil {
		return false
	}
	if keep > 0 {
		n := copy(s.buf, s.buf[keep:])
		s.base += int64(keep)
		s.pos -= keep
		s.buf = s.buf[:n]
	}
	if len(s.buf) == cap(s.buf) {
		s.buf = append(s.buf, 0)[:len(s.buf)]
	}
	for range 100 {
		k, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+k]
		if err != nil {
			s.rerr = err
		}
		if k > 0 {
			return true
		}
		if err != nil {
			return false
		}
	}
	s.rerr = io.ErrNoProgress
	return false
}

// offset is the offset of buf[i].
func (s *scanner) offset(i int) int64 { return s.base + int64(i) }

// position is the 1-based line and column of the byte at off: of the
// token read last, or at or after the scanner's position.
func (s *scanner) position(off int64) (line, col int) {
	if off <= s.end {
		return s.tokLine + 1, int(off - s.tokLast)
	}
	return s.line + 1, int(off - s.last)
}

// peek skips whitespace and returns the next byte, without reading it.
func (s *scanner) peek() (byte, error) {
	space := 0
	for {
		for s.pos < len(s.buf) {
			c := s.buf[s.pos]
			switch c {
			case '\n':
				s.line++
				s.last = s.offset(s.pos)
			case ' ', '\t', '\r':
			default:
				return c, nil
			}
			s.pos++
			if space++; space > MaxJSONSpace {
				return 0, &jsonTextError{fmt.Sprintf("more than %d bytes of whitespace in a row", MaxJSONSpace)}
			}
		}
		if !s.fill(s.pos) {
			return 0, s.rerr
		}
	}
}

// more reports whether the array or object has another element, as
// Decoder.More.
func (s *scanner) more() bool {
	c, err := s.peek()
	return err == nil && c != ']' && c != '}'
}

func (s *scanner) fail(c byte, context string) error {
	return &syntaxError{msg: "invalid character " + quoteChar(c) + " " + context, off: s.offset(s.pos)}
}

// quoteChar quotes a byte as encoding/json's errors do.
func quoteChar(c byte) string {
	switch c {
	case '\'':
		return `'\''`
	case '"':
		return `'"'`
	}
	q := strconv.Quote(string(rune(c)))
	return "'" + q[1:len(q)-1] + "'"
}

func (s *scanner) valueAllowed() bool {
	switch s.state {
	case stTop, stArrayStart, stArrayValue, stObjectValue:
		return true
	}
	return false
}

func (s *scanner) valueEnd() {
	switch s.state {
	case stArrayStart, stArrayValue:
		s.state = stArrayComma
	case stObjectValue:
		s.state = stObjectComma
	}
}

// context names what the scanner expects, for errors.
func (s *scanner) context() string {
	switch s.state {
	case stArrayComma:
		return "after array element"
	case stObjectStart, stObjectKey:
		return "looking for beginning of object key string"
	case stObjectColon:
		return "after object key"
	case stObjectComma:
		return "after object key:value pair"
	}
	return "looking for beginning of value"
}

// next reads the next token into kind, val, start and end.
func (s *scanner) next() error {
	for {
		c, err := s.peek()
		if err != nil {
			return err
		}
		s.start = s.offset(s.pos)
		s.tokLine, s.tokLast = s.line, s.last
		s.val = nil
		switch c {
		case '[', '{':
			if !s.valueAllowed() {
				return s.fail(c, s.context())
			}
			if len(s.stack) == maxNesting {
				return &syntaxError{msg: fmt.Sprintf("exceeded max depth of %d", maxNesting), off: s.start}
			}
			s.stack = append(s.stack, c)
			if c == '[' {
				s.state = stArrayStart
			} else {
				s.state = stObjectStart
			}
			return s.delim(c)
		case ']':
			if s.state != stArrayStart && s.state != stArrayComma {
				return s.fail(c, s.context())
			}
			return s.close(c)
		case '}':
			if s.state != stObjectStart && s.state != stObjectComma {
				return s.fail(c, s.context())
			}
			return s.close(c)
		case ',':
			switch s.state {
			case stArrayComma:
				s.state = stArrayValue
			case stObjectComma:
				s.state = stObjectKey
			default:
				return s.fail(c, s.context())
			}
			s.pos++
			continue
		case ':':
			if s.state != stObjectColon {
				return s.fail(c, s.context())
			}
			s.state = stObjectValue
			s.pos++
			continue
		case '"':
			if s.state == stObjectStart || s.state == stObjectKey {
				if err := s.str(); err != nil {
					return err
				}
				s.state = stObjectColon
				return nil
			}
		}
		if !s.valueAllowed() {
			return s.fail(c, s.context())
		}
		switch {
		case c == '"':
			err = s.str()
		case c == '-' || c >= '0' && c <= '9':
			err = s.number()
		case c == 't' || c == 'f' || c == 'n':
			err = s.literal(c)
		default:
			err = s.fail(c, "looking for beginning of value")
		}
		if err != nil {
			return err
		}
		s.valueEnd()
		return nil
	}
}

func (s *scanner) delim(c byte) error {
	s.kind = c
	s.pos++
	s.end = s.start + 1
	s.begun = true
	return nil
}

func (s *scanner) close(c byte) error {
	s.stack = s.stack[:len(s.stack)-1]
	switch {
	case len(s.stack) == 0:
		s.state = stTop
	case s.stack[len(s.stack)-1] == '[':
		s.state = stArrayComma
	default:
		s.state = stObjectComma
	}
	return s.delim(c)
}

// eof reports an end of input inside a token.
func (s *scanner) eof() error {
	if s.rerr == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return s.rerr
}

// run reads the bytes of a number or literal (at most MaxJSONNumber)
// into val.
func (s *scanner) run() error {
	i := s.pos
	for {
		for ; i < len(s.buf); i++ {
			c := s.buf[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '+' || c == '.') {
				s.val = s.buf[s.pos:i]
				return s.runLen()
			}
		}
		if i-s.pos > MaxJSONNumber {
			return s.runLen()
		}
		i -= s.pos
		if !s.fill(s.pos) {
			if s.rerr != io.EOF {
				return s.rerr
			}
			s.val = s.buf[s.pos:]
			return s.runLen()
		}
		i += s.pos
	}
}

func (s *scanner) runLen() error {
	if len(s.val) > MaxJSONNumber || len(s.buf)-s.pos > MaxJSONNumber && s.val == nil {
		return &jsonTextError{fmt.Sprintf("a number or literal longer than %d bytes", MaxJSONNumber)}
	}
	return nil
}

// number reads a number and checks its grammar.
func (s *scanner) number() error {
	if err := s.run(); err != nil {
		return err
	}
	v := s.val
	i := 0
	bad := func() error {
		if i == len(v) {
			s.pos += i
			if s.pos == len(s.buf) && s.rerr != nil {
				return s.eof()
			}
			return s.fail(s.buf[s.pos], "in numeric literal")
		}
		s.pos += i
		return s.fail(v[i], "in numeric literal")
	}
	digits := func() bool {
		j := i
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
		}
		return i > j
	}
	if v[i] == '-' {
		i++
	}
	switch {
	case i < len(v) && v[i] == '0':
		i++
	case !digits():
		return bad()
	}
	if i < len(v) && v[i] == '.' {
		i++
		if !digits() {
			return bad()
		}
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			i++
		}
		if !digits() {
			return bad()
		}
	}
	if i < len(v) {
		// Bytes that do not belong to the number: the next token's
		// business, as for encoding/json (which says "after ...").
		s.pos += i
		return s.fail(v[i], s.afterValue())
	}
	s.finish(tokNumber, len(v))
	return nil
}

// afterValue names where a value just ended, for errors.
func (s *scanner) afterValue() string {
	switch s.state {
	case stArrayStart, stArrayValue:
		return "after array element"
	case stObjectValue:
		return "after object key:value pair"
	}
	return "after top-level value"
}

// finish ends a token of n bytes at pos.
func (s *scanner) finish(kind byte, n int) {
	s.kind = kind
	s.pos += n
	s.end = s.start + int64(n)
	s.begun = true
}

// literal reads true, false or null.
func (s *scanner) literal(c byte) error {
	if err := s.run(); err != nil {
		return err
	}
	want := "null"
	switch c {
	case 't':
		want = "true"
	case 'f':
		want = "false"
	}
	v := s.val
	for i := range len(want) {
		switch {
		case i == len(v):
			s.pos += i
			if s.pos == len(s.buf) {
				return s.eof()
			}
			return s.fail(s.buf[s.pos], fmt.Sprintf("in literal %s (expecting %s)", want, quoteChar(want[i])))
		case v[i] != want[i]:
			s.pos += i
			return s.fail(v[i], fmt.Sprintf("in literal %s (expecting %s)", want, quoteChar(want[i])))
		}
	}
	if len(v) > len(want) {
		s.pos += len(want)
		return s.fail(v[len(want)], s.afterValue())
	}
	s.finish(c, len(want))
	return nil
}

// str reads a string, unescaped, into val: in place in buf when it is
// plain and in buf whole, else in scratch.
func (s *scanner) str() error {
	for i := s.pos + 1; i < len(s.buf); i++ {
		c := s.buf[i]
		switch {
		case c == '"':
			s.val = s.buf[s.pos+1 : i]
			s.finish(tokString, i+1-s.pos)
			return nil
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			return s.strSlow()
		}
	}
	return s.strSlow()
}

// strSlow reads a string into scratch, a byte at a time.
func (s *scanner) strSlow() error {
	s.scratch = s.scratch[:0]
	s.pos++
	n := int64(1) // bytes of the token
	get := func() (byte, error) {
		if s.pos == len(s.buf) && !s.fill(s.pos) {
			return 0, s.eof()
		}
		c := s.buf[s.pos]
		s.pos++
		n++
		return c, nil
	}
	var utf bool // a byte of UTF-8, to check at the end
	for {
		c, err := get()
		if err != nil {
			return err
		}
		switch {
		case c == '"':
			if utf && !utf8.Valid(s.scratch) {
				s.scratch = validUTF8(s.scratch)
			}
			s.val = s.scratch
			s.kind = tokString
			s.end = s.start + n
			s.begun = true
			return nil
		case c < 0x20:
			s.pos--
			return s.fail(c, "in string literal")
		case c >= utf8.RuneSelf:
			utf = true
			s.scratch = append(s.scratch, c)
		case c != '\\':
			s.scratch = append(s.scratch, c)
		default:
			if c, err = get(); err != nil {
				return err
			}
			switch c {
			case '"', '\\', '/':
				s.scratch = append(s.scratch, c)
			case 'b':
				s.scratch = append(s.scratch, '\b')
			case 'f':
				s.scratch = append(s.scratch, '\f')
			case 'n':
				s.scratch = append(s.scratch, '\n')
			case 'r':
				s.scratch = append(s.scratch, '\r')
			case 't':
				s.scratch = append(s.scratch, '\t')
			case 'u':
				r, err := s.hex4(get)
				if err != nil {
					return err
				}
				if utf16.IsSurrogate(r) {
					// A pair when a low surrogate follows, else U+FFFD
					// (as encoding/json).
					for s.pos+6 > len(s.buf) && s.fill(s.pos) {
					}
					if s.pos+6 <= len(s.buf) {
						if s.buf[s.pos] == '\\' && s.buf[s.pos+1] == 'u' {
							if r2, ok := parseHex4(s.buf[s.pos+2 : s.pos+6]); ok {
								if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
									s.pos += 6
									n += 6
									s.scratch = utf8.AppendRune(s.scratch, d)
									continue
								}
							}
						}
					}
					r = utf8.RuneError
				}
				s.scratch = utf8.AppendRune(s.scratch, r)
			default:
				s.pos--
				return s.fail(c, "in string escape code")
			}
		}
	}
}

func (s *scanner) hex4(get func() (byte, error)) (rune, error) {
	var r rune
	for range 4 {
		c, err := get()
		if err != nil {
			return 0, err
		}
		d, ok := hexDigit(c)
		if !ok {
			s.pos--
			return 0, s.fail(c, "in \\u hexadecimal character escape")
		}
		r = r<<4 | d
	}
	return r, nil
}

func parseHex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		d, ok := hexDigit(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | d
	}
	return r, true
}

func hexDigit(c byte) (rune, bool) {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0'), true
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10), true
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10), true
	}
	return 0, false
}

// validUTF8 replaces each byte of invalid UTF-8 with U+FFFD, as
// encoding/json does.
func validUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		out = utf8.AppendRune(out, r)
		b = b[size:]
	}
	return out
}

// atEnd reads what follows the top-level value: nothing but whitespace.
func (s *scanner) atEnd() error {
	_, err := s.peek()
	switch {
	case err == io.EOF:
		return nil
	case err == nil:
		return errors.New("invalid JSON: data after the request object")
	}
	var tl *TooLargeError
	if errors.As(err, &tl) {
		return err
	}
	return errors.New("invalid JSON: data after the request object")
}

// skipValue reads a value whole and appends it to dst as JSON (not
// necessarily as written).
func (s *scanner) skipValue(dst []byte) ([]byte, error) {
	depth := len(s.stack)
	for {
		if err := s.next(); err != nil {
			return dst, err
		}
		switch s.kind {
		case '[', '{', ']', '}':
			if n := len(dst); n > 0 && (s.kind == '[' || s.kind == '{') && dst[n-1] != '[' && dst[n-1] != '{' && dst[n-1] != ':' {
				dst = append(dst, ',')
			}
			dst = append(dst, s.kind)
		default:
			if n := len(dst); n > 0 && dst[n-1] != '[' && dst[n-1] != '{' && dst[n-1] != ':' {
				dst = append(dst, ',')
			}
			switch s.kind {
			case tokString:
				dst = appendQuoted(dst, s.val)
				if s.state == stObjectColon {
					dst = append(dst, ':')
				}
			case tokNumber:
				dst = append(dst, s.val...)
			case tokTrue:
				dst = append(dst, "true"...)
			case tokFalse:
				dst = append(dst, "false"...)
			default:
				dst = append(dst, "null"...)
			}
		}
		if len(s.stack) == depth {
			return dst, nil
		}
	}
}

// appendQuoted appends b as a JSON string.
func appendQuoted(dst, b []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for _, c := range b {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
