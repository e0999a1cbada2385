package op

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/edgerun/edgerun/runtime/internal/kernel"
)

// TestAttentionCorePrefixMask: masks whose padding is at the end only
// (read in place, no gather) give the query-by-query loop's bits on every
// kernel implementation, for every padding length, with and without
// causality, next to a sequence with padding in the middle (gathered).
func TestAttentionCorePrefixMask(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	for _, im := range kernel.Impls() {
		restore, err := kernel.Use(im.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, tl := range []int{1, 9, 17, 40, 70} {
			for pad := 0; pad <= tl; pad += 1 + tl/5 {
				for _, causal := range []bool{false, true} {
					const b, heads, dh = 2, 2, 8
					k := &mha{d: dh * heads, heads: heads, dh: dh, causal: causal, scale: float32(1 / math.Sqrt(float64(dh)))}
					qkv := randF32(rng, b*tl*3*k.d, 2)
					mask := make([]float32, b*tl)
					for j := range tl {
						if j < tl-pad {
							mask[j] = 1
						}
						if j != tl/2 { // sequence 1: one key padded in the middle
							mask[tl+j] = 1
						}
					}
					if validPrefix(mask[:tl]) != tl-pad {
						t.Fatalf("validPrefix of %v = %d, want %d", mask[:tl], validPrefix(mask[:tl]), tl-pad)
					}
					want := attnRef(k, qkv, mask, b, tl)
					a := &attnTask{k: k, qkv: qkv, mask: mask, attn: make([]float32, b*tl*k.d), t: tl,
						per: k.attnScratch(tl, true)}
					a.scratch = make([]float32, b*heads*a.per)
					a.RunRange(0, b*heads)
					cvCheckSameBits(t, fmt.Sprintf("%s T=%d pad=%d causal=%v", im.Name, tl, pad, causal), a.attn, want)
				}
			}
		}
		restore()
	}
}

// TestValidPrefix checks the trailing-padding test on its edge cases.
func TestValidPrefix(t *testing.T) {
	nan := float32(math.NaN())
	for _, c := range []struct {
		m    []float32
		want int
	}{
		{nil, -1}, {[]float32{}, 0}, {[]float32{0}, 0}, {[]float32{1}, 1}, {[]float32{1, 1, 0, 0}, 2},
		{[]float32{0, 1}, -1}, {[]float32{1, 0, 1}, -1}, {[]float32{nan, 0}, 1}, {[]float32{0, nan}, -1},
	} {
		if got := validPrefix(c.m); got != c.want {
			t.Errorf("validPrefix(%v) = %d, want %d", c.m, got, c.want)
		}
	}
}
