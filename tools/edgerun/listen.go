package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"time"

	"github.com/edgerun/edgerun/runtime/audio"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/sdk/sdkrt"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
)

// listenCmd is `edgerun listen`: keyword spotting on a stream.
type listenCmd struct {
	Model        string      `name:"model" required:"" placeholder:"KWS.erm" help:"Keyword-spotting model (edgetrain fit --task audio)."`
	WAV          string      `name:"wav" placeholder:"FILE" help:"Listen to a WAV file (16-bit PCM or float, the first channel, any rate) instead of raw PCM on standard input."`
	Rate         int         `name:"rate" default:"16000" placeholder:"HZ" help:"Raw input: samples a second, resampled to the model's rate."`
	Format       string      `name:"format" enum:"s16le,f32le" default:"s16le" help:"Raw input: sample format, s16le (arecord -f S16_LE) or f32le."`
	Channels     int         `name:"channels" default:"1" placeholder:"N" help:"Raw input: interleaved channels; the first is listened to."`
	Threshold    float64     `name:"threshold" default:"0.8" help:"Smoothed probability at which a command word is detected, (0, 1]."`
	SmoothingMS  int         `name:"smoothing-ms" default:"300" placeholder:"MS" help:"Average the model's probabilities over this many ms of runs."`
	RefractoryMS int         `name:"refractory-ms" default:"1000" placeholder:"MS" help:"After a detection, report none for this many ms."`
	Every        int         `name:"every" default:"1" placeholder:"HOPS" help:"Run the model every that many 10 ms hops (1: every hop)."`
	Threads      cliutil.Int `name:"threads" default:"1" placeholder:"N" help:"Goroutines one model run may use."`
	F32          bool        `name:"f32" help:"Run int8 layers with their dequantized f32 weights."`
	Quiet        bool        `name:"quiet" help:"No summary on standard error at the end."`
	TrustedKeys  []string    `name:"trusted-key" sep:"none" placeholder:"PUB.pem" help:"Refuse the model unless it is signed by this public key; repeat for several."`
}

// Help is the detailed help of `edgerun listen --help`.
func (c *listenCmd) Help() string {
	return `Spots the model's command words in a stream of audio and prints one JSON line per
detection, as it happens: {"keyword":"yes","confidence":0.93,"time_s":1.23} (time_s: seconds
from the start of the stream, the end of the 1 s window that triggered).

  arecord -q -f S16_LE -r 16000 -c 1 | edgerun listen --model kws.erm
  edgerun listen --model kws.erm --wav recording.wav

The audio front end stored in the model runs every 10 ms hop, the model on the latest
second every --every hops; probabilities are averaged over --smoothing-ms, and a command
word at --threshold is a detection, then none for --refractory-ms. At the end of the
stream (EOF, or Ctrl-C) a summary goes to standard error: the audio's length, the
detections, and the compute time per hop (front end + model) with the real-time factor.
Capture from ALSA directly is not built in (no pure-Go ALSA library is available to this
build); pipe arecord, or any program writing raw PCM.`
}

// listenDetection is one JSON line. Field names are part of the CLI's
// contract.
type listenDetection struct {
	Keyword    string  `json:"keyword"`
	Confidence float32 `json:"confidence"`
	Time       float64 `json:"time_s"`
}

