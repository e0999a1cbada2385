//go:build amd64 && gc && !noasm && !purego

package kernel

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// useAVX512 switches to avx512vnni for the test, or skips it on a CPU
// without AVX-512 VNNI.
func useAVX512(t testing.TB) {
	t.Helper()
	restore, err := Use("avx512vnni")
	if err != nil {
		t.Skip("no avx512vnni on this CPU:", err)
	}
	t.Cleanup(restore)
}

// TestGemmI8Tiled checks the AVX-512 GEMM bit for bit against the
// reference over many shapes: row counts across the 6-row blocks, column
// counts that are not multiples of 16, every K mod 4, column ranges that
// start and end inside a panel, and the extreme fills (−128 weights, 255
// activations). Columns outside the range and memory around c keep their
// canary.
func TestGemmI8Tiled(t *testing.T) {
	useAVX512(t)
	rng := rand.New(rand.NewPCG(51, 52))
	ms := []int{1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 17, 31, 32, 64, 70}
	ns := []int{1, 3, 15, 16, 17, 31, 32, 33, 47, 64, 65, 80}
	ks := []int{1, 2, 3, 4, 5, 7, 8, 13, 31, 64, 129, 255, 512, 1027, 1100}
	for _, m := range ms {
		for _, n := range ns {
			for _, k := range ks {
				if m*n*k > 1<<20 && rng.IntN(4) != 0 { // keep the reference's work modest
					continue
				}
				f := fill(rng.IntN(4))
				if rng.IntN(2) == 0 {
					f = fillRand
				}
				a, wd := makeInputs(rng, m, n, k, f)
				w := PackI8(wd, n, k)
				if !w.tiled {
					t.Fatalf("n=%d k=%d: PackI8 under avx512vnni did not tile", n, k)
				}
				want := make([]int32, m*n)
				gemmI8Generic(want, a, m, w, 0, n)
				// a random cut of the columns into up to 3 ranges, one of
				// them left out
				c1, c2 := rng.IntN(n+1), rng.IntN(n+1)
				c1, c2 = min(c1, c2), max(c1, c2)
				skip := rng.IntN(3)
				ranges := [][2]int{{0, c1}, {c1, c2}, {c2, n}}
				const canary = -7777777
				got, check := guarded[int32](m*n, canary)
				for i, r := range ranges {
					if i != skip {
						GemmI8(got, a, m, w, r[0], r[1])
					}
				}
				check(t)
				for i := range want {
					j := i % n
					in := !(j >= ranges[skip][0] && j < ranges[skip][1])
					if in && got[i] != want[i] || !in && got[i] != canary {
						t.Fatalf("m=%d n=%d k=%d fill=%d ranges=%v skip=%d: c[%d][%d]=%d want %d (in range %v)",
							m, n, k, f, ranges, skip, i/n, j, got[i], want[i], in)
					}
				}
			}
		}
	}
}

// TestGemmI8TiledLongRow checks one row over more than gemvI8ZMaxBytes of
// weights (the 1×8 tiles), just under it (gemvI8ZPF) and over a few
// panels (gemvI8Z) bit for bit against the reference, whole and in column ranges cut inside panels,
// K with a tail.
func TestGemmI8TiledLongRow(t *testing.T) {
	useAVX512(t)
	rng := rand.New(rand.NewPCG(71, 72))
	for _, s := range [][2]int{{4099, 1000}, {4099, 1030}, {2048, 2061}} {
		k, n := s[0], s[1]
		a, wd := makeInputs(rng, 1, n, k, fillRand)
		w := PackI8(wd, n, k)
		want := make([]int32, n)
		gemmI8Generic(want, a, 1, w, 0, n)
		for _, cut := range [][2]int{{0, n}, {5, n - 3}, {17, 130}} {
			got, check := guarded[int32](n, 9)
			GemmI8(got, a, 1, w, cut[0], cut[1])
			check(t)
			for j := range want {
				exp := want[j]
				if j < cut[0] || j >= cut[1] {
					exp = 9 // the canary: outside the range
				}
				if got[j] != exp {
					t.Fatalf("k=%d n=%d cut %v: c[%d]=%d, want %d", k, n, cut, j, got[j], exp)
				}
			}
		}
	}
}

