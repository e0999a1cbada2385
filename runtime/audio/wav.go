// Package audio is the audio front end that the trainer and the device
// share, so that a keyword spotter computes the same features on a
// Raspberry Pi as it did in training. It has WAV reading (DecodeWAV), a
// float32 FFT and natural log (Log32), and the per-frame feature front end
// (Config, Frontend.Frame: Hann window, power spectrum, mel filterbank,
// log-mel, MFCC) and its streaming form (Stream: PCM chunks of any size in,
// frames out), and resampling to the front end's rate (Resample, and
// Resampler for streams), all with the same bits on every architecture. A
// Config's text form (String, ParseConfig) is what a model's metadata
// stores, so the device runs the front end the trainer did.
//
// Same bits everywhere: every float32 product that feeds an addition is
// rounded explicitly (float32(a*b) + ...), because the Go compiler may fuse
// a multiply-add into one FMA instruction on arm64 and not on amd64
// (TestFFTSameBits fails on arm64 without it), and no result depends on
// math.Log or math.Exp, which are assembly on amd64 and Go elsewhere
// (Log32 instead).
//
// It imports nothing outside the standard library.
package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// Clip is a mono recording at Rate samples a second; samples are nominally
// in [−1, 1] (PCM always is; a float file may exceed it).
type Clip struct {
	Rate    int
	Samples []float32
}

// Duration returns the clip's length in seconds.
func (c *Clip) Duration() float64 {
	if c.Rate <= 0 {
		return 0
	}
	return float64(len(c.Samples)) / float64(c.Rate)
}

// ErrWAV is wrapped by every error DecodeWAV returns for a file it
// cannot read: errors.Is(err, ErrWAV) tells a bad file from an I/O error.
var ErrWAV = errors.New("audio: not a WAV file edgerun reads")

// WAV format tags (the fmt chunk's first field, or the sub-format of
// WAVE_FORMAT_EXTENSIBLE).
const (
	wavPCM        = 1
	wavFloat      = 3
	wavExtensible = 0xfffe
)

// maxRate bounds the sample rate a file may declare: 768 kHz, past any
// audio interface.
const maxRate = 768000

