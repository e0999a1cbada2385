package kws

import (
	"math/rand/v2"
	"testing"

	"github.com/edgerun/edgerun/runtime/audio"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/sdk/sdkrt"
)

// BenchmarkStreamHop is the device's cost of listening: one 10 ms hop of
// audio (160 samples) through the front end and the embedded model on the
// rolling 1 s window, one thread, as edgerun listen and the plugin's
// streams run it. µs/hop over 10 000 µs is the real-time factor.
func BenchmarkStreamHop(b *testing.B) {
	em, err := sdkrt.Load(modelFile)
	if err != nil {
		b.Fatal(err)
	}
	in, err := audio.ParseModelInput(func(k string) string { v, _ := sdkrt.Extra(em, k); return v })
	if err != nil {
		b.Fatal(err)
	}
	s := em.NewSession(engine.WithThreads(1))
	defer s.Close()
	sp, err := audio.NewSpotter(audio.SpotterConfig{Input: in, Labels: em.Meta.Labels, Commands: len(em.Meta.Labels) - 2}, sdkrt.SpotterModel(s, in))
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	noise := make([]float32, 16000)
	for i := range noise {
		noise[i] = float32(rng.NormFloat64() * 0.05)
	}
	hop := in.Frontend.Hop
	sp.Write(noise, nil) // warm up: the window full, the session planned
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k := (i * hop) % (len(noise) - hop)
		if err := sp.Write(noise[k:k+hop], nil); err != nil {
			b.Fatal(err)
		}
	}
	us := float64(b.Elapsed().Microseconds()) / float64(b.N)
	b.ReportMetric(us, "µs/hop")
	b.ReportMetric(us/(1e6*float64(hop)/float64(in.Frontend.Rate)), "RTF")
}
