package sdkrt

import (
	"container/list"
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/edgerun/edgerun/runtime/audio"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/sdk"
)

// Inputs, outputs and defaults of a keyword spotter (NewKWS). Its label
// and probabilities outputs are OutLabel and OutProbabilities.
const (
	KWSAudio      = "audio"      // FP32 [samples]
	OutKeyword    = "keyword"    // BYTES [k]: the detections' command words
	OutConfidence = "confidence" // FP32 [k]
	OutTime       = "time_s"     // FP32 [k]: seconds from the stream's start (one clip: its duration)

	KWSThreshold    = 0.8
	KWSSmoothingMS  = 300
	KWSRefractoryMS = 1000
	// KWSMaxStreams is how many streams a KWS keeps.
	KWSMaxStreams = 32
	kwsMaxClipSec = 60
)

// KWS serves a keyword-spotting model: sdk.Model with the streaming
// state (see the package doc's keyword spotting section).
type KWS struct {
	rt   *Model
	em   *engine.Model
	opts []engine.Option // of a stream's session
	in   audio.ModelInput
	desc *sdk.Description
	cmds int

	mu      sync.Mutex
	streams map[string]*list.Element // of *stream
	lru     list.List                // front: most recent
}

var _ sdk.Model = (*KWS)(nil)

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
	closed bool
}

// SpotterModel is the model function of an audio.Spotter running a
// keyword-spotting model's session s: the window's features (in's Frames
// × Features) as the input [1, Frames, Features], the first output's
// probabilities (one per label) out. It allocates nothing once the session
// is warm.
func SpotterModel(s *engine.Session, in audio.ModelInput) func(features, probs []float32) error {
	x := tensor.NewF32(tensor.Shape{1, in.Frames, in.Frontend.Features()}, make([]float32, in.Features()))
	return func(f, probs []float32) error {
		copy(x.F32, f)
		outs, err := s.Run([]*tensor.Tensor{x})
		if err != nil {
			return err
		}
		if len(outs[0].F32) != len(probs) {
			return fmt.Errorf("sdkrt: kws: the model gave %d probabilities for %d labels", len(outs[0].F32), len(probs))
		}
		copy(probs, outs[0].F32)
		return nil
	}
}

// HasAudio reports whether em's metadata has an audio front end (a
// keyword-spotting model, NewKWS).
func HasAudio(em *engine.Model) bool {
	_, ok := Extra(em, audio.KeyFrontend)
	return ok
}

