// Package kws is the built-in keyword-spotting model of a voice assistant:
// 16 kHz audio in, the command words it hears out (yes, no, up, down,
// left, right, on, off, stop, go; anything else is _unknown_ or
// _silence_). The model (model.erm, embedded) is edgetrain's `--task
// audio` classifier trained on SYNTHETIC speech, espeak-ng voices from
// `edgetrain datasets kws`, with real recorded words (GPL-2+) as
// _unknown_ examples; `make models` regenerates it. It runs the audio front
// end stored in the model (runtime/audio) on the device.
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
// starts the stream over. The plugin keeps up to MaxStreams streams,
// dropping the least recently used (its next chunk starts it over).
package kws

import (
	"container/list"
	"context"
	_ "embed"
	"fmt"
	"math"
	"strconv"
	"sync"

	"github.com/edgerun/edgerun/runtime/audio"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
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
	InAudio          = "audio"         // FP32 [samples]
	OutLabel         = "label"         // BYTES [1]: the most probable class (streaming: of the smoothed probabilities)
	OutProbabilities = "probabilities" // FP32 [1, classes]
	OutKeyword       = "keyword"       // BYTES [k]: the detections' command words
	OutConfidence    = "confidence"    // FP32 [k]
	OutTime          = "time_s"        // FP32 [k]: seconds from the stream's start (one clip: its duration)
)

// Defaults of the request parameters.
const (
	DefaultThreshold    = 0.8
	DefaultSmoothingMS  = 300
	DefaultRefractoryMS = 1000
	// MaxStreams is how many streams the plugin keeps.
	MaxStreams = 32
	// maxClipSec bounds one request's audio.
	maxClipSec = 60
)

const dataset = "SYNTHETIC speech (espeak-ng voices from edgetrain datasets kws) with real recorded words (GPL-2+) as _unknown_"

// Model is the kws plugin: sdk.Model with the streaming state.
type Model struct {
	rt   *sdkrt.Model
	em   *engine.Model
	in   audio.ModelInput
	desc *sdk.Description
	cmds int

	mu      sync.Mutex
	streams map[string]*list.Element // of *stream
	lru     list.List                // front: most recent
}

var _ sdk.Model = (*Model)(nil)

// stream is one audio stream's state.
type stream struct {
	id     string
	mu     sync.Mutex
	rate   int
	params [3]float64 // threshold, smoothing, refractory it was started with
	rs     *audio.Resampler
	sp     *audio.Spotter
	sess   *engine.Session
	buf    []float32
	feats  *tensor.Tensor
	closed bool
}

// New loads the embedded model and serves it.
func New() (sdk.Model, error) { return NewFromFile(modelFile) }

