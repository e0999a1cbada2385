package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
)

// wavSpec describes a WAV file for makeWAV.
type wavSpec struct {
	tag, channels, rate, bits, align int
	extensible                       bool // WAVE_FORMAT_EXTENSIBLE with tag as the sub-format
	before                           []byte
	data                             []byte
	noFmt, noData                    bool
}

// makeWAV builds a RIFF/WAVE file: an optional chunk before fmt (before),
// fmt, a LIST chunk of odd size, then data.
func makeWAV(s wavSpec) []byte {
	var body bytes.Buffer
	body.WriteString("WAVE")
	chunk := func(id string, b []byte) {
		body.WriteString(id)
		binary.Write(&body, binary.LittleEndian, uint32(len(b)))
		body.Write(b)
		if len(b)%2 == 1 {
			body.WriteByte(0)
		}
	}
	if s.before != nil {
		chunk("junk", s.before)
	}
	if !s.noFmt {
		var f bytes.Buffer
		tag := s.tag
		if s.extensible {
			tag = wavExtensible
		}
		align := s.align
		if align == 0 {
			align = s.channels * s.bits / 8
		}
		for _, v := range []any{uint16(tag), uint16(s.channels), uint32(s.rate), uint32(s.rate * align), uint16(align), uint16(s.bits)} {
			binary.Write(&f, binary.LittleEndian, v)
		}
		if s.extensible {
			binary.Write(&f, binary.LittleEndian, uint16(22))
			binary.Write(&f, binary.LittleEndian, uint16(s.bits))
			binary.Write(&f, binary.LittleEndian, uint32(0))
			guid := make([]byte, 16)
			binary.LittleEndian.PutUint16(guid, uint16(s.tag))
			f.Write(guid)
		}
		chunk("fmt ", f.Bytes())
	}
	chunk("LIST", []byte("INFOabc")) // odd size: padded
	if !s.noData {
		chunk("data", s.data)
	}
	var out bytes.Buffer
	out.WriteString("RIFF")
	binary.Write(&out, binary.LittleEndian, uint32(body.Len()))
	out.Write(body.Bytes())
	return out.Bytes()
}

func pcm16(frames [][]int16) []byte {
	var b bytes.Buffer
	for _, f := range frames {
		for _, s := range f {
			binary.Write(&b, binary.LittleEndian, s)
		}
	}
	return b.Bytes()
}

func f32(frames [][]float32) []byte {
	var b bytes.Buffer
	for _, f := range frames {
		for _, s := range f {
			binary.Write(&b, binary.LittleEndian, s)
		}
	}
	return b.Bytes()
}

// TestDecodeWAV checks the samples and rate DecodeWAV returns for 16-bit
// PCM and 32-bit float, mono and stereo (the first channel kept), plain and
// WAVE_FORMAT_EXTENSIBLE, with chunks to skip before and between.
func TestDecodeWAV(t *testing.T) {
	stereo := [][]int16{{0, 1}, {-32768, 5}, {32767, -7}, {16384, 0}}
	mono := [][]int16{{100}, {-100}, {-32768}}
	fl := [][]float32{{0.5, -1}, {-0.25, 2}, {1, 0}}
	for _, c := range []struct {
		name string
		spec wavSpec
		rate int
		want []float32
	}{
		{"pcm16 mono", wavSpec{tag: wavPCM, channels: 1, rate: 16000, bits: 16, data: pcm16(mono)}, 16000, []float32{100.0 / 32768, -100.0 / 32768, -1}},
		{"pcm16 stereo", wavSpec{tag: wavPCM, channels: 2, rate: 44100, bits: 16, data: pcm16(stereo)}, 44100, []float32{0, -1, 32767.0 / 32768, 0.5}},
		{"pcm16 extensible, chunk before fmt", wavSpec{tag: wavPCM, channels: 2, rate: 8000, bits: 16, extensible: true, before: []byte{1, 2, 3}, data: pcm16(stereo)}, 8000, []float32{0, -1, 32767.0 / 32768, 0.5}},
		{"float32 stereo", wavSpec{tag: wavFloat, channels: 2, rate: 48000, bits: 32, data: f32(fl)}, 48000, []float32{0.5, -0.25, 1}},
		{"float32 extensible", wavSpec{tag: wavFloat, channels: 2, rate: 22050, bits: 32, extensible: true, data: f32(fl)}, 22050, []float32{0.5, -0.25, 1}},
		{"empty data", wavSpec{tag: wavPCM, channels: 1, rate: 16000, bits: 16, data: []byte{}}, 16000, []float32{}},
	} {
		clip, err := DecodeWAV(makeWAV(c.spec))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if clip.Rate != c.rate || len(clip.Samples) != len(c.want) {
			t.Fatalf("%s: rate %d, %d samples; want %d, %d", c.name, clip.Rate, len(clip.Samples), c.rate, len(c.want))
		}
		for i, v := range c.want {
			if clip.Samples[i] != v {
				t.Fatalf("%s: sample %d = %v, want %v", c.name, i, clip.Samples[i], v)
			}
		}
	}
}

