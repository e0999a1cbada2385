package sensor

import (
	"bytes"
	"encoding/csv"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/tools/train"
)

// writeSynth writes n synthetic windows of steps samples to dir/name,
// with replace applied to each line (label rewrites).
func writeSynth(t *testing.T, dir, name string, n, steps int, seed uint64, replace ...string) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteSynthetic(&b, n, steps, seed); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if len(replace) > 0 {
		s = strings.NewReplacer(replace...).Replace(s)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSynthetic: the generator is deterministic per seed, writes the
// documented header and only the documented classes, all of them.
func TestSynthetic(t *testing.T) {
	gen := func(seed uint64) string {
		var b bytes.Buffer
		if err := WriteSynthetic(&b, 50, 16, seed); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	a, b, c := gen(7), gen(7), gen(8)
	if a != b {
		t.Fatal("same seed, different data")
	}
	if a == c {
		t.Fatal("different seeds, same data")
	}
	lines := strings.Split(strings.TrimSpace(a), "\n")
	if len(lines) != 51 {
		t.Fatalf("%d lines, want a header and 50 rows", len(lines))
	}
	hdr := strings.Split(lines[0], ",")
	if len(hdr) != 3*16+1 || hdr[0] != "vib_x_t0" || hdr[16] != "vib_y_t0" || hdr[47] != "current_t15" || hdr[48] != "label" {
		t.Fatalf("header %v", hdr)
	}
	seen := map[string]int{}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) != len(hdr) {
			t.Fatalf("row of %d fields", len(f))
		}
		seen[f[len(f)-1]]++
	}
	for _, l := range SyntheticLabels {
		if seen[l] == 0 {
			t.Errorf("no %q window in %v", l, seen)
		}
	}
	if len(seen) != len(SyntheticLabels) {
		t.Errorf("labels %v", seen)
	}
}

// engineOutputs runs set through fm in the engine and returns the rows.
func engineOutputs(t *testing.T, fm *format.Model, set *train.EvalSet) [][]float64 {
	t.Helper()
	m, err := engine.Load(fm)
	if err != nil {
		t.Fatal(err)
	}
	s := m.NewSession()
	defer s.Close()
	var out [][]float64
	for _, in := range set.Batches {
		res, err := s.Run(in)
		if err != nil {
			t.Fatal(err)
		}
		y := res[0]
		cols := y.Shape[len(y.Shape)-1]
		for r := 0; r < len(y.F32); r += cols {
			row := make([]float64, cols)
			for j, v := range y.F32[r : r+cols] {
				row[j] = float64(v)
			}
			out = append(out, row)
		}
	}
	return out
}

