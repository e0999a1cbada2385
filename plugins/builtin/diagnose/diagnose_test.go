package diagnose_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/plugins/builtin/diagnose"
	"github.com/edgerun/edgerun/plugins/builtin/internal/plugintest"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdktest"
)

const dir = "data/medical/breast_cancer_wdbc/"

func newModel(t *testing.T) sdk.Model {
	t.Helper()
	m, err := diagnose.New()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// request builds one request with a row per data row from the CSV columns
// the description names.
func request(t *testing.T, d *sdk.Description, tab *plugintest.Table, rows []int) *sdk.InferRequest {
	t.Helper()
	req := &sdk.InferRequest{}
	for _, in := range d.Inputs {
		c := tab.Col(in.Name)
		if c < 0 || in.Datatype != sdk.FP32 {
			t.Fatalf("input %q (%s) is not a numeric CSV column", in.Name, in.Datatype)
		}
		v := make([]float32, len(rows))
		for i, r := range rows {
			x, err := strconv.ParseFloat(tab.Rows[r][c], 32)
			if err != nil {
				t.Fatal(err)
			}
			v[i] = float32(x)
		}
		req.Inputs = append(req.Inputs, plugintest.FP32(in.Name, []int64{int64(len(rows))}, v...))
	}
	return req
}

func TestAccuracy(t *testing.T) {
	m := newModel(t)
	d := plugintest.Description(t, m)
	if len(d.Inputs) != 30 {
		t.Errorf("%d inputs, want the 30 WDBC features", len(d.Inputs))
	}
	tab := plugintest.ReadCSV(t, dir+"breast_cancer_wdbc.csv")
	rows := plugintest.TestRows(t, dir+"test_rows.txt")
	resp := plugintest.Infer(t, m, request(t, d, tab, rows))
	got := plugintest.Strings(t, resp, "label")
	right := 0
	for i, r := range rows {
		if got[i] == tab.Rows[r][tab.Col("diagnosis")] {
			right++
		}
	}
	acc := float64(right) / float64(len(rows))
	t.Logf("accuracy %.4f on %d test rows; %s", acc, len(rows), d.Provenance)
	if want := fmt.Sprintf("accuracy %.3f", acc); !strings.Contains(d.Provenance, want) {
		t.Errorf("%s is not the accuracy the model file records: %s", want, d.Provenance)
	}
}

func TestMissingValueImputed(t *testing.T) {
	m := newModel(t)
	d := plugintest.Description(t, m)
	tab := plugintest.ReadCSV(t, dir+"breast_cancer_wdbc.csv")
	req := request(t, d, tab, []int{0})
	req.Inputs[3].FP32[0] = float32(math.NaN())
	p := plugintest.Output(t, plugintest.Infer(t, m, req), "probabilities").FP32
	if len(p) != 2 || math.IsNaN(float64(p[0])) {
		t.Errorf("probabilities %v", p)
	}
}

func TestBadInput(t *testing.T) {
	m := newModel(t)
	d := plugintest.Description(t, m)
	tab := plugintest.ReadCSV(t, dir+"breast_cancer_wdbc.csv")
	missing := request(t, d, tab, []int{0})
	missing.Inputs = missing.Inputs[1:]
	text := request(t, d, tab, []int{0})
	text.Inputs[2] = plugintest.Text(text.Inputs[2].Name, "large")
	inf := request(t, d, tab, []int{0})
	inf.Inputs[5].FP32[0] = float32(math.Inf(1))
	for name, req := range map[string]*sdk.InferRequest{"missing feature": missing, "text for a number": text, "infinite": inf} {
		_, err := m.Infer(context.Background(), req)
		if !errors.Is(err, sdk.ErrInvalidInput) {
			t.Errorf("%s: %v, want invalid input", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
}

func TestConformance(t *testing.T) {
	m := newModel(t)
	sdktest.Run(t, m)
	t.Run("wire", func(t *testing.T) { sdktest.Run(t, sdktest.Serve(t, m)) })
}
