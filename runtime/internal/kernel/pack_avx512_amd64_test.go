//go:build amd64 && gc && !noasm && !purego

package kernel

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// packFills are weight fills for the packing tests: uniform over all 256
// values, the quantizer's range −127..127, constant rows at the extremes,
// and rows alternating between the extremes.
var packFills = []string{"rand", "q", "127", "-127", "-128", "rows"}

func packWeights(rng *rand.Rand, n, k int, f string) []int8 {
	w := make([]int8, n*k)
	for i := range w {
		switch f {
		case "rand":
			w[i] = int8(rng.IntN(256) - 128)
		case "q":
			w[i] = int8(rng.IntN(255) - 127)
		case "127":
			w[i] = 127
		case "-127":
			w[i] = -127
		case "-128":
			w[i] = -128
		case "rows":
			w[i] = []int8{127, -128, -127, 0}[i/k%4]
		}
	}
	return w
}

// packRef is packI8's reference for the tiled path: rowSums and tileI8.
func packRef(w []int8, n, k int) (t []int8, sum, prefix []int32, min128 bool) {
	sum, prefix = make([]int32, n), make([]int32, n)
	min128 = rowSums(w, n, k, sum, prefix)
	return tileI8(w, n, k), sum, prefix, min128
}

// TestTilePanelI8Z checks the panel kernel bit for bit against rowSums
// and tileI8: every K mod 32 (the masked tail, alone and after whole
// steps), long rows, every fill, a single −128 at positions in the
// prefix, in the tail and in every row, and that it writes no byte past
// the panel.
func TestTilePanelI8Z(t *testing.T) {
	if !hasAVX512() {
		t.Skip("no avx512vnni on this CPU")
	}
	rng := rand.New(rand.NewPCG(21, 22))
	var ks []int
	for k := 4; k <= 200; k += 4 {
		ks = append(ks, k)
	}
	ks = append(ks, 1020, 2048, 2052, 2076, 4096+28)
	for _, k := range ks {
		for _, f := range packFills {
			base := packWeights(rng, 16, k, f)
			ats := []int{-1}
			if f == "q" {
				ats = append(ats, 0, k-1, k&^31, (k&^31)-1, 5*k+k/2, 15*k, 16*k-1)
			}
			for _, at := range ats {
				if at >= 16*k || (at < 0 && at != -1) {
					continue
				}
				w := slices.Clone(base)
				if at >= 0 {
					w[at] = -128
				}
				wantT, wantS, wantP, wantM := packRef(w, 16, k)
				dst := make([]int8, 16*k+64)
				for i := range dst {
					dst[i] = 0x55
				}
				sum, prefix := make([]int32, 17), make([]int32, 17)
				sum[16], prefix[16] = 77, 77
				src := slices.Clone(w)
				got := tilePanelI8Checked(dst, src, k, sum, prefix)
				what := fmt.Sprintf("k=%d fill=%s at=%d", k, f, at)
				if !slices.Equal(src, w) {
					t.Fatalf("%s: src changed", what)
				}
				if !slices.Equal(dst[:16*k], wantT) {
					i := 0
					for dst[i] == wantT[i] {
						i++
					}
					t.Fatalf("%s: dst[%d] = %d want %d", what, i, dst[i], wantT[i])
				}
				for i := 16 * k; i < len(dst); i++ {
					if dst[i] != 0x55 {
						t.Fatalf("%s: dst[%d] written past the panel", what, i)
					}
				}
				if !slices.Equal(sum[:16], wantS) || !slices.Equal(prefix[:16], wantP) || sum[16] != 77 || prefix[16] != 77 {
					t.Fatalf("%s: sum %v prefix %v, want %v %v", what, sum, prefix, wantS, wantP)
				}
				if got != wantM {
					t.Fatalf("%s: min128 %v want %v", what, got, wantM)
				}
			}
		}
	}
}

// TestPackI8Tiled checks PackI8 and AdoptI8 under avx512vnni, which take
// the panel kernel for n a multiple of 16 and k of 4, against rowSums and
// tileI8 over one and many panels: Data, RowSum, the prefix sums and the
// −128 flag, and that PackI8 leaves its input alone.
func TestPackI8Tiled(t *testing.T) {
	useAVX512(t)
	rng := rand.New(rand.NewPCG(23, 24))
	for _, n := range []int{16, 32, 48, 160} {
		for _, k := range []int{4, 28, 32, 36, 100, 128, 2048, 2052} {
			for _, f := range packFills {
				w := packWeights(rng, n, k, f)
				if f == "q" && n > 16 {
					w[17*k+k-1] = -128 // in the second panel's tail
				}
				wantT, wantS, wantP, wantM := packRef(w, n, k)
				orig := slices.Clone(w)
				p := PackI8(w, n, k)
				if !slices.Equal(w, orig) {
					t.Fatalf("n=%d k=%d fill=%s: PackI8 changed its input", n, k, f)
				}
				q := AdoptI8(slices.Clone(w), n, k)
				for _, m := range []*MatI8{p, q} {
					if !m.tiled || !m.grouped || !slices.Equal(m.Data, wantT) || !slices.Equal(m.RowSum, wantS) ||
						!slices.Equal(m.prefixSum, wantP) || m.hasMin128 != wantM {
						t.Fatalf("n=%d k=%d fill=%s: packed matrix differs from rowSums and tileI8", n, k, f)
					}
				}
			}
		}
	}
}

// BenchmarkPackI8 packs a 2048×2048 matrix as a model's loader does
// (AdoptI8 of a fresh copy, copy included) under avx512vnni: "old" is
// rowSums then tileI8InPlace, "new" the panel kernel.
func BenchmarkPackI8(b *testing.B) {
	useAVX512(b)
	const n, k = 2048, 2048
	w := packWeights(rand.New(rand.NewPCG(1, 2)), n, k, "q")
	d := make([]int8, n*k)
	for _, v := range []string{"old", "new"} {
		b.Run(v, func(b *testing.B) {
			b.SetBytes(n * k)
			for b.Loop() {
				copy(d, w)
				if v == "old" {
					sum, prefix := make([]int32, n), make([]int32, n)
					rowSums(d, n, k, sum, prefix)
					tileI8InPlace(d, n, k)
				} else {
					AdoptI8(d, n, k)
				}
			}
		})
	}
}