// NewKWS serves a keyword-spotting model (edgetrain fit --task audio: its
// metadata has the audio front end): cfg's Name, Version, Domain, Summary,
// Provenance, Threads, MaxSessions and Session are used; its inputs,
// outputs, labels, parameters and processing are the keyword spotter's.
// The input "audio" is FP32 samples [n]; without the parameter "stream"
// it is one clip (resampled from "sample_rate", centred in the model's
// window); with it, the next chunk of that stream: the front end runs
// frame by frame, the model on the rolling window every hop, the
// probabilities averaged over "smoothing_ms", a command word at
// "threshold" is a detection, then none for "refractory_ms". Outputs:
// label and probabilities (streaming: of the smoothed probabilities),
// and, when there are detections, keyword, confidence and time_s (from
// the stream's start; one clip: its duration). Up to KWSMaxStreams streams
// are kept, the least recently used dropped (its next chunk starts it
// over).
func NewKWS(em *engine.Model, cfg Config) (*KWS, error) {
	in, err := audio.ParseModelInput(func(k string) string { v, _ := Extra(em, k); return v })
	if err != nil {
		return nil, err
	}
	if len(em.Inputs) != 1 || em.Inputs[0].DType != tensor.F32 || len(em.Inputs[0].Shape) != 3 || em.Inputs[0].Shape[2] != in.Frontend.Features() {
		return nil, fmt.Errorf("sdkrt: kws: the model takes %v, not the front end's [?, %d, %d]", em.Inputs, in.Frames, in.Frontend.Features())
	}
	cls, err := NewClassifier(em)
	if err != nil {
		return nil, err
	}
	m := &KWS{em: em, in: in, streams: map[string]*list.Element{}}
	for _, l := range cls.Labels {
		if l != "_unknown_" && l != "_silence_" {
			m.cmds++
		}
	}
	if m.cmds == 0 {
		return nil, fmt.Errorf("sdkrt: kws: the model has no command words among %q", cls.Labels)
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
			return nil, Invalid("%v", err)
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
		th, err := FloatParam(req, "threshold", KWSThreshold, 0.01, 1)
		if err != nil {
			return nil, err
		}
		p, _, err := cls.Probabilities(outs)
		if err != nil {
			return nil, err
		}
		in := req.Input(KWSAudio)
		rate, _ := IntParam(req, "sample_rate", m.in.Frontend.Rate, 1000, 768000)
		var dets []audio.Detection
		if k := TopK(p[:m.cmds], 1)[0]; float64(p[k]) >= th {
			dets = append(dets, audio.Detection{Keyword: cls.Labels[k], Class: k, Confidence: p[k], Time: float64(len(in.FP32)) / float64(rate)})
		}
		return m.response(p, dets), nil
	}
	params := map[string]string{
		"sample_rate":   fmt.Sprintf("the audio's samples a second, 1000 to 768000 (default %d); resampled to the model's", in.Frontend.Rate),
		"threshold":     fmt.Sprintf("the (smoothed) probability of a command word at which it is detected, 0.01 to 1 (default %g)", KWSThreshold),
		"stream":        "an id (1 to 64 characters): the audio is the next chunk of that stream, and the detections are those the chunk completes; without it the audio is one clip",
		"reset":         "true: start the stream over (its time returns to 0)",
		"smoothing_ms":  fmt.Sprintf("streaming: the probabilities are averaged over this many ms of model runs, 10 to 2000 (default %d)", KWSSmoothingMS),
		"refractory_ms": fmt.Sprintf("streaming: after a detection none is reported for this many ms, 10 to 10000 (default %d)", KWSRefractoryMS),
	}
	if cfg.Summary == "" {
		cfg.Summary = fmt.Sprintf("keyword spotting: audio (FP32 samples, one clip or the chunks of a stream) → the command word heard among %d (%s) with its probability, "+
			"or _unknown_ / _silence_", m.cmds, strings.Join(cls.Labels[:m.cmds], ", "))
	}
	cfg.Inputs = []sdk.TensorSpec{{Name: KWSAudio, Datatype: sdk.FP32, Shape: []int64{-1}}}
	cfg.Outputs = []sdk.TensorSpec{
		{Name: OutLabel, Datatype: sdk.BYTES, Shape: []int64{1}},
		{Name: OutProbabilities, Datatype: sdk.FP32, Shape: []int64{1, int64(len(cls.Labels))}},
		{Name: OutKeyword, Datatype: sdk.BYTES, Shape: []int64{-1}, Optional: true},
		{Name: OutConfidence, Datatype: sdk.FP32, Shape: []int64{-1}, Optional: true},
		{Name: OutTime, Datatype: sdk.FP32, Shape: []int64{-1}, Optional: true},
	}
	cfg.Labels, cfg.Parameters, cfg.Pre, cfg.Post = cls.Labels, params, pre, post
	m.rt, err = New(em, cfg)
	m.opts = append([]engine.Option{engine.WithThreads(max(1, cfg.Threads))}, cfg.Session...)
	if err != nil {
		return nil, err
	}
	if m.desc, err = m.rt.Describe(context.Background()); err != nil {
		return nil, err
	}
	return m, nil
}

// clip checks the request's audio and sample rate.
func (m *KWS) clip(req *sdk.InferRequest) ([]float32, int, error) {
	in, err := Require(req, KWSAudio)
	if err != nil {
		return nil, 0, err
	}
	if in.Datatype != sdk.FP32 || len(in.Shape) != 1 || in.Shape[0] != int64(len(in.FP32)) {
		return nil, 0, Invalid("input %q must be FP32 [samples] with its data", KWSAudio)
	}
	rate, err := IntParam(req, "sample_rate", m.in.Frontend.Rate, 1000, 768000)
	if err != nil {
		return nil, 0, err
	}
	if len(in.FP32) == 0 {
		return nil, 0, Invalid("input %q is empty", KWSAudio)
	}
	if len(in.FP32) > kwsMaxClipSec*rate {
		return nil, 0, Invalid("input %q has %d samples: more than %d s at %d Hz (stream longer audio in chunks)", KWSAudio, len(in.FP32), kwsMaxClipSec, rate)
	}
	for i, v := range in.FP32 {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || v > 1e6 || v < -1e6 {
			return nil, 0, Invalid("sample %d of %q is %v", i, KWSAudio, v)
		}
	}
	return in.FP32, rate, nil
}