// TestDecodeWAVErrors checks that every file DecodeWAV cannot read gives
// an error wrapping ErrWAV that names the problem.
func TestDecodeWAVErrors(t *testing.T) {
	ok := wavSpec{tag: wavPCM, channels: 1, rate: 16000, bits: 16, data: pcm16([][]int16{{1}, {2}})}
	good := makeWAV(ok)
	with := func(f func(s *wavSpec)) []byte {
		s := ok
		f(&s)
		return makeWAV(s)
	}
	nan := f32([][]float32{{float32(math.NaN())}})
	for _, c := range []struct {
		name string
		file []byte
		says string
	}{
		{"empty", nil, "no RIFF/WAVE header"},
		{"RIFF of something else", append([]byte("RIFF\x04\x00\x00\x00AVI "), good[12:]...), "no RIFF/WAVE header"},
		{"mp3", []byte("ID3\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00"), "no RIFF/WAVE header"},
		{"no fmt", with(func(s *wavSpec) { s.noFmt = true }), "before the fmt chunk"},
		{"no data", with(func(s *wavSpec) { s.noData = true }), "no data chunk"},
		{"8-bit PCM", with(func(s *wavSpec) { s.bits, s.data = 8, []byte{1, 2} }), "8-bit PCM"},
		{"24-bit PCM", with(func(s *wavSpec) { s.bits, s.data = 24, []byte{1, 2, 3} }), "24-bit PCM"},
		{"64-bit float", with(func(s *wavSpec) { s.tag, s.bits, s.data = wavFloat, 64, make([]byte, 8) }), "64-bit float"},
		{"ADPCM", with(func(s *wavSpec) { s.tag = 2 }), "encoding tag 0x2"},
		{"mu-law extensible", with(func(s *wavSpec) { s.tag, s.extensible = 7, true }), "encoding tag 0x7"},
		{"no channels", with(func(s *wavSpec) { s.channels, s.align = 0, 2 }), "0 channels"},
		{"rate 0", with(func(s *wavSpec) { s.rate = 0 }), "sample rate 0 Hz"},
		{"rate too high", with(func(s *wavSpec) { s.rate = 10_000_000 }), "sample rate 10000000 Hz"},
		{"bad block align", with(func(s *wavSpec) { s.align = 3 }), "block align 3"},
		{"partial frame", with(func(s *wavSpec) { s.data = []byte{1, 2, 3} }), "not a whole number of 2-byte frames"},
		{"NaN sample", with(func(s *wavSpec) { s.tag, s.bits, s.data = wavFloat, 32, nan }), "sample 0 is NaN"},
		{"truncated data", good[:len(good)-1], "the data chunk declares 4 bytes, the file holds 3"},
		{"stray bytes", append(append([]byte(nil), good...), 1, 2, 3), "3 stray bytes"},
		{"huge chunk size", func() []byte {
			b := append([]byte(nil), good[:12]...)
			return append(b, []byte("LIST\xff\xff\xff\xff")...)
		}(), "chunk \"LIST\" declares 4294967295 bytes"},
	} {
		_, err := DecodeWAV(c.file)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !errors.Is(err, ErrWAV) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: error %q, want ErrWAV saying %q", c.name, err, c.says)
		}
	}
}

