package text

import (
	"fmt"
	"math"
	"unicode"
	"unicode/utf8"
)

// Tokenizer kinds.
const (
	KindWord      = "word"
	KindChar      = "char"
	KindHashNgram = "hash-ngram"
)

// Ids every fitted vocabulary and every hashing tokenizer reserve.
const (
	PadID     = 0
	UnknownID = 1
)

// MaxNgram is the longest n-gram a hashing tokenizer accepts.
const MaxNgram = 16

// DefaultMaxSeqLen is the largest MaxLen New accepts unless
// Config.MaxSeqLen raises it: a tokenizer built from an untrusted model's
// metadata cannot make Encode append more than 65,536 ids (256 KiB) per
// text. It has the value of format.DefaultMaxSeqLen (this package imports
// nothing of edgerun's; a test in tools/edgerun keeps the two equal).
const DefaultMaxSeqLen = 1 << 16

// Config describes a tokenizer. It mirrors the model file's tokenizer
// metadata (format.Tokenizer); the engine converts one into the other.
type Config struct {
	// Kind is "word", "char" or "hash-ngram".
	Kind string
	// Lowercase lowercases the text before it is split.
	Lowercase bool
	// MaxLen, when positive, is the number of ids Encode produces: longer
	// texts are cut, shorter ones padded.
	MaxLen int
	// Vocab maps id to token for "word" and "char".
	Vocab []string
	// Unknown is the token out-of-vocabulary tokens map to; when empty
	// they are dropped. It must be in Vocab when set.
	Unknown string
	// Padding is the token padding uses; when empty the padding id is 0.
	// It must be in Vocab when set.
	Padding string
	// NgramMin, NgramMax (1 ≤ NgramMin ≤ NgramMax ≤ MaxNgram) and
	// Buckets (≥ 1) configure "hash-ngram", which ignores Vocab, Unknown
	// and Padding: its padding id is 0 and its unknown id 1.
	NgramMin, NgramMax, Buckets int
	// MaxSeqLen is the largest MaxLen New accepts; 0 means
	// DefaultMaxSeqLen. Pass the format.Limits.MaxSeqLen a model was read
	// with to allow what the file reader allowed.
	MaxSeqLen int
}

// Tokenizer encodes text into ids. It is immutable and safe for
// concurrent use.
type Tokenizer struct {
	cfg      Config
	char     bool
	hash     bool
	vocab    map[string]int32
	maxTok   int   // longest vocabulary entry, in bytes
	unk      int32 // -1: drop unknown tokens
	pad      int32
	nmin     int
	nmax     int
	buckets  uint32
	vocabLen int
}

