package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// tracingSubset writes the answers of 300 training and 100 test students
// of the bundled ASSISTments log as a plain CSV: a fit make test affords.
func tracingSubset(t *testing.T, dir string) string {
	t.Helper()
	f, err := os.Open("../../data/education/assistments_2009/assistments_2009.csv.zst")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := zstd.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	p := filepath.Join(dir, "answers.csv")
	var b strings.Builder
	sc := bufio.NewScanner(zr)
	sc.Scan()
	b.WriteString(sc.Text() + "\n")
	for sc.Scan() {
		line := sc.Text()
		stu, err := strconv.Atoi(line[:strings.IndexByte(line, ',')])
		if err != nil {
			t.Fatal(err)
		}
		if stu < 300 || stu >= 3361 && stu < 3461 {
			b.WriteString(line + "\n")
		}
	}
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFitTracing: `fit --task tracing` on a slice of the bundled log
// reports ROC AUC, accuracy and RMSE for f32 and int8 through the engine
// with the per-skill mean and BKT baselines on the same test students,
// learns more than the per-skill mean, and `eval` of the file reproduces
// the int8 figures.
func TestFitTracing(t *testing.T) {
	dir := t.TempDir()
	data := tracingSubset(t, dir)
	out := filepath.Join(dir, "dkt.erm")
	code, stdout, stderr := runArgs("fit", "--task", "tracing", "--data", data, "--student-col", "student", "--skill-col", "skill",
		"--correct-col", "correct", "--order-col", "step", "--split-col", "split", "--epochs", "3", "--out", out, "--json")
	if code != 0 {
		t.Fatalf("fit: exit %d: %s", code, stderr)
	}
	var rep fitReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	for _, k := range []string{"roc_auc", "accuracy", "rmse"} {
		if _, ok := rep.F32[k]; !ok {
			t.Errorf("f32 metrics lack %s: %v", k, rep.F32)
		}
		if _, ok := rep.Int8[k]; !ok {
			t.Errorf("int8 metrics lack %s: %v", k, rep.Int8)
		}
		for _, b := range []string{"skill_mean", "bkt"} {
			if _, ok := rep.Baselines[b][k]; !ok {
				t.Errorf("baseline %s lacks %s: %v", b, k, rep.Baselines)
			}
		}
	}
	// Three epochs of the default model on 300 students only start to
	// learn (tools/train/tracing's TestDKTShort checks a real margin).
	if rep.Int8["roc_auc"] <= rep.Baselines["skill_mean"]["roc_auc"] {
		t.Errorf("int8 AUC %.4f is not above the per-skill mean's %.4f", rep.Int8["roc_auc"], rep.Baselines["skill_mean"]["roc_auc"])
	}
	if !strings.Contains(stderr, "the 100 students whose rows say split=test") {
		t.Errorf("stderr:\n%s", stderr)
	}
	code, stdout, stderr = runArgs("eval", out, "--data", data, "--json")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	var ev evalReport
	if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Int8["roc_auc"] != rep.Int8["roc_auc"] || ev.Int8["rmse"] != rep.Int8["rmse"] {
		t.Errorf("eval %+v differs from fit's %v", ev, rep.Int8)
	}
	if code, _, stderr := runArgs("fit", "--task", "tracing", "--data", data, "--split-col", "fold", "--out", out); code == 0 || !strings.Contains(stderr, `no column "fold"`) {
		t.Errorf("a missing --split-col: exit %d: %s", code, stderr)
	}
}
