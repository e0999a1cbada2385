package audio

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// refFeatures is the front end in float64, written from the definitions
// (direct DFT, the HTK mel formula, natural log, orthonormal DCT-II): the
// independent reference.
func refFeatures(c Config, frame []float32) []float64 {
	n := c.FFT
	x := make([]float64, n)
	for i := range c.Window {
		x[i] = float64(frame[i]) * (0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(c.Window)))
	}
	xr, xi := dft(x, make([]float64, n))
	power := make([]float64, n/2+1)
	for k := range power {
		power[k] = xr[k]*xr[k] + xi[k]*xi[k]
	}
	mel := func(hz float64) float64 { return 2595 * math.Log10(1+hz/700) }
	inv := func(m float64) float64 { return 700 * (math.Pow(10, m/2595) - 1) }
	lo, hi := mel(c.LowHz), mel(c.HighHz)
	logmel := make([]float64, c.Mels)
	for m := range c.Mels {
		l := inv(lo + (hi-lo)*float64(m)/float64(c.Mels+1))
		mid := inv(lo + (hi-lo)*float64(m+1)/float64(c.Mels+1))
		r := inv(lo + (hi-lo)*float64(m+2)/float64(c.Mels+1))
		var e float64
		for k := range power {
			f := float64(k) * float64(c.Rate) / float64(n)
			switch {
			case f > l && f <= mid:
				e += power[k] * (f - l) / (mid - l)
			case f > mid && f < r:
				e += power[k] * (r - f) / (r - mid)
			}
		}
		logmel[m] = math.Log(e + float64(c.Floor))
	}
	if c.MFCC == 0 {
		return logmel
	}
	out := make([]float64, c.MFCC)
	for k := range out {
		s := math.Sqrt(2 / float64(c.Mels))
		if k == 0 {
			s = math.Sqrt(1 / float64(c.Mels))
		}
		for m, v := range logmel {
			out[k] += s * v * math.Cos(math.Pi*float64(k)*(float64(m)+0.5)/float64(c.Mels))
		}
	}
	return out
}

// TestFrontend checks Frame against the float64 reference on a tone, white
// noise, silence and frames of the committed clip, for log-mel and MFCC
// configurations, within 2e-3 (float32 rounding of the spectrum and the
// sums), and that Frame allocates nothing.
func TestFrontend(t *testing.T) {
	clip, err := ReadWAVFile("testdata/yes_spk000.wav")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	logmel := DefaultConfig()
	logmel.MFCC = 0
	small := Config{Rate: 8000, Window: 200, Hop: 80, FFT: 256, Mels: 20, LowHz: 0, HighHz: 4000, MFCC: 13, Floor: 1e-5}
	for _, c := range []Config{DefaultConfig(), logmel, small} {
		f, err := NewFrontend(c)
		if err != nil {
			t.Fatal(err)
		}
		frames := map[string][]float32{}
		tone, noise := make([]float32, c.Window), make([]float32, c.Window)
		for i := range tone {
			tone[i] = float32(0.5 * math.Sin(2*math.Pi*1000*float64(i)/float64(c.Rate)))
			noise[i] = float32(rng.NormFloat64() * 0.1)
		}
		frames["tone"], frames["noise"], frames["silence"] = tone, noise, make([]float32, c.Window)
		frames["clip at 0.5 s"] = clip.Samples[8000:][:c.Window]
		frames["clip at 0.3 s"] = clip.Samples[4800:][:c.Window]
		dst := make([]float32, c.Features())
		for name, fr := range frames {
			if err := f.Frame(dst, fr); err != nil {
				t.Fatal(err)
			}
			want := refFeatures(c, fr)
			for i, w := range want {
				if d := math.Abs(float64(dst[i]) - w); d > 2e-3 {
					t.Fatalf("%+v %s: feature %d = %v, want %v", c, name, i, dst[i], w)
				}
			}
		}
		if a := testing.AllocsPerRun(10, func() { f.Frame(dst, tone) }); a != 0 {
			t.Errorf("Frame allocates %v times a call", a)
		}
		if err := f.Frame(dst[:1], tone); err == nil && len(dst) > 1 {
			t.Error("a short dst accepted")
		}
		if err := f.Frame(dst, tone[1:]); err == nil {
			t.Error("a short frame accepted")
		}
	}
}

