package textcls

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/tools/train"
)

// sentimentVariants are the sentiment models compared by
// TestAcceptanceSentimentVariants: the word bag (the default before
// issue 12), the bag of hashed words and word bigrams, Embedding → LSTM,
// and the round-2 candidates for negation and unknown text: the word
// bag with MinCount 2 (a word seen once in training is the unknown id,
// so it carries no polarity of its own), the same with AdamW weight
// decay 0.1 on the Dense layer, and a bidirectional LSTM with MinCount 2.
// (Hashed bigrams have no vocabulary, so no MinCount variant of them.)
func sentimentVariants() []struct {
	name string
	h    Hyper
} {
	bigrams := Defaults(Bag)
	bigrams.NgramMax = 2
	min2 := Defaults(Bag)
	min2.MinCount = 2
	min2wd := min2
	min2wd.WeightDecay = 0.1
	bilstm := Defaults(LSTM)
	bilstm.Bidirectional, bilstm.MinCount = true, 2
	return []struct {
		name string
		h    Hyper
	}{
		{"bag-words", Defaults(Bag)},
		{"bag-bigrams", bigrams},
		{"lstm", Defaults(LSTM)},
		{"bag-words-min2", min2},
		{"bag-words-min2-wd", min2wd},
		{"bilstm-min2", bilstm},
	}
}

// variantFigures are a variant's figures over the seeds.
type variantFigures struct {
	name           string
	val, test, neg []float64
}

// pickVariant is the selection rule, fixed before the round-2 results
// were seen: the variant with the best mean validation accuracy; the
// variants whose mean validation accuracy is within the best's seed
// spread (half its range) of it count as tied, and the tie goes to the
// best mean accuracy on the negation set (then to the earlier variant).
// The test split plays no part.
func pickVariant(vs []variantFigures) string {
	if len(vs) == 0 {
		return ""
	}
	best := 0
	for i, v := range vs {
		if mean(v.val) > mean(vs[best].val) {
			best = i
		}
	}
	floor := mean(vs[best].val) - halfRange(vs[best].val)
	pick := best
	for i, v := range vs {
		if mean(v.val) >= floor && mean(v.neg) > mean(vs[pick].neg) {
			pick = i
		}
	}
	return vs[pick].name
}

