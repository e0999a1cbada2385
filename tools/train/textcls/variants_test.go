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
// issue 12), the bag of hashed words and word bigrams, and Embedding →
// LSTM.
func sentimentVariants() []struct {
	name string
	h    Hyper
} {
	bigrams := Defaults(Bag)
	bigrams.NgramMax = 2
	return []struct {
		name string
		h    Hyper
	}{
		{"bag-words", Defaults(Bag)},
		{"bag-bigrams", bigrams},
		{"lstm", Defaults(LSTM)},
	}
}

// TestAcceptanceSentimentVariants trains each sentiment variant with 3
// seeds on the fixed split (data/sentiment/uci_labelled_sentences,
// test_rows.txt: 2400 training rows, 10 % of them validation, 600 test
// rows) and prints, as mean ± half the range over the seeds, the
// validation accuracy (the best epoch's, the weights kept), the engine's
// int8 accuracy on the test rows and on the 40 negation and contrast
// sentences of data/sentiment/negation_contrast. The variant is chosen
// on validation accuracy; the test figures and the negation set are
// reported, never used to choose. It fails when a variant's mean test
// accuracy misses 0.76 or the variant with the best mean validation
// accuracy is not ShippedSentiment. `make accept` runs it (about a
// minute and a half on 2 cores); by itself:
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
	type figures struct{ val, test, neg []float64 }
	best, bestVal := "", -1.0
	var table []string
	for _, v := range sentimentVariants() {
		var f figures
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
		table = append(table, fmt.Sprintf("| %-11s | %s | %s | %s |", v.name, meanSpread(f.val), meanSpread(f.test), meanSpread(f.neg)))
		if m := mean(f.test); m < 0.76 {
			t.Errorf("%s: mean test accuracy %.4f; goal at least 0.76", v.name, m)
		}
		if m := mean(f.val); m > bestVal {
			best, bestVal = v.name, m
		}
	}
	t.Logf("int8, 3 seeds, mean ± half range\n| variant     | validation      | test (600)      | negation set (40) |\n|---|---|---|---|\n%s",
		strings.Join(table, "\n"))
	if best != ShippedSentiment {
		t.Errorf("the best mean validation accuracy is %s's (%.4f); ShippedSentiment says %s", best, bestVal, ShippedSentiment)
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

// meanSpread is "mean ± half the range".
func meanSpread(v []float64) string {
	lo, hi := v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return fmt.Sprintf("%.4f ± %.4f", mean(v), (hi-lo)/2)
}

// ShippedSentiment is the variant the sentiment plugin ships (`make
// models`: edgetrain fit --task text --ngrams 2), chosen on validation
// accuracy. Measured (int8, seeds 1-3, mean ± half range):
//
//	| variant     | validation      | test (600)      | negation set (40) |
//	| bag-words   | 0.8333 ± 0.0187 | 0.8200 ± 0.0033 | 0.5667 ± 0.0500 |
//	| bag-bigrams | 0.8361 ± 0.0167 | 0.7906 ± 0.0050 | 0.6083 ± 0.0375 |
//	| lstm        | 0.8042 ± 0.0042 | 0.8011 ± 0.0250 | 0.6667 ± 0.0500 |
const ShippedSentiment = "bag-bigrams"