// response builds the outputs from probabilities and detections.
func (m *KWS) response(p []float32, dets []audio.Detection) *sdk.InferResponse {
	labels := m.desc.Labels
	kw, conf, ts := make([]string, len(dets)), make([]float32, len(dets)), make([]float32, len(dets))
	for i, d := range dets {
		kw[i], conf[i], ts[i] = d.Keyword, d.Confidence, float32(d.Time)
	}
	best := TopK(p, 1)[0]
	resp := &sdk.InferResponse{Outputs: []sdk.Tensor{
		BYTES(OutLabel, []int64{1}, []string{labels[best]}),
		FP32(OutProbabilities, []int64{1, int64(len(p))}, append([]float32(nil), p...)),
	}}
	if len(dets) > 0 { // no tensor is empty: without detections the three are left out
		resp.Outputs = append(resp.Outputs,
			BYTES(OutKeyword, []int64{int64(len(dets))}, kw),
			FP32(OutConfidence, []int64{int64(len(dets))}, conf),
			FP32(OutTime, []int64{int64(len(dets))}, ts))
	}
	return resp
}

// Describe says what the plugin takes and returns.
func (m *KWS) Describe(ctx context.Context) (*sdk.Description, error) { return m.rt.Describe(ctx) }

// Health reports whether the model can serve.
func (m *KWS) Health(ctx context.Context) error { return m.rt.Health(ctx) }

// Infer answers one clip, or the next chunk of a stream.
func (m *KWS) Infer(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error) {
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
		return nil, Invalid("stream id of %d bytes: at most 64", len(id))
	}
	samples, rate, err := m.clip(req)
	if err != nil {
		return nil, err
	}
	th, err := FloatParam(req, "threshold", KWSThreshold, 0.01, 1)
	if err != nil {
		return nil, err
	}
	sm, err := IntParam(req, "smoothing_ms", KWSSmoothingMS, 10, 2000)
	if err != nil {
		return nil, err
	}
	rf, err := IntParam(req, "refractory_ms", KWSRefractoryMS, 10, 10000)
	if err != nil {
		return nil, err
	}
	reset := false
	if v, ok := req.Parameters["reset"]; ok {
		if reset, err = strconv.ParseBool(v); err != nil {
			return nil, Invalid("parameter reset = %q: want true or false", v)
		}
	}
	s, err := m.stream(id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("sdkrt: kws: stream %q was dropped (more than %d streams); send it again with reset=true", id, KWSMaxStreams)
	}
	params := [3]float64{th, float64(sm), float64(rf)}
	if s.sp == nil || reset || params != s.params || rate != s.rate {
		if s.sp != nil && !reset && (params != s.params || rate != s.rate) {
			return nil, Invalid("stream %q was started with sample_rate %d, threshold %g, smoothing_ms %g, refractory_ms %g: change them with reset=true",
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
		return nil, fmt.Errorf("sdkrt: kws: stream %q: %w", id, err)
	}
	return m.rt.Finish(m.response(s.sp.Posteriors(), dets), req), nil
}

// start (re)starts s with the parameters.
func (m *KWS) start(s *stream, rate int, p [3]float64) error {
	hop := float64(m.in.Frontend.Hop) / float64(m.in.Frontend.Rate) * 1000 // ms
	cfg := audio.SpotterConfig{Input: m.in, Labels: m.desc.Labels, Commands: m.cmds, Threshold: float32(p[0]),
		Smoothing: max(1, int(math.Round(p[1]/hop))), Refractory: max(1, int(math.Round(p[2]/hop)))}
	if s.sess == nil {
		s.sess = m.em.NewSession(m.opts...)
	}
	sp, err := audio.NewSpotter(cfg, SpotterModel(s.sess, m.in))
	if err != nil {
		return err
	}
	s.sp, s.rate, s.params, s.rs = sp, rate, p, nil
	if rate != m.in.Frontend.Rate {
		if s.rs, err = audio.NewResampler(rate, m.in.Frontend.Rate); err != nil {
			return Invalid("%v", err)
		}
	}
	return nil
}

// stream finds or makes the stream id, dropping the least recently used
// beyond KWSMaxStreams.
func (m *KWS) stream(id string) (*stream, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.streams[id]; ok {
		m.lru.MoveToFront(e)
		return e.Value.(*stream), nil
	}
	s := &stream{id: id}
	m.streams[id] = m.lru.PushFront(s)
	for m.lru.Len() > KWSMaxStreams {
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
func (m *KWS) Close() error {
	m.mu.Lock()
	for e := m.lru.Front(); e != nil; e = e.Next() {
		e.Value.(*stream).close()
	}
	m.streams = map[string]*list.Element{}
	m.lru.Init()
	m.mu.Unlock()
	return m.rt.Close()
}
