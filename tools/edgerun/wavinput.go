package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/audio"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// errNoAudio is --wav's error for a model without an audio front end.
var errNoAudio = errors.New("needs a keyword-spotting model (its metadata has an audio front end: audio_frontend, clip_samples, frames)")

// audioInput is the model's audio input description, checked against its
// graph input: f32 [?, Frames, Features].
func audioInput(m *engine.Model) (audio.ModelInput, error) {
	if metaValue(&m.Meta, audio.KeyFrontend) == "" {
		return audio.ModelInput{}, errNoAudio
	}
	ai, err := audio.ParseModelInput(func(k string) string { return metaValue(&m.Meta, k) })
	if err != nil {
		return audio.ModelInput{}, err
	}
	if len(m.Inputs) != 1 || m.Inputs[0].DType != tensor.F32 || len(m.Inputs[0].Shape) != 3 ||
		(m.Inputs[0].Shape[1] != -1 && m.Inputs[0].Shape[1] != ai.Frames) || m.Inputs[0].Shape[2] != ai.Frontend.Features() {
		return audio.ModelInput{}, fmt.Errorf("the model's audio front end gives [?, %d, %d], but it takes %s", ai.Frames, ai.Frontend.Features(), inputNames(m.Inputs))
	}
	return ai, nil
}

// metaValue is the metadata's Extra value of key, or "".
func metaValue(md *format.Metadata, key string) string {
	for _, kv := range md.Extra {
		if kv.Key == key {
			return kv.Value
		}
	}
	return ""
}

// wavInput reads a WAV clip (at most limit bytes), resamples it to the
// model's rate, pads or crops it to the model's window (centred) and runs
// the stored front end: the input [1, frames, features].
func wavInput(m *engine.Model, r io.Reader, limit int64) (*tensor.Tensor, error) {
	ai, err := audioInput(m)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes (%s)", limit, maxRequestFlag)
	}
	clip, err := audio.DecodeWAV(b)
	if err != nil {
		return nil, err
	}
	if clip, err = audio.Resample(clip, ai.Frontend.Rate); err != nil {
		return nil, err
	}
	fe, err := audio.NewFrontend(ai.Frontend)
	if err != nil {
		return nil, err
	}
	feats := make([]float32, ai.Features())
	if _, err := fe.Frames(feats, audio.FitWindow(nil, clip.Samples, ai.Clip)); err != nil {
		return nil, err
	}
	return tensor.NewF32(tensor.Shape{1, ai.Frames, ai.Frontend.Features()}, feats), nil
}
