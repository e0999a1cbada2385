// Package kws is the built-in keyword-spotting model of a voice assistant:
// 16 kHz audio in, the command words it hears out (yes, no, up, down,
// left, right, on, off, stop, go; anything else is _unknown_ or
// _silence_). The model (model.erm, embedded) is edgetrain's `--task
// audio` classifier trained on SYNTHETIC speech, espeak-ng voices from
// `edgetrain datasets kws` (make kws-data), with real recorded words
// (GPL-2+) as _unknown_ examples; `make models` regenerates it. It is
// served by sdkrt.NewKWS, which runs the audio front end stored in the
// model (runtime/audio) on the device.
//
// # Two modes
//
// One clip: a request with the input "audio" (FP32 samples in [−1, 1], any
// length up to 60 s) and no "stream" parameter is one utterance: resampled
// from "sample_rate" (default 16000), padded or cropped to the model's
// 1 s window (centred), classified. The response has the label, the
// probabilities of every class, and a detection (keyword, confidence,
// time_s = the clip's duration) when a command word's probability reaches
// "threshold".
//
// Streaming: requests with the parameter "stream" (an id of the caller's
// choosing) carry successive chunks of one audio stream, of any size. The
// plugin keeps the stream's state between calls: the front end runs frame
// by frame, the model on the rolling 1 s window every 10 ms hop, the
// probabilities are averaged over "smoothing_ms", and a command word whose
// average reaches "threshold" is a detection (keyword, confidence, time_s
// from the stream's start), then none for "refractory_ms". Each response
// carries the detections of its chunk and the current smoothed
// probabilities; keyword, confidence and time_s are left out when it has
// none (they are Optional outputs: no tensor is empty). "reset" = true
// starts the stream over. The plugin keeps up to sdkrt.KWSMaxStreams
// streams, dropping the least recently used (its next chunk starts it
// over).
package kws

import (
	_ "embed"
	"strings"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdkrt"
)

//go:embed model.erm
var modelFile []byte

// Name is the plugin's name and domain.
const Name = "kws"

// Version is the plugin's version.
const Version = "1.0.0"

// Input and outputs.
const (
	InAudio          = sdkrt.KWSAudio         // FP32 [samples]
	OutLabel         = sdkrt.OutLabel         // BYTES [1]: the most probable class (streaming: of the smoothed probabilities)
	OutProbabilities = sdkrt.OutProbabilities // FP32 [1, classes]
	OutKeyword       = sdkrt.OutKeyword       // BYTES [k]: the detections' command words
	OutConfidence    = sdkrt.OutConfidence    // FP32 [k]
	OutTime          = sdkrt.OutTime          // FP32 [k]: seconds from the stream's start (one clip: its duration)
)

// Defaults of the request parameters.
const (
	DefaultThreshold    = sdkrt.KWSThreshold
	DefaultSmoothingMS  = sdkrt.KWSSmoothingMS
	DefaultRefractoryMS = sdkrt.KWSRefractoryMS
	MaxStreams          = sdkrt.KWSMaxStreams
)

const dataset = "SYNTHETIC speech (espeak-ng voices from edgetrain datasets kws) with real recorded words (GPL-2+) as _unknown_"

// New loads the embedded model and serves it.
func New() (sdk.Model, error) {
	em, err := sdkrt.Load(modelFile)
	if err != nil {
		return nil, err
	}
	var words []string
	for _, l := range em.Meta.Labels {
		if !strings.HasPrefix(l, "_") {
			words = append(words, l)
		}
	}
	return sdkrt.NewKWS(em, sdkrt.Config{Name: Name, Version: Version, Domain: Name, Provenance: sdkrt.Provenance(em, dataset),
		Summary: "keyword spotting for a voice assistant: audio (FP32 samples, one clip or the chunks of a stream) → the command word heard (" +
			strings.Join(words, ", ") + ") with its probability, or _unknown_ / _silence_; front end and model run on the device; trained on SYNTHETIC speech"})
}
