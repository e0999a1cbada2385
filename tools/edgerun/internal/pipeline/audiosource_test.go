package pipeline

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/runtime/audio"
)

// readAudio reads an audio source to its end.
func readAudio(t *testing.T, yaml string, stdin io.Reader) ([]float64, error) {
	t.Helper()
	c, err := Parse("p.yaml", t.TempDir(), []byte(yaml), NewKinds(Deps{Stdin: stdin}))
	if err != nil {
		t.Fatal(err)
	}
	src, err := c.Source.Open()
	if err != nil {
		return nil, err
	}
	defer src.Close()
	if ch := src.Channels(); len(ch) != 1 || ch[0] != AudioChannel {
		t.Fatalf("channels %v", ch)
	}
	var out []float64
	for {
		r, err := src.Read(context.Background())
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, r.Values[0])
	}
}

const audioPipeline = `sample_rate: 16000
source: SRC
window: {size: 160, hop: 160}
model: {erm: m.erm}
rule: {output: keyword, labels: [yes]}
sinks: [{kind: stdout}]
`

func TestAudioSources(t *testing.T) {
	// s16le, two channels interleaved: the first is read.
	var raw bytes.Buffer
	for i := range 1000 {
		binary.Write(&raw, binary.LittleEndian, int16(i*10))
		binary.Write(&raw, binary.LittleEndian, int16(-1))
	}
	raw.WriteByte(7) // a partial last frame is dropped
	got, err := readAudio(t, strings.Replace(audioPipeline, "SRC", `{kind: pcm, channels: 2}`, 1), bytes.NewReader(raw.Bytes()))
	if err != nil || len(got) != 1000 || got[1] != 10.0/32768 || got[999] != 9990.0/32768 {
		t.Fatalf("s16le: %d samples, %v", len(got), err)
	}
	// f32le at 48 kHz, resampled to 16 kHz: a third as many samples.
	raw.Reset()
	for i := range 4800 {
		binary.Write(&raw, binary.LittleEndian, float32(0.5*math.Sin(float64(i)/10)))
	}
	got, err = readAudio(t, strings.Replace(audioPipeline, "SRC", `{kind: pcm, format: f32le, input_rate: 48000}`, 1), bytes.NewReader(raw.Bytes()))
	if err != nil || len(got) != 1600 {
		t.Fatalf("f32le 48 kHz: %d samples, %v", len(got), err)
	}
	// A NaN in f32le is a failed read that names it.
	raw.Reset()
	binary.Write(&raw, binary.LittleEndian, float32(math.NaN()))
	if _, err := readAudio(t, strings.Replace(audioPipeline, "SRC", `{kind: pcm, format: f32le}`, 1), bytes.NewReader(raw.Bytes())); err == nil || !strings.Contains(err.Error(), "not audio") {
		t.Errorf("NaN: %v", err)
	}
	// A WAV file at 8 kHz, resampled to the source's rate.
	dir := t.TempDir()
	wav := filepath.Join(dir, "a.wav")
	os.WriteFile(wav, audio.EncodeWAV(&audio.Clip{Rate: 8000, Samples: make([]float32, 800)}), 0o644)
	got, err = readAudio(t, strings.Replace(audioPipeline, "SRC", `{kind: wav, path: `+wav+`}`, 1), nil)
	if err != nil || len(got) != 1600 {
		t.Fatalf("wav: %d samples, %v", len(got), err)
	}
	// Bad fields are config errors; a missing file fails at open.
	for _, src := range []string{`{kind: pcm, format: s24le}`, `{kind: pcm, channels: 0}`, `{kind: pcm, input_rate: 10}`, `{kind: wav}`, `{kind: wav, path: x.wav, rate: 5}`} {
		if _, err := Parse("p.yaml", t.TempDir(), []byte(strings.Replace(audioPipeline, "SRC", src, 1)), NewKinds(Deps{})); err == nil {
			t.Errorf("%s: no error", src)
		}
	}
	if _, err := readAudio(t, strings.Replace(audioPipeline, "SRC", `{kind: wav, path: `+filepath.Join(dir, "none.wav")+`}`, 1), nil); err == nil {
		t.Error("missing WAV: no error")
	}
}
