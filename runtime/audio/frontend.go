package audio

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Config is every parameter of the feature front end. A model stores it in
// its metadata, so the device computes exactly the features the trainer
// did.
type Config struct {
	Rate   int     // samples a second the front end takes (16000)
	Window int     // samples a frame (400: 25 ms at 16 kHz)
	Hop    int     // samples from one frame to the next (160: 10 ms)
	FFT    int     // FFT size: a power of two, at least Window (512)
	Mels   int     // mel bands (40)
	LowHz  float64 // the lowest band's lower edge (20)
	HighHz float64 // the highest band's upper edge, at most Rate/2 (8000)
	MFCC   int     // cepstral coefficients kept; 0 for the log-mel bands themselves (10)
	Floor  float32 // added to every band's energy before the log (1e-6)
}

// DefaultConfig returns the keyword-spotting front end: 16 kHz, 25 ms
// frames every 10 ms, a 512-point FFT, 40 mel bands from 20 Hz to 8 kHz,
// 10 MFCCs.
func DefaultConfig() Config {
	return Config{Rate: 16000, Window: 400, Hop: 160, FFT: 512, Mels: 40, LowHz: 20, HighHz: 8000, MFCC: 10, Floor: 1e-6}
}

// Features returns how many values one frame gives: MFCC, or Mels when
// MFCC is 0.
func (c Config) Features() int {
	if c.MFCC > 0 {
		return c.MFCC
	}
	return c.Mels
}

// Validate reports the first parameter out of range.
func (c Config) Validate() error {
	switch {
	case c.Rate < 1000 || c.Rate > maxRate:
		return fmt.Errorf("audio: rate %d Hz, want 1000 to %d", c.Rate, maxRate)
	case c.Window < 2 || c.Window > 1<<16:
		return fmt.Errorf("audio: window of %d samples, want 2 to 65536", c.Window)
	case c.Hop < 1 || c.Hop > c.Window:
		return fmt.Errorf("audio: hop of %d samples, want 1 to the window (%d)", c.Hop, c.Window)
	case c.FFT < c.Window || c.FFT > 1<<17 || c.FFT&(c.FFT-1) != 0:
		return fmt.Errorf("audio: FFT size %d, want a power of two from the window (%d) to 131072", c.FFT, c.Window)
	case c.Mels < 1 || c.Mels > c.FFT/2:
		return fmt.Errorf("audio: %d mel bands, want 1 to FFT/2 (%d)", c.Mels, c.FFT/2)
	case !(c.LowHz >= 0) || !(c.HighHz > c.LowHz) || c.HighHz > float64(c.Rate)/2:
		return fmt.Errorf("audio: bands from %v to %v Hz, want 0 ≤ low < high ≤ rate/2 (%v)", c.LowHz, c.HighHz, float64(c.Rate)/2)
	case c.MFCC < 0 || c.MFCC > c.Mels:
		return fmt.Errorf("audio: %d MFCCs, want 0 to the mel bands (%d)", c.MFCC, c.Mels)
	case !(c.Floor > 0) || math.IsInf(float64(c.Floor), 0):
		return fmt.Errorf("audio: floor %v, want a positive number", c.Floor)
	}
	return nil
}

// Frontend turns frames of samples into features: a periodic Hann window,
// the power spectrum |X_k|² (k ≤ FFT/2) of the zero-padded frame,
// triangular mel filters (HTK mel scale, 2595·log10(1 + f/700), band
// edges evenly spaced in mel, weights at each bin's frequency),
// Log32(energy + Floor), and with MFCC > 0 the orthonormal DCT-II of the
// log energies, its first MFCC coefficients. Every sum adds float32
// products rounded on their own, in index order, so the features have the
// same bits on every architecture (TestFrontendSameBits). A Frontend
// holds its scratch: one per goroutine.
type Frontend struct {
	cfg    Config
	fft    *FFT
	window []float32
	bands  []band
	dct    []float32 // [MFCC][Mels]
	re, im []float32 // FFT buffers
	power  []float32 // FFT/2+1
	logmel []float32 // Mels
}

// band is one mel filter: its weights on bins first, first+1, ….
type band struct {
	first int
	w     []float32
}

