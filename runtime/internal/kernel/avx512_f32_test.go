//go:build amd64 && gc && !noasm && !purego

package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// avx512F32Impl returns the strongest implementation with the AVX-512 f32
// kernels filled in (as avx512Impl will dispatch them), and the one it
// was built on; it skips the test when the CPU lacks AVX-512.
func avx512F32Impl(tb testing.TB) (im, base Impl) {
	tb.Helper()
	if !hasAVX512() {
		tb.Skip("no AVX-512 on this CPU (or turned off by GODEBUG)")
	}
	base = impls[len(impls)-1]
	im = base
	im.Name = "avx512f32"
	avx512Float(&im)
	im = withDefaults([]Impl{impls[0], im})[1]
	return im, base
}

// TestGemmF32AVX512 checks the AVX-512 f32 GEMM against the reference
// within gemmF32Tol on every row count around the 4-row tiles, column
// counts around the 6-column tiles, K around the 16-float step (tails
// 0..15) and panels wider than one L2 block, and that splitting the
// columns anywhere gives the same bits as one call.
func TestGemmF32AVX512(t *testing.T) {
	im, _ := avx512F32Impl(t)
	rows, cols, r8, rn := im, im, im, im
	rows.Name, rows.GemmF32 = "avx512rows", gemmF32AVX512Rows
	cols.Name, cols.GemmF32 = "avx512cols", gemmF32AVX512Cols
	r8.Name, r8.GemmF32 = "avx512r8", gemmF32AVX512R8Rows
	rn.Name, rn.GemmF32 = "avx512rn", gemmF32AVX512RNRows
	for _, im := range []Impl{im, rows, cols, r8, rn} {
		testGemmF32AVX512(t, im)
	}
}

func testGemmF32AVX512(t *testing.T, im Impl) {
	rng := rand.New(rand.NewPCG(51, 2))
	for _, m := range []int{1, 2, 3, 4, 5, 7, 8, 9, 12, 13} {
		for _, n := range []int{1, 5, 6, 7, 13, 40, 101} {
			for _, k := range []int{1, 8, 15, 16, 17, 31, 32, 47, 64, 263, 1031, 4096, 9000} {
				if m*n*k > 1<<20 {
					continue
				}
				a, wd := f32Inputs(rng, m, n, k, 6)
				w := PackF32(wd, n, k)
				whole := checkGemmF32(t, im, a, m, w, n/2)
				for _, split := range []int{0, 1, 5, n / 3, n - 1} {
					if split > n {
						continue
					}
					got, check := guarded[float32](m*n, 3)
					im.GemmF32(got, a, m, w, 0, split)
					im.GemmF32(got, a, m, w, split, n)
					check(t)
					for i := range whole {
						if math.Float32bits(got[i]) != math.Float32bits(whole[i]) {
							t.Fatalf("%s m=%d n=%d k=%d: c[%d] is %v split at column %d, %v at %d", im.Name, m, n, k, i, got[i], split, whole[i], n/2)
						}
					}
				}
			}
		}
	}
	// Panel boundaries: 512 KiB of weights at k=1024 is 128 columns, of
	// activations 128 rows.
	a, wd := f32Inputs(rng, 8, 300, 1024, 3)
	checkGemmF32(t, im, a, 8, PackF32(wd, 300, 1024), 131)
	a, wd = f32Inputs(rng, 137, 14, 1024, 3)
	checkGemmF32(t, im, a, 137, PackF32(wd, 14, 1024), 7)
}

// gemmF32AVX512OneByOne is gemmF32AVX512Rows with the rows outside the
// tiles done one by one by gemvF32AVX512, as before gemvF32AVX512Few: the
// bits to match and the speed to beat.
func gemmF32AVX512OneByOne(c []float32, a []float32, m int, w *MatF32, n0, n1 int) {
	gemmF32AsmLanes(c, a, m, w, n0, n1, 16, 4, 6, f32PanelBytes512, gemmF32AVX512, gemvF32AVX512, nil)
}

