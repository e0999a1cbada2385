package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// activationInputs covers every branch of Exp, Sigmoid and Tanh: the
// overflow and underflow cut-offs, the subnormal results, the polynomial
// and exponential ranges of Tanh, signed zeros, infinities and NaN.
func activationInputs() []float32 {
	v := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.625, -0.625, 0.6249999, 9, -9, 9.000001, -9.000001,
		88.72283, 88.722835, 88.7, 89, -87.3, -87.4, -100, -103.97208, -103.9721, -104, 200, -200,
		float32(math.Inf(1)), float32(math.Inf(-1)), 1e-30, -1e-30, 1e-45, 3.4e38, -3.4e38}
	for x := float32(-110); x < 95; x += 0.0371 {
		v = append(v, x)
	}
	rng := rand.New(rand.NewPCG(4, 2))
	for i := 0; i < 4000; i++ {
		v = append(v, float32(rng.NormFloat64()*math.Pow(10, float64(rng.IntN(5)-2))))
	}
	return v
}

func TestActivationSlices(t *testing.T) {
	in := activationInputs()
	for _, im := range Impls() {
		relu := func(dst, src []float32) {
			copy(dst, src)
			im.ReluSlice(dst[:len(src)])
		}
		gelu := func(dst, src []float32) {
			tmp := make([]float32, len(src))
			im.GELUSlice(dst, src, tmp)
		}
		for _, fn := range []struct {
			name   string
			slice  func(dst, src []float32)
			scalar func(float32) float32
		}{
			{"exp", im.ExpSlice, Exp}, {"sigmoid", im.SigmoidSlice, Sigmoid}, {"tanh", im.TanhSlice, Tanh}, {"gelu", gelu, GELU},
			{"relu", relu, func(x float32) float32 { return max(x, 0) }},
		} {
			for _, n := range []int{0, 1, 7, 8, 9, 17, 24, 40, len(in)} {
				src := in[len(in)-n:]
				dst, check := guarded[float32](n, 42)
				fn.slice(dst, src)
				check(t)
				for i, x := range src {
					want := fn.scalar(x)
					if math.Float32bits(dst[i]) != math.Float32bits(want) && !(want != want && dst[i] != dst[i]) {
						t.Fatalf("%s %s(%v) = %v (%08x), scalar %v (%08x)", im.Name, fn.name, x, dst[i], math.Float32bits(dst[i]), want, math.Float32bits(want))
					}
				}
			}
			// In place.
			buf := append([]float32(nil), in...)
			fn.slice(buf, buf)
			for i, x := range in {
				if w := fn.scalar(x); math.Float32bits(buf[i]) != math.Float32bits(w) && !(w != w && buf[i] != buf[i]) {
					t.Fatalf("%s %s in place at %d", im.Name, fn.name, i)
				}
			}
		}
	}
}

func BenchmarkActivations(b *testing.B) {
	src := make([]float32, 4096)
	for i := range src {
		src[i] = float32(i%200)/10 - 10
	}
	dst := make([]float32, len(src))
	tmp := make([]float32, len(src))
	for _, im := range Impls() {
		for _, fn := range []struct {
			name string
			f    func()
		}{
			{"exp", func() { im.ExpSlice(dst, src) }},
			{"sigmoid", func() { im.SigmoidSlice(dst, src) }},
			{"tanh", func() { im.TanhSlice(dst, src) }},
			{"gelu", func() { im.GELUSlice(dst, src, tmp) }},
			{"softmax64", func() {
				for i := 0; i+64 <= len(dst); i += 64 {
					copy(dst[i:i+64], src[i:i+64])
					im.SoftmaxF32(dst[i : i+64])
				}
			}},
		} {
			b.Run(im.Name+"/"+fn.name, func(b *testing.B) {
				for b.Loop() {
					fn.f()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(src)), "ns/elem")
			})
		}
	}
}

// TestTanhSigmoidAccuracy sweeps every 2⁻¹² in [−20, 20] and the special
// values and checks Tanh and Sigmoid against float64 references within
// the bounds their doc comments state.
func TestTanhSigmoidAccuracy(t *testing.T) {
	var tAbs, tRel, sAbs, sRel float64
	check := func(x float32) {
		th, sg := Tanh(x), Sigmoid(x)
		if th < -1 || th > 1 || sg < 0 || sg > 1 {
			t.Fatalf("x=%v: Tanh %v, Sigmoid %v out of range", x, th, sg)
		}
		wt := math.Tanh(float64(x))
		ws := 1 / (1 + math.Exp(-float64(x)))
		d := math.Abs(float64(th) - wt)
		tAbs = max(tAbs, d)
		if wt != 0 {
			tRel = max(tRel, d/math.Abs(wt))
		}
		d = math.Abs(float64(sg) - ws)
		sAbs = max(sAbs, d)
		if x >= 0 {
			sRel = max(sRel, d/ws)
		}
	}
	for i := -20 << 12; i <= 20<<12; i++ {
		check(float32(i) / (1 << 12))
	}
	specials := []float32{1e-45, -1e-45, 1e-40, -1e-40, 1.1754942e-38, -1.1754942e-38, 1e-20, -1e-20, 3.4e38, -3.4e38}
	for _, x := range specials {
		check(x)
		if x > -1e-20 && x < 1e-20 && Tanh(x) != x {
			t.Errorf("Tanh(%g) = %g, want x", x, Tanh(x))
		}
	}
	t.Logf("Tanh: max abs err %.3g, max rel err %.3g; Sigmoid: max abs err %.3g, max rel err (x ≥ 0) %.3g", tAbs, tRel, sAbs, sRel)
	if tAbs > 3.4e-7 || tRel > 3.4e-7 || sAbs > 1.7e-7 || sRel > 1.7e-7 {
		t.Errorf("errors above the documented bounds")
	}
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	negz := float32(math.Copysign(0, -1))
	for _, c := range []struct{ x, tanh, sig float32 }{{inf, 1, 1}, {-inf, -1, 0}, {0, 0, 0.5}, {negz, negz, 0.5}} {
		if th, sg := Tanh(c.x), Sigmoid(c.x); math.Float32bits(th) != math.Float32bits(c.tanh) || sg != c.sig {
			t.Errorf("x=%v: Tanh %v, Sigmoid %v; want %v, %v", c.x, th, sg, c.tanh, c.sig)
		}
	}
	if th, sg := Tanh(nan), Sigmoid(nan); th == th || sg == sg {
		t.Errorf("NaN: Tanh %v, Sigmoid %v", th, sg)
	}
}
