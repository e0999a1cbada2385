package kws

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/audio"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/tools/train"
)

const (
	bundled = "../../../data/keyword_spotting/espeak_commands_synthetic/manifest.csv"
	real    = "../../../data/keyword_spotting/real_english_words/manifest.csv"
)

func TestReadManifest(t *testing.T) {
	rows, err := ReadManifest(bundled)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 120 || rows[0].Label != "yes" || rows[0].Speaker != "spk000" || rows[0].Line != 2 {
		t.Fatalf("%d rows, first %+v", len(rows), rows[0])
	}
	if want := filepath.Join(filepath.Dir(bundled), "wav", "yes_spk000.wav"); rows[0].Path != want {
		t.Errorf("path %q, want %q", rows[0].Path, want)
	}
	dir := t.TempDir()
	for name, body := range map[string]string{
		"empty.csv":    "",
		"nolabel.csv":  "file,speaker\na.wav,s\n",
		"norows.csv":   "file,label\n",
		"blank.csv":    "file,label\na.wav,\n",
		"badquote.csv": "file,label\n\"a.wav,yes\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadManifest(p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A missing clip is an error naming the line when loaded.
	p := filepath.Join(dir, "missing.csv")
	os.WriteFile(p, []byte("file,label\nnope.wav,yes\n"), 0o644)
	rows, err = ReadManifest(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loadClip(rows[0], 16000); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("missing clip: %v", err)
	}
}

// TestAugment: the same generator gives the same example; noise is mixed
// at the SNR asked; silence is quiet.
func TestAugment(t *testing.T) {
	c, err := audio.ReadWAVFile(filepath.Join(filepath.Dir(bundled), "wav", "stop_spk004.wav"))
	if err != nil {
		t.Fatal(err)
	}
	a := newAugmenter(16000, 16000, nil)
	for seed := range uint64(20) {
		x, err := a.apply(rand.New(rand.NewPCG(seed, 1)), c.Samples)
		if err != nil {
			t.Fatal(err)
		}
		y, _ := a.apply(rand.New(rand.NewPCG(seed, 1)), c.Samples)
		if len(x) != 16000 || !slices.Equal(x, y) {
			t.Fatalf("seed %d: %d samples, repeatable %v", seed, len(x), slices.Equal(x, y))
		}
		for _, v := range x {
			if !(v >= -1 && v <= 1) {
				t.Fatalf("seed %d: sample %v outside [-1, 1]", seed, v)
			}
		}
	}
	for _, snr := range snrsDB {
		s := slices.Clone(c.Samples)
		noise := genNoise(rand.New(rand.NewPCG(1, 2)), 1, len(s))
		mixNoise(s, noise, snr)
		var pn float64
		for i := range s {
			d := float64(s[i] - c.Samples[i])
			pn += d * d
		}
		got := 10 * math.Log10(power(c.Samples)/(pn/float64(len(s))))
		if math.Abs(got-snr) > 0.05 {
			t.Errorf("mixed at %v dB, measured %.2f dB", snr, got)
		}
	}
	for seed := range uint64(10) {
		s := a.silence(rand.New(rand.NewPCG(seed, 3)))
		if db := 10 * math.Log10(power(s)+1e-30); db > -19.9 {
			t.Errorf("silence at %.1f dBFS", db)
		}
	}
}

// TestFitShort trains a short run on the bundled sets and checks the
// export through the engine: labels, metadata, f32 against the trainer,
// int8 beside f32, the metrics, and EvalSet on a manifest.
func TestFitShort(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	o := train.FitOptions{Data: bundled, Other: []string{real}, Seed: 3}
	tr, err := fit(o, hyper{Epochs: 3, Batch: 32, Patience: 0, Copies: 2, LR: 3e-3})
	if err != nil {
		t.Fatal(err)
	}
	want := append(slices.Sorted(slices.Values(Commands)), Unknown, Silence)
	if !slices.Equal(tr.Labels, want) {
		t.Fatalf("labels %v, want %v", tr.Labels, want)
	}
	f32m, err := tr.Export(false, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := tr.Export(true, nil)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := ReadMeta(&q.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	if meta.Frontend != audio.DefaultConfig() || meta.Clip != 16000 || meta.Frames != 98 || meta.Commands != 10 {
		t.Errorf("metadata %+v", meta)
	}
	// The file round-trips and stays small.
	var buf bytes.Buffer
	if err := format.Write(&buf, q); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 100<<10 {
		t.Errorf("int8 model is %d bytes, over 100 KiB", buf.Len())
	}
	for _, m := range []*format.Model{f32m, q} {
		met, _, err := tr.Score(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"accuracy", "macro_f1", "command_accuracy", "false_accept", "noisy_command_accuracy", "real_command_recall"} {
			if v, ok := met[k]; !ok || v < 0 || v > 1 {
				t.Errorf("metric %s = %v (present %v)", k, v, ok)
			}
		}
	}
	// f32 through the engine is the trainer's model: the validation
	// split's predictions agree.
	outE, err := train.EngineOutputs(f32m, tr.Val)
	if err != nil {
		t.Fatal(err)
	}
	outQ, err := train.EngineOutputs(q, tr.Val)
	if err != nil {
		t.Fatal(err)
	}
	agree := 0
	for i := range outE {
		if argmax(outE[i]) == argmax(outQ[i]) {
			agree++
		}
	}
	if agree < len(outE)*9/10 {
		t.Errorf("int8 agrees with f32 on %d of %d validation clips", agree, len(outE))
	}
	// EvalSet maps labels the model lacks to _unknown_, _noise_ to _silence_.
	set, kind, err := EvalSet(q, real, o)
	if err != nil || kind != train.Multiclass {
		t.Fatal(kind, err)
	}
	rows, _ := ReadManifest(real)
	idx := map[string]int{}
	for i, l := range want {
		idx[l] = i
	}
	for i, r := range rows {
		if got := int(set.Y[i]); got != mapLabel(idx, r.Label) || (r.Label == "no" && got != idx["no"]) || (r.Label == Noise && got != idx[Silence]) {
			t.Fatalf("row %d (%s): class %d", i, r.Label, got)
		}
	}
	met, _, _, err := Score(q, bundled, o, engine.WithF32())
	if err != nil || met["command_accuracy"] != met["accuracy"] {
		t.Errorf("Score on the command set: %v, %v", met, err)
	}
}

func argmax(r []float64) int {
	k := 0
	for j, v := range r {
		if v > r[k] {
			k = j
		}
	}
	return k
}

// TestFitErrors: what the recipe refuses.
func TestFitErrors(t *testing.T) {
	dir := t.TempDir()
	only := filepath.Join(dir, "unknown.csv")
	abs, _ := filepath.Abs(filepath.Join(filepath.Dir(bundled), "wav", "yes_spk000.wav"))
	os.WriteFile(only, []byte("file,label\n"+abs+",_unknown_\n"), 0o644)
	for _, o := range []train.FitOptions{{}, {Data: only}, {Data: bundled, TestRows: "x"}, {Data: filepath.Join(dir, "none.csv")}} {
		if _, err := fit(o, hyper{Epochs: 1, Batch: 8, Copies: 1}); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

// TestSynthesize: espeak-ng and sox make the same files twice (skipped
// without them unless EDGERUN_REQUIRE_ESPEAK=1, as make test sets).
func TestSynthesize(t *testing.T) {
	for _, tool := range []string{"espeak-ng", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("EDGERUN_REQUIRE_ESPEAK") != "" {
				t.Fatalf("%s is not installed (scripts/ensure-deps installs it)", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
	var sums [2][]byte
	for i := range sums {
		dir := t.TempDir()
		if err := Synthesize(context.Background(), SynthOptions{Dir: dir, Speakers: 2, Unknown: 2, Seed: 7}); err != nil {
			t.Fatal(err)
		}
		rows, err := ReadManifest(filepath.Join(dir, "manifest.csv"))
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 24 {
			t.Fatalf("%d rows, want 2 × 12", len(rows))
		}
		for _, r := range rows {
			b, err := os.ReadFile(r.Path)
			if err != nil {
				t.Fatal(err)
			}
			c, err := audio.DecodeWAV(b)
			if err != nil || c.Rate != 16000 || len(c.Samples) != 16000 || power(c.Samples) == 0 {
				t.Fatalf("%s: %v", r.File, err)
			}
			sums[i] = append(sums[i], b...)
		}
	}
	if !bytes.Equal(sums[0], sums[1]) {
		t.Error("the same options gave different files")
	}
	if err := Synthesize(context.Background(), SynthOptions{Dir: t.TempDir(), Speakers: 0}); err == nil {
		t.Error("0 speakers: no error")
	}
}