// DecodeWAV reads a RIFF/WAVE file held in b: 16-bit PCM or 32-bit float
// samples (plain or WAVE_FORMAT_EXTENSIBLE), any number of channels (the
// first is kept), any rate from 1 Hz to 768 kHz. PCM16 sample s becomes
// s/32768. Chunks other than fmt and data are skipped. Anything else (other
// encodings or sample sizes, a missing or short chunk, a data chunk that is
// not whole frames, a float sample that is NaN or infinite) is an error
// wrapping ErrWAV that says what was found; nothing in b makes it panic or
// allocate more than the samples b holds.
func DecodeWAV(b []byte) (*Clip, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: no RIFF/WAVE header", ErrWAV)
	}
	var (
		haveFmt             bool
		tag, channels, bits int
		rate, align         int
		data                []byte
		haveData            bool
	)
	for p := 12; p < len(b); {
		if len(b)-p < 8 {
			return nil, fmt.Errorf("%w: %d stray bytes after the last chunk", ErrWAV, len(b)-p)
		}
		id := string(b[p : p+4])
		size := uint64(binary.LittleEndian.Uint32(b[p+4:]))
		p += 8
		if size > uint64(len(b)-p) {
			if id == "data" && haveFmt {
				return nil, fmt.Errorf("%w: the data chunk declares %d bytes, the file holds %d (truncated?)", ErrWAV, size, len(b)-p)
			}
			return nil, fmt.Errorf("%w: chunk %q declares %d bytes, the file holds %d", ErrWAV, printable(id), size, len(b)-p)
		}
		body := b[p : p+int(size)]
		p += int(size)
		if size%2 == 1 && p < len(b) {
			p++ // chunks are padded to an even size
		}
		switch id {
		case "fmt ":
			if haveFmt {
				return nil, fmt.Errorf("%w: two fmt chunks", ErrWAV)
			}
			if len(body) < 16 {
				return nil, fmt.Errorf("%w: fmt chunk of %d bytes, want at least 16", ErrWAV, len(body))
			}
			haveFmt = true
			tag = int(binary.LittleEndian.Uint16(body[0:]))
			channels = int(binary.LittleEndian.Uint16(body[2:]))
			rate = int(binary.LittleEndian.Uint32(body[4:]))
			align = int(binary.LittleEndian.Uint16(body[12:]))
			bits = int(binary.LittleEndian.Uint16(body[14:]))
			if tag == wavExtensible {
				// cbSize, valid bits, channel mask, then the sub-format
				// GUID, whose first two bytes are the format tag.
				if len(body) < 40 {
					return nil, fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE fmt chunk of %d bytes, want 40", ErrWAV, len(body))
				}
				tag = int(binary.LittleEndian.Uint16(body[24:]))
			}
		case "data":
			if !haveFmt {
				return nil, fmt.Errorf("%w: data chunk before the fmt chunk", ErrWAV)
			}
			if haveData {
				return nil, fmt.Errorf("%w: two data chunks", ErrWAV)
			}
			data, haveData = body, true
		}
	}
	switch {
	case !haveFmt:
		return nil, fmt.Errorf("%w: no fmt chunk", ErrWAV)
	case !haveData:
		return nil, fmt.Errorf("%w: no data chunk", ErrWAV)
	case channels < 1:
		return nil, fmt.Errorf("%w: %d channels", ErrWAV, channels)
	case rate < 1 || rate > maxRate:
		return nil, fmt.Errorf("%w: sample rate %d Hz, want 1 to %d", ErrWAV, rate, maxRate)
	}
	var width int // bytes a sample
	switch {
	case tag == wavPCM && bits == 16:
		width = 2
	case tag == wavFloat && bits == 32:
		width = 4
	case tag == wavPCM:
		return nil, fmt.Errorf("%w: %d-bit PCM; edgerun reads 16-bit PCM and 32-bit float (convert with: sox in.wav -b 16 out.wav)", ErrWAV, bits)
	case tag == wavFloat:
		return nil, fmt.Errorf("%w: %d-bit float; edgerun reads 16-bit PCM and 32-bit float", ErrWAV, bits)
	default:
		return nil, fmt.Errorf("%w: encoding tag %#x (not PCM or IEEE float; compressed WAV is not read)", ErrWAV, tag)
	}
	frame := channels * width
	if align != frame {
		return nil, fmt.Errorf("%w: block align %d, want %d for %d channels of %d bytes", ErrWAV, align, frame, channels, width)
	}
	if len(data)%frame != 0 {
		return nil, fmt.Errorf("%w: data chunk of %d bytes is not a whole number of %d-byte frames", ErrWAV, len(data), frame)
	}
	n := len(data) / frame
	c := &Clip{Rate: rate, Samples: make([]float32, n)}
	for i := range c.Samples {
		s := data[i*frame:]
		if width == 2 {
			c.Samples[i] = float32(int16(binary.LittleEndian.Uint16(s))) / 32768
			continue
		}
		v := math.Float32frombits(binary.LittleEndian.Uint32(s))
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("%w: sample %d is %v", ErrWAV, i, v)
		}
		c.Samples[i] = v
	}
	return c, nil
}

// ReadWAV reads a whole WAV stream from r and decodes it (DecodeWAV).
func ReadWAV(r io.Reader) (*Clip, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return DecodeWAV(b)
}

// ReadWAVFile reads and decodes the WAV file at path; its errors name the
// path.
func ReadWAVFile(path string) (*Clip, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := DecodeWAV(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// EncodeWAV returns c as a mono 16-bit PCM WAV file: each sample clamped
// to [−1, 1], times 32767, rounded to the nearest integer. DecodeWAV reads
// it back within 1/32768 of every sample.
func EncodeWAV(c *Clip) []byte {
	n := len(c.Samples)
	b := make([]byte, 44+2*n)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+2*n))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], wavPCM)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], uint32(c.Rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(2*c.Rate))
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(2*n))
	for i, v := range c.Samples {
		v = max(-1, min(1, v)) // NaN stays NaN and becomes 0 below
		s := int16(0)
		if v == v {
			s = int16(math.RoundToEven(float64(v) * 32767))
		}
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(s))
	}
	return b
}

// printable returns id with bytes outside printable ASCII as '?'.
func printable(id string) string {
	r := []byte(id)
	for i, c := range r {
		if c < 0x20 || c > 0x7e {
			r[i] = '?'
		}
	}
	return string(r)
}
