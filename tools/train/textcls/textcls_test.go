package textcls

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/tools/train"
)

// subsetCSV writes the header and the rows of src that keep selects to a
// temporary CSV.
func subsetCSV(t *testing.T, src string, keep func(i int, row []string) bool) string {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := [][]string{rows[0]}
	for i, r := range rows[1:] {
		if keep(i, r) {
			out = append(out, r)
		}
	}
	p := filepath.Join(t.TempDir(), filepath.Base(src))
	w, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(out); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFitLearns trains small models on subsets of the bundled data and
// checks, through the engine, that they learned (accuracy well above
// chance, f32 and int8), that the metadata describes the text front end,
// and that EvalSet rebuilds the same test inputs from the saved model.
func TestFitLearns(t *testing.T) {
	root := "../../../data"
	intents := map[string]bool{"card_arrival": true, "exchange_rate": true, "lost_or_stolen_card": true, "top_up_failed": true, "pin_blocked": true}
	for _, tc := range []struct {
		name, data, label string
		keep              func(int, []string) bool
		h                 Hyper
		min               float64
	}{
		{"sentiment-bag", filepath.Join(root, "sentiment/uci_labelled_sentences/uci_labelled_sentences.csv"), "",
			func(i int, _ []string) bool { return i%3 == 0 }, Hyper{Arch: Bag, Dim: 32, MaxLen: 32, NgramMax: 1, Epochs: 12, Batch: 32, LR: 5e-3, Patience: 3}, 0.68},
		{"sentiment-hash", filepath.Join(root, "sentiment/uci_labelled_sentences/uci_labelled_sentences.csv"), "",
			func(i int, _ []string) bool { return i%3 == 0 }, Hyper{Arch: Bag, Dim: 16, MaxLen: 48, NgramMax: 2, Buckets: 4096, Epochs: 10, Batch: 32, LR: 3e-3, Patience: 3}, 0.65},
		{"banking5-gru", filepath.Join(root, "intent/banking77/banking77.csv"), "intent",
			func(_ int, r []string) bool { return intents[r[2]] }, Hyper{Arch: GRU, Dim: 32, Hidden: 32, MaxLen: 24, MinCount: 2, Epochs: 8, Batch: 32, LR: 5e-3, Patience: 3, ClipNorm: 5}, 0.6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := subsetCSV(t, tc.data, tc.keep)
			o := train.FitOptions{Data: data, LabelCol: tc.label, Seed: 7}
			var epochs int
			o.OnEpoch = func(s train.EpochStats) { epochs++ }
			tr, err := FitWith(o, tc.h)
			if err != nil {
				t.Fatal(err)
			}
			if epochs == 0 || epochs != len(tr.History) {
				t.Errorf("OnEpoch called %d times for %d epochs", epochs, len(tr.History))
			}
			for _, q := range []bool{false, true} {
				fm, err := tr.Export(q, nil)
				if err != nil {
					t.Fatal(err)
				}
				met, _, err := train.EvalEngine(fm, tr.Kind, tr.Test)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("int8=%v: %d epochs, test accuracy %.3f (%d rows)", q, len(tr.History), met["accuracy"], len(tr.Test.Y))
				if acc := met["accuracy"]; acc < tc.min {
					t.Errorf("int8=%v: test accuracy %.3f through the engine, want ≥ %.2f", q, acc, tc.min)
				}
				md := fm.Metadata
				if md.Task != Task || len(md.Labels) != len(tr.Labels) || md.Tokenizer == nil || md.Tokenizer.MaxLen != int64(tc.h.MaxLen) {
					t.Fatalf("metadata %+v", md)
				}
				// EvalSet rebuilds the inputs of the whole CSV from the
				// model alone; the test rows are among them.
				set, kind, err := EvalSet(fm, data, train.FitOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if kind != tr.Kind || len(set.Y) < len(tr.Test.Y) || set.Batches[0][0].Shape[1] != tc.h.MaxLen {
					t.Errorf("EvalSet: kind %s (want %s), %d rows (test %d)", kind, tr.Kind, len(set.Y), len(tr.Test.Y))
				}
			}
			if tc.name == "sentiment-bag" && (tr.Kind != train.Binary || len(tr.Labels) != 2) {
				t.Errorf("kind %s, labels %v", tr.Kind, tr.Labels)
			}
			if tc.name == "banking5-gru" && (tr.Kind != train.Multiclass || len(tr.Labels) != 5) {
				t.Errorf("kind %s, labels %v", tr.Kind, tr.Labels)
			}
		})
	}
}

// TestFitNgrams: FitOptions.Ngrams picks the hashing tokenizer with word
// n-grams up to that length; out of range is an error naming the range.
func TestFitNgrams(t *testing.T) {
	data := subsetCSV(t, "../../../data/sentiment/uci_labelled_sentences/uci_labelled_sentences.csv",
		func(i int, _ []string) bool { return i%10 == 0 })
	tr, err := Fit(train.FitOptions{Data: data, Ngrams: 2, Epochs: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	fm, err := tr.Export(false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tk := fm.Metadata.Tokenizer; tk.Kind != "hash-ngram" || tk.NgramMin != 1 || tk.NgramMax != 2 {
		t.Errorf("tokenizer %s %d..%d, want hash-ngram 1..2", tk.Kind, tk.NgramMin, tk.NgramMax)
	}
	for _, n := range []int{-1, 17} {
		if _, err := Fit(train.FitOptions{Data: data, Ngrams: n, Epochs: 1}); err == nil || !strings.Contains(err.Error(), "want 1 to 16") {
			t.Errorf("Ngrams %d: %v, want the range named", n, err)
		}
	}
}

// TestFitArch: FitOptions.TextArch, Bidirectional and MinCount give the
// model asked for (a bidirectional LSTM node, a word vocabulary without
// the words seen once), and contradictory choices are errors.
func TestFitArch(t *testing.T) {
	data := subsetCSV(t, "../../../data/sentiment/uci_labelled_sentences/uci_labelled_sentences.csv",
		func(i int, _ []string) bool { return i%10 == 0 })
	all, err := Fit(train.FitOptions{Data: data, TextArch: "lstm", Epochs: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := Fit(train.FitOptions{Data: data, TextArch: "lstm", Bidirectional: true, MinCount: 2, Epochs: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	fa, err := all.Export(false, nil)
	if err != nil {
		t.Fatal(err)
	}
	fm, err := tr.Export(false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, m := len(fm.Metadata.Tokenizer.Vocab), len(fa.Metadata.Tokenizer.Vocab); n >= m || n < 3 {
		t.Errorf("vocabulary %d words with MinCount 2, %d without: want fewer, not none", n, m)
	}
	bidir := false
	for _, n := range fm.Graph.Nodes {
		if n.Op == "LSTM" {
			for _, a := range n.Attrs {
				bidir = bidir || (a.Name == "direction" && a.String == "bidirectional")
			}
		}
	}
	if !bidir {
		t.Error("no bidirectional LSTM node in the exported graph")
	}
	for _, c := range []struct {
		o    train.FitOptions
		want string
	}{
		{train.FitOptions{TextArch: "cnn"}, "unknown architecture"},
		{train.FitOptions{TextArch: "gru", Ngrams: 2}, "n-grams are for the bag model"},
		{train.FitOptions{Bidirectional: true}, "bidirectional is for the lstm and gru"},
		{train.FitOptions{MinCount: -1}, "minimum word count -1"},
		{train.FitOptions{Ngrams: 2, MinCount: 2}, "hashed n-grams have none"},
	} {
		c.o.Data, c.o.Epochs = data, 1
		if _, err := Fit(c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.o, err, c.want)
		}
	}
}
