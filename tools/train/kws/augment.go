package kws

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/edgerun/edgerun/runtime/audio"
)

// Augmentation, each draw from a generator seeded by (seed, example):
//   - speed: ×0.9, 0.95, 1.05 or 1.1 half the time (the clip resampled as
//     if recorded at rate·factor), else unchanged;
//   - time shift: up to ±100 ms, zeros shifted in;
//   - band limit, 10 % of the time: the clip through 8 kHz and back (a
//     telephone-band or 8 kHz microphone: nothing above 4 kHz);
//   - gain: −12 to +6 dB, then clipped to [−1, 1];
//   - background noise, 80 % of the time, at an SNR of 30, 20, 10 or 5 dB
//     (signal and noise power over the whole window): white, pink or brown
//     noise generated on the spot, or a random stretch of a recorded noise
//     clip (manifest rows labelled _noise_) when there is one.
var (
	speedFactors = []float64{0.9, 0.95, 1.05, 1.1}
	snrsDB       = []float64{30, 20, 10, 5}
)

const (
	maxShiftSec = 0.1
	noiseProb   = 0.8
	narrowProb  = 0.1
)

type augmenter struct {
	rate, n    int
	noises     [][]float32 // recorded noise clips at rate
	resamplers map[float64]*audio.Resampler
	down, up   *audio.Resampler // for narrow
	buf        []float32
}

func newAugmenter(rate, n int, noises [][]float32) *augmenter {
	return &augmenter{rate: rate, n: n, noises: noises, resamplers: map[float64]*audio.Resampler{}}
}

// apply returns an augmented copy of clip (n samples) drawn from rng.
func (a *augmenter) apply(rng *rand.Rand, clip []float32) ([]float32, error) {
	src := clip
	if rng.IntN(2) == 0 {
		f := speedFactors[rng.IntN(len(speedFactors))]
		r := a.resamplers[f]
		if r == nil {
			var err error
			if r, err = audio.NewResampler(int(math.Round(float64(a.rate)*f)), a.rate); err != nil {
				return nil, fmt.Errorf("kws: speed %v: %w", f, err)
			}
			a.resamplers[f] = r
		}
		r.Reset()
		a.buf = r.Flush(r.Write(a.buf[:0], clip))
		src = audio.FitWindow(nil, a.buf, a.n)
	}
	out := make([]float32, a.n)
	shift := rng.IntN(2*int(maxShiftSec*float64(a.rate))+1) - int(maxShiftSec*float64(a.rate))
	for i := range out {
		if j := i - shift; j >= 0 && j < len(src) {
			out[i] = src[j]
		}
	}
	if rng.Float64() < narrowProb {
		var err error
		if out, err = a.narrow(out); err != nil {
			return nil, err
		}
	}
	g := float32(math.Pow(10, (rng.Float64()*18-12)/20))
	for i := range out {
		out[i] *= g
	}
	if rng.Float64() < noiseProb {
		mixNoise(out, a.noise(rng, len(out)), snrsDB[rng.IntN(len(snrsDB))])
	}
	clip1(out)
	return out, nil
}

// narrow band-limits s to 4 kHz: resampled to 8 kHz and back, the same
// length.
func (a *augmenter) narrow(s []float32) ([]float32, error) {
	if a.down == nil {
		var err error
		if a.down, err = audio.NewResampler(a.rate, 8000); err != nil {
			return nil, err
		}
		if a.up, err = audio.NewResampler(8000, a.rate); err != nil {
			return nil, err
		}
	}
	a.down.Reset()
	a.up.Reset()
	low := a.down.Flush(a.down.Write(nil, s))
	return audio.FitWindow(nil, a.up.Flush(a.up.Write(nil, low)), len(s)), nil
}

// noise returns n samples of a noise drawn from rng: a recorded clip's
// stretch, or generated white, pink or brown noise.
func (a *augmenter) noise(rng *rand.Rand, n int) []float32 {
	kinds := 3 + len(a.noises)
	k := rng.IntN(kinds)
	if k >= 3 {
		return stretch(rng, a.noises[k-3], n)
	}
	return genNoise(rng, k, n)
}

// silence returns a _silence_ example: near-digital silence, or a noise at
// a level from −60 to −20 dBFS RMS.
func (a *augmenter) silence(rng *rand.Rand) []float32 {
	out := a.noise(rng, a.n)
	db := -60 + rng.Float64()*40
	if rng.IntN(8) == 0 {
		db = -90
	}
	scaleRMS(out, math.Pow(10, db/20))
	clip1(out)
	return out
}

// genNoise makes n samples of white (kind 0), pink (1, Paul Kellet's
// filter) or brown (2, integrated white) noise, unit RMS.
func genNoise(rng *rand.Rand, kind, n int) []float32 {
	out := make([]float32, n)
	var b0, b1, b2, b3, b4, b5, b6, br float64
	for i := range out {
		w := rng.NormFloat64()
		switch kind {
		case 0:
			out[i] = float32(w)
		case 1:
			b0 = 0.99886*b0 + w*0.0555179
			b1 = 0.99332*b1 + w*0.0750759
			b2 = 0.96900*b2 + w*0.1538520
			b3 = 0.86650*b3 + w*0.3104856
			b4 = 0.55000*b4 + w*0.5329522
			b5 = -0.7616*b5 - w*0.0168980
			out[i] = float32(b0 + b1 + b2 + b3 + b4 + b5 + b6 + w*0.5362)
			b6 = w * 0.115926
		default:
			br = 0.995*br + 0.1*w
			out[i] = float32(br)
		}
	}
	scaleRMS(out, 1)
	return out
}

// stretch is n samples of clip from a random start, looping.
func stretch(rng *rand.Rand, clip []float32, n int) []float32 {
	out := make([]float32, n)
	if len(clip) == 0 {
		return out
	}
	j := rng.IntN(len(clip))
	for i := range out {
		out[i] = clip[j]
		if j++; j == len(clip) {
			j = 0
		}
	}
	return out
}

func power(s []float32) float64 {
	var p float64
	for _, v := range s {
		p += float64(v) * float64(v)
	}
	return p / float64(max(len(s), 1))
}

func scaleRMS(s []float32, rms float64) {
	p := power(s)
	if p == 0 {
		return
	}
	g := float32(rms / math.Sqrt(p))
	for i := range s {
		s[i] *= g
	}
}

// mixNoise adds noise to s at snr dB (an all-zero s gets nothing).
func mixNoise(s, noise []float32, snr float64) {
	ps, pn := power(s), power(noise)
	if ps == 0 || pn == 0 {
		return
	}
	g := float32(math.Sqrt(ps / pn / math.Pow(10, snr/10)))
	for i := range s {
		s[i] += g * noise[i]
	}
}

func clip1(s []float32) {
	for i, v := range s {
		s[i] = max(-1, min(1, v))
	}
}