// NewFromFile serves a keyword-spotting model file (the bytes of a .erm
// written by `edgetrain fit --task audio`).
func NewFromFile(b []byte) (*Model, error) {
	em, err := sdkrt.Load(b)
	if err != nil {
		return nil, err
	}
	in, err := audio.ParseModelInput(func(k string) string { v, _ := sdkrt.Extra(em, k); return v })
	if err != nil {
		return nil, err
	}
	if len(em.Inputs) != 1 || em.Inputs[0].DType != tensor.F32 || len(em.Inputs[0].Shape) != 3 || em.Inputs[0].Shape[2] != in.Frontend.Features() {
		return nil, fmt.Errorf("kws: the model takes %v, not the front end's [?, %d, %d]", em.Inputs, in.Frames, in.Frontend.Features())
	}
	cls, err := sdkrt.NewClassifier(em)
	if err != nil {
		return nil, err
	}
	m := &Model{em: em, in: in, streams: map[string]*list.Element{}}
	for _, l := range cls.Labels {
		if l != "_unknown_" && l != "_silence_" {
			m.cmds++
		}
	}
	if m.cmds == 0 {
		return nil, fmt.Errorf("kws: the model has no command words among %q", cls.Labels)
	}
	fe, err := audio.NewFrontend(in.Frontend)
	if err != nil {
		return nil, err
	}
	var feMu sync.Mutex
	pre := func(req *sdk.InferRequest) ([]*tensor.Tensor, error) {
		clip, rate, err := m.clip(req)
		if err != nil {
			return nil, err
		}
		c, err := audio.Resample(&audio.Clip{Rate: rate, Samples: clip}, in.Frontend.Rate)
		if err != nil {
			return nil, sdkrt.Invalid("%v", err)
		}
		feats := make([]float32, in.Features())
		feMu.Lock()
		_, err = fe.Frames(feats, audio.FitWindow(nil, c.Samples, in.Clip))
		feMu.Unlock()
		if err != nil {
			return nil, err
		}
		return []*tensor.Tensor{tensor.NewF32(tensor.Shape{1, in.Frames, in.Frontend.Features()}, feats)}, nil
	}
	post := func(outs []*tensor.Tensor, req *sdk.InferRequest) (*sdk.InferResponse, error) {
		th, err := sdkrt.FloatParam(req, "threshold", DefaultThreshold, 0.01, 1)
		if err != nil {
			return nil, err
		}
		p, _, err := cls.Probabilities(outs)
		if err != nil {
			return nil, err
		}
		in := req.Input(InAudio)
		rate, _ := sdkrt.IntParam(req, "sample_rate", m.in.Frontend.Rate, 1000, 768000)
		var dets []audio.Detection
		if k := sdkrt.TopK(p[:m.cmds], 1)[0]; float64(p[k]) >= th {
			dets = append(dets, audio.Detection{Keyword: cls.Labels[k], Class: k, Confidence: p[k], Time: float64(len(in.FP32)) / float64(rate)})
		}
		return m.response(p, dets), nil
	}
	params := map[string]string{
		"sample_rate":   fmt.Sprintf("the audio's samples a second, 1000 to 768000 (default %d); resampled to the model's", in.Frontend.Rate),
		"threshold":     fmt.Sprintf("the (smoothed) probability of a command word at which it is detected, 0.01 to 1 (default %g)", DefaultThreshold),
		"stream":        "an id (1 to 64 characters): the audio is the next chunk of that stream, and the detections are those the chunk completes; without it the audio is one clip",
		"reset":         "true: start the stream over (its time returns to 0)",
		"smoothing_ms":  fmt.Sprintf("streaming: the probabilities are averaged over this many ms of model runs, 10 to 2000 (default %d)", DefaultSmoothingMS),
		"refractory_ms": fmt.Sprintf("streaming: after a detection none is reported for this many ms, 10 to 10000 (default %d)", DefaultRefractoryMS),
	}
	m.rt, err = sdkrt.New(em, sdkrt.Config{
		Name: Name, Version: Version, Domain: Name,
		Summary: fmt.Sprintf("keyword spotting: audio (FP32 samples, one clip or the chunks of a stream) → the command word heard among %d (%s) with its probability, "+
			"or _unknown_ / _silence_; front end and model run on the device; trained on SYNTHETIC speech", m.cmds, joinLabels(cls.Labels[:m.cmds])),
		Provenance: sdkrt.Provenance(em, dataset),
		Inputs:     []sdk.TensorSpec{{Name: InAudio, Datatype: sdk.FP32, Shape: []int64{-1}}},
		Outputs: []sdk.TensorSpec{
			{Name: OutLabel, Datatype: sdk.BYTES, Shape: []int64{1}},
			{Name: OutProbabilities, Datatype: sdk.FP32, Shape: []int64{1, int64(len(cls.Labels))}},
			{Name: OutKeyword, Datatype: sdk.BYTES, Shape: []int64{-1}, Optional: true},
			{Name: OutConfidence, Datatype: sdk.FP32, Shape: []int64{-1}, Optional: true},
			{Name: OutTime, Datatype: sdk.FP32, Shape: []int64{-1}, Optional: true},
		},
		Labels:     cls.Labels,
		Parameters: params,
		Pre:        pre,
		Post:       post,
	})
	if err != nil {
		return nil, err
	}
	if m.desc, err = m.rt.Describe(context.Background()); err != nil {
		return nil, err
	}
	return m, nil
}

