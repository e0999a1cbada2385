package risk_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/plugins/builtin/internal/plugintest"
	"github.com/edgerun/edgerun/plugins/builtin/risk"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdktest"
)

const dir = "data/fraud_risk/lending_club/"

func newModel(t *testing.T) sdk.Model {
	t.Helper()
	m, err := risk.New()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// request builds one request with a row per data row from the CSV columns
// the description names ("NA" and empty numbers become NaN, imputed).
func request(t testing.TB, d *sdk.Description, tab *plugintest.Table, rows []int) *sdk.InferRequest {
	t.Helper()
	req := &sdk.InferRequest{}
	for _, in := range d.Inputs {
		c := tab.Col(in.Name)
		if c < 0 {
			t.Fatalf("input %q is not a CSV column", in.Name)
		}
		var v []string
		for _, r := range rows {
			v = append(v, tab.Rows[r][c])
		}
		if in.Datatype == sdk.BYTES {
			for i := range v {
				if v[i] == "" {
					v[i] = "NA"
				}
			}
			req.Inputs = append(req.Inputs, plugintest.Text(in.Name, v...))
			continue
		}
		f := make([]float32, len(v))
		for i, s := range v {
			x, err := strconv.ParseFloat(s, 32)
			if err != nil {
				x = math.NaN()
			}
			f[i] = float32(x)
		}
		req.Inputs = append(req.Inputs, plugintest.FP32(in.Name, []int64{int64(len(v))}, f...))
	}
	return req
}

// TestAccuracy: at the default threshold, the decisions reproduce the
// recorded test accuracy (declined = predicted bad).
func TestAccuracy(t *testing.T) {
	m := newModel(t)
	d := plugintest.Description(t, m)
	tab := plugintest.ReadCSV(t, dir+"lending_club.csv")
	rows := plugintest.TestRows(t, dir+"test_rows.txt")
	resp := plugintest.Infer(t, m, request(t, d, tab, rows))
	dec := plugintest.Strings(t, resp, risk.OutDecision)
	score := plugintest.Output(t, resp, risk.OutScore).FP32
	right, declinedBad, bad := 0, 0, 0
	for i, r := range rows {
		isBad := tab.Rows[r][tab.Col("Class")] == "bad"
		if (dec[i] == "decline") == isBad {
			right++
		}
		if isBad {
			bad++
			if dec[i] == "decline" {
				declinedBad++
			}
		}
		if (dec[i] == "decline") != (score[i] >= risk.DefaultThreshold) {
			t.Fatalf("row %d: score %v, decision %s", r, score[i], dec[i])
		}
	}
	acc := float64(right) / float64(len(rows))
	t.Logf("accuracy %.4f, %d of %d bad loans declined; %s", acc, declinedBad, bad, d.Provenance)
	if want := fmt.Sprintf("accuracy %.3f", acc); !strings.Contains(d.Provenance, want) {
		t.Errorf("%s is not the accuracy the model file records: %s", want, d.Provenance)
	}
	// A threshold of 1 declines nothing a float32 probability below 1 scores.
	req := request(t, d, tab, rows[:50])
	req.Parameters = map[string]string{"threshold": "0.999999"}
	for i, s := range plugintest.Strings(t, plugintest.Infer(t, m, req), risk.OutDecision) {
		if s != "approve" && score[i] < 0.999999 {
			t.Errorf("row %d declined at threshold 0.999999 with score %v", rows[i], score[i])
		}
	}
}

func TestBadInput(t *testing.T) {
	m := newModel(t)
	d := plugintest.Description(t, m)
	tab := plugintest.ReadCSV(t, dir+"lending_club.csv")
	cat := -1
	for i, in := range d.Inputs {
		if in.Datatype == sdk.BYTES {
			cat = i
			break
		}
	}
	unknown := request(t, d, tab, []int{0})
	unknown.Inputs[cat] = plugintest.Text(unknown.Inputs[cat].Name, "no such category")
	missing := request(t, d, tab, []int{0})
	missing.Inputs = missing.Inputs[:len(missing.Inputs)-1]
	threshold := request(t, d, tab, []int{0})
	threshold.Parameters = map[string]string{"threshold": "1.5"}
	for name, req := range map[string]*sdk.InferRequest{"unknown category": unknown, "missing feature": missing, "threshold": threshold} {
		_, err := m.Infer(context.Background(), req)
		if !errors.Is(err, sdk.ErrInvalidInput) {
			t.Errorf("%s: %v, want invalid input", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
}

func TestConformance(t *testing.T) {
	m := newModel(t)
	d := plugintest.Description(t, m)
	req := request(t, d, plugintest.ReadCSV(t, dir+"lending_club.csv"), []int{0})
	sdktest.Run(t, m, sdktest.WithRequests(req))
	t.Run("wire", func(t *testing.T) { sdktest.Run(t, sdktest.Serve(t, m), sdktest.WithRequests(req)) })
	// With no request given, the suite builds one from the description:
	// each categorical feature takes its first category.
	t.Run("described", func(t *testing.T) { sdktest.Run(t, m) })
}
