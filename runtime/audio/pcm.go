package audio

import (
	"encoding/binary"
	"fmt"
	"math"
)

// PCM sample formats of raw audio (as arecord -f names them).
const (
	S16LE = "s16le" // 16-bit signed little-endian
	F32LE = "f32le" // 32-bit float little-endian
)

// PCMFrameBytes is the bytes of one frame (a sample of every channel) of
// raw audio in format, or 0 for an unknown format.
func PCMFrameBytes(format string, channels int) int {
	switch format {
	case S16LE:
		return 2 * channels
	case F32LE:
		return 4 * channels
	}
	return 0
}

// DecodePCM appends the first channel of the whole frames of raw
// interleaved audio b to dst as samples in [−1, 1) (16-bit: v/32768) and
// returns it; a partial last frame is ignored. A float sample that is NaN
// or beyond ±1e6 is an error (the input is not f32le audio).
func DecodePCM(dst []float32, b []byte, format string, channels int) ([]float32, error) {
	frame := PCMFrameBytes(format, channels)
	if frame == 0 || channels < 1 {
		return dst, fmt.Errorf("audio: raw PCM format %q with %d channels: want s16le or f32le, at least 1 channel", format, channels)
	}
	n := len(b) - len(b)%frame
	for i := 0; i < n; i += frame {
		if format == S16LE {
			dst = append(dst, float32(int16(binary.LittleEndian.Uint16(b[i:])))/32768)
			continue
		}
		v := math.Float32frombits(binary.LittleEndian.Uint32(b[i:]))
		if v != v || v > 1e6 || v < -1e6 {
			return dst, fmt.Errorf("audio: sample %v is not audio (is the input f32le?)", v)
		}
		dst = append(dst, v)
	}
	return dst, nil
}
