package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/format"
)

const wdbc = "../../data/medical/breast_cancer_wdbc/breast_cancer_wdbc.csv"

// TestFitEvalTabular runs the CLI end to end on the bundled breast cancer
// data: fit with --json and --plot, the file's metadata, eval of the same
// file reproducing the int8 figures, and the same seed giving the same
// bytes.
func TestFitEvalTabular(t *testing.T) {
	dir := t.TempDir()
	out, png := filepath.Join(dir, "wdbc.erm"), filepath.Join(dir, "curves.png")
	code, stdout, stderr := runArgs("fit", "--task", "tabular", "--data", wdbc, "--target", "diagnosis", "--out", out, "--plot", png, "--json", "--seed", "3")
	if code != 0 {
		t.Fatalf("fit: exit %d: %s", code, stderr)
	}
	var rep fitReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if rep.Kind != "binary" || rep.MainMetric != "roc_auc" || len(rep.History) == 0 || rep.Int8 == nil {
		t.Fatalf("report %+v", rep)
	}
	for _, k := range []string{"accuracy", "macro_f1", "roc_auc", "pr_auc"} {
		if _, ok := rep.F32[k]; !ok {
			t.Errorf("f32 metrics lack %s: %v", k, rep.F32)
		}
	}
	// Chance is 0.5 AUC; a trained model on this data is far above.
	if rep.Int8["roc_auc"] < 0.95 || rep.Int8["accuracy"] < 0.9 {
		t.Errorf("int8 test figures %v: the model did not learn", rep.Int8)
	}
	if !strings.Contains(stderr, "Epoch 1/") || !strings.Contains(stderr, "test split: the rows listed in") {
		t.Errorf("progress on stderr:\n%s", stderr)
	}
	if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("plot: %v", err)
	}
	fm, err := format.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	md := fm.Metadata
	if md.Task == "" || len(md.Labels) != 2 || len(md.Features) != 30 || md.Producer.Name != "edgetrain" || !strings.HasPrefix(md.DataFingerprint, "sha256:") {
		t.Errorf("metadata %+v", md)
	}
	var sawInt8 bool
	for _, m := range md.Metrics {
		if m.Variant == "int8" && m.Name == "roc_auc" && m.Value == rep.Int8["roc_auc"] {
			sawInt8 = true
		}
	}
	if !sawInt8 {
		t.Errorf("the file's metrics %v lack the int8 roc_auc %v", md.Metrics, rep.Int8["roc_auc"])
	}

	code, stdout, stderr = runArgs("eval", out, "--data", wdbc, "--test-rows", filepath.Join(filepath.Dir(wdbc), "test_rows.txt"), "--json")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	var ev evalReport
	if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Rows != 114 || ev.Int8["roc_auc"] != rep.Int8["roc_auc"] || ev.Int8["accuracy"] != rep.Int8["accuracy"] {
		t.Errorf("eval on the test rows %+v differs from fit's %v", ev, rep.Int8)
	}

	again := filepath.Join(dir, "again.erm")
	if code, _, stderr := runArgs("fit", "--task", "tabular", "--data", wdbc, "--target", "diagnosis", "--out", again, "--json", "--seed", "3"); code != 0 {
		t.Fatal(stderr)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Error("two runs with the same seed wrote different files")
	}
}

// TestFitBadInput: clear one-line errors for a missing file, an unknown
// target column and a malformed row (with its line number).
func TestFitBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("a,b,y\n1,2,x\n3,4\n5,6,z\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", filepath.Join(dir, "none.csv")}, "none.csv"},
		{[]string{"--data", wdbc, "--target", "nope"}, "nope"},
		{[]string{"--data", bad}, "line 3"},
		{[]string{"--data", wdbc, "--ngrams", "2"}, "--ngrams is for --task text"},
		{[]string{"--data", wdbc, "--arch", "lstm"}, "--arch is for --task text"},
		{[]string{"--data", wdbc, "--bidirectional"}, "--bidirectional is for --task text"},
		{[]string{"--data", wdbc, "--min-count", "2"}, "--min-count is for --task text"},
	} {
		args := append([]string{"fit", "--task", "tabular", "--out", filepath.Join(dir, "m.erm")}, c.args...)
		code, _, stderr := runArgs(args...)
		if code != 1 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q (want one line naming %q)", c.args, code, stderr, c.want)
		}
	}
}
