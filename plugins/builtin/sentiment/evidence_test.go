package sentiment

import (
	"testing"

	"github.com/edgerun/edgerun/runtime/text"
)

// TestNoEvidence: a text is without evidence exactly when none of its
// tokens (among the first MaxLen) is in the vocabulary; a hashing
// tokenizer, which has no vocabulary, always has evidence.
func TestNoEvidence(t *testing.T) {
	cfg := text.Fit([]string{"great phone", "bad phone", "not bad at all"}, text.KindWord, text.FitOptions{Lowercase: true, MaxLen: 4})
	tok, err := text.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	none := noEvidence(tok)
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"hello", true},
		{"Blorft zindle quaxy!", true},
		{"...", true},
		{"hello, great day", false},
		{"PHONE", false},
		{"zz zz zz zz great", true}, // the known word is past MaxLen: the model does not see it
	} {
		if got := none(c.s); got != c.want {
			t.Errorf("%q: no evidence %v, want %v", c.s, got, c.want)
		}
	}
	hcfg := text.Fit([]string{"great phone"}, text.KindHashNgram, text.FitOptions{Lowercase: true, MaxLen: 4, NgramMin: 1, NgramMax: 2, Buckets: 64})
	htok, err := text.New(hcfg)
	if err != nil {
		t.Fatal(err)
	}
	if noEvidence(htok)("hello") {
		t.Error("a hashing tokenizer: no evidence, want evidence (it has no vocabulary)")
	}
}
