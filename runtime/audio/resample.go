package audio

import (
	"fmt"
	"math"
)

// Resampling: band-limited interpolation with a Kaiser-windowed sinc. Output
// sample n sits at input time n·M/L (L/M the ratio of the rates over their
// greatest common divisor), and is Σ x[j]·h(j − n·M/L) over the 2·K input
// samples nearest it, with
//
//	h(t) = fc·sinc(fc·t)·kaiser(t/(K)),  fc = 0.94·min(1, L/M),
//
// K = ceil(16/fc) samples each side (16 zero crossings of the sinc). fc below
// 1 is the anti-aliasing low-pass when the rate goes down (94 % of the new
// Nyquist frequency, so the Kaiser window's transition band, β = 8, ends
// there); samples outside the input count as 0. The L phases' coefficients
// are a table when it stays under a million values (every ratio between
// common rates), else computed per sample with the same function. The
// filtering is float32 with products rounded on their own, so the output
// has the same bits on every architecture (TestResampleSameBits).

const (
	rsZeros   = 16   // zero crossings of the sinc each side
	rsRolloff = 0.94 // cut-off, a fraction of the lower Nyquist frequency
	rsBeta    = 8.0  // Kaiser window shape (about 80 dB stop band)
	rsTable   = 1 << 20
)

// Resampler converts a stream of samples from one rate to another. Write
// feeds chunks of any size; Flush ends the stream. The output is the same
// whatever the chunk sizes. A Resampler is not safe for concurrent use.
type Resampler struct {
	from, to int
	l, m     int       // to/g, from/g
	k        int       // taps each side
	fc       float64   // cut-off, in cycles per input sample ×2
	table    []float32 // [l][2k], nil when computed per sample
	coef     []float32 // 2k: the phase being computed without a table
	buf      []float32 // input from absolute index base on
	base     int64
	i        int64 // the next output's input index (floor of n·M/L)
	p        int   // and its phase (n·M mod L)
	in       int64 // input samples written
	out      int64 // output samples produced
	done     bool
}

// NewResampler returns a resampler from rate from to rate to (samples a
// second, 1 to 768 kHz each).
func NewResampler(from, to int) (*Resampler, error) {
	if from < 1 || from > maxRate || to < 1 || to > maxRate {
		return nil, fmt.Errorf("audio: resampling %d Hz to %d Hz: rates must be 1 to %d", from, to, maxRate)
	}
	g := gcd(from, to)
	r := &Resampler{from: from, to: to, l: to / g, m: from / g}
	r.fc = rsRolloff * min(1, float64(r.l)/float64(r.m))
	r.k = int(math.Ceil(rsZeros / r.fc))
	if r.l*2*r.k <= rsTable {
		r.table = make([]float32, r.l*2*r.k)
		for p := range r.l {
			r.phase(r.table[p*2*r.k:(p+1)*2*r.k], p)
		}
	} else {
		r.coef = make([]float32, 2*r.k)
	}
	return r, nil
}

// phase fills c with the coefficients of phase p: c[d] multiplies the input
// sample at offset d−K+1 from the output's integer position.
func (r *Resampler) phase(c []float32, p int) {
	frac := float64(p) / float64(r.l)
	i0 := besselI0(rsBeta)
	for d := range c {
		t := float64(d-r.k+1) - frac // input time of the tap, relative to the output
		u := t / float64(r.k)
		if u <= -1 || u >= 1 {
			c[d] = 0
			continue
		}
		s := r.fc
		if x := math.Pi * r.fc * t; x != 0 {
			s = r.fc * math.Sin(x) / x
		}
		c[d] = float32(s * besselI0(rsBeta*math.Sqrt(1-u*u)) / i0)
	}
}

// besselI0 is the modified Bessel function of the first kind, order 0, by
// its power series (converges quickly for the arguments used here).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for k := 1; k < 200; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Rates returns the input and output rates.
func (r *Resampler) Rates() (from, to int) { return r.from, r.to }

// OutputLen returns how many samples n input samples give: ceil(n·to/from).
func (r *Resampler) OutputLen(n int64) int64 {
	return (n*int64(r.l) + int64(r.m) - 1) / int64(r.m)
}

// Write feeds samples and appends to dst every output sample they make
// computable; it returns dst. After Flush it appends nothing.
func (r *Resampler) Write(dst, samples []float32) []float32 {
	if r.done {
		return dst
	}
	r.in += int64(len(samples))
	r.buf = append(r.buf, samples...)
	return r.emit(dst, false)
}

// Flush ends the stream: it appends the outputs that needed samples past
// the end (taken as 0), for OutputLen(samples written) in all, and returns
// dst. The Resampler can then only be Reset.
func (r *Resampler) Flush(dst []float32) []float32 {
	if r.done {
		return dst
	}
	dst = r.emit(dst, true)
	r.done = true
	return dst
}

// Reset forgets the stream: the next Write starts a new one.
func (r *Resampler) Reset() {
	r.buf, r.base, r.i, r.p, r.in, r.out, r.done = r.buf[:0], 0, 0, 0, 0, 0, false
}

func (r *Resampler) emit(dst []float32, final bool) []float32 {
	end := r.base + int64(len(r.buf)) // one past the last sample held
	want := r.OutputLen(r.in)
	taps := 2 * r.k
	for r.out < want {
		last := r.i + int64(r.k) // the newest input the output needs
		if !final && last >= end {
			break
		}
		c := r.coef
		if r.table != nil {
			c = r.table[r.p*taps : (r.p+1)*taps]
		} else {
			r.phase(c, r.p)
		}
		first := r.i - int64(r.k) + 1
		var acc float32
		for d, w := range c {
			j := first + int64(d) - r.base
			if j < 0 || j >= int64(len(r.buf)) {
				continue // before the start (already 0) or past the end
			}
			acc += float32(r.buf[j] * w)
		}
		dst = append(dst, acc)
		r.out++
		r.p += r.m
		r.i += int64(r.p / r.l)
		r.p %= r.l
	}
	// Drop what no later output reads: inputs before i−K+1.
	if keep := r.i - int64(r.k) + 1 - r.base; keep > 0 {
		keep = min(keep, int64(len(r.buf)))
		n := copy(r.buf, r.buf[keep:])
		r.buf = r.buf[:n]
		r.base += keep
	}
	return dst
}

// Resample returns c at rate to: c itself when it already is, else a new
// clip of ceil(len·to/rate) samples.
func Resample(c *Clip, to int) (*Clip, error) {
	if c.Rate == to {
		return c, nil
	}
	r, err := NewResampler(c.Rate, to)
	if err != nil {
		return nil, err
	}
	out := make([]float32, 0, r.OutputLen(int64(len(c.Samples))))
	out = r.Write(out, c.Samples)
	out = r.Flush(out)
	return &Clip{Rate: to, Samples: out}, nil
}