// TestTiledRowAndAdopt: Row reads the tile layout back, AdoptI8 packs as
// PackI8 does, and the sums are those of the row-major weights.
func TestTiledRowAndAdopt(t *testing.T) {
	useAVX512(t)
	rng := rand.New(rand.NewPCG(53, 54))
	for _, s := range [][2]int{{1, 1}, {5, 3}, {16, 4}, {17, 33}, {40, 130}, {32, 8}, {48, 132}} {
		n, k := s[0], s[1]
		_, wd := makeInputs(rng, 1, n, k, fillRand)
		wd[0] = -128
		orig := slices.Clone(wd)
		p := PackI8(wd, n, k)
		if !slices.Equal(wd, orig) {
			t.Fatalf("n=%d k=%d: PackI8 changed its input", n, k)
		}
		q := AdoptI8(slices.Clone(wd), n, k)
		if !p.tiled || !q.tiled || !slices.Equal(p.Data, q.Data) || !slices.Equal(p.RowSum, q.RowSum) {
			t.Fatalf("n=%d k=%d: AdoptI8 and PackI8 differ", n, k)
		}
		if len(p.Data) != (n+15)/16*16*((k+3)/4*4) {
			t.Fatalf("n=%d k=%d: %d bytes, want the padded size", n, k, len(p.Data))
		}
		var row []int8
		for j := range n {
			row = p.Row(j, row)
			if !slices.Equal(row, orig[j*k:(j+1)*k]) {
				t.Fatalf("n=%d k=%d: Row(%d) = %v want %v", n, k, j, row, orig[j*k:(j+1)*k])
			}
			var s int32
			for _, v := range row {
				s += int32(v)
			}
			if p.RowSum[j] != s {
				t.Fatalf("n=%d k=%d: RowSum[%d] = %d want %d", n, k, j, p.RowSum[j], s)
			}
		}
		if !p.hasMin128 {
			t.Fatalf("n=%d k=%d: hasMin128 not set", n, k)
		}
	}
}

// TestTiledNoAllocs: the AVX-512 GEMM allocates nothing.
func TestTiledNoAllocs(t *testing.T) {
	useAVX512(t)
	rng := rand.New(rand.NewPCG(55, 56))
	a, wd := makeInputs(rng, 7, 37, 101, fillRand)
	w := PackI8(wd, 37, 101)
	c := make([]int32, 7*37)
	if got := testing.AllocsPerRun(10, func() { GemmI8(c, a, 7, w, 3, 35) }); got != 0 {
		t.Errorf("%v allocations per GemmI8", got)
	}
}

// TestAVX512GodebugOff re-runs the test binary with GODEBUG turning off
// AVX-512 F or AVX512-VNNI: dispatch then falls to the 256-bit kernels
// (what wantKernel, which reads the same features, calls for).
func TestAVX512GodebugOff(t *testing.T) {
	if os.Getenv("EDGERUN_KERNEL_CHILD") != "" {
		want, _ := wantKernel()
		t.Logf("child kernel=%s want=%s", Current(), want)
		if Current() == "avx512vnni" || Current() != want {
			t.Fatalf("kernel %s with GODEBUG=%s, want %s", Current(), os.Getenv("GODEBUG"), want)
		}
		return
	}
	if !hasAVX512() {
		t.Skip("no AVX-512 VNNI to turn off")
	}
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	for _, off := range []string{"cpu.avx512f=off", "cpu.avx512vnni=off"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAVX512GodebugOff$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "EDGERUN_KERNEL_CHILD=1", "GODEBUG="+off)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("GODEBUG=%s: %v\n%s", off, err, out)
		}
		if !bytes.Contains(out, []byte("child kernel=")) {
			t.Fatalf("GODEBUG=%s: the child did not run the check:\n%s", off, out)
		}
		i := bytes.Index(out, []byte("child kernel="))
		t.Logf("GODEBUG=%s: %s", off, strings.TrimSpace(strings.SplitN(string(out[i:]), "\n", 2)[0]))
	}
}

// TestQuantDequantZShort: the AVX-512 quantizer and dequantizer on every
// short length (all tail, whole chunks plus a tail), bit for bit against
// the references, nothing written past the row.
func TestQuantDequantZShort(t *testing.T) {
	useAVX512(t)
	rng := rand.New(rand.NewPCG(59, 60))
	for n := 1; n <= 50; n++ {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 3)
		}
		got := make([]uint8, n+20)
		for i := range got {
			got[i] = 0xa5
		}
		want := make([]uint8, n)
		gs, gz := QuantizeRowU8(got[:n], x)
		ws, wz := quantizeRowU8Generic(want, x)
		if gs != ws || gz != wz || !slices.Equal(got[:n], want) {
			t.Fatalf("n=%d: quantize %v %d %v, want %v %d %v", n, gs, gz, got[:n], ws, wz, want)
		}
		for i := n; i < len(got); i++ {
			if got[i] != 0xa5 {
				t.Fatalf("n=%d: quantize wrote dst[%d]", n, i)
			}
		}
		acc, rs := make([]int32, n), make([]int32, n)
		sc, bias := make([]float32, n), make([]float32, n)
		for j := range n {
			acc[j], rs[j] = int32(rng.Uint32()), int32(rng.IntN(1<<16)-1<<15)
			sc[j], bias[j] = float32(rng.Float64()*1e-3), float32(rng.NormFloat64())
		}
		for _, b := range [][]float32{nil, bias} {
			d, check := guarded[float32](n, 3)
			wd := make([]float32, n)
			DequantRow(d, acc, 0.37, 131, sc, rs, b)
			dequantRowGeneric(wd, acc, 0.37, 131, sc, rs, b)
			check(t)
			for j := range wd {
				if math.Float32bits(d[j]) != math.Float32bits(wd[j]) {
					t.Fatalf("n=%d bias=%v: dst[%d]=%v want %v", n, b != nil, j, d[j], wd[j])
				}
			}
		}
	}
}

