package audio

import (
	"errors"
	"fmt"
	"math"
)

// SpotterConfig configures a Spotter.
type SpotterConfig struct {
	Input ModelInput
	// Labels are the model's classes in output order; the first Commands
	// are the keywords (the rest, such as _unknown_ and _silence_, never
	// trigger a detection).
	Labels   []string
	Commands int
	// Threshold is the smoothed probability at or above which a keyword
	// is detected (0.8 when 0).
	Threshold float32
	// Smoothing is how many of the latest model runs' probabilities are
	// averaged (30 when 0: 300 ms at a 10 ms hop).
	Smoothing int
	// Refractory is how many hops after a detection no other is reported
	// (100 when 0: 1 s at a 10 ms hop).
	Refractory int
	// Every runs the model every that many hops (1 when 0).
	Every int
}

// Detection is a keyword heard.
type Detection struct {
	Keyword    string
	Class      int     // index into the labels
	Confidence float32 // the smoothed probability
	// Time is when the window that triggered ends, in seconds from the
	// stream's start (its samples written since NewSpotter or Reset).
	Time float64
}

// Spotter runs a keyword-spotting model over a stream: samples in chunks
// of any size → the front end frame by frame (Stream) → the model on the
// latest window of frames every Every hops (run: the features [Frames ×
// Features] to the class probabilities) → the probabilities averaged over
// the last Smoothing runs → a Detection when a keyword's average reaches
// Threshold, then none for Refractory hops, and none of the same keyword
// until its average has fallen below Threshold (the word that was heard
// stays in the one-second window for a second after it is said: without
// this, a long refractory period would be the only thing keeping it from
// being heard twice). The window starts as silence
// (the features of zero samples), so the first second is usable. After the
// first call it allocates nothing, besides what run does. A Spotter is not
// safe for concurrent use.
type Spotter struct {
	cfg     SpotterConfig
	run     func(features, probs []float32) error
	stream  *Stream
	quiet   []float32 // the features of a silent frame
	window  []float32 // Frames × Features, oldest first
	probs   []float32 // the latest run's
	hist    []float32 // Smoothing × classes, a ring
	histN   int       // runs in hist (≤ Smoothing)
	histAt  int       // next slot
	smooth  []float32 // the current average
	hops    int64     // frames since the start
	since   int64     // hops since the last detection
	last    int       // the keyword detected last while its probability stays at the threshold, else −1
	err     error     // the first error of run in a Write
	emitFn  func(Detection)
	onFrame func([]float32)
}

// NewSpotter checks cfg and returns a spotter calling run for every model
// evaluation: run gets the window's features and fills probs (one per
// label).
func NewSpotter(cfg SpotterConfig, run func(features, probs []float32) error) (*Spotter, error) {
	if run == nil {
		return nil, errors.New("audio: NewSpotter: no model function")
	}
	if cfg.Threshold == 0 {
		cfg.Threshold = 0.8
	}
	if cfg.Smoothing == 0 {
		cfg.Smoothing = 30
	}
	if cfg.Refractory == 0 {
		cfg.Refractory = 100
	}
	if cfg.Every == 0 {
		cfg.Every = 1
	}
	switch {
	case !(cfg.Threshold > 0 && cfg.Threshold <= 1):
		return nil, fmt.Errorf("audio: spotter threshold %v, want (0, 1]", cfg.Threshold)
	case cfg.Smoothing < 1 || cfg.Smoothing > 1000 || cfg.Refractory < 1 || cfg.Refractory > 1<<20 || cfg.Every < 1 || cfg.Every > 1000:
		return nil, fmt.Errorf("audio: spotter smoothing %d, refractory %d, every %d: want 1–1000, 1–2^20, 1–1000 hops", cfg.Smoothing, cfg.Refractory, cfg.Every)
	case cfg.Commands < 1 || cfg.Commands > len(cfg.Labels):
		return nil, fmt.Errorf("audio: spotter: %d keywords among %d labels", cfg.Commands, len(cfg.Labels))
	case cfg.Input.Frames < 1 || cfg.Input.Frames != cfg.Input.Frontend.Frames(cfg.Input.Clip):
		return nil, fmt.Errorf("audio: spotter: %d frames for a window of %d samples (want %d)", cfg.Input.Frames, cfg.Input.Clip, cfg.Input.Frontend.Frames(cfg.Input.Clip))
	}
	st, err := NewStream(cfg.Input.Frontend)
	if err != nil {
		return nil, err
	}
	nf, L := cfg.Input.Frontend.Features(), len(cfg.Labels)
	s := &Spotter{cfg: cfg, run: run, stream: st, quiet: make([]float32, nf), window: make([]float32, cfg.Input.Frames*nf),
		probs: make([]float32, L), hist: make([]float32, cfg.Smoothing*L), smooth: make([]float32, L)}
	if err := st.fe.Frame(s.quiet, make([]float32, cfg.Input.Frontend.Window)); err != nil {
		return nil, err
	}
	s.onFrame = s.frame
	s.Reset()
	return s, nil
}

