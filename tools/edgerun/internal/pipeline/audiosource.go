package pipeline

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/edgerun/edgerun/boards"
	"github.com/edgerun/edgerun/runtime/audio"
)

// AudioChannel is the one channel of an audio source.
const AudioChannel = "audio"

// wavKind is the wav source kind: fields path (a WAV file: 16-bit PCM or
// float, the first channel, any rate), rate (the samples a second it is
// resampled to, default 16000: the pipeline's sample_rate) and realtime
// (default false: as fast as the pipeline takes them).
func wavKind(n *Node) (OpenSource, error) {
	path, err := n.Path("path")
	if err != nil {
		return nil, err
	}
	rate, err := n.Int("rate", 16000, 1000, 768000)
	if err != nil {
		return nil, err
	}
	realtime, err := n.Bool("realtime", false)
	if err != nil {
		return nil, err
	}
	return func() (boards.Source, error) {
		c, err := audio.ReadWAVFile(path)
		if err != nil {
			return nil, err
		}
		if c, err = audio.Resample(c, rate); err != nil {
			return nil, err
		}
		return &AudioSource{samples: c.Samples, realtime: realtime, rate: rate, start: time.Now()}, nil
	}, nil
}

// pcmKind is the pcm source kind, a microphone through arecord or any
// program writing raw PCM: fields path ("-" for standard input, the
// default, or a file or FIFO), format (s16le, the default, or f32le),
// channels (interleaved; the first is taken; default 1), input_rate (the
// PCM's samples a second, default 16000) and rate (resampled to, default
// 16000: the pipeline's sample_rate). The stream is never paced: it
// arrives at its own speed.
func pcmKind(stdin io.Reader) SourceKind {
	return func(n *Node) (OpenSource, error) {
		path, err := n.String("path", "-")
		if err != nil {
			return nil, err
		}
		format, err := n.String("format", "s16le")
		if err != nil {
			return nil, err
		}
		if format != "s16le" && format != "f32le" {
			return nil, n.Errorf("format", "is %q, want s16le or f32le", format)
		}
		channels, err := n.Int("channels", 1, 1, 64)
		if err != nil {
			return nil, err
		}
		in, err := n.Int("input_rate", 16000, 1000, 768000)
		if err != nil {
			return nil, err
		}
		rate, err := n.Int("rate", 16000, 1000, 768000)
		if err != nil {
			return nil, err
		}
		return func() (boards.Source, error) {
			var rc io.ReadCloser
			if path == "-" {
				if stdin == nil {
					stdin = os.Stdin
				}
				rc = io.NopCloser(stdin)
			} else {
				f, err := os.Open(path)
				if err != nil {
					return nil, err
				}
				rc = f
			}
			s := &AudioSource{rc: rc, br: bufio.NewReaderSize(rc, 1<<16), format: format, channels: channels, rate: rate, start: time.Now()}
			if in != rate {
				if s.rs, err = audio.NewResampler(in, rate); err != nil {
					_ = rc.Close()
					return nil, err
				}
			}
			return s, nil
		}, nil
	}
}

// AudioSource is a mono audio stream read a sample at a time: a WAV file
// read whole, or raw PCM read in chunks of 20 ms (resampled as it comes).
// Its one channel is AudioChannel; a reading's time is the stream's start
// plus the sample's offset.
type AudioSource struct {
	samples  []float32 // what is read and not yet handed out
	at       int       // next in samples
	n        int64     // samples handed out
	rate     int
	realtime bool
	start    time.Time

	rc       io.ReadCloser // raw PCM; nil for a WAV file
	br       *bufio.Reader
	format   string
	channels int
	rs       *audio.Resampler
	buf      []byte
	eof      bool
}

// Channels is [AudioChannel].
func (s *AudioSource) Channels() []string { return []string{AudioChannel} }

// Realtime says whether the pipeline paces reads at the sample rate: only
// a WAV file with realtime: true.
func (s *AudioSource) Realtime() bool { return s.realtime }

// Read returns the next sample; io.EOF after the last.
func (s *AudioSource) Read(ctx context.Context) (boards.Reading, error) {
	for s.at == len(s.samples) {
		if s.rc == nil || s.eof {
			return boards.Reading{}, io.EOF
		}
		if err := s.fill(); err != nil {
			return boards.Reading{}, err
		}
	}
	v := s.samples[s.at]
	s.at++
	t := s.start.Add(time.Duration(float64(s.n) / float64(s.rate) * float64(time.Second)))
	s.n++
	// A fresh slice each reading: the pipeline may keep it.
	return boards.Reading{Time: t, Values: []float64{float64(v)}}, nil
}

// fill reads the next chunk of raw PCM (20 ms, or what is left).
func (s *AudioSource) fill() error {
	if s.buf == nil {
		s.buf = make([]byte, max(1, s.rate/50)*audio.PCMFrameBytes(s.format, s.channels))
	}
	n, err := io.ReadFull(s.br, s.buf)
	x, derr := audio.DecodePCM(nil, s.buf[:n], s.format, s.channels)
	if derr != nil {
		return fmt.Errorf("pcm: %w", derr)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		s.eof, err = true, nil
	}
	if err != nil {
		return err
	}
	if s.rs != nil {
		out := s.rs.Write(nil, x)
		if s.eof {
			out = s.rs.Flush(out)
		}
		x = out
	}
	s.samples, s.at = x, 0
	return nil
}

// Close closes the PCM input.
func (s *AudioSource) Close() error {
	if s.rc != nil {
		return s.rc.Close()
	}
	return nil
}
