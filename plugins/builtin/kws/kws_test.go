package kws_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/plugins/builtin/internal/plugintest"
	"github.com/edgerun/edgerun/plugins/builtin/kws"
	"github.com/edgerun/edgerun/runtime/audio"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdkrt"
	"github.com/edgerun/edgerun/sdk/sdktest"
)

func newModel(t *testing.T) *sdkrt.KWS {
	t.Helper()
	m, err := kws.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.(*sdkrt.KWS).Close() })
	return m.(*sdkrt.KWS)
}

// clip reads a bundled synthetic clip (16 kHz).
func clip(t testing.TB, word, speaker string) []float32 {
	t.Helper()
	c, err := audio.ReadWAVFile(filepath.Join(plugintest.Root(), "data/keyword_spotting/espeak_commands_synthetic/wav", word+"_"+speaker+".wav"))
	if err != nil {
		t.Fatal(err)
	}
	return c.Samples
}

func audioReq(samples []float32, params map[string]string) *sdk.InferRequest {
	return &sdk.InferRequest{Inputs: []sdk.Tensor{plugintest.FP32(kws.InAudio, []int64{int64(len(samples))}, samples...)}, Parameters: params}
}

// TestClips: every bundled synthetic clip, one request each, classified
// as its word (the voices were never trained on: the model's training
// set is `edgetrain datasets kws` voices).
func TestClips(t *testing.T) {
	m := newModel(t)
	right, n := 0, 0
	for s := range 12 {
		for _, w := range []string{"yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"} {
			resp := plugintest.Infer(t, m, audioReq(clip(t, w, fmt.Sprintf("spk%03d", s)), nil))
			n++
			if got := plugintest.Strings(t, resp, kws.OutLabel)[0]; got == w {
				right++
			}
			p := plugintest.Output(t, resp, kws.OutProbabilities).FP32
			var sum float32
			for _, v := range p {
				sum += v
			}
			if math.Abs(float64(sum-1)) > 1e-3 {
				t.Errorf("probabilities sum to %v", sum)
			}
		}
	}
	t.Logf("bundled synthetic clips: %d of %d right", right, n)
	if right < n*9/10 {
		t.Errorf("%d of %d bundled clips right, want 90 %%", right, n)
	}
	d := plugintest.Description(t, m)
	if !strings.Contains(d.Summary, "SYNTHETIC") || !strings.Contains(d.Provenance, "SYNTHETIC") {
		t.Errorf("the description does not say the training speech is synthetic: %q / %q", d.Summary, d.Provenance)
	}
}

// streamAudio is 1 s of quiet, then each word's clip followed by 1 s of
// quiet; it returns the samples and when each word starts.
func streamAudio(t *testing.T, words ...string) ([]float32, []float64) {
	rng := rand.New(rand.NewPCG(9, 9))
	quiet := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(rng.NormFloat64() * 3e-4)
		}
		return s
	}
	s := quiet(16000)
	var at []float64
	for i, w := range words {
		at = append(at, float64(len(s))/16000)
		s = append(s, clip(t, w, fmt.Sprintf("spk%03d", 3+i%8))...)
		s = append(s, quiet(16000)...)
	}
	return s, at
}

type det struct {
	kw   string
	conf float32
	at   float32
}

// send streams samples in chunks of the given sizes (cycled) and collects
// the detections.
func send(t *testing.T, m sdk.Model, id string, s []float32, sizes []int, params map[string]string) []det {
	t.Helper()
	var out []det
	for i := 0; len(s) > 0; i++ {
		n := min(len(s), sizes[i%len(sizes)])
		p := map[string]string{"stream": id}
		for k, v := range params {
			p[k] = v
		}
		if i > 0 {
			delete(p, "reset")
		}
		resp := plugintest.Infer(t, m, audioReq(s[:n], p))
		if len(resp.Outputs) > 2 {
			kw := plugintest.Strings(t, resp, kws.OutKeyword)
			conf := plugintest.Output(t, resp, kws.OutConfidence).FP32
			ts := plugintest.Output(t, resp, kws.OutTime).FP32
			for j := range kw {
				out = append(out, det{kw[j], conf[j], ts[j]})
			}
		}
		s = s[n:]
	}
	return out
}