func joinLabels(ls []string) string {
	s := ""
	for i, l := range ls {
		if i > 0 {
			s += ", "
		}
		s += l
	}
	return s
}

// clip checks the request's audio and sample rate.
func (m *Model) clip(req *sdk.InferRequest) ([]float32, int, error) {
	in, err := sdkrt.Require(req, InAudio)
	if err != nil {
		return nil, 0, err
	}
	if in.Datatype != sdk.FP32 || len(in.Shape) != 1 || in.Shape[0] != int64(len(in.FP32)) {
		return nil, 0, sdkrt.Invalid("input %q must be FP32 [samples] with its data", InAudio)
	}
	rate, err := sdkrt.IntParam(req, "sample_rate", m.in.Frontend.Rate, 1000, 768000)
	if err != nil {
		return nil, 0, err
	}
	if len(in.FP32) == 0 {
		return nil, 0, sdkrt.Invalid("input %q is empty", InAudio)
	}
	if len(in.FP32) > maxClipSec*rate {
		return nil, 0, sdkrt.Invalid("input %q has %d samples: more than %d s at %d Hz (stream longer audio in chunks)", InAudio, len(in.FP32), maxClipSec, rate)
	}
	for i, v := range in.FP32 {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || v > 1e6 || v < -1e6 {
			return nil, 0, sdkrt.Invalid("sample %d of %q is %v", i, InAudio, v)
		}
	}
	return in.FP32, rate, nil
}

// response builds the outputs from probabilities and detections.
func (m *Model) response(p []float32, dets []audio.Detection) *sdk.InferResponse {
	labels := m.desc.Labels
	kw, conf, ts := make([]string, len(dets)), make([]float32, len(dets)), make([]float32, len(dets))
	for i, d := range dets {
		kw[i], conf[i], ts[i] = d.Keyword, d.Confidence, float32(d.Time)
	}
	best := sdkrt.TopK(p, 1)[0]
	resp := &sdk.InferResponse{Outputs: []sdk.Tensor{
		sdkrt.BYTES(OutLabel, []int64{1}, []string{labels[best]}),
		sdkrt.FP32(OutProbabilities, []int64{1, int64(len(p))}, append([]float32(nil), p...)),
	}}
	if len(dets) > 0 { // no tensor is empty: without detections the three are left out
		resp.Outputs = append(resp.Outputs,
			sdkrt.BYTES(OutKeyword, []int64{int64(len(dets))}, kw),
			sdkrt.FP32(OutConfidence, []int64{int64(len(dets))}, conf),
			sdkrt.FP32(OutTime, []int64{int64(len(dets))}, ts))
	}
	return resp
}

// Describe says what the plugin takes and returns.
func (m *Model) Describe(ctx context.Context) (*sdk.Description, error) { return m.rt.Describe(ctx) }

// Health reports whether the model can serve.
func (m *Model) Health(ctx context.Context) error { return m.rt.Health(ctx) }

