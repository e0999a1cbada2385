package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdktest"
)

// TestPluginsInferCSV drives the built-in risk plugin with `plugins
// infer --csv`: rows of the bundled Lending Club CSV (its target column
// ignored) become one request, whose risk scores are the probabilities
// `run --csv` gives on the plugin's model for the same table; reordered
// columns and a headerless table give the same answer; an unknown
// category, a missing column and a bad number are named by row and
// column as run names them.
func TestPluginsInferCSV(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a plugin binary")
	}
	bin, _ := sdktest.Build(t, "github.com/edgerun/edgerun/plugins/builtin/cmd/risk")
	runArgs("plugins", "lock", bin).wantOK(t)
	header, rows := readTable(t, filepath.Join("..", "..", "data", "fraud_risk", "lending_club", "lending_club.csv"))
	rows = rows[:6]
	rows[1][slices.Index(header, "annual_inc")] = "NA" // imputed
	rows[2][slices.Index(header, "addr_state")] = "NA"
	table := writeTable(t, header, rows, header, true)

	type response struct {
		Outputs []struct {
			Name  string  `json:"name"`
			Shape []int64 `json:"shape"`
			Data  []any   `json:"data"`
		} `json:"outputs"`
	}
	scores := func(r result) []float64 {
		t.Helper()
		r.wantOK(t)
		var res response
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
			t.Fatalf("%v\n%s", err, r.stdout)
		}
		for _, o := range res.Outputs {
			if o.Name == "risk_score" {
				if !slices.Equal(o.Shape, []int64{int64(len(rows))}) {
					t.Fatalf("risk_score shape %v, want [%d]", o.Shape, len(rows))
				}
				out := make([]float64, len(o.Data))
				for i, v := range o.Data {
					out[i] = v.(float64)
				}
				return out
			}
		}
		t.Fatalf("no risk_score:\n%s", r.stdout)
		return nil
	}
	got := scores(runArgs("plugins", "infer", bin, "--csv", table, "--json"))

	// The same table through run --csv on the plugin's model.
	model := filepath.Join("..", "..", "plugins", "builtin", "risk", "model.erm")
	ran := decodeRun(t, runArgs("run", model, "--csv", table, "--json"))
	for i, ps := range ran.Predictions {
		for _, p := range ps {
			if p.Label == "bad" && math.Abs(p.Probability-got[i]) > 1e-6 {
				t.Errorf("row %d: plugin risk score %v, run's p(bad) %v", i+1, got[i], p.Probability)
			}
		}
	}
	if len(ran.Predictions) != len(rows) {
		t.Fatalf("run: %d predictions", len(ran.Predictions))
	}

	var inputs []string // the plugin's inputs, in its description's order
	var d descJSON
	r := runArgs("plugins", "describe", bin, "--json")
	r.wantOK(t)
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatal(err)
	}
	for _, in := range d.Inputs {
		inputs = append(inputs, in.Name)
	}
	reversed := slices.Clone(header)
	slices.Reverse(reversed)
	for name, path := range map[string]string{
		"reordered": writeTable(t, header, rows, reversed, true),
		"no header": writeTable(t, header, rows, inputs, false),
	} {
		if again := scores(runArgs("plugins", "infer", bin, "--csv", path, "--json")); !slices.Equal(again, got) {
			t.Errorf("%s: scores %v, want %v", name, again, got)
		}
	}

	bad := slices.Clone(rows)
	bad[2] = slices.Clone(rows[2])
	bad[2][slices.Index(header, "sub_grade")] = "Z9"
	unknown := writeTable(t, header, bad, header, true)
	noGrade := writeTable(t, header, rows, slices.DeleteFunc(slices.Clone(header), func(h string) bool { return h == "sub_grade" }), true)
	bad[2] = slices.Clone(rows[2])
	bad[2][slices.Index(header, "int_rate")] = "high"
	word := writeTable(t, header, bad, header, true)
	for path, want := range map[string]string{
		unknown: `row 3 (line 4), column 4 "sub_grade": "Z9" is not one of the column's categories ("A1", "A2", "A3", "A4", "A5", "B1", "B2", "B3", and `,
		noGrade: `line 1: column "sub_grade" is missing from the header (it also has "Class"); risk takes "funded_amnt", "term", "int_rate", "sub_grade", `,
		word:    `row 3 (line 4), column 3 "int_rate": "high" is not a number`,
	} {
		runArgs("plugins", "infer", bin, "--csv", path).wantFail(t, 1, "edgerun: plugins infer: "+path+": "+want)
		// run names them the same way.
		if !strings.HasPrefix(want, "line 1") {
			runArgs("run", model, "--csv", path).wantFail(t, 1, "edgerun: run "+model+": "+path+": "+want)
		}
	}
	runArgs("plugins", "infer", bin, "--csv", table, "--set", "term=term_36").wantFail(t, 1, "edgerun: plugins infer: --set and --csv: give the values as columns of the table")
	runArgs("plugins", "infer", bin, "--csv", table, "--text", "x").wantFail(t, 2, "edgerun: --text and --csv can't be used together")
	os.Remove(table)
	runArgs("plugins", "infer", bin, "--csv", table).wantFail(t, 1, "edgerun: plugins infer: open "+table+": no such file or directory")
}

