package sdkrt

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
)

// TracingState is one learner's state under a knowledge-tracing model: the
// LSTM's hidden and cell state after the learner's last answer (2·H
// float32), the mastery that answer left (K float32: the probability of
// answering each skill right next), the number of answers and the model's
// fingerprint. Make one with Tracer.NewState (or UnmarshalBinary into a
// zero TracingState); a Tracer refuses a state of another model. A state
// is a plain value: not safe for concurrent use, any Tracer of its model
// can advance it.
type TracingState struct {
	fp      uint64
	answers int64
	h, c    []float32
	mastery []float32
}

// Answers is the number of answers the state has seen.
func (s *TracingState) Answers() int64 { return s.answers }

// Mastery is the probability that the learner answers each skill right
// next, after the last answer; nil before the first. The slice is s's:
// valid until its next update.
func (s *TracingState) Mastery() []float32 {
	if s.answers == 0 {
		return nil
	}
	return s.mastery
}

// Fingerprint is the TracingFingerprint of the state's model.
func (s *TracingState) Fingerprint() uint64 { return s.fp }

// Reset makes s a new learner's state: no answers, the LSTM state zero.
func (s *TracingState) Reset() {
	clear(s.h)
	clear(s.c)
	clear(s.mastery)
	s.answers = 0
}

// Clone returns a copy of s.
func (s *TracingState) Clone() *TracingState {
	return &TracingState{fp: s.fp, answers: s.answers, h: slices.Clone(s.h), c: slices.Clone(s.c), mastery: slices.Clone(s.mastery)}
}

// CopyFrom makes s a copy of src, reusing s's buffers when they fit.
func (s *TracingState) CopyFrom(src *TracingState) {
	s.fp, s.answers = src.fp, src.answers
	s.h = append(s.h[:0], src.h...)
	s.c = append(s.c[:0], src.c...)
	s.mastery = append(s.mastery[:0], src.mastery...)
}

// The marshalled state, little-endian:
//
//	offset  size  field
//	0       4     magic "EKTS" (edgerun knowledge-tracing state)
//	4       2     version (1)
//	6       2     0
//	8       8     model fingerprint (TracingFingerprint)
//	16      4     H
//	20      4     K
//	24      8     answers
//	32      4·H   h (float32)
//	        4·H   c
//	        4·K   mastery
//	end−4   4     CRC-32 (IEEE) of everything before it
//
// 36 + 4·(2·H + K) bytes: 1556 for H = 128 and K = 124.
const (
	tracingStateMagic   = "EKTS"
	tracingStateVersion = 1
	tracingStateHeader  = 32
)

func stateSize(h, k int) int { return tracingStateHeader + 4*(2*h+k) + 4 }

// MarshalBinary encodes the state (see AppendBinary).
func (s *TracingState) MarshalBinary() ([]byte, error) {
	return s.AppendBinary(make([]byte, 0, stateSize(len(s.h), len(s.mastery))))
}

// AppendBinary appends the state's encoding to b: a versioned header
// (format, model fingerprint, H, K, answers), the LSTM state, the mastery
// and a CRC-32 of it all; 36 + 4·(2·H + K) bytes.
func (s *TracingState) AppendBinary(b []byte) ([]byte, error) {
	if len(s.h) != len(s.c) || len(s.h) == 0 || len(s.mastery) == 0 {
		return nil, fmt.Errorf("sdkrt: tracing: the state is not from Tracer.NewState (H %d and %d, K %d)", len(s.h), len(s.c), len(s.mastery))
	}
	start := len(b)
	b = append(b, tracingStateMagic...)
	b = binary.LittleEndian.AppendUint16(b, tracingStateVersion)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint64(b, s.fp)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s.h)))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s.mastery)))
	b = binary.LittleEndian.AppendUint64(b, uint64(s.answers))
	for _, v := range [][]float32{s.h, s.c, s.mastery} {
		for _, x := range v {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:])), nil
}

// UnmarshalBinary decodes a state MarshalBinary wrote. Into a state from
// Tracer.NewState it decodes only a state of that model (ErrStateModel
// otherwise) and allocates nothing; into a zero TracingState it takes the
// model of the data. Bytes that are not a state of this format and
// version, of the length its header says, with its checksum, are
// ErrStateCorrupt. On an error s is unchanged.
func (s *TracingState) UnmarshalBinary(b []byte) error {
	if len(b) < tracingStateHeader+4 {
		return fmt.Errorf("%w: %d bytes, less than a header", ErrStateCorrupt, len(b))
	}
	if string(b[:4]) != tracingStateMagic {
		return fmt.Errorf("%w: it starts %q, not %q", ErrStateCorrupt, b[:4], tracingStateMagic)
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != tracingStateVersion {
		return fmt.Errorf("%w: version %d, this build reads %d", ErrStateCorrupt, v, tracingStateVersion)
	}
	h, k := binary.LittleEndian.Uint32(b[16:]), binary.LittleEndian.Uint32(b[20:])
	if h < 1 || h > tracingMaxHidden || k < 1 || k > tracingMaxSkills {
		return fmt.Errorf("%w: H %d, K %d", ErrStateCorrupt, h, k)
	}
	if want := stateSize(int(h), int(k)); len(b) != want {
		return fmt.Errorf("%w: %d bytes, want %d for H %d and K %d", ErrStateCorrupt, len(b), want, h, k)
	}
	end := len(b) - 4
	if got, want := crc32.ChecksumIEEE(b[:end]), binary.LittleEndian.Uint32(b[end:]); got != want {
		return fmt.Errorf("%w: checksum %08x, the data says %08x", ErrStateCorrupt, got, want)
	}
	fp := binary.LittleEndian.Uint64(b[8:])
	answers := int64(binary.LittleEndian.Uint64(b[24:]))
	if answers < 0 {
		return fmt.Errorf("%w: %d answers", ErrStateCorrupt, answers)
	}
	if s.h != nil && (fp != s.fp || len(s.h) != int(h) || len(s.mastery) != int(k)) {
		return fmt.Errorf("%w: the state's model is %016x (H %d, K %d), this one %016x (H %d, K %d)", ErrStateModel,
			fp, h, k, s.fp, len(s.h), len(s.mastery))
	}
	vals := b[tracingStateHeader:end]
	for i := 0; i < len(vals); i += 4 {
		x := math.Float32frombits(binary.LittleEndian.Uint32(vals[i:]))
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%w: value %d is %v", ErrStateCorrupt, i/4, x)
		}
	}
	if s.h == nil {
		s.h, s.c, s.mastery = make([]float32, h), make([]float32, h), make([]float32, k)
	}
	s.fp, s.answers = fp, answers
	for _, v := range [][]float32{s.h, s.c, s.mastery} {
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(vals[4*i:]))
		}
		vals = vals[4*len(v):]
	}
	return nil
}