// TestStream: the words of a stream are each detected once, in order,
// near their times, whatever the chunk sizes (at most one other
// detection is allowed and logged: a word whose start alone is in the
// window can look like another, "off" like "up"; the model's false
// accepts are measured on the committed stream by edgetrain
// eval-stream); the same after a reset and through the resampler.
func TestStream(t *testing.T) {
	m := newModel(t)
	words := []string{"yes", "stop", "left", "go", "off"}
	s, at := streamAudio(t, words...)
	whole := send(t, m, "a", s, []int{len(s)}, nil)
	chunked := send(t, m, "b", s, []int{160, 1000, 4097, 333}, nil)
	if !slices.Equal(whole, chunked) {
		t.Fatalf("chunked detections %v, whole %v", chunked, whole)
	}
	k := 0
	for _, d := range whole {
		// Within 2 s of its clip's start: the word stays in the window for
		// a second after it ends, and another detection holds it back for
		// the refractory period.
		if k < len(words) && d.kw == words[k] && float64(d.at) >= at[k] && float64(d.at) <= at[k]+2 && d.conf >= kws.DefaultThreshold {
			k++
		} else {
			t.Logf("another detection: %+v", d)
		}
	}
	if k != len(words) || len(whole) > len(words)+1 {
		t.Fatalf("detections %v, want each of %v once near its time (at %v), and at most one other", whole, words, at)
	}
	// The same again on stream a, after a reset: the same times.
	again := send(t, m, "a", s, []int{16000}, map[string]string{"reset": "true"})
	if !slices.Equal(again, whole) {
		t.Errorf("after reset: %v, want %v", again, whole)
	}
	// At 48 kHz, resampled in the plugin.
	c48, err := audio.Resample(&audio.Clip{Rate: 16000, Samples: s}, 48000)
	if err != nil {
		t.Fatal(err)
	}
	hi := send(t, m, "c", c48.Samples, []int{4800}, map[string]string{"sample_rate": "48000"})
	var kw, want []string
	for _, d := range hi {
		kw = append(kw, d.kw)
	}
	for _, d := range whole {
		want = append(want, d.kw)
	}
	if !slices.Equal(kw, want) {
		t.Errorf("48 kHz stream heard %v, the 16 kHz one %v", kw, want)
	}
}

// TestStreamErrors: changing a running stream's parameters without a
// reset, and bad parameters, are invalid input; a stream over MaxStreams
// drops the least recently used.
func TestStreamErrors(t *testing.T) {
	m := newModel(t)
	ctx := context.Background()
	one := make([]float32, 1600)
	if _, err := m.Infer(ctx, audioReq(one, map[string]string{"stream": "x"})); err != nil {
		t.Fatal(err)
	}
	for _, p := range []map[string]string{
		{"stream": "x", "threshold": "0.5"},
		{"stream": "x", "sample_rate": "8000"},
		{"stream": "x", "reset": "maybe"},
		{"stream": strings.Repeat("s", 65)},
		{"stream": "y", "smoothing_ms": "0"},
		{"stream": "y", "refractory_ms": "1e9"},
		{"sample_rate": "10"},
		{"threshold": "2"},
	} {
		if _, err := m.Infer(ctx, audioReq(one, p)); !errors.Is(err, sdk.ErrInvalidInput) {
			t.Errorf("%v: %v, want invalid input", p, err)
		}
	}
	bad := slices.Clone(one)
	bad[7] = float32(math.Inf(1))
	if _, err := m.Infer(ctx, audioReq(bad, nil)); !errors.Is(err, sdk.ErrInvalidInput) {
		t.Errorf("an infinite sample: %v", err)
	}
	if _, err := m.Infer(ctx, audioReq(make([]float32, 61*16000), nil)); !errors.Is(err, sdk.ErrInvalidInput) {
		t.Errorf("61 s in one request: %v", err)
	}
	// The stream is still usable with a reset and new parameters.
	if _, err := m.Infer(ctx, audioReq(one, map[string]string{"stream": "x", "threshold": "0.5", "reset": "true"})); err != nil {
		t.Error(err)
	}
	for i := range kws.MaxStreams + 5 {
		if _, err := m.Infer(ctx, audioReq(one[:160], map[string]string{"stream": fmt.Sprint("s", i)})); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConformance(t *testing.T) {
	m := newModel(t)
	sdktest.Run(t, m)
	t.Run("wire", func(t *testing.T) { sdktest.Run(t, sdktest.Serve(t, m)) })
	yes := clip(t, "yes", "spk001")
	// Streaming: 100 ms chunks of one stream (the concurrency check sends
	// 128 of them, which the stream takes one at a time).
	t.Run("stream", func(t *testing.T) {
		sdktest.Run(t, m, sdktest.WithRequests(audioReq(yes[7200:8800], map[string]string{"stream": "conf"})), sdktest.Nondeterministic())
	})
}