// BenchmarkQuantDequantZ compares the row quantizer and dequantizer of
// avxvnni (AVX2) and avx512vnni, interleaved per row length.
func BenchmarkQuantDequantZ(b *testing.B) {
	for _, n := range []int{64, 512, 1024, 4096} {
		rng := rand.New(rand.NewPCG(3, 4))
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		q := make([]uint8, n)
		acc, rs := make([]int32, n), make([]int32, n)
		sc, bias, d := make([]float32, n), make([]float32, n), make([]float32, n)
		for _, name := range []string{"avxvnni", "avx512vnni"} {
			b.Run(fmt.Sprintf("quant/%d/%s", n, name), func(b *testing.B) {
				restore, err := Use(name)
				if err != nil {
					b.Skip(err)
				}
				defer restore()
				for b.Loop() {
					QuantizeRowU8(q, x)
				}
			})
			b.Run(fmt.Sprintf("dequant/%d/%s", n, name), func(b *testing.B) {
				restore, err := Use(name)
				if err != nil {
					b.Skip(err)
				}
				defer restore()
				for b.Loop() {
					DequantRow(d, acc, 0.5, 3, sc, rs, bias)
				}
			})
		}
	}
}

// BenchmarkGemmI8AVX512 compares avxvnni and avx512vnni on the shapes the
// models call GemmI8 with (M×K×N), interleaved per shape, each packing
// its own layout; GOPS counts 2 ops per multiply-add.
func BenchmarkGemmI8AVX512(b *testing.B) {
	shapes := [][3]int{
		{128, 512, 512}, {32, 1024, 1024}, {1, 4096, 1024}, {1, 1024, 1024}, {8, 1024, 1024},
		{32, 128, 512}, {64, 64, 256}, {1, 128, 512}, {4, 256, 256}, {16, 768, 768},
		{2, 1024, 1024}, {3, 512, 512}, {7, 256, 1000},
	}
	for _, s := range shapes {
		m, k, n := s[0], s[1], s[2]
		rng := rand.New(rand.NewPCG(1, 2))
		a, wd := makeInputs(rng, m, n, k, fillRand)
		c := make([]int32, m*n)
		for _, name := range []string{"avxvnni", "avx512vnni"} {
			restore, err := Use(name)
			if err != nil {
				b.Skip(err)
			}
			w := PackI8(wd, n, k)
			restore()
			b.Run(fmt.Sprintf("%dx%dx%d/%s", m, k, n, name), func(b *testing.B) {
				restore, _ := Use(name)
				defer restore()
				for b.Loop() {
					GemmI8(c, a, m, w, 0, n)
				}
				b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOPS")
			})
		}
	}
}

// TestGemmI8TiledBounds: a column range past N or a short output panics
// before the assembly runs, instead of writing past a row.
func TestGemmI8TiledBounds(t *testing.T) {
	useAVX512(t)
	rng := rand.New(rand.NewPCG(61, 62))
	a, wd := makeInputs(rng, 2, 20, 9, fillRand)
	w := PackI8(wd, 20, 9)
	for _, tc := range []struct {
		c      []int32
		n0, n1 int
	}{
		{make([]int32, 40), 0, 21},
		{make([]int32, 40), -1, 5},
		{make([]int32, 39), 0, 20},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("len(c)=%d [%d, %d): no panic", len(tc.c), tc.n0, tc.n1)
				}
			}()
			GemmI8(tc.c, a, 2, w, tc.n0, tc.n1)
		}()
	}
}

// TestGemmI8F32TiledRows runs checkGemmI8F32Rows over the AVX-512 fused
// kernel directly, so that one row (which GemmI8F32 sends to the two
// passes) goes through its loops too.
func TestGemmI8F32TiledRows(t *testing.T) {
	useAVX512(t)
	checkGemmI8F32Rows(t, "gemmI8F32Tiled", func(y []float32, _ []int32, a []uint8, m int, w *MatI8, n0, n1 int, xs, xz, scales, bias []float32, ldb int, relu bool) {
		gemmI8F32Tiled(y, a, m, w, n0, n1, xs, xz, scales, bias, ldb, relu)
	})
}
