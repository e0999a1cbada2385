package tabular

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/tools/train"
)

// synth writes a CSV with a numeric column (5 % "NA"), a categorical one
// (some "?"), a large-scale numeric column and three targets: binary,
// three classes and a value. The last quarter of the rows is the test
// split (test_rows.txt).
func synth(t *testing.T, n int) (csvPath, testRows string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	var b strings.Builder
	b.WriteString("x1,cat,big,bin,cls,val\n")
	var tr strings.Builder
	for i := range n {
		x1 := rng.NormFloat64()
		cat := []string{"a", "b", "c"}[rng.IntN(3)]
		big := rng.NormFloat64()
		eff := map[string]float64{"a": 1, "b": -0.5, "c": 0}[cat]
		s := x1 + eff + 0.8*big
		bin := "no"
		if s+0.3*rng.NormFloat64() > 0.3 {
			bin = "yes"
		}
		cls := "low"
		switch {
		case s > 0.8:
			cls = "high"
		case s > -0.4:
			cls = "mid"
		}
		val := 3*x1 + 2*eff + big + 0.1*rng.NormFloat64()
		x1s := fmt.Sprintf("%.4f", x1)
		if rng.IntN(20) == 0 {
			x1s = "NA"
		}
		if rng.IntN(25) == 0 {
			cat = "?"
		}
		fmt.Fprintf(&b, "%s,%s,%.2f,%s,%s,%.4f\n", x1s, cat, 5000+1000*big, bin, cls, val)
		if i >= n*3/4 {
			fmt.Fprintf(&tr, "%d\n", i)
		}
	}
	dir := t.TempDir()
	csvPath, testRows = filepath.Join(dir, "d.csv"), filepath.Join(dir, "test_rows.txt")
	if err := os.WriteFile(csvPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(testRows, []byte(tr.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return csvPath, testRows
}

// TestFitLearns trains each kind on synthetic data and scores the
// exported file through the engine, f32 and int8; EvalSet rebuilds the
// same test set from the saved model's metadata alone.
func TestFitLearns(t *testing.T) {
	data, testRows := synth(t, 800)
	for _, tc := range []struct {
		target, metric string
		kind           train.Kind
		good           func(float64) bool
	}{
		{"bin", "roc_auc", train.Binary, func(v float64) bool { return v > 0.9 }},
		{"cls", "accuracy", train.Multiclass, func(v float64) bool { return v > 0.8 }},
		{"val", "rmse", train.Regression, func(v float64) bool { return v < 1 }}, // the target's std is about 3.6; the 5 % missing x1 alone cost about 0.67
	} {
		t.Run(tc.target, func(t *testing.T) {
			var skipped []string
			o := train.FitOptions{Data: data, TestRows: testRows, Target: tc.target, Seed: 1, Epochs: 40,
				Logf: func(f string, a ...any) { skipped = append(skipped, fmt.Sprintf(f, a...)) }}
			tr, err := Fit(o)
			if err != nil {
				t.Fatal(err)
			}
			if tr.Kind != tc.kind || tr.MetricName != tc.metric || len(tr.Test.Y) != 200 {
				t.Fatalf("kind %s, metric %s, %d test rows", tr.Kind, tr.MetricName, len(tr.Test.Y))
			}
			path := filepath.Join(t.TempDir(), "m.erm")
			for _, q := range []bool{false, true} {
				fm, err := tr.Export(q, nil)
				if err != nil {
					t.Fatal(err)
				}
				met, _, err := train.EvalEngine(fm, tr.Kind, tr.Test)
				if err != nil {
					t.Fatal(err)
				}
				if !tc.good(met[tc.metric]) {
					t.Errorf("int8 %v: %s %.4f", q, tc.metric, met[tc.metric])
				}
				// Through a file and EvalSet: the same figures.
				if err := format.WriteFile(path, fm); err != nil {
					t.Fatal(err)
				}
				back, err := format.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				set, kind, err := EvalSet(back, data, train.FitOptions{TestRows: testRows})
				if err != nil {
					t.Fatal(err)
				}
				met2, _, err := train.EvalEngine(back, kind, set)
				if err != nil {
					t.Fatal(err)
				}
				if kind != tr.Kind || math.Abs(met2[tc.metric]-met[tc.metric]) > 1e-12 {
					t.Errorf("EvalSet: kind %s %s %.6f, want %s %.6f", kind, tc.metric, met2[tc.metric], tr.Kind, met[tc.metric])
				}
			}
			fm, _ := tr.Export(false, nil)
			if fm.Graph.Nodes[0].Op != "Normalize" || len(fm.Metadata.Features) != 5 {
				t.Errorf("graph starts with %s, %d features", fm.Graph.Nodes[0].Op, len(fm.Metadata.Features))
			}
		})
	}
}

// TestFitBadRows: a bad row fails with its line, or is skipped.
func TestFitBadRows(t *testing.T) {
	data, testRows := synth(t, 200)
	b, _ := os.ReadFile(data)
	lines := strings.Split(string(b), "\n")
	lines[5] = "1,a,2"             // line 6: wrong field count
	lines[9] = "1,a,5000,,low,1.0" // line 10: missing target
	os.WriteFile(data, []byte(strings.Join(lines, "\n")), 0o644)
	o := train.FitOptions{Data: data, TestRows: testRows, Target: "bin", Seed: 1, Epochs: 2}
	if _, err := Fit(o); err == nil || !strings.Contains(err.Error(), "line 6: 3 fields, the header has 6") {
		t.Errorf("wrong field count: %v", err)
	}
	lines[5] = "1,a,2,no,low,1"
	os.WriteFile(data, []byte(strings.Join(lines, "\n")), 0o644)
	if _, err := Fit(o); err == nil || !strings.Contains(err.Error(), `line 10: the target "bin" is missing`) {
		t.Errorf("missing target: %v", err)
	}
	lines[5] = "1,a,2"
	os.WriteFile(data, []byte(strings.Join(lines, "\n")), 0o644)
	var log []string
	o.SkipBadRows = true
	o.Logf = func(f string, a ...any) { log = append(log, fmt.Sprintf(f, a...)) }
	tr, err := Fit(o)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(log, "\n")
	if !strings.Contains(all, "skipped 1 bad rows") || !strings.Contains(all, "skipped 1 rows with a bad target") {
		t.Errorf("log:\n%s", all)
	}
	if len(tr.Test.Y) != 50 {
		t.Errorf("%d test rows, want 50", len(tr.Test.Y))
	}
}

// TestFitImage: the image variant on a toy two-class set of 4×4 images.
func TestFitImage(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	b.WriteString("label")
	for i := range 16 {
		fmt.Fprintf(&b, ",px%d", i)
	}
	b.WriteString("\n")
	for i := range 300 {
		c := i % 2
		b.WriteString(fmt.Sprint(c))
		for p := range 16 {
			v := rng.IntN(5)
			if (p%4 < 2) == (c == 0) {
				v += 8
			}
			fmt.Fprintf(&b, ",%d", v)
		}
		b.WriteString("\n")
	}
	path := filepath.Join(t.TempDir(), "img.csv")
	os.WriteFile(path, []byte(b.String()), 0o644)
	tr, err := FitImage(train.FitOptions{Data: path, Seed: 2, Epochs: 5})
	if err != nil {
		t.Fatal(err)
	}
	fm, err := tr.Export(true, nil)
	if err != nil {
		t.Fatal(err)
	}
	met, _, err := train.EvalEngine(fm, tr.Kind, tr.Test)
	if err != nil {
		t.Fatal(err)
	}
	if fm.Metadata.Task != TaskImage || met["accuracy"] < 0.95 || len(tr.Test.Y) != 60 {
		t.Errorf("task %s, accuracy %.3f, %d test rows", fm.Metadata.Task, met["accuracy"], len(tr.Test.Y))
	}
}

// TestSameSeedSameBytes: the same data and seed give the same file.
func TestSameSeedSameBytes(t *testing.T) {
	data, testRows := synth(t, 300)
	var files [][]byte
	for range 2 {
		tr, err := Fit(train.FitOptions{Data: data, TestRows: testRows, Target: "cls", Seed: 5, Epochs: 5})
		if err != nil {
			t.Fatal(err)
		}
		fm, err := tr.Export(true, nil)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "m.erm")
		if err := format.WriteFile(path, fm); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	if string(files[0]) != string(files[1]) {
		t.Error("same seed, different model bytes")
	}
}
