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