// TestGemmF32AVX512FewRows checks that the rows outside the 4-row tiles,
// done two or three at a time, and the 8×3 and m×3 tiles have the bits of the
// one-row kernel and of the same row inside a 4×6 tile (a row's output
// depends on that row only), on every row count up to 19, column counts around the 8- and 4-column
// groups and K with and without a tail, with a split column range.
func TestGemmF32AVX512FewRows(t *testing.T) {
	im, _ := avx512F32Impl(t)
	rng := rand.New(rand.NewPCG(7, 8))
	for _, k := range []int{16, 48, 263, 1024, 4100} {
		for _, n := range []int{1, 3, 4, 7, 8, 9, 12, 13, 30, 61} {
			const mt = 20
			a, wd := f32Inputs(rng, mt, n, k, 4)
			w := PackF32(wd, n, k)
			tiled := make([]float32, mt*n) // every row inside a 4-row tile
			im.GemmF32(tiled, a, mt, w, 0, n)
			for m := 1; m < mt; m++ {
				want := make([]float32, m*n)
				gemmF32AVX512OneByOne(want, a, m, w, 0, n)
				got, check := guarded[float32](m*n, 5)
				split := n / 3
				im.GemmF32(got, a, m, w, 0, split)
				im.GemmF32(got, a, m, w, split, n)
				check(t)
				r8 := make([]float32, m*n)
				gemmF32AVX512R8Rows(r8, a, m, w, 0, split)
				gemmF32AVX512R8Rows(r8, a, m, w, split, n)
				rn := make([]float32, m*n)
				gemmF32AVX512RNRows(rn, a, m, w, 0, split)
				gemmF32AVX512RNRows(rn, a, m, w, split, n)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(got[i]) != math.Float32bits(tiled[i]) ||
						math.Float32bits(r8[i]) != math.Float32bits(tiled[i]) || math.Float32bits(rn[i]) != math.Float32bits(tiled[i]) {
						t.Fatalf("m=%d n=%d k=%d: c[%d] is %v, one by one %v, in a 4×6 tile %v, in an 8×3 tile %v, in an m×3 tile %v",
							m, n, k, i, got[i], want[i], tiled[i], r8[i], rn[i])
					}
				}
			}
		}
	}
}

// BenchmarkGemmF32AVX512Small times the few-row shapes (M ≤ 8) with the
// rows outside the tiles together (avx512) and one by one (onebyone),
// interleaved, against the implementation the AVX-512 one replaces.
func BenchmarkGemmF32AVX512Small(b *testing.B) {
	im, base := avx512F32Impl(b)
	old := im
	old.Name, old.GemmF32 = "onebyone", gemmF32AVX512OneByOne
	for _, s := range [][3]int{{1, 4096, 1024}, {1, 1024, 1024}, {2, 1024, 1024}, {3, 1024, 1024}, {5, 1024, 1024}, {7, 1024, 1024}, {8, 1024, 1024}} {
		m, k, n := s[0], s[1], s[2]
		rng := rand.New(rand.NewPCG(1, 2))
		x, wf := f32Inputs(rng, m, n, k, 0)
		w := PackF32(wf, n, k)
		c := make([]float32, m*n)
		ops := float64(2 * m * n * k)
		for _, v := range []Impl{base, old, im} {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", m, k, n, v.Name), func(b *testing.B) {
				for b.Loop() {
					v.GemmF32(c, x, m, w, 0, n)
				}
				b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
			})
		}
	}
}

// TestGemmF32AVX512Special checks that infinities and NaNs propagate as
// in the reference, in the vector prefix and in the K tail, inside and
// outside the tiles.
func TestGemmF32AVX512Special(t *testing.T) {
	im, _ := avx512F32Impl(t)
	const m, n, k = 9, 13, 41
	inf := float32(math.Inf(1))
	for _, bad := range []float32{inf, -inf, float32(math.NaN())} {
		for _, row := range []int{2, 8} {
			for _, p := range []int{0, 7, 15, 16, 31, 32, 40} {
				a := make([]float32, m*k)
				wd := make([]float32, n*k)
				for i := range a {
					a[i] = 1
				}
				for i := range wd {
					wd[i] = 0.5
				}
				a[row*k+p] = bad
				wd[12*k+p] = float32(math.Copysign(0, -1))
				w := PackF32(wd, n, k)
				got := make([]float32, m*n)
				want := make([]float32, m*n)
				im.GemmF32(got, a, m, w, 0, n)
				gemmF32Generic(want, a, m, w, 0, n)
				for i := range want {
					g, x := float64(got[i]), float64(want[i])
					if math.IsNaN(g) != math.IsNaN(x) || math.IsInf(g, 1) != math.IsInf(x, 1) || math.IsInf(g, -1) != math.IsInf(x, -1) {
						t.Fatalf("%v at a[%d][%d]: c[%d]=%v want %v", bad, row, p, i, g, x)
					}
				}
			}
		}
	}
}