// TestFitLearns: a short run on synthetic windows (3 classes, chance
// about 0.4) learns: the exported model, f32 and int8, classifies the
// separate test file well above chance through the engine; EvalSet
// rebuilds the same test set from the CSV and the saved model; the
// metadata carries the task, labels, window and channels; and
// 1 − p(healthy) separates healthy from faulty windows.
func TestFitLearns(t *testing.T) {
	dir := t.TempDir()
	trainCSV := writeSynth(t, dir, "train.csv", 360, 64, 1)
	testCSV := writeSynth(t, dir, "test.csv", 150, 64, 2)
	o := train.FitOptions{Data: trainCSV, Test: testCSV, Epochs: 8, Seed: 3, Logf: t.Logf}
	res, err := Fit(o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Kind != train.Multiclass || strings.Join(res.Labels, ",") != "bearing_fault,healthy,imbalance" || res.MetricName != "accuracy" {
		t.Fatalf("kind %s, labels %v, metric %s", res.Kind, res.Labels, res.MetricName)
	}
	if strings.Join(res.Quantizable, ",") != "conv1d,conv1d_1,conv1d_2,dense" {
		t.Errorf("quantizable %v", res.Quantizable)
	}
	for _, q := range []bool{false, true} {
		fm, err := res.Export(q, nil)
		if err != nil {
			t.Fatal(err)
		}
		met, _, err := train.EvalEngine(fm, res.Kind, res.Test)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("int8=%v: test accuracy %.3f through the engine", q, met["accuracy"])
		if met["accuracy"] < 0.8 {
			t.Errorf("int8=%v: test accuracy %.3f", q, met["accuracy"])
		}
		set, kind, err := EvalSet(fm, testCSV, train.FitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		met2, _, err := train.EvalEngine(fm, kind, set)
		if err != nil {
			t.Fatal(err)
		}
		if kind != res.Kind || len(set.Y) != len(res.Test.Y) || met2["accuracy"] != met["accuracy"] {
			t.Errorf("EvalSet: kind %s, %d targets (want %d), accuracy %v (want %v)", kind, len(set.Y), len(res.Test.Y), met2["accuracy"], met["accuracy"])
		}
		md := fm.Metadata
		extra := map[string]string{}
		for _, kv := range md.Extra {
			extra[kv.Key] = kv.Value
		}
		if md.Task != Task || extra["window"] != "64" || extra["channels"] != "vib_x,vib_y,current" || extra["normal_label"] != "healthy" || len(md.Features) != 3 {
			t.Errorf("metadata %+v", md)
		}
		if q {
			// Anomaly detection from the classifier: 1 − p(healthy).
			out := engineOutputs(t, fm, res.Test)
			sc, ok := AnomalyScores(out, md.Labels, extra["normal_label"])
			if !ok {
				t.Fatal("no anomaly score")
			}
			faulty := make([]float64, len(set.Y))
			for i, y := range res.Test.Y {
				if md.Labels[int(y)] != "healthy" {
					faulty[i] = 1
				}
			}
			auc := train.ROCAUC(sc, faulty)
			t.Logf("int8: anomaly ROC AUC (healthy vs fault) %.3f", auc)
			if auc < 0.9 {
				t.Errorf("anomaly ROC AUC %.3f", auc)
			}
		}
	}
}

// TestFitBinary: with two classes (healthy vs fault) the model is binary:
// one sigmoid output, labels [negative, positive], ROC AUC as the main
// metric, and it learns.
func TestFitBinary(t *testing.T) {
	dir := t.TempDir()
	r := []string{",bearing_fault\n", ",fault\n", ",imbalance\n", ",fault\n"}
	trainCSV := writeSynth(t, dir, "train.csv", 300, 64, 4, r...)
	res, err := Fit(train.FitOptions{Data: trainCSV, Epochs: 8, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if res.Kind != train.Binary || len(res.Labels) != 2 || res.MetricName != "roc_auc" {
		t.Fatalf("kind %s, labels %v, metric %s", res.Kind, res.Labels, res.MetricName)
	}
	fm, err := res.Export(true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := fm.Graph.Outputs[0].Shape; len(s) != 2 || s[1] != 1 {
		t.Errorf("output shape %v", s)
	}
	met, _, err := train.EvalEngine(fm, res.Kind, res.Test)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("binary int8: %v", met)
	if met["roc_auc"] < 0.85 {
		t.Errorf("ROC AUC %.3f", met["roc_auc"])
	}
	out := engineOutputs(t, fm, res.Test)
	sc, ok := AnomalyScores(out, res.Labels, "healthy")
	if !ok {
		t.Fatal("no anomaly score")
	}
	faulty := make([]float64, len(res.Test.Y))
	for i, y := range res.Test.Y {
		if res.Labels[int(y)] != "healthy" {
			faulty[i] = 1
		}
	}
	if auc := train.ROCAUC(sc, faulty); auc < 0.85 {
		t.Errorf("anomaly ROC AUC %.3f", auc)
	}
}

// TestBadRows: a value that is not a number is an error naming its line,
// or skipped with SkipBadRows; missing values are imputed; a missing
// step column, or no window column, is a clear error.
func TestBadRows(t *testing.T) {
	dir := t.TempDir()
	var b bytes.Buffer
	if err := WriteSynthetic(&b, 40, 8, 9); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	f := strings.Split(lines[5], ",") // data row 4, file line 6
	f[3] = "oops"
	lines[5] = strings.Join(f, ",")
	f = strings.Split(lines[7], ",")
	f[2], f[9] = "", "NA" // missing: imputed
	lines[7] = strings.Join(f, ",")
	p := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Fit(train.FitOptions{Data: p, Epochs: 1, Seed: 1})
	if err == nil || !strings.Contains(err.Error(), "line 6") || !strings.Contains(err.Error(), "oops") {
		t.Fatalf("error %v, want one naming line 6", err)
	}
	var notes []string
	res, err := Fit(train.FitOptions{Data: p, Epochs: 1, Seed: 1, SkipBadRows: true, Logf: func(f string, a ...any) { notes = append(notes, f) }})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Test.Y); n != 8 {
		t.Errorf("%d test windows, want 8 (20 %% of 39, by class)", n)
	}
	if !strings.Contains(strings.Join(notes, "\n"), "skipped %d rows with a value that is not a number") {
		t.Errorf("notes %q", notes)
	}
	fm, err := res.Export(false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := EvalSet(fm, p, train.FitOptions{}); err == nil || !strings.Contains(err.Error(), "line 6") {
		t.Errorf("EvalSet error %v, want one naming line 6", err)
	}
	set, _, err := EvalSet(fm, p, train.FitOptions{SkipBadRows: true})
	if err != nil || len(set.Y) != 39 {
		t.Errorf("EvalSet skipping: %v, %d targets", err, len(set.Y))
	}

	hdr := strings.Replace(lines[0], "vib_y_t3,", "vib_y_t9,", 1)
	q := filepath.Join(dir, "gap.csv")
	os.WriteFile(q, []byte(hdr+"\n"+strings.Join(lines[1:], "\n")+"\n"), 0o644)
	if _, err := Fit(train.FitOptions{Data: q, Epochs: 1}); err == nil || !strings.Contains(err.Error(), "vib_y_t3") {
		t.Errorf("missing step: error %v", err)
	}
	r := filepath.Join(dir, "flat.csv")
	os.WriteFile(r, []byte("a,b,label\n1,2,x\n3,4,y\n"), 0o644)
	if _, err := Fit(train.FitOptions{Data: r, Epochs: 1}); err == nil || !strings.Contains(err.Error(), "no window columns") {
		t.Errorf("no window columns: error %v", err)
	}
}

// TestSeeded: the same data and seed give the same model bytes.
func TestSeeded(t *testing.T) {
	dir := t.TempDir()
	p := writeSynth(t, dir, "d.csv", 80, 16, 6)
	var enc [2][]byte
	for i := range enc {
		res, err := Fit(train.FitOptions{Data: p, Epochs: 2, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		fm, err := res.Export(true, nil)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := format.Write(&b, fm); err != nil {
			t.Fatal(err)
		}
		enc[i] = b.Bytes()
	}
	if !bytes.Equal(enc[0], enc[1]) {
		t.Error("same seed, different model bytes")
	}
}

// TestRecordingReproducible: data/maintenance/recording.csv is what
// `edgetrain datasets sensor --stream 8 --fault-at 5 --seed 1` writes.
func TestRecordingReproducible(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("..", "..", "..", "data", "maintenance", "recording.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := WriteSyntheticStream(&got, 8, 5, "bearing_fault", 1); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("the generator writes %d bytes, the committed recording has %d: regenerate it (data/maintenance/README.md)", got.Len(), len(want))
	}
}

// TestSyntheticStream: the header, one row per sample, the fault's
// vibration energy above the healthy part's, and bad arguments refused.
func TestSyntheticStream(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSyntheticStream(&b, 2, 1, "bearing_fault", 7); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "time,vib_x,vib_y,current" || len(rows) != 1+2*SyntheticRate {
		t.Fatalf("header %q, %d rows", rows[0], len(rows))
	}
	// Peak |vib_x| before and after the fault: the impulses add to it.
	var before, after float64
	for _, r := range rows[1:] {
		tm, _ := strconv.ParseFloat(r[0], 64)
		v, _ := strconv.ParseFloat(r[1], 64)
		if tm < 1 {
			before = max(before, math.Abs(v))
		} else {
			after = max(after, math.Abs(v))
		}
	}
	if after <= before {
		t.Errorf("peak vibration %.3f after the fault, %.3f before", after, before)
	}
	for _, bad := range []struct {
		secs, at float64
		fault    string
	}{{0, 0, "bearing_fault"}, {2, -1, "bearing_fault"}, {2, 1, "healthy"}, {2, 1, "wobble"}, {math.NaN(), 1, "imbalance"}} {
		if err := WriteSyntheticStream(io.Discard, bad.secs, bad.at, bad.fault, 1); err == nil {
			t.Errorf("%v s, fault %q at %v: no error", bad.secs, bad.fault, bad.at)
		}
	}
}
