package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runWithin runs the CLI, failing the test if it has not returned after
// two minutes: a safety net for the NaN loops that used to spin forever,
// not a speed check.
func runWithin(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	type res struct {
		code           int
		stdout, stderr string
	}
	done := make(chan res, 1)
	go func() {
		c, o, e := runArgs(args...)
		done <- res{c, o, e}
	}()
	select {
	case r := <-done:
		return r.code, r.stdout, r.stderr
	case <-time.After(2 * time.Minute):
		t.Fatalf("edgetrain %v did not return", args)
		return 0, "", ""
	}
}

// overflowCSV writes the breast cancer data with its first feature set to
// 1e300, beyond float32: the engine's outputs become NaN.
func overflowCSV(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(wdbc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:] {
		r[1] = "1e300"
	}
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(out)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestNaNOutputsAreAnError: a model whose outputs are NaN on the test set
// used to hang `fit` and `eval` for ever (the ROC and PR AUC tie loops);
// both now fail with one line naming the cause, and fit writes no model.
func TestNaNOutputsAreAnError(t *testing.T) {
	dir := t.TempDir()
	model, nan := filepath.Join(dir, "m.erm"), filepath.Join(dir, "nan.csv")
	overflowCSV(t, nan)
	if code, _, stderr := runWithin(t, "fit", "--task", "tabular", "--data", wdbc, "--target", "diagnosis", "--epochs", "2", "--out", model); code != 0 {
		t.Fatalf("fit: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runWithin(t, "eval", model, "--data", nan)
	if code != 1 || stdout != "" || !strings.HasPrefix(stderr, "edgetrain: eval: train: non-finite model output: row 0 gives NaN") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("eval of NaN outputs: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	out2 := filepath.Join(dir, "m2.erm")
	code, _, stderr = runWithin(t, "fit", "--task", "tabular", "--data", wdbc, "--test", nan, "--target", "diagnosis", "--epochs", "2", "--out", out2)
	if code != 1 || !strings.Contains(stderr, "edgetrain: fit: evaluating the f32 export: train: non-finite model output: row 0 gives NaN") {
		t.Errorf("fit with a NaN test set: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(out2); !os.IsNotExist(err) {
		t.Errorf("fit wrote %s anyway (%v)", out2, err)
	}
}

// TestNumericFlagsChecked: --epochs 0 or negative used to train the
// task's default (30, 200 epochs...) silently; every count and bound is
// now checked.
func TestNumericFlagsChecked(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.erm")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"fit", "--task", "tabular", "--data", wdbc, "--out", model, "--epochs", "0"}, "edgetrain: fit: --epochs must be at least 1 (got 0)\n"},
		{[]string{"fit", "--task", "tabular", "--data", wdbc, "--out", model, "--epochs=-3"}, "edgetrain: fit: --epochs must be at least 1 (got -3)\n"},
		{[]string{"fit", "--task", "tabular", "--data", wdbc, "--out", model, "--max-drop=-1"}, "edgetrain: fit: --max-drop must be a number of points, 0 or more (got -1)\n"},
		{[]string{"fit", "--task", "tabular", "--data", wdbc, "--out", model, "--max-drop", "NaN"}, "edgetrain: fit: --max-drop must be a number of points, 0 or more (got NaN)\n"},
		{[]string{"quantize", wdbc, "--out", model, "--max-drop=-0.5"}, "edgetrain: quantize: --max-drop must be a number of points, 0 or more (got -0.5)\n"},
		{[]string{"quantize", wdbc, "--out", model, "--max-drop", "+Inf"}, "edgetrain: quantize: --max-drop must be a number of points, 0 or more (got +Inf)\n"},
		{[]string{"datasets", "sensor", "--out", model, "--windows", "0"}, "edgetrain: datasets sensor: --windows must be positive\n"},
		{[]string{"datasets", "sensor", "--out", model, "--windows=-2"}, "edgetrain: datasets sensor: --windows must be positive\n"},
	} {
		code, stdout, stderr := runWithin(t, c.args...)
		if code != 1 || stdout != "" || stderr != c.want {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 1 and %q", c.args, code, stdout, stderr, c.want)
		}
	}
	if _, err := os.Stat(model); !os.IsNotExist(err) {
		t.Errorf("a refused command wrote %s (%v)", model, err)
	}
	// --epochs 1 is one epoch, not the default.
	code, stdout, stderr := runWithin(t, "fit", "--task", "tabular", "--data", wdbc, "--target", "diagnosis", "--out", model, "--epochs", "1", "--no-progress")
	if code != 0 || !strings.Contains(stdout, "Epoch 1/1 ") || strings.Contains(stdout, "Epoch 2/") {
		t.Errorf("--epochs 1: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