// Config returns the spotter's configuration, defaults filled in.
func (s *Spotter) Config() SpotterConfig { return s.cfg }

// Reset starts a new stream: silence in the window, no history, time 0.
func (s *Spotter) Reset() {
	s.stream.Reset()
	nf := len(s.quiet)
	for i := 0; i < len(s.window); i += nf {
		copy(s.window[i:], s.quiet)
	}
	s.histN, s.histAt, s.hops, s.since, s.last, s.err = 0, 0, 0, math.MaxInt32, -1, nil
	clear(s.smooth)
}

// Write feeds samples (at the front end's rate) and calls emit for every
// detection they complete, in order. An error of the model function stops
// the write and is returned; the stream can go on after it.
func (s *Spotter) Write(samples []float32, emit func(Detection)) error {
	s.emitFn, s.err = emit, nil
	for i := range samples {
		if v := samples[i]; v != v || v > 1e6 || v < -1e6 {
			return fmt.Errorf("audio: spotter: sample %d is %v", i, v)
		}
	}
	s.stream.Write(samples, s.onFrame)
	s.emitFn = nil
	return s.err
}

// Posteriors returns the current smoothed probabilities, one per label
// (valid until the next Write).
func (s *Spotter) Posteriors() []float32 { return s.smooth }

// Time returns the seconds of audio written since the start.
func (s *Spotter) Time() float64 {
	c := s.cfg.Input.Frontend
	if s.hops == 0 {
		return 0
	}
	return float64((s.hops-1)*int64(c.Hop)+int64(c.Window)) / float64(c.Rate)
}

func (s *Spotter) frame(f []float32) {
	if s.err != nil {
		return
	}
	nf := len(f)
	copy(s.window, s.window[nf:])
	copy(s.window[len(s.window)-nf:], f)
	s.hops++
	s.since++
	if s.hops%int64(s.cfg.Every) != 0 {
		return
	}
	if err := s.run(s.window, s.probs); err != nil {
		s.err = err
		return
	}
	L := len(s.probs)
	copy(s.hist[s.histAt*L:], s.probs)
	s.histAt = (s.histAt + 1) % s.cfg.Smoothing
	s.histN = min(s.histN+1, s.cfg.Smoothing)
	clear(s.smooth)
	for r := range s.histN {
		row := s.hist[r*L : (r+1)*L]
		for j, v := range row {
			s.smooth[j] += v
		}
	}
	inv := 1 / float32(s.histN)
	best := 0
	for j := range s.smooth {
		s.smooth[j] *= inv
		if j < s.cfg.Commands && s.smooth[j] > s.smooth[best] {
			best = j
		}
	}
	if s.last >= 0 && s.smooth[s.last] < s.cfg.Threshold {
		s.last = -1 // the word that was heard has left the window
	}
	if s.smooth[best] >= s.cfg.Threshold && s.since > int64(s.cfg.Refractory) && best != s.last {
		s.since, s.last = 0, best
		if s.emitFn != nil {
			s.emitFn(Detection{Keyword: s.cfg.Labels[best], Class: best, Confidence: s.smooth[best], Time: s.Time()})
		}
	}
}