// TestAcceptanceSentimentVariants trains each sentiment variant with 3
// seeds on the fixed split (data/sentiment/uci_labelled_sentences,
// test_rows.txt: 2400 training rows, 10 % of them validation, 600 test
// rows) and prints, as mean ± half the range over the seeds, the
// validation accuracy (the best epoch's, the weights kept), the engine's
// int8 accuracy on the test rows and on the 40 negation and contrast
// sentences of data/sentiment/negation_contrast. The variant is chosen
// by pickVariant: best mean validation accuracy, ties (within the best's
// half range) broken by the negation set; the test figures are
// reported, never used to choose. It fails when a variant's mean test
// accuracy misses 0.76 or the rule's pick is not ShippedSentiment.
// `make accept` runs it; by itself:
//
//	EDGERUN_ACCEPT=sentiment-variants go test ./tools/train/textcls -run AcceptanceSentimentVariants -v -timeout 30m
func TestAcceptanceSentimentVariants(t *testing.T) {
	sel := os.Getenv("EDGERUN_ACCEPT")
	if sel != "1" && !strings.Contains(","+sel+",", ",sentiment-variants,") {
		t.Skip("set EDGERUN_ACCEPT=1 (or sentiment-variants) to compare the sentiment models")
	}
	dir := "../../../data/sentiment"
	data := filepath.Join(dir, "uci_labelled_sentences/uci_labelled_sentences.csv")
	rows := filepath.Join(dir, "uci_labelled_sentences/test_rows.txt")
	neg := filepath.Join(dir, "negation_contrast/negation_contrast.csv")
	var all []variantFigures
	var table []string
	for _, v := range sentimentVariants() {
		f := variantFigures{name: v.name}
		for _, seed := range []uint64{1, 2, 3} {
			tr, err := FitWith(train.FitOptions{Data: data, TestRows: rows, Seed: seed}, v.h)
			if err != nil {
				t.Fatal(err)
			}
			f.val = append(f.val, bestValMetric(tr.History))
			fm, err := tr.Export(true, nil)
			if err != nil {
				t.Fatal(err)
			}
			met, _, err := train.EvalEngine(fm, tr.Kind, tr.Test)
			if err != nil {
				t.Fatal(err)
			}
			f.test = append(f.test, met["accuracy"])
			set, kind, err := EvalSet(fm, neg, train.FitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			nm, _, err := train.EvalEngine(fm, kind, set)
			if err != nil {
				t.Fatal(err)
			}
			f.neg = append(f.neg, nm["accuracy"])
			t.Logf("%s seed %d: %d epochs, validation %.4f, test %.4f, negation set %.4f",
				v.name, seed, len(tr.History), f.val[len(f.val)-1], met["accuracy"], nm["accuracy"])
		}
		table = append(table, fmt.Sprintf("| %-17s | %s | %s | %s |", v.name, meanSpread(f.val), meanSpread(f.test), meanSpread(f.neg)))
		if m := mean(f.test); m < 0.76 {
			t.Errorf("%s: mean test accuracy %.4f; goal at least 0.76", v.name, m)
		}
		all = append(all, f)
	}
	t.Logf("int8, 3 seeds, mean ± half range\n| variant           | validation      | test (600)      | negation set (40) |\n|---|---|---|---|\n%s",
		strings.Join(table, "\n"))
	if got := pickVariant(all); got != ShippedSentiment {
		t.Errorf("the selection rule picks %s; ShippedSentiment says %s", got, ShippedSentiment)
	}
}

// bestValMetric is the validation metric of the epoch whose weights
// Fit keeps (the best validation loss).
func bestValMetric(h []train.EpochStats) float64 {
	v := math.NaN()
	for _, s := range h {
		if s.Best {
			v = s.ValMetric
		}
	}
	return v
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// halfRange is half the range of v.
func halfRange(v []float64) float64 {
	lo, hi := v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return (hi - lo) / 2
}

// meanSpread is "mean ± half the range".
func meanSpread(v []float64) string {
	return fmt.Sprintf("%.4f ± %.4f", mean(v), halfRange(v))
}

// ShippedSentiment is the variant the sentiment plugin ships (`make
// models`: edgetrain fit --task text --arch lstm --bidirectional
// --min-count 2), the one pickVariant picks. Measured (int8, seeds 1-3,
// mean ± half range):
//
//	| variant           | validation      | test (600)      | negation set (40) |
//	| bag-words         | 0.8333 ± 0.0187 | 0.8200 ± 0.0033 | 0.5667 ± 0.0500 |
//	| bag-bigrams       | 0.8361 ± 0.0167 | 0.7906 ± 0.0050 | 0.6083 ± 0.0375 |
//	| lstm              | 0.8042 ± 0.0042 | 0.8011 ± 0.0250 | 0.6667 ± 0.0500 |
//	| bag-words-min2    | 0.8333 ± 0.0250 | 0.8156 ± 0.0058 | 0.5583 ± 0.0500 |
//	| bag-words-min2-wd | 0.8333 ± 0.0250 | 0.8161 ± 0.0058 | 0.5583 ± 0.0500 |
//	| bilstm-min2       | 0.8319 ± 0.0125 | 0.8050 ± 0.0050 | 0.6250 ± 0.0250 |
//
// bag-bigrams has the best validation mean; within its half range
// (≥ 0.8194) are bag-words, both bag-words-min2 and bilstm-min2, and of
// those bilstm-min2 is best on the negation set.
const ShippedSentiment = "bilstm-min2"

// TestPickVariant: the selection rule on made-up figures (no training).
func TestPickVariant(t *testing.T) {
	f := func(name string, val, neg []float64) variantFigures {
		return variantFigures{name: name, val: val, neg: neg, test: []float64{0.5}}
	}
	for _, c := range []struct {
		vs   []variantFigures
		want string
	}{
		{nil, ""},
		// The best validation mean wins outright when nothing is within its spread.
		{[]variantFigures{f("a", []float64{0.80, 0.80}, []float64{0.9}), f("b", []float64{0.84, 0.86}, []float64{0.5})}, "b"},
		// Within the best's half range (0.85 ± 0.01): the negation set breaks the tie.
		{[]variantFigures{f("a", []float64{0.845, 0.845}, []float64{0.7}), f("b", []float64{0.84, 0.86}, []float64{0.5})}, "a"},
		// Just outside the spread: not tied, however good on negation.
		{[]variantFigures{f("a", []float64{0.839, 0.839}, []float64{1}), f("b", []float64{0.84, 0.86}, []float64{0.5})}, "b"},
		// The test split is never used: same val and neg, different test, earlier wins.
		{[]variantFigures{f("a", []float64{0.85}, []float64{0.6}), {name: "b", val: []float64{0.85}, neg: []float64{0.6}, test: []float64{1}}}, "a"},
	} {
		if got := pickVariant(c.vs); got != c.want {
			t.Errorf("pickVariant(%v) = %q, want %q", c.vs, got, c.want)
		}
	}
}
