package intent_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/plugins/builtin/intent"
	"github.com/edgerun/edgerun/plugins/builtin/internal/plugintest"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdktest"
)

func newModel(t *testing.T) sdk.Model {
	t.Helper()
	m, err := intent.New()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestQueries(t *testing.T) {
	m := newModel(t)
	for _, c := range []struct{ text, want string }{
		{"I still have not received my new card", "card_arrival"},
		{"how do I reset my passcode?", "passcode_forgotten"},
		{"what is the exchange rate for euros", "exchange_rate"},
	} {
		resp := plugintest.Infer(t, m, &sdk.InferRequest{Inputs: []sdk.Tensor{plugintest.Text("text", c.text)},
			Parameters: map[string]string{"top_k": "5"}})
		top := plugintest.Strings(t, resp, "top_k_labels")
		scores := plugintest.Output(t, resp, "top_k_scores").FP32
		if len(top) != 5 || top[0] != plugintest.Strings(t, resp, "label")[0] {
			t.Fatalf("%q: top %v", c.text, top)
		}
		for i := 1; i < len(scores); i++ {
			if scores[i] > scores[i-1] {
				t.Errorf("%q: scores not descending: %v", c.text, scores)
			}
		}
		if top[0] != c.want {
			t.Errorf("%q: %v %v, want %s first", c.text, top, scores, c.want)
		}
	}
}

func TestAccuracy(t *testing.T) {
	m := newModel(t)
	const dir = "data/intent/banking77/"
	tab := plugintest.ReadCSV(t, dir+"banking77.csv")
	rows := plugintest.TestRows(t, dir+"test_rows.txt")
	tc, lc := tab.Col("text"), tab.Col("intent")
	right := 0
	for start := 0; start < len(rows); start += 1000 {
		batch := rows[start:min(start+1000, len(rows))]
		texts := make([]string, len(batch))
		for i, r := range batch {
			texts[i] = tab.Rows[r][tc]
		}
		got := plugintest.Strings(t, plugintest.Infer(t, m, &sdk.InferRequest{Inputs: []sdk.Tensor{plugintest.Text("text", texts...)}}), "label")
		for i, r := range batch {
			if got[i] == tab.Rows[r][lc] {
				right++
			}
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
		{Inputs: []sdk.Tensor{plugintest.Text("text", "card")}, Parameters: map[string]string{"top_k": "0"}},
		{Inputs: []sdk.Tensor{plugintest.Text("text", "card")}, Parameters: map[string]string{"top_k": "79"}},
		{Inputs: []sdk.Tensor{plugintest.Text("text", "card")}, Parameters: map[string]string{"top_k": "three"}},
	} {
		_, err := m.Infer(context.Background(), req)
		if !errors.Is(err, sdk.ErrInvalidInput) {
			t.Errorf("%+v: %v, want invalid input", req, err)
		}
	}
}

func TestConformance(t *testing.T) {
	m := newModel(t)
	sdktest.Run(t, m)
	t.Run("wire", func(t *testing.T) { sdktest.Run(t, sdktest.Serve(t, m)) })
}

// TestOutOfScope: text outside banking (greetings, chit-chat, weather,
// other products) comes out as intent.OutOfScope. Measured with
// out-of-scope as the positive class on the held-out out-of-domain lines
// (data/intent/out_of_scope/heldout.txt, never trained on) and the
// BANKING77 test split; the in-domain accuracy counts an in-domain query
// answered out-of-scope as wrong.
func TestOutOfScope(t *testing.T) {
	m := newModel(t)
	label := func(texts ...string) []string {
		t.Helper()
		var out []string
		for start := 0; start < len(texts); start += 1000 {
			out = append(out, plugintest.Strings(t, plugintest.Infer(t, m, &sdk.InferRequest{
				Inputs: []sdk.Tensor{plugintest.Text("text", texts[start:min(start+1000, len(texts))]...)}}), "label")...)
		}
		return out
	}
	for _, s := range []string{"hello", "hi there", "what's the weather like today"} {
		if got := label(s)[0]; got != intent.OutOfScope {
			t.Errorf("%q: %s, want %s", s, got, intent.OutOfScope)
		}
	}
	const dir = "data/intent/"
	ood := plugintest.ReadLines(t, dir+"out_of_scope/heldout.txt")
	tab := plugintest.ReadCSV(t, dir+"banking77/banking77.csv")
	rows := plugintest.TestRows(t, dir+"banking77/test_rows.txt")
	tc, lc := tab.Col("text"), tab.Col("intent")
	in := make([]string, len(rows))
	for i, r := range rows {
		in[i] = tab.Rows[r][tc]
	}
	var tp, fn, fp, right int
	for _, l := range label(ood...) {
		if l == intent.OutOfScope {
			tp++
		} else {
			fn++
		}
	}
	for i, l := range label(in...) {
		switch l {
		case intent.OutOfScope:
			fp++
		case tab.Rows[rows[i]][lc]:
			right++
		}
	}
	prec, rec := float64(tp)/float64(max(tp+fp, 1)), float64(tp)/float64(tp+fn)
	acc := float64(right) / float64(len(rows))
	t.Logf("out-of-scope: precision %.3f recall %.3f (%d of %d held-out out-of-domain lines; %d of %d in-domain test queries flagged); in-domain accuracy %.4f",
		prec, rec, tp, tp+fn, fp, len(rows), acc)
	if rec < 0.65 || prec < 0.9 || acc < 0.89 {
		t.Errorf("out-of-scope precision %.3f (want ≥ 0.9), recall %.3f (want ≥ 0.65), in-domain accuracy %.4f (want ≥ 0.89)", prec, rec, acc)
	}
}