// TestGemmF32AVX512Concurrent runs two column ranges at once (for -race).
func TestGemmF32AVX512Concurrent(t *testing.T) {
	im, _ := avx512F32Impl(t)
	const m, n, k = 9, 64, 40
	rng := rand.New(rand.NewPCG(15, 16))
	a, wd := f32Inputs(rng, m, n, k, 2)
	w := PackF32(wd, n, k)
	want := make([]float32, m*n)
	im.GemmF32(want, a, m, w, 0, n)
	got := make([]float32, m*n)
	done := make(chan struct{})
	go func() {
		im.GemmF32(got, a, m, w, 0, 21)
		close(done)
	}()
	im.GemmF32(got, a, m, w, 21, n)
	<-done
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("c[%d]=%v, want %v", i, got[i], want[i])
		}
	}
}

// BenchmarkGemmF32AVX512 times the AVX-512 f32 GEMM and the one it
// replaces, interleaved shape by shape, one thread, and reports GFLOPS.
func BenchmarkGemmF32AVX512(b *testing.B) {
	im, base := avx512F32Impl(b)
	for _, s := range benchShapes {
		m, k, n := s[0], s[1], s[2]
		rng := rand.New(rand.NewPCG(1, 2))
		x, wf := f32Inputs(rng, m, n, k, 0)
		w := PackF32(wf, n, k)
		c := make([]float32, m*n)
		ops := float64(2 * m * n * k)
		rows, cols, r8, rn := im, im, im, im
		rows.Name, rows.GemmF32 = "avx512rows", gemmF32AVX512Rows
		cols.Name, cols.GemmF32 = "avx512cols", gemmF32AVX512Cols
		r8.Name, r8.GemmF32 = "avx512r8", gemmF32AVX512R8Rows
		rn.Name, rn.GemmF32 = "avx512rn", gemmF32AVX512RNRows
		for _, v := range []Impl{base, im, rows, cols, r8, rn} {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", m, k, n, v.Name), func(b *testing.B) {
				for b.Loop() {
					v.GemmF32(c, x, m, w, 0, n)
				}
				b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
			})
		}
	}
}

// sameBits reports whether got is want bit for bit, any NaN matching any
// NaN.
func sameBits(got, want float32) bool {
	return math.Float32bits(got) == math.Float32bits(want) || (got != got && want != want)
}

// TestActivationsAVX512 checks the 512-bit elementwise kernels bit for
// bit against the scalar references on every length 0..300 (whole
// vectors, the masked half vector and the Go tail), at several offsets
// into inputs that cover every branch and special value, on the whole
// input and in place.
func TestActivationsAVX512(t *testing.T) {
	im, _ := avx512F32Impl(t)
	in := activationInputs()
	relu := func(dst, src []float32) {
		copy(dst, src)
		im.ReluSlice(dst[:len(src)])
	}
	gelu := func(dst, src []float32) { im.GELUSlice(dst, src, nil) }
	const alpha = -1.37
	axpyY := func(i int) float32 { return float32(i%7) - 3.5 }
	axpy := func(dst, src []float32) {
		for i := range src {
			dst[i] = axpyY(i)
		}
		im.AxpyF32(alpha, src, dst[:len(src)])
	}
	for _, fn := range []struct {
		name   string
		slice  func(dst, src []float32)
		scalar func(i int, x float32) float32
	}{
		{"exp", im.ExpSlice, func(_ int, x float32) float32 { return Exp(x) }},
		{"sigmoid", im.SigmoidSlice, func(_ int, x float32) float32 { return Sigmoid(x) }},
		{"tanh", im.TanhSlice, func(_ int, x float32) float32 { return Tanh(x) }},
		{"gelu", gelu, func(_ int, x float32) float32 { return GELU(x) }},
		{"relu", relu, func(_ int, x float32) float32 { return max(x, 0) }},
		{"axpy", axpy, func(i int, x float32) float32 { return axpyY(i) + float32(alpha*x) }},
	} {
		check := func(what string, got, src []float32) {
			t.Helper()
			for i, x := range src {
				if want := fn.scalar(i, x); !sameBits(got[i], want) {
					t.Fatalf("%s %s: %s(%v) = %v (%08x), scalar %v (%08x)", fn.name, what, fn.name, x, got[i], math.Float32bits(got[i]), want, math.Float32bits(want))
				}
			}
		}
		for n := 0; n <= 300; n++ {
			for _, off := range []int{0, 3, 17} { // the special values start the input
				src := in[off : off+n]
				dst, guard := guarded[float32](n, 42)
				fn.slice(dst, src)
				guard(t)
				check(fmt.Sprintf("n=%d off=%d", n, off), dst, src)
			}
		}
		dst := make([]float32, len(in))
		fn.slice(dst, in)
		check("whole", dst, in)
		if fn.name != "axpy" {
			buf := append([]float32(nil), in...)
			fn.slice(buf, buf)
			check("in place", buf, in)
		}
	}
}

