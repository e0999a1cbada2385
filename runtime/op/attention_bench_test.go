package op

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/edgerun/edgerun/runtime/internal/kernel"
)

// BenchmarkAttentionCore times the attention core (attnTask.RunRange:
// scores, softmax, mix) of the perfpeers transformer (T = 64, d = 128,
// 4 heads) for one sequence and for 8, and for one sequence whose last 3
// keys are padding (pad3: 61 valid keys), on each kernel implementation
// in turn, so the implementations compare in one run.
func BenchmarkAttentionCore(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, bs := range []int{1, 8, -1} {
		const tl, d, heads = 64, 128, 4
		name := fmtName("b", bs)
		var mask []float32
		if bs < 0 {
			bs, name = 1, "pad3"
			mask = make([]float32, tl)
			for j := range tl - 3 {
				mask[j] = 1
			}
		}
		k := &mha{d: d, heads: heads, dh: d / heads, scale: float32(1 / math.Sqrt(float64(d/heads)))}
		qkv := randF32(rng, bs*tl*3*d, 2)
		a := &attnTask{k: k, qkv: qkv, mask: mask, attn: make([]float32, bs*tl*d), t: tl, per: k.attnScratch(tl, mask != nil)}
		a.scratch = make([]float32, bs*heads*a.per)
		for _, im := range kernel.Impls() {
			if im.Name == "generic" {
				continue // minutes, not microseconds
			}
			b.Run(name+"/"+im.Name, func(b *testing.B) {
				restore, err := kernel.Use(im.Name)
				if err != nil {
					b.Fatal(err)
				}
				defer restore()
				for b.Loop() {
					a.RunRange(0, bs*heads)
				}
			})
		}
	}
}

func fmtName(p string, v int) string {
	s := ""
	for ; v > 0; v /= 10 {
		s = string(rune('0'+v%10)) + s
	}
	return p + s
}
