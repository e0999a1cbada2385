package kws

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/edgerun/edgerun/runtime/audio"
)

// StreamWord is one utterance placed in a test stream.
type StreamWord struct {
	Label      string  // the command word, or _unknown_ for other speech
	Word       string  // what is said (a manifest label)
	File       string  // its clip, as the manifest names it
	Start, End float64 // seconds: where the speech lies (the clip's samples above −40 dB of its peak)
}

// StreamOptions describe MakeStream's stream.
type StreamOptions struct {
	Commands []Row // one clip per command word to place, in order
	Others   []Row // non-command speech to interleave
	Rate     int
	Gap      [2]float64 // seconds of background between utterances, drawn in [lo, hi)
	SNR      float64    // of the speech over the background noise, dB (pink noise)
	Seed     uint64
}

// MakeStream concatenates the clips (commands, with an other-speech clip
// after every second command while they last; without commands, every
// other-speech clip) with background noise
// between and under them, and returns the samples and the truth: every
// utterance with its label and where its speech lies.
func MakeStream(o StreamOptions) ([]float32, []StreamWord, error) {
	rng := rand.New(rand.NewPCG(o.Seed, 0x57e4))
	var out []float32
	var truth []StreamWord
	gap := func() {
		n := int((o.Gap[0] + rng.Float64()*(o.Gap[1]-o.Gap[0])) * float64(o.Rate))
		out = append(out, make([]float32, n)...)
	}
	place := func(r Row, label string) error {
		s, err := loadClip(r, o.Rate)
		if err != nil {
			return err
		}
		var peak float32
		for _, v := range s {
			peak = max(peak, float32(math.Abs(float64(v))))
		}
		first, last := -1, -1
		for i, v := range s {
			if math.Abs(float64(v)) >= 0.01*float64(peak) {
				if first < 0 {
					first = i
				}
				last = i
			}
		}
		if first < 0 {
			return fmt.Errorf("kws: %s is silent", r.File)
		}
		at := len(out)
		truth = append(truth, StreamWord{Label: label, Word: r.Label, File: r.File,
			Start: float64(at+first) / float64(o.Rate), End: float64(at+last+1) / float64(o.Rate)})
		out = append(out, s...)
		return nil
	}
	gap()
	oi := 0
	for i, r := range o.Commands {
		if err := place(r, r.Label); err != nil {
			return nil, nil, err
		}
		gap()
		if i%2 == 1 && oi < len(o.Others) {
			if err := place(o.Others[oi], Unknown); err != nil {
				return nil, nil, err
			}
			oi++
			gap()
		}
	}
	for ; len(o.Commands) == 0 && oi < len(o.Others); oi++ {
		if err := place(o.Others[oi], Unknown); err != nil {
			return nil, nil, err
		}
		gap()
	}
	// Background under everything: pink noise at the SNR of the speech.
	var ps float64
	var n int
	for _, w := range truth {
		for i := int(w.Start * float64(o.Rate)); i < int(w.End*float64(o.Rate)); i++ {
			ps += float64(out[i]) * float64(out[i])
			n++
		}
	}
	noise := genNoise(rng, 1, len(out))
	g := float32(math.Sqrt(ps / float64(max(n, 1)) / math.Pow(10, o.SNR/10)))
	for i := range out {
		out[i] += g * noise[i]
	}
	clip1(out)
	return out, truth, nil
}

// StreamScore matches detections against the truth: a detection counts
// for the first unmatched command utterance with its keyword whose speech
// started before the detection and ended at most late seconds before it;
// every other detection is a false accept.
type StreamScore struct {
	Commands, Hits, Misses, FalseAccepts int
	Hours                                float64
	FalsePerHour                         float64
	Matched                              []int // per detection: the truth index, −1 for a false accept
}

// ScoreStream scores detections (keyword, time) against truth for a
// stream of secs seconds.
func ScoreStream(truth []StreamWord, dets []audio.Detection, secs, late float64) StreamScore {
	s := StreamScore{Hours: secs / 3600}
	used := make([]bool, len(truth))
	for _, w := range truth {
		if w.Label != Unknown {
			s.Commands++
		}
	}
	for _, d := range dets {
		k := slices.IndexFunc(truth, func(w StreamWord) bool { return w.Label == d.Keyword && d.Time >= w.Start && d.Time <= w.End+late })
		for k >= 0 && used[k] {
			next := slices.IndexFunc(truth[k+1:], func(w StreamWord) bool { return w.Label == d.Keyword && d.Time >= w.Start && d.Time <= w.End+late })
			if next < 0 {
				k = -1
				break
			}
			k += 1 + next
		}
		if k >= 0 {
			used[k] = true
			s.Hits++
		} else {
			s.FalseAccepts++
		}
		s.Matched = append(s.Matched, k)
	}
	s.Misses = s.Commands - s.Hits
	if s.Hours > 0 {
		s.FalsePerHour = float64(s.FalseAccepts) / s.Hours
	}
	return s
}