func (c *listenCmd) Run(env *cliutil.Env) error {
	switch {
	case c.Threads < 1:
		return cliutil.OpError("listen", c.Model, fmt.Errorf("--threads=%d: need at least 1", c.Threads))
	case c.Rate < 1000 || c.Rate > 768000:
		return cliutil.OpError("listen", c.Model, fmt.Errorf("--rate=%d: want 1000 to 768000", c.Rate))
	case c.Channels < 1 || c.Channels > 64:
		return cliutil.OpError("listen", c.Model, fmt.Errorf("--channels=%d: want 1 to 64", c.Channels))
	case !(c.Threshold > 0 && c.Threshold <= 1):
		return cliutil.OpError("listen", c.Model, fmt.Errorf("--threshold=%v: want (0, 1]", c.Threshold))
	case c.SmoothingMS < 10 || c.SmoothingMS > 10000 || c.RefractoryMS < 10 || c.RefractoryMS > 600000 || c.Every < 1 || c.Every > 100:
		return cliutil.OpError("listen", c.Model, fmt.Errorf("--smoothing-ms %d, --refractory-ms %d, --every %d: want 10–10000, 10–600000, 1–100", c.SmoothingMS, c.RefractoryMS, c.Every))
	}
	readOpts, err := trustedKeyOptions(c.TrustedKeys)
	if err != nil {
		return cliutil.OpError("listen", c.Model, err)
	}
	m, err := engine.LoadFile(c.Model, readOpts...)
	if err != nil {
		return cliutil.OpError("listen", c.Model, err)
	}
	ai, err := audioInput(m)
	if err != nil {
		return cliutil.OpError("listen", c.Model, err)
	}
	cmds := 0
	for _, l := range m.Meta.Labels {
		if l != "_unknown_" && l != "_silence_" {
			cmds++
		}
	}
	opts := []engine.Option{engine.WithThreads(int(c.Threads))}
	if c.F32 {
		opts = append(opts, engine.WithF32())
	}
	s := m.NewSession(opts...)
	defer s.Close()
	hopMS := 1000 * float64(ai.Frontend.Hop) / float64(ai.Frontend.Rate)
	sp, err := audio.NewSpotter(audio.SpotterConfig{Input: ai, Labels: m.Meta.Labels, Commands: cmds, Threshold: float32(c.Threshold),
		Smoothing: max(1, int(math.Round(float64(c.SmoothingMS)/hopMS))), Refractory: max(1, int(math.Round(float64(c.RefractoryMS)/hopMS))), Every: c.Every},
		sdkrt.SpotterModel(s, ai))
	if err != nil {
		return cliutil.OpError("listen", c.Model, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	out := bufio.NewWriter(env.Stdout)
	enc := json.NewEncoder(out)
	var (
		dets    int
		compute time.Duration
		encErr  error
	)
	emit := func(d audio.Detection) {
		dets++
		if encErr == nil {
			encErr = enc.Encode(listenDetection{Keyword: d.Keyword, Confidence: d.Confidence, Time: math.Round(d.Time*1000) / 1000})
		}
		if encErr == nil {
			encErr = out.Flush()
		}
	}
	var rs *audio.Resampler
	var buf []float32
	feed := func(x []float32, rate int) error {
		if rate != ai.Frontend.Rate {
			if rs == nil {
				var err error
				if rs, err = audio.NewResampler(rate, ai.Frontend.Rate); err != nil {
					return err
				}
			}
			buf = rs.Write(buf[:0], x)
			x = buf
		}
		t0 := time.Now()
		err := sp.Write(x, emit)
		compute += time.Since(t0)
		if err != nil {
			return err
		}
		return encErr
	}
	name := "standard input"
	if c.WAV != "" {
		name = c.WAV
		clip, err := audio.ReadWAVFile(c.WAV)
		if err != nil {
			return cliutil.OpError("listen", c.WAV, err)
		}
		// In 100 ms chunks, as a device delivers them.
		step := max(1, clip.Rate/10)
		for lo := 0; lo < len(clip.Samples) && ctx.Err() == nil; lo += step {
			if err := feed(clip.Samples[lo:min(lo+step, len(clip.Samples))], clip.Rate); err != nil {
				return cliutil.OpError("listen", c.WAV, err)
			}
		}
	} else if err := c.readRaw(ctx, os.Stdin, func(x []float32) error { return feed(x, c.Rate) }); err != nil {
		return cliutil.OpError("listen", name, err)
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if !c.Quiet {
		hops := ai.Frontend.Frames(int(math.Round(sp.Time() * float64(ai.Frontend.Rate))))
		per := 0.0
		if hops > 0 {
			per = float64(compute.Microseconds()) / float64(hops)
		}
		fmt.Fprintf(env.Stderr, "listen: %.2f s of audio from %s, %d detections; %.1f µs of compute per %.0f ms hop (front end + model every %d hops, 1 thread: real-time factor %.4f)\n",
			sp.Time(), name, dets, per, hopMS, c.Every, per/1000/hopMS)
	}
	return nil
}

// readRaw reads interleaved PCM until EOF (or ctx ends) and hands the
// first channel to feed in chunks of about 20 ms.
func (c *listenCmd) readRaw(ctx context.Context, r io.Reader, feed func([]float32) error) error {
	chunk := make([]byte, max(1, c.Rate/50)*audio.PCMFrameBytes(c.Format, c.Channels))
	var x []float32
	br := bufio.NewReaderSize(r, 1<<16)
	for ctx.Err() == nil {
		n, err := io.ReadFull(br, chunk)
		var derr error
		if x, derr = audio.DecodePCM(x[:0], chunk[:n], c.Format, c.Channels); derr != nil {
			return derr
		}
		if len(x) > 0 {
			if ferr := feed(x); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}