// New checks a configuration and builds its tokenizer.
func New(cfg Config) (*Tokenizer, error) {
	if cfg.MaxLen < 0 {
		return nil, fmt.Errorf("text: MaxLen %d is negative", cfg.MaxLen)
	}
	limit := cfg.MaxSeqLen
	if limit <= 0 {
		limit = DefaultMaxSeqLen
	}
	if cfg.MaxLen > limit {
		return nil, fmt.Errorf("text: MaxLen %d exceeds the limit of %d (MaxSeqLen)", cfg.MaxLen, limit)
	}
	t := &Tokenizer{cfg: cfg, unk: -1}
	t.cfg.Vocab = append([]string(nil), cfg.Vocab...)
	switch cfg.Kind {
	case KindWord, KindChar:
		t.char = cfg.Kind == KindChar
		if len(cfg.Vocab) == 0 {
			return nil, fmt.Errorf("text: a %q tokenizer needs a vocabulary", cfg.Kind)
		}
		if len(cfg.Vocab) > math.MaxInt32 {
			return nil, fmt.Errorf("text: vocabulary of %d tokens is too large", len(cfg.Vocab))
		}
		t.vocab = make(map[string]int32, len(cfg.Vocab))
		for i, tok := range cfg.Vocab {
			if j, dup := t.vocab[tok]; dup {
				return nil, fmt.Errorf("text: vocabulary has %q twice (ids %d and %d)", tok, j, i)
			}
			t.vocab[tok] = int32(i)
			t.maxTok = max(t.maxTok, len(tok))
		}
		t.vocabLen = len(cfg.Vocab)
		if cfg.Unknown != "" {
			id, ok := t.vocab[cfg.Unknown]
			if !ok {
				return nil, fmt.Errorf("text: unknown token %q is not in the vocabulary", cfg.Unknown)
			}
			t.unk = id
		}
		if cfg.Padding != "" {
			id, ok := t.vocab[cfg.Padding]
			if !ok {
				return nil, fmt.Errorf("text: padding token %q is not in the vocabulary", cfg.Padding)
			}
			t.pad = id
		}
	case KindHashNgram:
		t.hash = true
		if cfg.Buckets < 1 || cfg.Buckets > math.MaxInt32-2 {
			return nil, fmt.Errorf("text: hash-ngram Buckets %d is outside 1..%d", cfg.Buckets, math.MaxInt32-2)
		}
		if cfg.NgramMin < 1 || cfg.NgramMax < cfg.NgramMin || cfg.NgramMax > MaxNgram {
			return nil, fmt.Errorf("text: hash-ngram n-gram sizes %d..%d, want 1 ≤ min ≤ max ≤ %d", cfg.NgramMin, cfg.NgramMax, MaxNgram)
		}
		t.nmin, t.nmax, t.buckets = cfg.NgramMin, cfg.NgramMax, uint32(cfg.Buckets)
		t.unk, t.pad = UnknownID, PadID
		t.vocabLen = cfg.Buckets + 2
	default:
		return nil, fmt.Errorf("text: unknown tokenizer kind %q (want word, char or hash-ngram)", cfg.Kind)
	}
	return t, nil
}

// Config returns the tokenizer's configuration (a copy).
func (t *Tokenizer) Config() Config {
	c := t.cfg
	c.Vocab = append([]string(nil), t.cfg.Vocab...)
	return c
}

// VocabSize is the number of ids the tokenizer produces (0..VocabSize-1):
// the rows an embedding table needs.
func (t *Tokenizer) VocabSize() int { return t.vocabLen }

// PadID is the id padding uses.
func (t *Tokenizer) PadID() int32 { return t.pad }

// UnknownID is the id of out-of-vocabulary tokens, or -1 when they are
// dropped.
func (t *Tokenizer) UnknownID() int32 { return t.unk }

// MaxLen is the sequence length Encode pads or cuts to (0: no limit).
func (t *Tokenizer) MaxLen() int { return t.cfg.MaxLen }

func (t *Tokenizer) scanner(text string) scanner {
	return scanner{s: text, char: t.char, lower: t.cfg.Lowercase}
}

// Encode appends the ids of text to dst and returns the extended slice.
// With MaxLen > 0 it appends exactly MaxLen ids: the first MaxLen tokens,
// then padding. It allocates only when dst lacks capacity.
func (t *Tokenizer) Encode(dst []int32, text string) []int32 {
	return t.encode(dst, text, t.cfg.MaxLen)
}

// encode appends the ids of text, exactly n of them when n > 0.
func (t *Tokenizer) encode(dst []int32, text string, n int) []int32 {
	limit := math.MaxInt
	if n > 0 {
		limit = len(dst) + n
	}
	sc := t.scanner(text)
	if t.hash {
		dst = t.hashNgrams(dst, &sc, limit)
	} else {
		for len(dst) < limit {
			start, end, rw, ok := sc.next()
			if !ok {
				break
			}
			if id := t.lookup(text[start:end], rw); id >= 0 {
				dst = append(dst, id)
			}
		}
	}
	for n > 0 && len(dst) < limit {
		dst = append(dst, t.pad)
	}
	return dst
}

