package main

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/runtime/audio"
)

// The built-in keyword spotter and the bundled synthetic clips.
const (
	kwsModel = "../../plugins/builtin/kws/model.erm"
	kwsClips = "../../data/keyword_spotting/espeak_commands_synthetic/wav"
)

func kwsClip(t *testing.T, name string) *audio.Clip {
	t.Helper()
	c, err := audio.ReadWAVFile(filepath.Join(kwsClips, name+".wav"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRunWAV: --wav runs the stored front end; the label comes first,
// at any sample rate, and a model without a front end says so.
func TestRunWAV(t *testing.T) {
	for _, name := range []string{"left_spk003", "stop_spk010"} {
		c := kwsClip(t, name)
		word := strings.Split(name, "_")[0]
		for _, rate := range []int{16000, 44100} {
			r, err := audio.Resample(c, rate)
			if err != nil {
				t.Fatal(err)
			}
			p := writeFile(t, "clip.wav", string(audio.EncodeWAV(r)))
			res := runArgs("run", kwsModel, "--wav", p, "--json")
			res.wantOK(t)
			var out struct {
				Predictions [][]struct {
					Label       string  `json:"label"`
					Probability float64 `json:"probability"`
				} `json:"predictions"`
			}
			if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
				t.Fatal(err)
			}
			if len(out.Predictions) != 1 || len(out.Predictions[0]) != 12 || out.Predictions[0][0].Label != word {
				t.Errorf("%s at %d Hz: %+v", name, rate, out.Predictions)
			}
		}
	}
	bad := writeFile(t, "bad.wav", "RIFF....WAVEjunk")
	runArgs("run", kwsModel, "--wav", bad).wantFail(t, 1, "edgerun: run "+kwsModel+": --wav "+bad+": audio:")
	path, _ := archModel(t, "mlp:4-8-3", false)
	runArgs("run", path, "--wav", filepath.Join(kwsClips, "yes_spk000.wav")).wantFail(t, 1, "edgerun: run "+path+": --wav "+filepath.Join(kwsClips, "yes_spk000.wav")+": needs a keyword-spotting model")
	runArgs("run", kwsModel, "--wav", bad, "--text", "x").wantFail(t, 2, "edgerun: run: --text, --wav given")
}

// kwsStream is 1 s of quiet, then each clip and 1 s of quiet: the
// samples and when each word starts.
func kwsStream(t *testing.T, names ...string) ([]float32, []float64) {
	rng := rand.New(rand.NewPCG(4, 4))
	quiet := func() []float32 {
		s := make([]float32, 16000)
		for i := range s {
			s[i] = float32(rng.NormFloat64() * 3e-4)
		}
		return s
	}
	s := quiet()
	var at []float64
	for _, n := range names {
		at = append(at, float64(len(s))/16000)
		s = append(s, kwsClip(t, n).Samples...)
		s = append(s, quiet()...)
	}
	return s, at
}

// TestListen: raw PCM on standard input and a WAV file give the same
// detection lines, each word once near its time, and a summary.
func TestListen(t *testing.T) {
	names := []string{"yes_spk002", "stop_spk005", "left_spk007", "go_spk009"}
	s, at := kwsStream(t, names...)
	raw := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(raw[2*i:], uint16(int16(math.Round(float64(v)*32767))))
	}
	defer func(f *os.File) { os.Stdin = f }(os.Stdin)
	f, err := os.Open(writeFile(t, "stream.raw", string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	os.Stdin = f
	res := runArgs("listen", "--model", kwsModel)
	if res.code != 0 || !strings.Contains(res.stderr, "µs of compute per 10 ms hop") {
		t.Fatalf("%v", res)
	}
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if len(lines) != len(names) {
		t.Fatalf("%d detections, want %d:\n%s", len(lines), len(names), res.stdout)
	}
	for i, l := range lines {
		var d listenDetection
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatal(err)
		}
		if want := strings.Split(names[i], "_")[0]; d.Keyword != want || d.Time < at[i] || d.Time > at[i]+1.5 || d.Confidence < 0.7 {
			t.Errorf("line %d: %+v, want %s between %.2f and %.2f s", i, d, want, at[i], at[i]+1.5)
		}
	}
	wav := writeFile(t, "stream.wav", string(audio.EncodeWAV(&audio.Clip{Rate: 16000, Samples: s})))
	res2 := runArgs("listen", "--model", kwsModel, "--wav", wav, "--quiet")
	res2.wantOK(t)
	if res2.stdout != res.stdout {
		t.Errorf("WAV file:\n%s\nstandard input:\n%s", res2.stdout, res.stdout)
	}
	runArgs("listen", "--model", kwsModel, "--threshold", "0").wantFail(t, 1, "edgerun: listen "+kwsModel+": --threshold=0")
	runArgs("listen", "--model", kwsModel, "--wav", filepath.Join(t.TempDir(), "none.wav")).wantFail(t, 1, "edgerun: listen ")
	path, _ := archModel(t, "mlp:4-8-3", false)
	runArgs("listen", "--model", path).wantFail(t, 1, "edgerun: listen "+path+": needs a keyword-spotting model")
}
