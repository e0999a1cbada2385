package sentiment_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/plugins/builtin/internal/plugintest"
	"github.com/edgerun/edgerun/plugins/builtin/sentiment"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdktest"
)

func newModel(t *testing.T) sdk.Model {
	t.Helper()
	m, err := sentiment.New()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSentences(t *testing.T) {
	m := newModel(t)
	for _, c := range []struct{ text, want string }{
		{"great phone", "good"},
		{"The food was delicious and the staff were friendly.", "good"},
		{"This movie was a complete waste of time.", "bad"},
		{"terrible battery, it broke after a week", "bad"},
	} {
		resp := plugintest.Infer(t, m, &sdk.InferRequest{Inputs: []sdk.Tensor{plugintest.Text("text", c.text)}})
		p := plugintest.Output(t, resp, "probabilities").FP32
		if got := plugintest.Strings(t, resp, "label")[0]; got != c.want {
			t.Errorf("%q: %s %v, want %s", c.text, got, p, c.want)
		}
		if math.Abs(float64(p[0]+p[1])-1) > 1e-5 {
			t.Errorf("%q: probabilities %v do not sum to 1", c.text, p)
		}
	}
}

// TestAccuracy: the plugin reproduces the test accuracy the model file
// records (the same tokenizer and engine as the trainer's evaluation).
func TestAccuracy(t *testing.T) {
	m := newModel(t)
	const dir = "data/sentiment/uci_labelled_sentences/"
	tab := plugintest.ReadCSV(t, dir+"uci_labelled_sentences.csv")
	rows := plugintest.TestRows(t, dir+"test_rows.txt")
	tc, lc := tab.Col("text"), tab.Col("label")
	texts := make([]string, len(rows))
	for i, r := range rows {
		texts[i] = tab.Rows[r][tc]
	}
	resp := plugintest.Infer(t, m, &sdk.InferRequest{Inputs: []sdk.Tensor{plugintest.Text("text", texts...)}})
	got := plugintest.Strings(t, resp, "label")
	right := 0
	for i, r := range rows {
		if got[i] == tab.Rows[r][lc] {
			right++
		}
	}
	acc := float64(right) / float64(len(rows))
	d := plugintest.Description(t, m)
	t.Logf("accuracy %.4f on %d test rows; %s", acc, len(rows), d.Provenance)
	if want := fmt.Sprintf("accuracy %.3f", acc); !strings.Contains(d.Provenance, want) {
		t.Errorf("%s is not the accuracy the model file records: %s", want, d.Provenance)
	}
}

func TestBadInput(t *testing.T) {
	m := newModel(t)
	for _, req := range []*sdk.InferRequest{
		{Inputs: []sdk.Tensor{plugintest.Text("text", "")}},
		{Inputs: []sdk.Tensor{plugintest.Text("text", "   \n")}},
		{Inputs: []sdk.Tensor{plugintest.Text("review", "great")}},
		{Inputs: []sdk.Tensor{plugintest.FP32("text", []int64{1}, 1)}},
		{},
	} {
		_, err := m.Infer(context.Background(), req)
		if !errors.Is(err, sdk.ErrInvalidInput) {
			t.Errorf("%+v: %v, want invalid input", req.Inputs, err)
		}
	}
}

func TestConformance(t *testing.T) {
	m := newModel(t)
	sdktest.Run(t, m)
	t.Run("wire", func(t *testing.T) { sdktest.Run(t, sdktest.Serve(t, m)) })
}

// TestNeutral: the sentiment output is neutral when P(good) is within
// NeutralBand of 0.5 or when no word of the text is in the vocabulary
// ("hello", seen once in training, and made-up words), otherwise the
// label; the answers are logged.
func TestNeutral(t *testing.T) {
	labels := []string{"bad", "good"}
	for _, c := range []struct {
		good float32
		want string
	}{
		{0.5, "neutral"}, {0.41, "neutral"}, {0.59, "neutral"}, {0.61, "good"}, {0.39, "bad"}, {0.99, "good"}, {0.01, "bad"},
	} {
		if got := sentiment.Sentiment(labels, []float32{1 - c.good, c.good}); got != c.want {
			t.Errorf("P(good) %v: %s, want %s", c.good, got, c.want)
		}
	}
	m := newModel(t)
	texts := []string{"hello", "not bad at all", "great phone", "This movie was a complete waste of time.", "it is a phone", "the food",
		"the food was not good", "I expected to hate it but loved it", "Blorft zindle quaxy wub"}
	resp := plugintest.Infer(t, m, &sdk.InferRequest{Inputs: []sdk.Tensor{plugintest.Text("text", texts...)}})
	p := plugintest.Output(t, resp, "probabilities").FP32
	label, sent := plugintest.Strings(t, resp, "label"), plugintest.Strings(t, resp, sentiment.OutSentiment)
	for i, s := range texts {
		t.Logf("%q: label %s, P(good) %.8g, sentiment %s", s, label[i], p[2*i+1], sent[i])
		want := label[i]
		if math.Abs(float64(p[2*i+1])-0.5) < sentiment.NeutralBand || s == "hello" || strings.HasPrefix(s, "Blorft") {
			want = sentiment.Neutral
		}
		if sent[i] != want {
			t.Errorf("%q: P(good) %v, sentiment %s, want %s", s, p[2*i+1], sent[i], want)
		}
	}
	if sent[2] != "good" || sent[3] != "bad" {
		t.Errorf("clear reviews: %v, want good and bad", sent[2:4])
	}
}

// TestNeutralZone: on the fixed test rows, the sentences outside the
// neutral zone are classified more accurately than all of them, and the
// zone holds some but not most of them (the figures are logged).
func TestNeutralZone(t *testing.T) {
	m := newModel(t)
	const dir = "data/sentiment/uci_labelled_sentences/"
	tab := plugintest.ReadCSV(t, dir+"uci_labelled_sentences.csv")
	rows := plugintest.TestRows(t, dir+"test_rows.txt")
	tc, lc := tab.Col("text"), tab.Col("label")
	texts := make([]string, len(rows))
	for i, r := range rows {
		texts[i] = tab.Rows[r][tc]
	}
	resp := plugintest.Infer(t, m, &sdk.InferRequest{Inputs: []sdk.Tensor{plugintest.Text("text", texts...)}})
	label, sent := plugintest.Strings(t, resp, "label"), plugintest.Strings(t, resp, sentiment.OutSentiment)
	var right, neutral, sure, sureRight int
	for i, r := range rows {
		ok := label[i] == tab.Rows[r][lc]
		if ok {
			right++
		}
		if sent[i] == sentiment.Neutral {
			neutral++
			continue
		}
		sure++
		if ok {
			sureRight++
		}
	}
	all, outside := float64(right)/float64(len(rows)), float64(sureRight)/float64(sure)
	t.Logf("test rows: %d of %d neutral; accuracy %.4f on all, %.4f outside the neutral zone", neutral, len(rows), all, outside)
	if neutral == 0 || neutral > len(rows)/2 || outside <= all {
		t.Errorf("%d of %d neutral, accuracy outside the zone %.4f vs %.4f on all: want some neutral and a higher accuracy outside", neutral, len(rows), outside, all)
	}
}
