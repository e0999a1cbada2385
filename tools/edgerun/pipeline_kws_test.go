package main

import (
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/runtime/audio"
)

// kwsTruth reads the committed stream's command words and start times.
func kwsTruth(t *testing.T) ([]string, []float64) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "data", "keyword_spotting", "stream", "truth.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var words []string
	var at []float64
	for _, r := range recs[1:] {
		if r[0] != "_unknown_" {
			s, _ := strconv.ParseFloat(r[2], 64)
			words, at = append(words, r[0]), append(at, s)
		}
	}
	return words, at
}

// kwsPipeline runs the committed example with its paths made absolute,
// the source replaced by src when not empty, and returns the alarms'
// labels and window indices.
func kwsPipeline(t *testing.T, example, src string) ([]string, []uint64, onceOutput) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "boards", "examples", "kws", example))
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "../../../", root+"/")
	if src != "" {
		lines := strings.Split(text, "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, "source:") {
				lines[i] = "source: " + src
			}
		}
		text = strings.Join(lines, "\n")
	}
	cfg := filepath.Join(t.TempDir(), example)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runArgs("pipeline", "--once", "--config", cfg)
	if r.code != 0 {
		t.Fatal(r)
	}
	var out onceOutput
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	var labels []string
	var wins []uint64
	for _, d := range out.Decisions {
		if d.Changed && d.Alarm {
			labels, wins = append(labels, d.Label), append(wins, d.Window)
		}
	}
	return labels, wins, out
}

// TestKWSPipelineExample: the committed example spots every command word
// of the committed stream once, in order, in the 100 ms chunk after the
// word starts or within 1.5 s.
func TestKWSPipelineExample(t *testing.T) {
	words, at := kwsTruth(t)
	labels, wins, out := kwsPipeline(t, "stream.yaml", "")
	st := out.Stats
	if st.Windows != 284 || st.Inferences != 284 || st.ModelErrors != 0 || st.SensorErrors != 0 || st.Drops["window"] != 0 {
		t.Errorf("stats %+v", st)
	}
	if !slices.Equal(labels, words) {
		t.Fatalf("alarms %v, want %v", labels, words)
	}
	for i, w := range wins {
		end := float64(w+1) * 0.1 // the chunk's end, s
		if end < at[i] || end > at[i]+1.5 {
			t.Errorf("%s (from %.2f s) raised in the chunk ending at %.1f s", words[i], at[i], end)
		}
	}
}

// TestKWSPipelinePCM: the same stream as raw 48 kHz PCM on standard
// input (as arecord -r 48000 writes it), resampled by the source: the same
// words.
func TestKWSPipelinePCM(t *testing.T) {
	words, _ := kwsTruth(t)
	c, err := audio.ReadWAVFile(filepath.Join("..", "..", "data", "keyword_spotting", "stream", "stream.wav"))
	if err != nil {
		t.Fatal(err)
	}
	if c, err = audio.Resample(c, 48000); err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 2*len(c.Samples))
	for i, v := range c.Samples {
		binary.LittleEndian.PutUint16(raw[2*i:], uint16(int16(math.Round(float64(max(-1, min(1, v)))*32767))))
	}
	f, err := os.Open(writeFile(t, "mic.raw", string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defer func(s *os.File) { os.Stdin = s }(os.Stdin)
	os.Stdin = f
	labels, _, out := kwsPipeline(t, "mic.yaml", `{kind: pcm, path: "-", format: s16le, input_rate: 48000}`)
	if !slices.Equal(labels, words) {
		t.Errorf("alarms %v, want %v (stats %+v)", labels, words, out.Stats)
	}
}