// NewFrontend checks c and builds the window, filters and DCT.
func NewFrontend(c Config) (*Frontend, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	fft, err := NewFFT(c.FFT)
	if err != nil {
		return nil, err
	}
	f := &Frontend{cfg: c, fft: fft, window: make([]float32, c.Window),
		re: make([]float32, c.FFT), im: make([]float32, c.FFT), power: make([]float32, c.FFT/2+1), logmel: make([]float32, c.Mels)}
	for i := range f.window {
		f.window[i] = float32(0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(c.Window)))
	}
	mel := func(hz float64) float64 { return 2595 * math.Log10(1+hz/700) }
	hz := func(m float64) float64 { return 700 * (math.Pow(10, m/2595) - 1) }
	lo, hi := mel(c.LowHz), mel(c.HighHz)
	edge := func(i int) float64 { return hz(lo + (hi-lo)*float64(i)/float64(c.Mels+1)) }
	binHz := float64(c.Rate) / float64(c.FFT)
	for m := range c.Mels {
		l, mid, r := edge(m), edge(m+1), edge(m+2)
		var b band
		for k := 0; k <= c.FFT/2; k++ {
			fk := float64(k) * binHz
			var w float64
			switch {
			case fk > l && fk <= mid:
				w = (fk - l) / (mid - l)
			case fk > mid && fk < r:
				w = (r - fk) / (r - mid)
			}
			if w > 0 { // the bins strictly inside (l, r): consecutive
				if b.w == nil {
					b.first = k
				}
				b.w = append(b.w, float32(w))
			}
		}
		if b.w == nil {
			return nil, fmt.Errorf("audio: mel band %d (%.1f–%.1f Hz) holds no FFT bin: use fewer bands or a larger FFT", m, l, r)
		}
		f.bands = append(f.bands, b)
	}
	if c.MFCC > 0 {
		f.dct = make([]float32, c.MFCC*c.Mels)
		for k := range c.MFCC {
			s := math.Sqrt(2 / float64(c.Mels))
			if k == 0 {
				s = math.Sqrt(1 / float64(c.Mels))
			}
			for m := range c.Mels {
				f.dct[k*c.Mels+m] = float32(s * math.Cos(math.Pi*float64(k)*(float64(m)+0.5)/float64(c.Mels)))
			}
		}
	}
	return f, nil
}

// Config returns the front end's parameters.
func (f *Frontend) Config() Config { return f.cfg }

// errFrame is Frame's error for slices of the wrong length.
var errFrame = errors.New("audio: Frame: frame or dst of the wrong length")

// Frame computes one frame's features into dst (Config.Features values)
// from frame (Config.Window samples). It allocates nothing.
func (f *Frontend) Frame(dst, frame []float32) error {
	c := f.cfg
	if len(frame) != c.Window || len(dst) != c.Features() {
		return errFrame
	}
	for i, w := range f.window {
		f.re[i] = float32(frame[i] * w)
	}
	clear(f.re[c.Window:])
	clear(f.im)
	f.fft.Transform(f.re, f.im)
	for k := range f.power {
		f.power[k] = float32(f.re[k]*f.re[k]) + float32(f.im[k]*f.im[k])
	}
	for m, b := range f.bands {
		var e float32
		for j, w := range b.w {
			e += float32(f.power[b.first+j] * w)
		}
		f.logmel[m] = Log32(e + c.Floor)
	}
	if c.MFCC == 0 {
		copy(dst, f.logmel)
		return nil
	}
	for k := range dst {
		row := f.dct[k*c.Mels:][:c.Mels]
		var s float32
		for m, d := range row {
			s += float32(d * f.logmel[m])
		}
		dst[k] = s
	}
	return nil
}

// Frames computes the features of every frame of samples (Config.Frames
// of them, frame k from sample k·Hop) into dst, frame after frame, and
// returns dst[:frames·Features]; dst must hold that many values.
func (f *Frontend) Frames(dst, samples []float32) ([]float32, error) {
	c := f.cfg
	n, w := c.Frames(len(samples)), c.Features()
	if len(dst) < n*w {
		return nil, fmt.Errorf("audio: Frames: %d frames of %d features need %d values, dst has %d", n, w, n*w, len(dst))
	}
	for k := range n {
		if err := f.Frame(dst[k*w:(k+1)*w], samples[k*c.Hop:k*c.Hop+c.Window]); err != nil {
			return nil, err
		}
	}
	return dst[:n*w], nil
}

// FitWindow returns samples padded with zeros or cropped to exactly n
// samples, centred (a shorter clip gets half the padding on each side, the
// odd sample at the end; a longer one loses half the excess at each end),
// in dst's storage when it is large enough.
func FitWindow(dst, samples []float32, n int) []float32 {
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	if len(samples) >= n {
		copy(dst, samples[(len(samples)-n)/2:])
		return dst
	}
	pad := (n - len(samples)) / 2
	clear(dst[:pad])
	copy(dst[pad:], samples)
	clear(dst[pad+len(samples):])
	return dst
}

