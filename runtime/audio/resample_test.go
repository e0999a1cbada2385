package audio

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"testing"
)

func sine(rate int, n int, hz, amp float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(amp * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
	}
	return s
}

// TestResampleSine: a tone below both Nyquist frequencies comes out as the
// same tone at the new rate (away from the edges, where the input is cut).
func TestResampleSine(t *testing.T) {
	for _, tc := range []struct {
		from, to int
		hz       float64
	}{{44100, 16000, 1000}, {48000, 16000, 3000}, {8000, 16000, 440}, {22050, 16000, 5000}, {11025, 16000, 2000}, {16000, 44100, 6000}, {32000, 16000, 100}} {
		in := sine(tc.from, tc.from/2, tc.hz, 0.8)
		c, err := Resample(&Clip{Rate: tc.from, Samples: in}, tc.to)
		if err != nil {
			t.Fatal(err)
		}
		if c.Rate != tc.to || len(c.Samples) != (len(in)*tc.to+tc.from-1)/tc.from {
			t.Fatalf("%d→%d: rate %d, %d samples from %d", tc.from, tc.to, c.Rate, len(c.Samples), len(in))
		}
		want := sine(tc.to, len(c.Samples), tc.hz, 0.8)
		edge := tc.to / 50 // 20 ms
		var worst float64
		for i := edge; i < len(want)-edge; i++ {
			worst = max(worst, math.Abs(float64(c.Samples[i]-want[i])))
		}
		if worst > 2e-3 {
			t.Errorf("%d→%d, %v Hz: worst error %.2e", tc.from, tc.to, tc.hz, worst)
		}
	}
}

// TestResampleAntiAlias: a tone above the new Nyquist frequency is
// filtered out instead of folding back.
func TestResampleAntiAlias(t *testing.T) {
	for _, tc := range []struct {
		from, to int
		hz       float64
	}{{48000, 16000, 9000}, {44100, 16000, 12000}, {16000, 8000, 4800}} {
		c, err := Resample(&Clip{Rate: tc.from, Samples: sine(tc.from, tc.from, tc.hz, 1)}, tc.to)
		if err != nil {
			t.Fatal(err)
		}
		var peak float64
		for _, v := range c.Samples[tc.to/20 : len(c.Samples)-tc.to/20] {
			peak = max(peak, math.Abs(float64(v)))
		}
		if db := 20 * math.Log10(peak); db > -60 {
			t.Errorf("%d→%d, %v Hz: aliased at %.1f dB", tc.from, tc.to, tc.hz, db)
		}
	}
}

// TestResampleStream: any chunking gives the samples of the whole clip;
// Reset starts over; a clip at the target rate is returned as is.
func TestResampleStream(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	in := make([]float32, 20000)
	for i := range in {
		in[i] = float32(rng.NormFloat64() * 0.3)
	}
	for _, rates := range [][2]int{{44100, 16000}, {8000, 16000}, {48000, 16000}, {16001, 16000}} {
		whole, err := Resample(&Clip{Rate: rates[0], Samples: in}, rates[1])
		if err != nil {
			t.Fatal(err)
		}
		r, _ := NewResampler(rates[0], rates[1])
		for round := range 2 {
			var got []float32
			for rest := in; len(rest) > 0; {
				n := min(len(rest), rng.IntN(700))
				got = r.Write(got, rest[:n])
				rest = rest[n:]
			}
			got = r.Flush(got)
			if len(got) != len(whole.Samples) {
				t.Fatalf("%v round %d: %d samples streamed, %d whole", rates, round, len(got), len(whole.Samples))
			}
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(whole.Samples[i]) {
					t.Fatalf("%v round %d: sample %d is %v streamed, %v whole", rates, round, i, got[i], whole.Samples[i])
				}
			}
			if extra := r.Write(nil, in[:10]); len(extra) != 0 {
				t.Fatalf("Write after Flush gave %d samples", len(extra))
			}
			r.Reset()
		}
	}
	c := &Clip{Rate: 16000, Samples: in}
	if same, _ := Resample(c, 16000); same != c {
		t.Error("Resample to the clip's own rate made a copy")
	}
	for _, bad := range [][2]int{{0, 16000}, {16000, 0}, {16000, maxRate + 1}, {-1, 8000}} {
		if _, err := NewResampler(bad[0], bad[1]); err == nil {
			t.Errorf("NewResampler(%d, %d): no error", bad[0], bad[1])
		}
	}
}

// TestResampleSameBits pins the output bits (checked on amd64, arm64 and
// armv7 under qemu), for a tabled ratio and one computed per sample.
func TestResampleSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	in := make([]float32, 4410)
	for i := range in {
		in[i] = float32(rng.Float64()*2 - 1)
	}
	h := fnv.New64a()
	for _, rates := range [][2]int{{44100, 16000}, {8000, 16000}, {44101, 16000}} {
		c, err := Resample(&Clip{Rate: rates[0], Samples: in}, rates[1])
		if err != nil {
			t.Fatal(err)
		}
		hashF32(h, c.Samples)
	}
	if r, _ := NewResampler(44101, 16000); r.table != nil {
		t.Fatal("44101 → 16000 has a table; the test wants one ratio without")
	}
	const want = 0x263a21e1c88daa4e
	if got := h.Sum64(); got != want {
		t.Errorf("resampled bits: FNV-1a %#x, want %#x", got, uint64(want))
	}
}

func BenchmarkResample48kTo16k(b *testing.B) {
	in := sine(48000, 48000, 440, 0.5)
	r, _ := NewResampler(48000, 16000)
	out := make([]float32, 0, 16100)
	b.SetBytes(int64(len(in) * 4))
	for b.Loop() {
		r.Reset()
		out = r.Flush(r.Write(out[:0], in))
	}
}
