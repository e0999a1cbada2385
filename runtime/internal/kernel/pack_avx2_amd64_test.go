//go:build amd64 && gc && !noasm && !purego

package kernel

import (
	"math/rand/v2"
	"slices"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestRowSumsAVX2 checks rowSumsAVX2 bit for bit against rowSums: every
// k up to 200 (no 32-byte prefix, one and several steps, every tail),
// long rows, one row and many, every fill, and a single −128 in the
// prefix, at its last byte, in the tail and in the last row; and that
// it leaves w and the slices' spare elements alone.
func TestRowSumsAVX2(t *testing.T) {
	if !cpu.X86.HasAVX2 {
		t.Skip("no AVX2")
	}
	rng := rand.New(rand.NewPCG(31, 32))
	ks := []int{0}
	for k := 1; k <= 200; k++ {
		ks = append(ks, k)
	}
	ks = append(ks, 1023, 2048, 2049, 4127)
	for _, n := range []int{1, 3, 17} {
		for _, k := range ks {
			for _, f := range packFills {
				base := packWeights(rng, n, k, f)
				ats := []int{-1}
				if f == "q" {
					ats = append(ats, 0, (k&^31)-1, k&^31, k-1, (n-1)*k+k/3, n*k-1)
				}
				for _, at := range ats {
					if at >= n*k || at < -1 {
						continue
					}
					w := slices.Clone(base)
					if at >= 0 {
						w[at] = -128
					}
					ws, wp := make([]int32, n), make([]int32, n)
					wm := rowSums(w, n, k, ws, wp)
					gs, gp := make([]int32, n+1), make([]int32, n+1)
					gs[n], gp[n] = 77, 77
					orig := slices.Clone(w)
					gm := rowSumsAVX2(w, n, k, gs, gp)
					if !slices.Equal(w, orig) {
						t.Fatalf("n=%d k=%d fill=%s at=%d: w changed", n, k, f, at)
					}
					if !slices.Equal(gs[:n], ws) || !slices.Equal(gp[:n], wp) || gs[n] != 77 || gp[n] != 77 || gm != wm {
						t.Fatalf("n=%d k=%d fill=%s at=%d: sum %v prefix %v min128 %v, want %v %v %v", n, k, f, at, gs, gp, gm, ws, wp, wm)
					}
				}
			}
		}
	}
}

// BenchmarkRowSumsI8 takes the row sums of a 2048×2048 matrix with
// rowSums ("go") and rowSumsAVX2 ("avx2").
func BenchmarkRowSumsI8(b *testing.B) {
	if !cpu.X86.HasAVX2 {
		b.Skip("no AVX2")
	}
	const n, k = 2048, 2048
	w := packWeights(rand.New(rand.NewPCG(1, 2)), n, k, "q")
	sum, prefix := make([]int32, n), make([]int32, n)
	for _, v := range []string{"go", "avx2"} {
		f := rowSums
		if v == "avx2" {
			f = rowSumsAVX2
		}
		b.Run(v, func(b *testing.B) {
			b.SetBytes(n * k)
			for b.Loop() {
				f(w, n, k, sum, prefix)
			}
		})
	}
}