// TestCSVPluginRequest: csvPluginRequest turns a table into the inputs
// a description asks for (NaN and "NA" for missing values, categories
// trimmed, ids, text as it is), and refuses what it cannot send, naming
// the row and column. It needs no plugin binary.
func TestCSVPluginRequest(t *testing.T) {
	d := &sdk.Description{Name: "p", Inputs: []sdk.TensorSpec{
		{Name: "amount", Datatype: sdk.FP32, Shape: []int64{-1}},
		{Name: "grade", Datatype: sdk.BYTES, Shape: []int64{-1}, Categories: []string{"A", "B"}},
		{Name: "user", Datatype: sdk.INT32, Shape: []int64{-1}},
		{Name: "note", Datatype: sdk.BYTES, Shape: []int64{-1}},
	}}
	lim := defaultRequestLimits()
	req, err := csvPluginRequest(d, strings.NewReader("note,user,grade,amount,extra\nhi there,1, B ,2.5,x\n,2,NA,,y\n"), lim)
	if err != nil {
		t.Fatal(err)
	}
	in := func(name string) *sdk.Tensor { return req.Input(name) }
	if a := in("amount"); !slices.Equal(a.Shape, []int64{2}) || a.FP32[0] != 2.5 || !math.IsNaN(float64(a.FP32[1])) {
		t.Errorf("amount %+v", a)
	}
	if g := in("grade"); string(g.BYTES[0]) != "B" || string(g.BYTES[1]) != "NA" {
		t.Errorf("grade %q", g.BYTES)
	}
	if u := in("user"); !slices.Equal(u.INT32, []int32{1, 2}) {
		t.Errorf("user %v", u.INT32)
	}
	if n := in("note"); string(n.BYTES[0]) != "hi there" || string(n.BYTES[1]) != "" {
		t.Errorf("note %q", n.BYTES)
	}
	for _, tc := range []struct{ csv, want string }{
		{"amount,grade,user,note\n1,C,1,x\n", `row 1 (line 2), column 2 "grade": "C" is not one of the column's categories ("A", "B")`},
		{"amount,grade,user,note\n1,A,x,x\n", `row 1 (line 2), column 3 "user": "x" is not an integer`},
		{"amount,grade,user,note\n1,A,NA,x\n", `row 1 (line 2), column 3 "user": "NA" is not an integer`},
		{"amount,grade,user,note\n1,A,3000000000,x\n", `row 1 (line 2): column "user": 3000000000 is out of the INT32 range`},
		{"amount,grade,note\n1,A,x\n", `line 1: column "user" is missing from the header; p takes "amount", "grade", "user", "note"`},
		{"1,A,2\n", `line 1: the first row is neither a header (it names none of the columns "amount", "grade", "user", "note") nor a data row (3 fields, not 4)`},
	} {
		if _, err := csvPluginRequest(d, strings.NewReader(tc.csv), lim); err == nil || err.Error() != tc.want {
			t.Errorf("%q: %v, want %s", tc.csv, err, tc.want)
		}
	}
	win := &sdk.Description{Name: "maintenance", Inputs: []sdk.TensorSpec{{Name: "window", Datatype: sdk.FP32, Shape: []int64{-1, 3, 128}}}}
	if _, err := csvPluginRequest(win, strings.NewReader("1\n"), lim); err == nil || err.Error() != `--csv needs a plugin whose inputs take one value a row (shape [-1]); maintenance's input "window" is FP32 [?,3,128] (use --input)` {
		t.Errorf("window plugin: %v", err)
	}
}
