//go:build amd64 && gc && !noasm && !purego

package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// specialF32 returns rows×width values at stride ld (NaN gaps, as
// stridedF32), a fraction of them ±Inf, NaN, subnormal, huge or zero.
func specialF32(rng *rand.Rand, rows, width, ld int) []float32 {
	s := stridedF32(rng, rows, width, ld)
	specials := []float32{
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
		math.Float32frombits(1), math.Float32frombits(0x807fffff), math.MaxFloat32, -math.MaxFloat32,
		0, float32(math.Copysign(0, -1)),
	}
	for i := 0; i < rows; i++ {
		for j := 0; j < width; j++ {
			if rng.IntN(40) == 0 {
				s[i*ld+j] = specials[rng.IntN(len(specials))]
			}
		}
	}
	return s
}

// TestDotsF32AVX512 checks the 512-bit scores bit for bit against the
// reference loop over dotF32Generic on random shapes (m, n, k in 1..100),
// strides wider than the rows, gaps holding NaN and special values in
// the rows (NaN outputs match as NaN, see sameOrNaN), and bit for bit
// against dotsF32AVX2Tiles, the kernel it replaces, when k is a multiple
// of 8 (with a tail, dotsF32AVX2Tiles adds it in Go, whose operand order,
// so which of two NaNs it keeps, is the compiler's: -race builds differ).
func TestDotsF32AVX512(t *testing.T) {
	if !hasAVX512() {
		t.Skip("no AVX-512 on this CPU")
	}
	rng := rand.New(rand.NewPCG(51, 2))
	trials := 400
	if testing.Short() {
		trials = 60
	}
	for trial := 0; trial < trials; trial++ {
		m, n, k := 1+rng.IntN(100), 1+rng.IntN(100), 1+rng.IntN(100)
		if trial%2 == 0 {
			k = 8 * (1 + rng.IntN(17)) // the tiled path, with and without dotsEdgeAVX512
		}
		lda, ldb, ldc := k+rng.IntN(9), k+rng.IntN(9), n+rng.IntN(5)
		a, b := stridedF32(rng, m, k, lda), stridedF32(rng, n, k, ldb)
		if trial%3 == 0 {
			a, b = specialF32(rng, m, k, lda), specialF32(rng, n, k, ldb)
		}
		alpha := float32(rng.NormFloat64())
		want := stridedF32(rng, m, n, ldc)
		got := append([]float32(nil), want...)
		avx2 := append([]float32(nil), want...)
		dotsLoop(dotF32Generic, want, ldc, a, lda, b, ldb, m, n, k, alpha)
		dotsF32AVX512Tiles(got, ldc, a, lda, b, ldb, m, n, k, alpha)
		dotsF32AVX2Tiles(avx2, ldc, a, lda, b, ldb, m, n, k, alpha)
		what := "dotsF32AVX512Tiles " + shapeName(m, n, k)
		sameOrNaN(t, what, got, want)
		if k%8 == 0 {
			sameF32(t, what+" vs AVX2", got, avx2)
		} else {
			sameOrNaN(t, what+" vs AVX2", got, avx2)
		}
	}
}

// sameOrNaN is sameF32 except that any NaN matches any NaN: where two
// NaNs meet, x86 keeps the first operand's and Go's reference and the
// vector kernels may order them differently (dotsF32AVX2Tiles does too),
// so only the NaN-ness of such an output is specified.
func sameOrNaN(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		g, w := got[i], want[i]
		if g != g && w != w {
			continue
		}
		if math.Float32bits(g) != math.Float32bits(w) {
			t.Fatalf("%s: element %d = %v (%#x), want %v (%#x)", what, i, g, math.Float32bits(g), w, math.Float32bits(w))
		}
	}
}

// BenchmarkDotsF32AVX512 times the attention scores of the transformer
// (a block of 16 queries against 64 keys, dh = 32, rows strided in a
// [T, 3D] projection) and larger heads, the AVX2 and the AVX-512 kernel
// interleaved.
func BenchmarkDotsF32AVX512(b *testing.B) {
	if !hasAVX512() {
		b.Skip("no AVX-512 on this CPU")
	}
	for _, sh := range []struct{ m, n, k int }{{16, 64, 32}, {16, 61, 32}, {16, 64, 64}, {16, 128, 64}, {64, 64, 32}} {
		ld := 3 * 128
		rng := rand.New(rand.NewPCG(1, 2))
		a := stridedF32(rng, sh.m, sh.k, ld)
		kb := stridedF32(rng, sh.n, sh.k, ld)
		c := make([]float32, sh.m*sh.n)
		for _, kv := range []struct {
			name string
			f    func(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int, alpha float32)
		}{{"avx2", dotsF32AVX2Tiles}, {"avx512", dotsF32AVX512Tiles}} {
			b.Run(shapeName(sh.m, sh.n, sh.k)+"/"+kv.name, func(b *testing.B) {
				for b.Loop() {
					kv.f(c, sh.n, a, ld, kb, ld, sh.m, sh.n, sh.k, 0.17)
				}
			})
		}
	}
}

