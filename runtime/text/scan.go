package text

import (
	"unicode"
	"unicode/utf8"
)

// Rune classes for splitting.
const (
	clsSep   = iota // whitespace, control and format characters: dropped
	clsWord         // letters (except Han), marks and numbers: runs form words
	clsHan          // Han ideographs: one token each
	clsOther        // punctuation, symbols, invalid bytes: one token each
)

func class(r rune, size int) int {
	if r < utf8.RuneSelf {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			return clsWord
		case r <= ' ' || r == 0x7f:
			return clsSep
		}
		return clsOther
	}
	switch {
	case r == utf8.RuneError && size == 1:
		return clsOther
	case unicode.Is(unicode.Han, r):
		return clsHan
	case unicode.IsLetter(r), unicode.IsMark(r), unicode.IsNumber(r):
		return clsWord
	case unicode.IsSpace(r), unicode.IsControl(r), unicode.Is(unicode.Cf, r):
		return clsSep
	}
	return clsOther
}

// scanner walks the tokens of a text without allocating. A token is the
// span s[start:end]; rewrite says its bytes differ from the token's text
// (it has runes to lowercase or invalid UTF-8), so lookups must go
// through the normalized form.
type scanner struct {
	s     string
	i     int
	char  bool // one token per rune
	lower bool
}

// changes reports whether a rune's normalized form differs from its bytes.
func (sc *scanner) changes(r rune, size int) bool {
	if r == utf8.RuneError && size == 1 {
		return true
	}
	if !sc.lower {
		return false
	}
	if r < utf8.RuneSelf {
		return 'A' <= r && r <= 'Z'
	}
	return unicode.ToLower(r) != r
}

// next returns the next token, or ok false at the end of the text.
func (sc *scanner) next() (start, end int, rewrite, ok bool) {
	s := sc.s
	var r rune
	var size, cls int
	for {
		if sc.i >= len(s) {
			return 0, 0, false, false
		}
		r, size = rune(s[sc.i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[sc.i:])
		}
		if cls = class(r, size); cls != clsSep {
			break
		}
		sc.i += size
	}
	start = sc.i
	sc.i += size
	rewrite = sc.changes(r, size)
	if sc.char {
		return start, sc.i, rewrite, true
	}
	for sc.i < len(s) {
		r, size = rune(s[sc.i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[sc.i:])
		}
		if cls == clsWord {
			if class(r, size) != clsWord {
				break
			}
		} else if r < utf8.RuneSelf || !unicode.IsMark(r) {
			break // Han and others take only the marks that follow them
		}
		rewrite = rewrite || sc.changes(r, size)
		sc.i += size
	}
	return start, sc.i, rewrite, true
}

// normalize returns the token's text: lowercased when asked, invalid
// bytes as U+FFFD.
func normalize(tok string, lower bool) string {
	b := make([]byte, 0, len(tok)+4)
	for _, r := range tok {
		if lower {
			r = unicode.ToLower(r)
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}
