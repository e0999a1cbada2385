package serve

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/edgerun/edgerun/runtime/audio"
	"github.com/edgerun/edgerun/sdk"
)

// TestOpenERMKeywordSpotter: a keyword-spotting .erm is served as the
// kws plugin serves it: the input audio (samples), one clip or a stream.
func TestOpenERMKeywordSpotter(t *testing.T) {
	root := filepath.Join("..", "..", "..", "..")
	m, closeModel, err := OpenERM(filepath.Join(root, "plugins", "builtin", "kws", "model.erm"), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer closeModel()
	d, err := m.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "audio" || d.Inputs[0].Datatype != sdk.FP32 {
		t.Fatalf("inputs %+v", d.Inputs)
	}
	c, err := audio.ReadWAVFile(filepath.Join(root, "data", "keyword_spotting", "espeak_commands_synthetic", "wav", "stop_spk010.wav"))
	if err != nil {
		t.Fatal(err)
	}
	req := &sdk.InferRequest{Inputs: []sdk.Tensor{{Name: "audio", Datatype: sdk.FP32, Shape: []int64{int64(len(c.Samples))}, FP32: c.Samples}}}
	resp, err := m.Infer(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(resp.Outputs[0].BYTES[0]); resp.Outputs[0].Name != "label" || got != "stop" {
		t.Errorf("one clip: %s = %q, want stop", resp.Outputs[0].Name, got)
	}
	// The same clip as a stream in 100 ms chunks, then 1 s of silence.
	s := append(append(make([]float32, 8000), c.Samples...), make([]float32, 16000)...)
	var heard []string
	for lo := 0; lo < len(s); lo += 1600 {
		req := &sdk.InferRequest{Inputs: []sdk.Tensor{{Name: "audio", Datatype: sdk.FP32, Shape: []int64{1600}, FP32: s[lo : lo+1600]}},
			Parameters: map[string]string{"stream": "t"}}
		resp, err := m.Infer(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range resp.Outputs {
			if o.Name == "keyword" {
				for _, b := range o.BYTES {
					heard = append(heard, string(b))
				}
			}
		}
	}
	if len(heard) != 1 || heard[0] != "stop" {
		t.Errorf("stream: heard %v, want [stop]", heard)
	}
}