// lookup returns the id of a token, t.unk when it is not in the vocabulary.
func (t *Tokenizer) lookup(tok string, rewrite bool) int32 {
	if !rewrite {
		if id, ok := t.vocab[tok]; ok {
			return id
		}
		return t.unk
	}
	// Normalize into a stack buffer; a token longer than every vocabulary
	// entry is unknown without a lookup.
	var buf [128]byte
	b := buf[:0]
	for _, r := range tok {
		if t.cfg.Lowercase {
			r = unicode.ToLower(r)
		}
		if len(b)+utf8.RuneLen(r) > t.maxTok {
			return t.unk
		}
		b = utf8.AppendRune(b, r)
	}
	if id, ok := t.vocab[string(b)]; ok {
		return id
	}
	return t.unk
}

const (
	fnvOffset32 = 2166136261
	fnvPrime32  = 16777619
)

// hashToken continues an FNV-1a hash over a token's normalized bytes.
func hashToken(h uint32, tok string, rewrite, lower bool) uint32 {
	if !rewrite {
		for i := 0; i < len(tok); i++ {
			h = (h ^ uint32(tok[i])) * fnvPrime32
		}
		return h
	}
	var buf [utf8.UTFMax]byte
	for _, r := range tok {
		if lower {
			r = unicode.ToLower(r)
		}
		n := utf8.EncodeRune(buf[:], r)
		for _, c := range buf[:n] {
			h = (h ^ uint32(c)) * fnvPrime32
		}
	}
	return h
}

// hashNgrams appends the hashed n-gram ids of the scanner's tokens, by
// start position and then length, up to len(dst) == limit.
func (t *Tokenizer) hashNgrams(dst []int32, sc *scanner, limit int) []int32 {
	text, lower := sc.s, sc.lower
	for len(dst) < limit {
		start, end, rw, ok := sc.next()
		if !ok {
			break
		}
		h := hashToken(fnvOffset32, text[start:end], rw, lower)
		w := *sc // continues after the first word
		for n := 1; n <= t.nmax && len(dst) < limit; n++ {
			if n > 1 {
				s2, e2, rw2, ok := w.next()
				if !ok {
					break
				}
				h = (h ^ ' ') * fnvPrime32
				h = hashToken(h, text[s2:e2], rw2, lower)
			}
			if n >= t.nmin {
				dst = append(dst, 2+int32(h%t.buckets))
			}
		}
	}
	return dst
}

// Count is the number of ids Encode would produce for text without
// MaxLen: the number of known (or unknown-mapped) tokens, or n-grams.
func (t *Tokenizer) Count(text string) int {
	sc := t.scanner(text)
	words, n := 0, 0
	for {
		start, end, rw, ok := sc.next()
		if !ok {
			break
		}
		words++
		if !t.hash && (t.unk >= 0 || t.lookup(text[start:end], rw) >= 0) {
			n++
		}
	}
	if t.hash {
		for k := t.nmin; k <= t.nmax; k++ {
			n += max(words-k+1, 0)
		}
	}
	return n
}

// EncodeBatch appends the ids of every text to dst as a row-major
// [len(texts), seqLen] matrix and returns it with seqLen: MaxLen when it
// is positive, else the longest text's Count (shorter rows are padded).
func (t *Tokenizer) EncodeBatch(dst []int32, texts []string) (ids []int32, seqLen int) {
	seqLen = t.cfg.MaxLen
	if seqLen == 0 {
		for _, s := range texts {
			seqLen = max(seqLen, t.Count(s))
		}
		if seqLen == 0 {
			return dst, 0
		}
	}
	for _, s := range texts {
		dst = t.encode(dst, s, seqLen)
	}
	return dst, seqLen
}

// Tokens returns the tokens of text as strings, before any vocabulary
// lookup, MaxLen or hashing: the words of "word" and "hash-ngram", the
// runes of "char", normalized (lowercased if configured, invalid bytes as
// U+FFFD). It is meant for inspection and for fitting.
func (t *Tokenizer) Tokens(text string) []string {
	return tokens(nil, t.scanner(text))
}

func tokens(dst []string, sc scanner) []string {
	for {
		start, end, rw, ok := sc.next()
		if !ok {
			return dst
		}
		tok := sc.s[start:end]
		if rw {
			tok = normalize(tok, sc.lower)
		}
		dst = append(dst, tok)
	}
}