// Infer answers one clip, or the next chunk of a stream.
func (m *Model) Infer(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	if req == nil || req.Parameters["stream"] == "" {
		return m.rt.Infer(ctx, req)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := sdk.ValidateRequest(m.desc, req); err != nil {
		return nil, err
	}
	id := req.Parameters["stream"]
	if len(id) > 64 {
		return nil, sdkrt.Invalid("stream id of %d bytes: at most 64", len(id))
	}
	samples, rate, err := m.clip(req)
	if err != nil {
		return nil, err
	}
	th, err := sdkrt.FloatParam(req, "threshold", DefaultThreshold, 0.01, 1)
	if err != nil {
		return nil, err
	}
	sm, err := sdkrt.IntParam(req, "smoothing_ms", DefaultSmoothingMS, 10, 2000)
	if err != nil {
		return nil, err
	}
	rf, err := sdkrt.IntParam(req, "refractory_ms", DefaultRefractoryMS, 10, 10000)
	if err != nil {
		return nil, err
	}
	reset := false
	if v, ok := req.Parameters["reset"]; ok {
		if reset, err = strconv.ParseBool(v); err != nil {
			return nil, sdkrt.Invalid("parameter reset = %q: want true or false", v)
		}
	}
	s, err := m.stream(id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("kws: stream %q was dropped (more than %d streams); send it again with reset=true", id, MaxStreams)
	}
	params := [3]float64{th, float64(sm), float64(rf)}
	if s.sp == nil || reset || params != s.params || rate != s.rate {
		if s.sp != nil && !reset && (params != s.params || rate != s.rate) {
			return nil, sdkrt.Invalid("stream %q was started with sample_rate %d, threshold %g, smoothing_ms %g, refractory_ms %g: change them with reset=true",
				id, s.rate, s.params[0], s.params[1], s.params[2])
		}
		if err := m.start(s, rate, params); err != nil {
			return nil, err
		}
	}
	x := samples
	if s.rs != nil {
		s.buf = s.rs.Write(s.buf[:0], samples)
		x = s.buf
	}
	var dets []audio.Detection
	if err := s.sp.Write(x, func(d audio.Detection) { dets = append(dets, d) }); err != nil {
		return nil, fmt.Errorf("kws: stream %q: %w", id, err)
	}
	return m.rt.Finish(m.response(s.sp.Posteriors(), dets), req), nil
}

// start (re)starts s with the parameters.
func (m *Model) start(s *stream, rate int, p [3]float64) error {
	hop := float64(m.in.Frontend.Hop) / float64(m.in.Frontend.Rate) * 1000 // ms
	cfg := audio.SpotterConfig{Input: m.in, Labels: m.desc.Labels, Commands: m.cmds, Threshold: float32(p[0]),
		Smoothing: max(1, int(math.Round(p[1]/hop))), Refractory: max(1, int(math.Round(p[2]/hop)))}
	if s.sess == nil {
		s.sess = m.em.NewSession(engine.WithThreads(1))
		s.feats = tensor.NewF32(tensor.Shape{1, m.in.Frames, m.in.Frontend.Features()}, make([]float32, m.in.Features()))
	}
	sp, err := audio.NewSpotter(cfg, func(f, probs []float32) error {
		copy(s.feats.F32, f)
		outs, err := s.sess.Run([]*tensor.Tensor{s.feats})
		if err != nil {
			return err
		}
		copy(probs, outs[0].F32)
		return nil
	})
	if err != nil {
		return err
	}
	s.sp, s.rate, s.params, s.rs = sp, rate, p, nil
	if rate != m.in.Frontend.Rate {
		if s.rs, err = audio.NewResampler(rate, m.in.Frontend.Rate); err != nil {
			return sdkrt.Invalid("%v", err)
		}
	}
	return nil
}

// stream finds or makes the stream id, dropping the least recently used
// beyond MaxStreams.
func (m *Model) stream(id string) (*stream, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.streams[id]; ok {
		m.lru.MoveToFront(e)
		return e.Value.(*stream), nil
	}
	s := &stream{id: id}
	m.streams[id] = m.lru.PushFront(s)
	for m.lru.Len() > MaxStreams {
		e := m.lru.Back()
		old := e.Value.(*stream)
		m.lru.Remove(e)
		delete(m.streams, old.id)
		go old.close()
	}
	return s, nil
}

func (s *stream) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.sess != nil {
		s.sess.Close()
		s.sess = nil
	}
}

// Close drops every stream and closes the model's sessions.
func (m *Model) Close() error {
	m.mu.Lock()
	for e := m.lru.Front(); e != nil; e = e.Next() {
		e.Value.(*stream).close()
	}
	m.streams = map[string]*list.Element{}
	m.lru.Init()
	m.mu.Unlock()
	return m.rt.Close()
}