// TestSoftmaxAttnAVX512 checks softmaxAttnAVX512 bit for bit against the
// reference and against softmaxAVX512 (NaN outputs match as NaN) for
// every row length to 100, with special values in the prefix and tail.
func TestSoftmaxAttnAVX512(t *testing.T) {
	if !hasAVX512() {
		t.Skip("no AVX-512 on this CPU")
	}
	rng := rand.New(rand.NewPCG(53, 4))
	for n := 0; n <= 100; n++ {
		for trial := 0; trial < 8; trial++ {
			p := make([]float32, n)
			for j := range p {
				p[j] = float32(rng.NormFloat64() * 6)
			}
			if trial >= 5 && n > 0 {
				p = specialF32(rng, 1, n, n)[:n]
			}
			want := append([]float32(nil), p...)
			softmaxLoop(expSliceGeneric, want)
			old := append([]float32(nil), p...)
			softmaxAVX512(old)
			softmaxAttnAVX512(p)
			what := "softmaxAttnAVX512 n=" + itoa(n)
			sameOrNaN(t, what, p, want)
			sameOrNaN(t, what+" vs softmaxAVX512", p, old)
		}
	}
}

// TestSoftmaxExpNegAVX512 checks the exponential of softmax4RowsAVX512
// and softmaxRowAVX512 (expNeg16: x − mx ≤ 0, y·2ⁿ in one VSCALEFPS)
// bit for bit against softmaxLoop on rows [0, x1 … x15]: every float32
// x in [−104.6, −87] (subnormal results, n < −126, the −103.97 cut and
// softmax4RowsAVX512's clamp at −104.5, below which it relies on the
// polynomial giving 0),
// every 997th float32 from −0 to −112, and −Inf. For x below about −19.3
// the row's sum is exactly 1, so the outputs are Exp's bits themselves.
func TestSoftmaxExpNegAVX512(t *testing.T) {
	if !hasAVX512() {
		t.Skip("no AVX-512 on this CPU")
	}
	var xs []float32
	for b := math.Float32bits(-87); b <= math.Float32bits(-104.6); b++ {
		xs = append(xs, math.Float32frombits(b))
	}
	for b := math.Float32bits(float32(math.Copysign(0, -1))); b <= math.Float32bits(-112); b += 997 {
		xs = append(xs, math.Float32frombits(b))
	}
	xs = append(xs, float32(math.Inf(-1)))
	const n, ld = 16, 19
	p := make([]float32, 3*ld+n)
	want := make([]float32, len(p))
	row := make([]float32, n)
	for len(xs) > 0 {
		for r := range 4 {
			p[r*ld] = 0
			for j := 1; j < n; j++ {
				p[r*ld+j] = -104
				if len(xs) > 0 {
					p[r*ld+j], xs = xs[0], xs[1:]
				}
			}
		}
		copy(want, p)
		for r := range 4 {
			softmaxLoop(expSliceGeneric, want[r*ld:][:n])
			copy(row, p[r*ld:][:n])
			softmaxAttnAVX512(row)
			sameOrNaN(t, "softmaxRowAVX512", row, want[r*ld:][:n])
		}
		if softmax4RowsAVX512(p, ld, n) {
			t.Fatal("softmax4RowsAVX512 reported a NaN")
		}
		for r := range 4 {
			sameOrNaN(t, "softmax4RowsAVX512", p[r*ld:][:n], want[r*ld:][:n])
		}
	}
}

