package text

import (
	"cmp"
	"slices"
	"strings"
)

// The special tokens of a fitted vocabulary, ids PadID and UnknownID.
const (
	PadToken     = "<pad>"
	UnknownToken = "<unk>"
)

// Defaults Fit uses for a hashing tokenizer.
const (
	DefaultNgramMax = 2
	DefaultBuckets  = 1 << 16
)

// FitOptions configure Fit.
type FitOptions struct {
	// Lowercase and MaxLen are copied into the Config.
	Lowercase bool
	MaxLen    int
	// MinCount drops tokens seen fewer times (0 and 1 keep every token).
	MinCount int
	// MaxSize caps the vocabulary, the two special tokens included; the
	// most frequent tokens are kept. 0 means no cap.
	MaxSize int
	// NgramMin (default 1), NgramMax (default max(NgramMin, 2)) and
	// Buckets (default 65536) configure "hash-ngram".
	NgramMin, NgramMax, Buckets int
}

// Fit builds a tokenizer configuration from training texts. For "word"
// and "char" the vocabulary is "<pad>" (id 0), "<unk>" (id 1), then the
// tokens seen at least MinCount times, most frequent first, ties in byte
// order of the token, so the same texts always give the same vocabulary.
// "hash-ngram" has no vocabulary to fit beyond the two special tokens.
// Fit does not check the kind; New reports an unknown one.
func Fit(texts []string, kind string, opts FitOptions) Config {
	cfg := Config{
		Kind:      kind,
		Lowercase: opts.Lowercase,
		MaxLen:    opts.MaxLen,
		Vocab:     []string{PadToken, UnknownToken},
		Unknown:   UnknownToken,
		Padding:   PadToken,
	}
	switch kind {
	case KindHashNgram:
		cfg.NgramMin, cfg.NgramMax, cfg.Buckets = opts.NgramMin, opts.NgramMax, opts.Buckets
		if cfg.NgramMin == 0 {
			cfg.NgramMin = 1
		}
		if cfg.NgramMax == 0 {
			cfg.NgramMax = max(cfg.NgramMin, DefaultNgramMax)
		}
		if cfg.Buckets == 0 {
			cfg.Buckets = DefaultBuckets
		}
		return cfg
	case KindWord, KindChar:
	default:
		return cfg
	}
	counts := map[string]int{}
	for _, s := range texts {
		sc := scanner{s: s, char: kind == KindChar, lower: opts.Lowercase}
		for {
			start, end, rw, ok := sc.next()
			if !ok {
				break
			}
			tok := s[start:end]
			if rw {
				tok = normalize(tok, opts.Lowercase)
			}
			if c, seen := counts[tok]; seen {
				counts[tok] = c + 1
			} else {
				counts[strings.Clone(tok)] = 1 // do not keep the text alive
			}
		}
	}
	delete(counts, PadToken)
	delete(counts, UnknownToken)
	type tc struct {
		tok string
		n   int
	}
	var list []tc
	for tok, n := range counts {
		if n >= opts.MinCount {
			list = append(list, tc{tok, n})
		}
	}
	slices.SortFunc(list, func(a, b tc) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return strings.Compare(a.tok, b.tok)
	})
	if opts.MaxSize > 0 && len(list) > opts.MaxSize-2 {
		list = list[:max(opts.MaxSize-2, 0)]
	}
	for _, e := range list {
		cfg.Vocab = append(cfg.Vocab, e.tok)
	}
	return cfg
}