// Stream computes the front end's features over samples that arrive in
// chunks of any size, as a microphone delivers them: frame k covers
// samples [k·Hop, k·Hop+Window) of everything written since the stream
// began (or was Reset), and is emitted as soon as its last sample
// arrives, with the same bits as Frame on that slice of the whole
// recording. After the first frame it allocates nothing. A Stream is not
// safe for concurrent use.
type Stream struct {
	fe   *Frontend
	win  []float32 // the next frame's samples so far
	fill int
	out  []float32
}

// NewStream returns a stream of the front end c.
func NewStream(c Config) (*Stream, error) {
	fe, err := NewFrontend(c)
	if err != nil {
		return nil, err
	}
	return &Stream{fe: fe, win: make([]float32, c.Window), out: make([]float32, c.Features())}, nil
}

// Config returns the stream's front end parameters.
func (s *Stream) Config() Config { return s.fe.cfg }

// Write feeds samples (at Config.Rate) and calls emit with the features of
// every frame they complete, in order; the slice is reused after emit
// returns. It returns how many frames it emitted.
func (s *Stream) Write(samples []float32, emit func(features []float32)) int {
	c := s.fe.cfg
	frames := 0
	for len(samples) > 0 {
		n := copy(s.win[s.fill:], samples)
		s.fill += n
		samples = samples[n:]
		if s.fill < c.Window {
			break
		}
		s.fe.Frame(s.out, s.win) // lengths are the Config's: no error
		emit(s.out)
		frames++
		copy(s.win, s.win[c.Hop:])
		s.fill = c.Window - c.Hop
	}
	return frames
}

// Reset drops the samples of an unfinished frame: the next Write starts a
// new recording.
func (s *Stream) Reset() { s.fill = 0 }

// configKeys are the names of String's fields, in order.
var configKeys = [...]string{"rate", "window", "hop", "fft", "mels", "low_hz", "high_hz", "mfcc", "floor"}

// String is the text form a model's metadata stores (Extra key
// "audio_frontend"): every parameter as key=value, space-separated, e.g.
// "rate=16000 window=400 hop=160 fft=512 mels=40 low_hz=20 high_hz=8000
// mfcc=10 floor=1e-06". ParseConfig reads it back exactly.
func (c Config) String() string {
	v := [...]string{strconv.Itoa(c.Rate), strconv.Itoa(c.Window), strconv.Itoa(c.Hop), strconv.Itoa(c.FFT), strconv.Itoa(c.Mels),
		strconv.FormatFloat(c.LowHz, 'g', -1, 64), strconv.FormatFloat(c.HighHz, 'g', -1, 64), strconv.Itoa(c.MFCC),
		strconv.FormatFloat(float64(c.Floor), 'g', -1, 32)}
	var b strings.Builder
	for i, k := range configKeys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k + "=" + v[i])
	}
	return b.String()
}

// ParseConfig reads String's form: every key exactly once, in any order,
// nothing else, and a Config that passes Validate.
func ParseConfig(s string) (Config, error) {
	var c Config
	seen := map[string]bool{}
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return Config{}, fmt.Errorf("audio: front end %q: %q is not key=value", s, f)
		}
		if seen[k] {
			return Config{}, fmt.Errorf("audio: front end %q: %s given twice", s, k)
		}
		seen[k] = true
		var err error
		switch k {
		case "rate":
			c.Rate, err = strconv.Atoi(v)
		case "window":
			c.Window, err = strconv.Atoi(v)
		case "hop":
			c.Hop, err = strconv.Atoi(v)
		case "fft":
			c.FFT, err = strconv.Atoi(v)
		case "mels":
			c.Mels, err = strconv.Atoi(v)
		case "mfcc":
			c.MFCC, err = strconv.Atoi(v)
		case "low_hz":
			c.LowHz, err = strconv.ParseFloat(v, 64)
		case "high_hz":
			c.HighHz, err = strconv.ParseFloat(v, 64)
		case "floor":
			var f float64
			f, err = strconv.ParseFloat(v, 32)
			c.Floor = float32(f)
		default:
			return Config{}, fmt.Errorf("audio: front end %q: unknown parameter %q", s, k)
		}
		if err != nil {
			return Config{}, fmt.Errorf("audio: front end %q: %s=%q is not a number", s, k, v)
		}
	}
	for _, k := range configKeys {
		if !seen[k] {
			return Config{}, fmt.Errorf("audio: front end %q: %s is missing", s, k)
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Frames returns how many frames n samples give: 1 + (n − Window)/Hop, 0
// when n < Window.
func (c Config) Frames(n int) int {
	if n < c.Window || c.Hop < 1 {
		return 0
	}
	return 1 + (n-c.Window)/c.Hop
}