// TestSoftmax4RowsAVX512 checks softmaxStridedAVX512's four-row kernel
// bit for bit (NaN outputs as NaN) against softmaxLoop on each row for
// widths from 16 to 320 with and without a gap: rows of equal values,
// rows holding −Inf, rows of −Inf only (NaN outputs), rows holding +Inf
// (a maximum of +Inf: the reference's NaN and 0 outputs), rows spread so
// far that most exponentials are subnormal or 0, and tiny values.
func TestSoftmax4RowsAVX512(t *testing.T) {
	if !hasAVX512() {
		t.Skip("no AVX-512 on this CPU")
	}
	rng := rand.New(rand.NewPCG(7, 11))
	ninf := float32(math.Inf(-1))
	for _, n := range []int{16, 32, 48, 64, 80, 256, 320} {
		for _, gap := range []int{0, 5} {
			ld := n + gap
			for kind := range 7 {
				const rows = 8
				p := make([]float32, (rows-1)*ld+n)
				for j := range p {
					x := float32(rng.NormFloat64())
					switch kind {
					case 0: // equal values
						x = 3
					case 1: // −Inf among the scores
						if rng.IntN(4) == 0 {
							x = ninf
						}
					case 2: // some rows all −Inf
						if (j/ld)%3 == 1 {
							x = ninf
						}
					case 3: // exponentials subnormal or 0
						x *= 60
					case 4: // tiny values
						x *= 1e-38
					case 5: // plain scores
						x *= 5
					case 6: // +Inf in some rows (their maximum: NaN outputs)
						if (j/ld)%3 == 1 && j%7 == 0 {
							x = float32(math.Inf(1))
						}
					}
					p[j] = x
				}
				want := append([]float32(nil), p...)
				for r := range rows {
					softmaxLoop(expSliceGeneric, want[r*ld:][:n])
				}
				softmaxStridedAVX512(p, ld, n, rows)
				sameOrNaN(t, "softmaxStridedAVX512 n="+itoa(n)+" ld="+itoa(ld)+" kind "+itoa(kind), p, want)
			}
		}
	}
}