// TestSoftmaxAVX512 checks the 512-bit softmax bit for bit against the
// reference on every length 0..300 with special values (NaN, ±Inf, ±0,
// huge, underflowing) in the vector part and in the tail.
func TestSoftmaxAVX512(t *testing.T) {
	im, _ := avx512F32Impl(t)
	rng := rand.New(rand.NewPCG(25, 27))
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e30, -1e30, 88, -104}
	for n := 0; n <= 300; n++ {
		for trial := 0; trial < 6; trial++ {
			p := make([]float32, n)
			for j := range p {
				p[j] = float32(rng.NormFloat64() * 4)
			}
			switch {
			case trial == 1 && n > 0:
				p[rng.IntN(n)] = specials[rng.IntN(len(specials))]
			case trial == 2 && n > 0:
				p[n-1] = specials[rng.IntN(len(specials))]
			case trial == 3:
				for j := range p {
					p[j] = 3
				}
			case trial == 4:
				for j := range p {
					p[j] = float32(math.Copysign(0, float64(rng.IntN(2)*2-1)))
				}
			case trial == 5:
				for j := range p {
					p[j] *= 40
				}
			}
			want := append([]float32(nil), p...)
			softmaxLoop(expSliceGeneric, want)
			got, guard := guarded[float32](n, 42)
			copy(got, p)
			im.SoftmaxF32(got)
			guard(t)
			for j := range want {
				if !sameBits(got[j], want[j]) {
					t.Fatalf("n=%d trial %d: p[%d] = %v, want %v", n, trial, j, got[j], want[j])
				}
			}
		}
	}
}

// BenchmarkActivationsAVX512 times the 512-bit elementwise kernels and
// the ones they replace, interleaved, on 4096 floats (ns per element).
func BenchmarkActivationsAVX512(b *testing.B) {
	im, base := avx512F32Impl(b)
	src := make([]float32, 4096)
	for i := range src {
		src[i] = float32(i%200)/10 - 10
	}
	dst := make([]float32, len(src))
	tmp := make([]float32, len(src))
	gamma, beta := make([]float32, 256), make([]float32, 256)
	for i := range gamma {
		gamma[i], beta[i] = 1+float32(i)/512, float32(i)/1024
	}
	for _, name := range []string{"exp", "sigmoid", "tanh", "gelu", "softmax64", "relu", "axpy", "layernorm256"} {
		for _, v := range []Impl{base, im} {
			f := map[string]func(){
				"exp":     func() { v.ExpSlice(dst, src) },
				"sigmoid": func() { v.SigmoidSlice(dst, src) },
				"tanh":    func() { v.TanhSlice(dst, src) },
				"gelu":    func() { v.GELUSlice(dst, src, tmp) },
				"softmax64": func() {
					for i := 0; i+64 <= len(dst); i += 64 {
						copy(dst[i:i+64], src[i:i+64])
						v.SoftmaxF32(dst[i : i+64])
					}
				},
				"relu": func() { copy(dst, src); v.ReluSlice(dst) },
				"axpy": func() { v.AxpyF32(0.5, src, dst) },
				"layernorm256": func() {
					for i := 0; i+256 <= len(dst); i += 256 {
						v.LayerNormRow(dst[i:i+256], src[i:i+256], gamma, beta, 1e-5)
					}
				},
			}[name]
			b.Run(name+"/"+v.Name, func(b *testing.B) {
				for b.Loop() {
					f()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(src)), "ns/elem")
			})
		}
	}
}

