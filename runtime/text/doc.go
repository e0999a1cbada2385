// Package text turns text into token ids for edgerun's text models. The
// same code runs in the trainer (which fits the vocabulary with Fit and
// stores the resulting Config in the model file's metadata) and on the
// device (which rebuilds the Tokenizer with New from that metadata), so
// both sides tokenize identically, byte for byte.
//
// Three kinds of tokenizer exist:
//
//   - "word": Unicode-aware word splitting. Text is lowercased first when
//     Config.Lowercase is set (unicode.ToLower, rune by rune, no locale).
//     Whitespace, control and format characters (zero-width space, BOM)
//     separate tokens and are dropped. A run of letters, combining marks
//     and digits is one token ("iphone12", "café", "こんにちは"), except
//     that every Han ideograph is a token of its own, since Chinese and
//     Japanese do not put spaces between words. Every other rune
//     (punctuation, symbols, emoji) is a token of its own, with any
//     combining marks that follow it: "don't!" is "don", "'", "t", "!".
//   - "char": one token per rune, whitespace, control and format
//     characters skipped; meant for Chinese and Japanese text (好评 /
//     差评), where the vocabulary is the set of characters.
//   - "hash-ngram": the word tokens, grouped into n-grams of NgramMin to
//     NgramMax words and hashed (FNV-1a, 32 bit, over the n-gram's words
//     joined by single spaces) into Buckets ids, offset by 2: id =
//     2 + hash mod Buckets. No vocabulary is needed; ids 0 and 1 stay
//     padding and unknown. The n-grams are emitted by start position,
//     shortest first: for "a b c" with n = 1..2, "a", "a b", "b", "b c",
//     "c".
//
// Invalid UTF-8 bytes are read as U+FFFD, a symbol token of its own.
//
// Encode appends the ids of one text to a slice, padding with the
// padding id or cutting to Config.MaxLen when it is positive; it does not
// allocate when the slice has room. New refuses a MaxLen above
// Config.MaxSeqLen (DefaultMaxSeqLen, 65,536, unless raised), so a model's
// metadata cannot make Encode allocate gigabytes. A Tokenizer is
// immutable and safe for concurrent use.
//
// The package imports nothing else of edgerun: the engine converts the
// file format's tokenizer metadata into a Config.
package text