// BenchmarkSoftmaxAttnAVX512 times attention-length rows (a tail of 7, 3
// and none) with three calls and scalar tails (softmaxAVX512, "passes")
// and one call with masked tails (softmaxAttnAVX512, "fused").
func BenchmarkSoftmaxAttnAVX512(b *testing.B) {
	if !hasAVX512() {
		b.Skip("no AVX-512 on this CPU")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{15, 43, 64} {
		src := make([]float32, n)
		for j := range src {
			src[j] = float32(rng.NormFloat64() * 3)
		}
		p := make([]float32, n)
		for _, kv := range []struct {
			name string
			f    func([]float32)
		}{{"passes", softmaxAVX512}, {"fused", softmaxAttnAVX512}} {
			b.Run("n="+itoa(n)+"/"+kv.name, func(b *testing.B) {
				for b.Loop() {
					copy(p, src)
					kv.f(p)
				}
			})
		}
	}
}

// TestDotsF32AVX512T checks the key-per-lane scores bit for bit against
// the reference loop over dotF32Generic (NaN outputs match as NaN, see
// sameOrNaN) on random shapes with ragged m and n (the masked last
// block), k multiples of 8 and not (the tail after the tree), strides
// wider than the rows with NaN gaps, special values, and outputs outside
// the m×n block left alone; for k a multiple of 8 also bit for bit,
// NaN payloads too, against dotsF32AVX2Tiles (the same operand order).
func TestDotsF32AVX512T(t *testing.T) {
	if !hasAVX512() {
		t.Skip("no AVX-512 on this CPU")
	}
	rng := rand.New(rand.NewPCG(57, 8))
	ks := []int{8, 9, 15, 16, 17, 24, 31, 32, 33, 40, 48, 63, 64, 65, 72, 100, 127, dotsTK}
	trials := 300
	if testing.Short() {
		trials = 60
	}
	for trial := 0; trial < trials; trial++ {
		m, n, k := 1+rng.IntN(70), 1+rng.IntN(70), ks[trial%len(ks)]
		if trial%5 == 0 {
			n = 16 * (1 + rng.IntN(4)) // whole blocks only
		}
		lda, ldb, ldc := k+rng.IntN(9), k+rng.IntN(9), n+rng.IntN(5)
		a, b := stridedF32(rng, m, k, lda), stridedF32(rng, n, k, ldb)
		if trial%3 == 0 {
			a, b = specialF32(rng, m, k, lda), specialF32(rng, n, k, ldb)
		}
		a, b = a[:stridedLen(m, k, lda)], b[:stridedLen(n, k, ldb)]
		alpha := float32(rng.NormFloat64())
		if trial%7 == 0 {
			alpha = []float32{1, -1, 0, float32(math.Inf(1))}[rng.IntN(4)]
		}
		want := stridedF32(rng, m, n, ldc)
		got := append([]float32(nil), want...)
		dotsLoop(dotF32Generic, want, ldc, a, lda, b, ldb, m, n, k, alpha)
		dotsF32AVX512T(got, ldc, a, lda, b, ldb, m, n, k, alpha)
		what := "dotsF32AVX512T " + shapeName(m, n, k)
		sameOrNaN(t, what, got, want)
		if k%8 == 0 {
			avx2 := append([]float32(nil), got...)
			dotsF32AVX2Tiles(avx2, ldc, a, lda, b, ldb, m, n, k, alpha)
			sameF32(t, what+" vs AVX2", got, avx2)
		}
	}
}

// TestDotsF32AVX512TSignedZero: a dot whose products are all −0 is +0 in
// the reference (the lane sums start from +0), which dotsTAVX512's
// lane sums, starting from their first product, get from its +0 add;
// times a negative alpha it is −0. A row with one +0 product is +0 too.
func TestDotsF32AVX512TSignedZero(t *testing.T) {
	if !hasAVX512() {
		t.Skip("no AVX-512 on this CPU")
	}
	negz := float32(math.Copysign(0, -1))
	for _, k := range []int{8, 16, 32, 35} {
		m, n := 5, 19
		a := make([]float32, m*k)
		b := make([]float32, n*k)
		for i := range a {
			a[i] = 1
		}
		for i := range b {
			b[i] = negz
		}
		b[3*k+k-1] = 0 // key 3: the last product +0
		for _, alpha := range []float32{1, -1} {
			want := make([]float32, m*n)
			got := make([]float32, m*n)
			dotsLoop(dotF32Generic, want, n, a, k, b, k, m, n, k, alpha)
			dotsF32AVX512T(got, n, a, k, b, k, m, n, k, alpha)
			sameF32(t, "dotsF32AVX512T −0 "+shapeName(m, n, k), got, want)
		}
	}
}

// BenchmarkDotsF32AVX512T times the key-per-lane scores against the
// 4×8-tile kernel dotsF32AVX512 (which dotsF32AVX512Tiles called for
// these shapes before), interleaved, on the transformer's shapes: queries
// and keys strided in a [T, 3D] projection, D = 128, 16 queries a call as
// the attention op makes them, or a whole head's 64.
func BenchmarkDotsF32AVX512T(b *testing.B) {
	if !hasAVX512() {
		b.Skip("no AVX-512 on this CPU")
	}
	tiles := func(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int, alpha float32) {
		dotsF32AVX512(c, a, b, m/4, n/8, k, lda, ldb, ldc, alpha)
	}
	for _, sh := range []struct{ m, n, k int }{{64, 64, 32}, {16, 64, 32}, {16, 64, 16}, {64, 64, 16}, {16, 32, 32}} {
		ld := 3 * 128
		rng := rand.New(rand.NewPCG(1, 2))
		a := stridedF32(rng, sh.m, sh.k, ld)
		kb := stridedF32(rng, sh.n, sh.k, ld)
		c := make([]float32, sh.m*sh.n)
		for _, kv := range []struct {
			name string
			f    func(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int, alpha float32)
		}{{"tiles", tiles}, {"keylanes", dotsF32AVX512T}} {
			b.Run(shapeName(sh.m, sh.n, sh.k)+"/"+kv.name, func(b *testing.B) {
				for b.Loop() {
					kv.f(c, sh.n, a, ld, kb, ld, sh.m, sh.n, sh.k, 0.17)
				}
			})
		}
	}
}

// BenchmarkSoftmaxStrided16AVX512 times one block of attention's score
// rows as op/attention.go hands it over: 16 rows of 64 at a stride of 64
// through softmaxStridedAVX512 (four softmax4RowsAVX512 calls).
func BenchmarkSoftmaxStrided16AVX512(b *testing.B) {
	if !hasAVX512() {
		b.Skip("no AVX-512 on this CPU")
	}
	const n, rows = 64, 16
	src := make([]float32, n*rows)
	rng := rand.New(rand.NewPCG(1, 2))
	for j := range src {
		src[j] = float32(rng.NormFloat64() * 4)
	}
	p := make([]float32, len(src))
	for b.Loop() {
		copy(p, src)
		softmaxStridedAVX512(p, n, n, rows)
	}
}