// TestLayerNormAVX512 checks the 512-bit LayerNormRow bit for bit against
// the reference on every length 0..300, with offset, constant, huge and
// special (NaN, ±Inf, ±0) rows, in place and not.
func TestLayerNormAVX512(t *testing.T) {
	im, _ := avx512F32Impl(t)
	rng := rand.New(rand.NewPCG(27, 29))
	for n := 0; n <= 300; n++ {
		for trial := 0; trial < 5; trial++ {
			src := make([]float32, n)
			g, b := make([]float32, n), make([]float32, n)
			for i := range src {
				src[i] = float32(rng.NormFloat64())
				g[i] = float32(1 + rng.NormFloat64()/4)
				b[i] = float32(rng.NormFloat64() / 4)
			}
			switch trial {
			case 1:
				for i := range src {
					src[i] += 1000
				}
			case 2:
				for i := range src {
					src[i] = 7
				}
			case 3:
				for i := range src {
					src[i] *= 1e20
				}
			case 4:
				if n > 0 {
					g[rng.IntN(n)] = float32(math.Inf(1))
					b[rng.IntN(n)] = float32(math.NaN())
					g[rng.IntN(n)] = float32(math.Copysign(0, -1))
				}
			}
			eps := float32(1e-5)
			want := make([]float32, n)
			layerNormGeneric(want, src, g, b, eps)
			got, guard := guarded[float32](n, 42)
			im.LayerNormRow(got, src, g, b, eps)
			guard(t)
			in := append([]float32(nil), src...)
			im.LayerNormRow(in, in, g, b, eps)
			for i := range want {
				if !sameBits(got[i], want[i]) || !sameBits(in[i], want[i]) {
					t.Fatalf("n=%d trial %d: y[%d] = %v (in place %v), want %v", n, trial, i, got[i], in[i], want[i])
				}
			}
		}
	}
}

// TestMixF32AVX512 checks the 512-bit P·V bit for bit against the AxpyF32
// loop it is defined by, on every tile edge (rows around 4, columns around
// 16 and 32), strided operands whose gaps hold NaN, and n = 0.
func TestMixF32AVX512(t *testing.T) {
	im, _ := avx512F32Impl(t)
	rng := rand.New(rand.NewPCG(23, 25))
	for _, m := range []int{0, 1, 3, 4, 5, 8, 9, 17} {
		for _, n := range []int{0, 1, 2, 5, 64, 65} {
			for _, k := range []int{1, 8, 15, 16, 17, 31, 32, 33, 48, 50, 64, 95, 130} {
				ldo, ldp, ldv := k+5, n+1, 3*k+2
				p := stridedF32(rng, m, n, ldp)
				v := stridedF32(rng, n, k, ldv)
				want := stridedF32(rng, m, k, ldo)
				got := append([]float32(nil), want...)
				mixLoop(axpyF32Generic, want, ldo, p, ldp, v, ldv, m, n, k)
				im.MixF32(got, ldo, p, ldp, v, ldv, m, n, k)
				sameF32(t, shapeName(m, n, k), got, want)
			}
		}
	}
}

// BenchmarkMixF32AVX512 times P·V for one attention head (64 query rows,
// 128 keys, 64-wide values), 512-bit against the kernel it replaces.
func BenchmarkMixF32AVX512(b *testing.B) {
	im, base := avx512F32Impl(b)
	const m, n, k = 64, 128, 64
	rng := rand.New(rand.NewPCG(1, 2))
	p, v := stridedF32(rng, m, n, n), stridedF32(rng, n, k, k)
	o := make([]float32, m*k)
	for _, x := range []Impl{base, im} {
		b.Run(x.Name, func(b *testing.B) {
			for b.Loop() {
				x.MixF32(o, k, p, n, v, k, m, n, k)
			}
			b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
	}
}
