package audio

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// loudModel is a stand-in for a keyword model: "word" (class 0) when the
// newest 20 frames' mean first coefficient is above level, else "quiet"
// (class 1).
func loudModel(nf int, level float32, calls *int) func(f, p []float32) error {
	return func(f, p []float32) error {
		*calls++
		var s float32
		for k := len(f) - 20*nf; k < len(f); k += nf {
			s += f[k]
		}
		clear(p)
		if s/20 > level {
			p[0] = 1
		} else {
			p[1] = 1
		}
		return nil
	}
}

func spotterInput() ModelInput {
	c := DefaultConfig()
	return ModelInput{Frontend: c, Clip: 16000, Frames: c.Frames(16000)}
}

// burstStream is secs of quiet noise with loud noise bursts of 0.5 s at
// the given seconds.
func burstStream(secs float64, at ...float64) []float32 {
	rng := rand.New(rand.NewPCG(1, 2))
	s := make([]float32, int(secs*16000))
	for i := range s {
		s[i] = float32(rng.NormFloat64() * 1e-4)
	}
	for _, t := range at {
		for i := int(t * 16000); i < int((t+0.5)*16000) && i < len(s); i++ {
			s[i] = float32(rng.NormFloat64() * 0.3)
		}
	}
	return s
}

func TestSpotter(t *testing.T) {
	in := spotterInput()
	calls := 0
	// The level between quiet and loud: the first coefficient of each.
	fe, _ := NewFrontend(in.Frontend)
	q, l := make([]float32, 10), make([]float32, 10)
	fe.Frame(q, burstStream(0.025))
	fe.Frame(l, burstStream(0.5, 0)[:400])
	level := (q[0] + l[0]) / 2
	cfg := SpotterConfig{Input: in, Labels: []string{"word", "quiet"}, Commands: 1, Smoothing: 5, Refractory: 150}
	sp, err := NewSpotter(cfg, loudModel(10, level, &calls))
	if err != nil {
		t.Fatal(err)
	}
	audio := burstStream(8, 1, 1.6, 4, 6.5)
	var whole []Detection
	if err := sp.Write(audio, func(d Detection) { whole = append(whole, d) }); err != nil {
		t.Fatal(err)
	}
	// Bursts at 1 (and 1.6, inside the 1.5 s refractory period), 4, 6.5.
	if len(whole) != 3 {
		t.Fatalf("detections %+v, want 3", whole)
	}
	for i, at := range []float64{1, 4, 6.5} {
		d := whole[i]
		if d.Keyword != "word" || d.Class != 0 || d.Confidence < 0.7 || d.Time < at || d.Time > at+0.3 {
			t.Errorf("detection %d: %+v, want word shortly after %v s", i, d, at)
		}
	}
	if calls != in.Frontend.Frames(len(audio)) {
		t.Errorf("%d model runs for %d hops", calls, in.Frontend.Frames(len(audio)))
	}
	if p := sp.Posteriors(); len(p) != 2 || p[1] != 1 {
		t.Errorf("posteriors after the quiet end: %v", p)
	}
	// Any chunking gives the same detections; Reset starts over.
	rng := rand.New(rand.NewPCG(5, 5))
	for round := range 3 {
		sp.Reset()
		var got []Detection
		for rest := audio; len(rest) > 0; {
			n := min(len(rest), rng.IntN(3000))
			if err := sp.Write(rest[:n], func(d Detection) { got = append(got, d) }); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		if !slices.Equal(got, whole) {
			t.Fatalf("round %d: chunked %+v, whole %+v", round, got, whole)
		}
	}
	// No allocation per write once warm.
	sp.Reset()
	chunk := audio[:1600]
	if a := testing.AllocsPerRun(20, func() { sp.Write(chunk, nil) }); a != 0 {
		t.Errorf("%v allocations per Write", a)
	}
	// Every 4 hops: a quarter of the runs.
	calls = 0
	cfg.Every = 4
	sp4, _ := NewSpotter(cfg, loudModel(10, level, &calls))
	sp4.Write(audio, nil)
	if want := in.Frontend.Frames(len(audio)) / 4; calls != want {
		t.Errorf("every 4: %d runs, want %d", calls, want)
	}
}

func TestSpotterErrors(t *testing.T) {
	in := spotterInput()
	run := func(f, p []float32) error { return nil }
	for _, cfg := range []SpotterConfig{
		{Input: in, Labels: []string{"a"}, Commands: 0},
		{Input: in, Labels: []string{"a"}, Commands: 2},
		{Input: in, Labels: []string{"a", "b"}, Commands: 1, Threshold: 1.5},
		{Input: in, Labels: []string{"a", "b"}, Commands: 1, Smoothing: -1},
		{Input: in, Labels: []string{"a", "b"}, Commands: 1, Every: 5000},
		{Input: ModelInput{Frontend: in.Frontend, Clip: 16000, Frames: 7}, Labels: []string{"a", "b"}, Commands: 1},
	} {
		if _, err := NewSpotter(cfg, run); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
	if _, err := NewSpotter(SpotterConfig{Input: in, Labels: []string{"a", "b"}, Commands: 1}, nil); err == nil {
		t.Error("nil model: no error")
	}
	boom := errors.New("boom")
	n := 0
	sp, _ := NewSpotter(SpotterConfig{Input: in, Labels: []string{"a", "b"}, Commands: 1}, func(f, p []float32) error {
		if n++; n == 3 {
			return boom
		}
		return nil
	})
	if err := sp.Write(make([]float32, 16000), nil); !errors.Is(err, boom) {
		t.Errorf("model error: %v", err)
	}
	if err := sp.Write(make([]float32, 1600), nil); err != nil {
		t.Errorf("after the error: %v", err)
	}
	bad := make([]float32, 100)
	bad[50] = float32(math.NaN())
	if err := sp.Write(bad, nil); err == nil {
		t.Error("NaN sample: no error")
	}
}

// TestSpotterOnceAWord: a word that keeps the probability up for longer
// than the refractory period (it stays in the window) is heard once; it
// is heard again once the probability has fallen and risen.
func TestSpotterOnceAWord(t *testing.T) {
	in := spotterInput()
	calls := 0
	fe, _ := NewFrontend(in.Frontend)
	q, l := make([]float32, 10), make([]float32, 10)
	fe.Frame(q, burstStream(0.025))
	fe.Frame(l, burstStream(0.5, 0)[:400])
	sp, err := NewSpotter(SpotterConfig{Input: in, Labels: []string{"word", "quiet"}, Commands: 1, Smoothing: 5, Refractory: 20},
		loudModel(10, (q[0]+l[0])/2, &calls))
	if err != nil {
		t.Fatal(err)
	}
	// A 3 s burst, then 1 s quiet, then another burst.
	s := burstStream(7, 1)
	loud := burstStream(3.5, 0)
	copy(s[16000:], loud[:3*16000])
	copy(s[5*16000:], loud[:16000])
	var got []Detection
	sp.Write(s, func(d Detection) { got = append(got, d) })
	if len(got) != 2 || got[0].Time > 1.5 || got[1].Time < 5 || got[1].Time > 5.5 {
		t.Errorf("detections %+v, want one near 1 s and one near 5 s", got)
	}
}