// TestConfigValidate checks that each parameter out of range is refused.
func TestConfigValidate(t *testing.T) {
	for _, bad := range []func(c *Config){
		func(c *Config) { c.Rate = 100 },
		func(c *Config) { c.Window = 1 },
		func(c *Config) { c.Hop = 0 },
		func(c *Config) { c.Hop = c.Window + 1 },
		func(c *Config) { c.FFT = 300 },
		func(c *Config) { c.FFT = 256 },
		func(c *Config) { c.Mels = 0 },
		func(c *Config) { c.HighHz = 9000 },
		func(c *Config) { c.LowHz = c.HighHz },
		func(c *Config) { c.LowHz = math.NaN() },
		func(c *Config) { c.MFCC = 41 },
		func(c *Config) { c.Floor = 0 },
		func(c *Config) { c.Mels, c.FFT, c.Window, c.Hop = 128, 256, 256, 100 }, // bands with no bin
	} {
		c := DefaultConfig()
		bad(&c)
		if _, err := NewFrontend(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// TestFrontendSameBits pins the default front end's window, filters, DCT
// and the features of every frame of the committed clip (FNV-1a of their
// float32 bits), so that the qemu runs of make test check arm64 and armv7
// against amd64.
func TestFrontendSameBits(t *testing.T) {
	clip, err := ReadWAVFile("testdata/yes_spk000.wav")
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	f, err := NewFrontend(c)
	if err != nil {
		t.Fatal(err)
	}
	h := fnv.New64a()
	add := func(v []float32) { hashF32(h, v) }
	add(f.window)
	for _, b := range f.bands {
		add([]float32{float32(b.first)})
		add(b.w)
	}
	add(f.dct)
	tables := h.Sum64()
	dst := make([]float32, c.Features())
	for s := 0; s+c.Window <= len(clip.Samples); s += c.Hop {
		if err := f.Frame(dst, clip.Samples[s:s+c.Window]); err != nil {
			t.Fatal(err)
		}
		add(dst)
	}
	const wantTables, wantAll uint64 = 0xe1bec836363e69f1, 0x806db3033b66ff1a
	if tables != wantTables || h.Sum64() != wantAll {
		t.Errorf("tables FNV-1a %#x, with the clip's features %#x; want %#x, %#x", tables, h.Sum64(), wantTables, wantAll)
	}
}

// BenchmarkFrame times one frame of the default front end (MFCC) on the
// committed clip: the cost of one 10 ms hop.
func BenchmarkFrame(b *testing.B) {
	clip, err := ReadWAVFile("testdata/yes_spk000.wav")
	if err != nil {
		b.Fatal(err)
	}
	f, err := NewFrontend(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]float32, f.Config().Features())
	for b.Loop() {
		f.Frame(dst, clip.Samples[8000:8400])
	}
}

// TestStream feeds the committed clip in chunks of random sizes (1 to
// 1000 samples, and all at once) and checks that every frame equals
// Frame on its slice of the clip bit for bit, that the frame count is
// (len−Window)/Hop+1, that Reset starts over, and that Write allocates
// nothing once warm.
func TestStream(t *testing.T) {
	clip, err := ReadWAVFile("testdata/yes_spk000.wav")
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	fe, err := NewFrontend(c)
	if err != nil {
		t.Fatal(err)
	}
	var want [][]float32
	for s := 0; s+c.Window <= len(clip.Samples); s += c.Hop {
		d := make([]float32, c.Features())
		fe.Frame(d, clip.Samples[s:s+c.Window])
		want = append(want, d)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := range 4 {
		st, err := NewStream(c)
		if err != nil {
			t.Fatal(err)
		}
		if trial == 3 {
			st.Write(clip.Samples[:1234], func([]float32) {})
			st.Reset()
		}
		got := 0
		emit := func(f []float32) {
			if got >= len(want) {
				t.Fatalf("trial %d: more than %d frames", trial, len(want))
			}
			for i, v := range f {
				if math.Float32bits(v) != math.Float32bits(want[got][i]) {
					t.Fatalf("trial %d: frame %d feature %d = %v, want %v", trial, got, i, v, want[got][i])
				}
			}
			got++
		}
		rest, total := clip.Samples, 0
		for len(rest) > 0 {
			n := len(rest)
			if trial < 2 {
				n = min(n, 1+rng.IntN(1000))
			}
			total += st.Write(rest[:n], emit)
			rest = rest[n:]
		}
		if got != len(want) || total != got || got != (len(clip.Samples)-c.Window)/c.Hop+1 {
			t.Fatalf("trial %d: %d frames (Write said %d), want %d", trial, got, total, len(want))
		}
	}
	st, _ := NewStream(c)
	nop := func([]float32) {}
	st.Write(clip.Samples[:c.Window], nop)
	if a := testing.AllocsPerRun(20, func() { st.Write(clip.Samples[:333], nop) }); a != 0 {
		t.Errorf("Write allocates %v times a call", a)
	}
}

func TestConfigText(t *testing.T) {
	for _, c := range []Config{DefaultConfig(), {Rate: 8000, Window: 256, Hop: 128, FFT: 256, Mels: 20, LowHz: 62.5, HighHz: 3999.9, MFCC: 0, Floor: 1.0000001e-10}} {
		s := c.String()
		got, err := ParseConfig(s)
		if err != nil || got != c {
			t.Errorf("ParseConfig(%q) = %+v, %v; want %+v", s, got, err, c)
		}
	}
	if s := DefaultConfig().String(); s != "rate=16000 window=400 hop=160 fft=512 mels=40 low_hz=20 high_hz=8000 mfcc=10 floor=1e-06" {
		t.Errorf("DefaultConfig().String() = %q", s)
	}
	d := DefaultConfig().String()
	for _, bad := range []string{"", d + " rate=16000", d + " extra=1", strings.Replace(d, "hop=160", "hop=x", 1),
		strings.Replace(d, "hop=160 ", "", 1), strings.Replace(d, "fft=512", "fft=500", 1), strings.Replace(d, "floor=1e-06", "floor", 1)} {
		if _, err := ParseConfig(bad); err == nil {
			t.Errorf("ParseConfig(%q): no error", bad)
		}
	}
	c := DefaultConfig()
	for n, want := range map[int]int{0: 0, 399: 0, 400: 1, 559: 1, 560: 2, 16000: 98} {
		if got := c.Frames(n); got != want {
			t.Errorf("Frames(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestFramesAndFitWindow(t *testing.T) {
	c := DefaultConfig()
	fe, err := NewFrontend(c)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8, 9))
	s := make([]float32, 1000)
	for i := range s {
		s[i] = float32(rng.Float64() - 0.5)
	}
	dst := make([]float32, 4*c.Features())
	got, err := fe.Frames(dst, s)
	if err != nil || len(got) != c.Frames(len(s))*c.Features() {
		t.Fatalf("Frames: %d values, %v", len(got), err)
	}
	one := make([]float32, c.Features())
	for k := range c.Frames(len(s)) {
		if err := fe.Frame(one, s[k*c.Hop:k*c.Hop+c.Window]); err != nil {
			t.Fatal(err)
		}
		for i, v := range one {
			if got[k*c.Features()+i] != v {
				t.Fatalf("frame %d feature %d: %v, Frame gives %v", k, i, got[k*c.Features()+i], v)
			}
		}
	}
	if _, err := fe.Frames(dst[:10], s); err == nil {
		t.Error("Frames with a short dst: no error")
	}
	in := []float32{1, 2, 3, 4, 5}
	for _, tc := range []struct {
		n    int
		want []float32
	}{{5, in}, {8, []float32{0, 1, 2, 3, 4, 5, 0, 0}}, {3, []float32{2, 3, 4}}, {2, []float32{2, 3}}, {0, []float32{}}} {
		got := FitWindow([]float32{9, 9, 9, 9, 9, 9, 9, 9, 9}, in, tc.n)
		if len(got) != len(tc.want) {
			t.Fatalf("FitWindow(%d) = %v", tc.n, got)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("FitWindow(%d) = %v, want %v", tc.n, got, tc.want)
			}
		}
	}
}

func TestParseModelInput(t *testing.T) {
	c := DefaultConfig()
	good := map[string]string{KeyFrontend: c.String(), KeyClip: "16000", KeyFrames: "98"}
	get := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	m, err := ParseModelInput(get(good))
	if err != nil || m.Frontend != c || m.Clip != 16000 || m.Frames != 98 || m.Features() != 980 {
		t.Fatalf("ParseModelInput = %+v, %v", m, err)
	}
	for _, bad := range []map[string]string{
		{KeyClip: "16000", KeyFrames: "98"},
		{KeyFrontend: c.String(), KeyClip: "x", KeyFrames: "98"},
		{KeyFrontend: c.String(), KeyClip: "100", KeyFrames: "0"},
		{KeyFrontend: c.String(), KeyClip: "16000", KeyFrames: "97"},
		{KeyFrontend: c.String(), KeyClip: "99999999999", KeyFrames: "98"},
	} {
		if _, err := ParseModelInput(get(bad)); err == nil {
			t.Errorf("ParseModelInput(%v): no error", bad)
		}
	}
}

// FuzzParseModelInput: a model's metadata is untrusted input; whatever it
// says, ParseModelInput returns an error or a front end that round-trips
// through its text form and that NewFrontend builds or refuses (a band
// without an FFT bin), never panicking.
//
// fuzz:budget 100000x
func FuzzParseModelInput(f *testing.F) {
	f.Add(DefaultConfig().String(), "16000", "98")
	f.Add("rate=8000 window=256 hop=128 fft=256 mels=20 low_hz=0 high_hz=4000 mfcc=0 floor=1e-10", "8000", "61")
	f.Add("rate=16000 window=400 hop=1 fft=131072 mels=65536 low_hz=0 high_hz=8000 mfcc=0 floor=1", "960000", "959601")
	f.Fuzz(func(t *testing.T, fe, clip, frames string) {
		kv := map[string]string{KeyFrontend: fe, KeyClip: clip, KeyFrames: frames}
		m, err := ParseModelInput(func(k string) string { return kv[k] })
		if err != nil {
			return
		}
		if again, err := ParseConfig(m.Frontend.String()); err != nil || again != m.Frontend {
			t.Fatalf("%+v does not round-trip: %+v, %v", m.Frontend, again, err)
		}
		if m.Frames != m.Frontend.Frames(m.Clip) || m.Frames < 1 {
			t.Fatalf("frames %d for a clip of %d", m.Frames, m.Clip)
		}
		if m.Frontend.FFT <= 4096 { // building a large FFT's tables is slow, not wrong
			if fe, err := NewFrontend(m.Frontend); err == nil {
				dst := make([]float32, m.Frontend.Features())
				if err := fe.Frame(dst, make([]float32, m.Frontend.Window)); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