// TestReadWAVFileGolden reads the committed clip (testdata/README.md) and
// checks its rate, length and a few samples and sums computed from its
// bytes independently (Python's struct module).
func TestReadWAVFileGolden(t *testing.T) {
	clip, err := ReadWAVFile("testdata/yes_spk000.wav")
	if err != nil {
		t.Fatal(err)
	}
	if clip.Rate != 16000 || len(clip.Samples) != 16000 || clip.Duration() != 1 {
		t.Fatalf("rate %d, %d samples, %v s; want 16000, 16000, 1 s", clip.Rate, len(clip.Samples), clip.Duration())
	}
	for i, want := range []int{-255, -57, 138, 199, 206} {
		if got := clip.Samples[8000+i] * 32768; got != float32(want) {
			t.Errorf("sample %d = %v/32768, want %d", 8000+i, got, want)
		}
	}
	var lo, hi, abs, sq float64
	for _, v := range clip.Samples {
		s := float64(v) * 32768
		lo, hi = min(lo, s), max(hi, s)
		abs += math.Abs(s)
		sq += s * s
	}
	if lo != -19477 || hi != 19117 || abs != 10354898 || sq != 53600122174 {
		t.Errorf("min %v max %v Σ|s| %v Σs² %v; want -19477 19117 10354898 53600122174", lo, hi, abs, sq)
	}
	if _, err := ReadWAVFile("testdata/missing.wav"); err == nil {
		t.Error("a missing file read")
	}
}

// TestEncodeWAV checks that EncodeWAV's file decodes to its samples
// within 1/32768, with out-of-range samples clamped and NaN as 0.
func TestEncodeWAV(t *testing.T) {
	in := &Clip{Rate: 16000, Samples: []float32{0, 0.5, -0.5, 1, -1, 3, -3, float32(math.NaN()), 1e-6}}
	out, err := ReadWAV(bytes.NewReader(EncodeWAV(in)))
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{0, 0.5, -0.5, 1, -1, 1, -1, 0, 0}
	if out.Rate != 16000 || len(out.Samples) != len(want) {
		t.Fatalf("rate %d, %d samples", out.Rate, len(out.Samples))
	}
	for i, w := range want {
		if d := math.Abs(float64(out.Samples[i] - w)); d > 1.0/32768 {
			t.Errorf("sample %d = %v, want %v", i, out.Samples[i], w)
		}
	}
}

// fuzz:budget 200000x
func FuzzDecodeWAV(f *testing.F) {
	f.Add(makeWAV(wavSpec{tag: wavPCM, channels: 2, rate: 16000, bits: 16, data: pcm16([][]int16{{1, 2}, {3, 4}})}))
	f.Add(makeWAV(wavSpec{tag: wavFloat, channels: 1, rate: 8000, bits: 32, extensible: true, data: f32([][]float32{{0.5}})}))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, b []byte) {
		clip, err := DecodeWAV(b)
		if err != nil {
			if !errors.Is(err, ErrWAV) {
				t.Fatalf("error %v does not wrap ErrWAV", err)
			}
			return
		}
		if clip.Rate < 1 || clip.Rate > maxRate || len(clip.Samples) > len(b)/2 {
			t.Fatalf("rate %d, %d samples from %d bytes", clip.Rate, len(clip.Samples), len(b))
		}
		for i, v := range clip.Samples {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("sample %d is %v", i, v)
			}
		}
	})
}

func TestDecodePCM(t *testing.T) {
	b := []byte{0x00, 0x80, 0xff, 0x7f, 0x01, 0x00, 0x02, 0x00, 0x07}
	got, err := DecodePCM(nil, b, S16LE, 2)
	if err != nil || len(got) != 2 || got[0] != -1 || got[1] != 1.0/32768 {
		t.Errorf("s16le stereo: %v, %v", got, err)
	}
	f := make([]byte, 8)
	binary.LittleEndian.PutUint32(f, math.Float32bits(0.25))
	binary.LittleEndian.PutUint32(f[4:], math.Float32bits(float32(math.NaN())))
	if got, err := DecodePCM(nil, f[:4], F32LE, 1); err != nil || len(got) != 1 || got[0] != 0.25 {
		t.Errorf("f32le: %v, %v", got, err)
	}
	if _, err := DecodePCM(nil, f, F32LE, 1); err == nil {
		t.Error("NaN: no error")
	}
	if _, err := DecodePCM(nil, b, "s24le", 1); err == nil || PCMFrameBytes("s24le", 1) != 0 {
		t.Error("unknown format: no error")
	}
}
