package kernel

import "math"

// MatI8 is an int8 weight matrix of N output rows by K inputs, packed for
// GemmI8, with the per-row sums the dequantization needs. Its weights are
// held once, one byte each, in the layout the kernels in use read.
type MatI8 struct {
	N, K int
	// Data holds the N×K weights: row-major (row j at j*K), except when
	// grouped (see groupRows8) or tiled (see tileI8). Read a row with Row.
	Data   []int8
	RowSum []int32 // Σ_k w[n][k], for the activation zero-point correction
	// grouped says Data is not row-major: in the AVX-VNNI layout
	// (groupRows8), which that implementation's GEMM and GEMV both read and
	// only it packs, or, when tiled is also set, in the AVX-512 layout.
	grouped bool
	// tiled says Data is in the 64-byte-tile layout of the avx512vnni
	// implementation (tileI8), which only it packs; grouped is then set
	// too, so kernels that read row-major weights only hand such a matrix
	// to the reference.
	tiled bool
	// prefixSum[j] is Σ w[j][p] for p < K rounded down to 32: the
	// correction for kernels that shift activations by −128.
	prefixSum []int32
	// hasMin128 is set when a weight is −128, which the v1 quantizer never
	// writes but a hand-made file may hold: kernels whose int16 lanes
	// could saturate on it (AVX2) then hand the matrix to the portable
	// kernel, so every implementation stays exact for every input.
	hasMin128 bool
}

// edgePad is how many zero rows follow Data within its capacity (PackI8),
// so a vector kernel can run a full 4-column tile over the last (fewer
// than 4) columns of any column range and keep only the real ones.
const edgePad = 3

// PackI8 packs a copy of w (n×k, row-major: one row per output channel).
func PackI8(w []int8, n, k int) *MatI8 {
	if impl.Name == "avx512vnni" { // tiling copies; w is only read
		return packI8(w[:n*k:n*k], n, k, false)
	}
	d := make([]int8, (n+edgePad)*k)[:n*k]
	copy(d, w[:n*k])
	return packI8(d, n, k, true)
}

// AdoptI8 is PackI8 without the copy: the matrix keeps w (n×k,
// row-major) as its storage and may rearrange it in place, so the caller
// must not use w afterwards. A model's loader uses it to hold each weight
// once. (Under avx512vnni the tile layout is written into w when it
// needs no padding — n a multiple of 16, k of 4 — and otherwise into a
// new, padded buffer, dropping w.)
func AdoptI8(w []int8, n, k int) *MatI8 {
	return packI8(w[:n*k:n*k], n, k, true)
}

// packI8 packs d (n×k, row-major), rearranging it in place when own says
// the matrix may keep it.
func packI8(d []int8, n, k int, own bool) *MatI8 {
	m := &MatI8{N: n, K: k, Data: d, RowSum: make([]int32, n), prefixSum: make([]int32, n)}
	kf := k &^ 31
	if pack := impl.tilePanelI8; pack != nil && n > 0 && n%16 == 0 && k > 0 && k%4 == 0 {
		m.Data, m.hasMin128 = tileSumsI8(pack, d, n, k, own, m.RowSum, m.prefixSum)
		m.grouped, m.tiled = true, true
		return m
	}
	m.hasMin128 = impl.rowSumsI8(d, n, k, m.RowSum, m.prefixSum)
	switch {
	case impl.Name == "avx512vnni" && n > 0 && k > 0:
		if own && n%16 == 0 && k%4 == 0 { // no padding: the same bytes, rearranged
			tileI8InPlace(d, n, k)
		} else {
			m.Data = tileI8(d, n, k)
		}
		m.grouped, m.tiled = true, true
	case impl.Name == "avxvnni" && n >= 8 && kf > 0:
		groupRows8(d, n, k)
		m.grouped = true
	}
	return m
}

// tileI8 returns w (n×k, row-major) in the 64-byte-tile layout of the
// AVX-512 int8 kernels: panels of 16 rows (output columns), each panel a
// run of K/4 tiles of 4 K-bytes × 16 rows,
//
//	t[(j/16)·ps + (p/4)·64 + (j%16)·4 + p%4] = w[j][p],   ps = 64·⌈k/4⌉
//
// with k padded to a multiple of 4 and n to a multiple of 16 with zero
// weights. One VPDPBUSD multiplies a tile by 4 activation bytes broadcast
// to the 16 lanes, so every lane accumulates its own column and no
// horizontal sums are needed. The layout takes at most
// (⌈n/16⌉·16)·(⌈k/4⌉·4) bytes, newly allocated: the padding is the extra
// memory over row-major.
func tileI8(w []int8, n, k int) []int8 {
	ps := tilePanelStride(k)
	t := make([]int8, (n+15)/16*ps)
	for j := 0; j < n; j++ {
		row := w[j*k : (j+1)*k]
		base := j/16*ps + j%16*4
		for p, v := range row {
			t[base+p/4*64+p%4] = v
		}
	}
	return t
}

// tilePanelStride is the bytes of one 16-row panel of the tile layout.
func tilePanelStride(k int) int { return (k + 3) / 4 * 64 }

// tileAt is the index in the tile layout of w[j][p].
func tileAt(j, p, k int) int { return j/16*tilePanelStride(k) + p/4*64 + j%16*4 + p%4 }

// groupRows8 rearranges w (n×k, row-major) in place into the layout of
// the AVX-VNNI kernels: each whole group of 8 rows g (rows 8g..8g+7, the
// 8·k bytes at 8g·k) holds first the 32-byte K blocks of its rows
// interleaved, then the rows' K tails one after the other,
//
//	w'[8g·k + b·256 + r·32 + q]     = w[8g+r][32b + q]   (32b + q < kf)
//	w'[8g·k + 8·kf + r·(k−kf) + q]  = w[8g+r][kf + q]    (q < k − kf)
//
// with kf = k rounded down to 32; the last n mod 8 rows stay row-major.
// The one-row GEMV then reads one sequential stream (eight rows share each
// activation load, and the prefetchers follow one stream, not eight rows
// a page apart), and the GEMM reads four rows 32 bytes apart.
func groupRows8(w []int8, n, k int) {
	kf := k &^ 31
	tail := k - kf
	buf := make([]int8, 8*k)
	for g := 0; g+8 <= n; g += 8 {
		blk := w[g*k : (g+8)*k]
		copy(buf, blk)
		for r := range 8 {
			row := buf[r*k : (r+1)*k]
			for b := 0; b < kf; b += 32 {
				copy(blk[b*8+r*32:][:32], row[b:b+32])
			}
			copy(blk[8*kf+r*tail:][:tail], row[kf:])
		}
	}
}

// Row copies the K weights of row j into dst (grown if short) and
// returns it.
func (w *MatI8) Row(j int, dst []int8) []int8 {
	k := w.K
	if cap(dst) < k {
		dst = make([]int8, k)
	}
	dst = dst[:k]
	if w.tiled {
		for p := range dst {
			dst[p] = w.Data[tileAt(j, p, k)]
		}
		return dst
	}
	if !w.grouped || j >= w.N&^7 {
		copy(dst, w.Data[j*k:(j+1)*k])
		return dst
	}
	kf := k &^ 31
	base, r := j&^7*k, j&7
	for b := 0; b < kf; b += 32 {
		copy(dst[b:b+32], w.Data[base+b*8+r*32:])
	}
	copy(dst[kf:], w.Data[base+8*kf+r*(k-kf):][:k-kf])
	return dst
}

// MatF32 is an f32 weight matrix of N output rows by K inputs, packed for
// GemmF32.
type MatF32 struct {
	N, K int
	Data []float32 // N×K row-major
}

// PackF32 packs a copy of w (n×k, row-major).
func PackF32(w []float32, n, k int) *MatF32 {
	m := &MatF32{N: n, K: k, Data: make([]float32, n*k)}
	copy(m.Data, w[:n*k])
	return m
}

// AdoptF32 is PackF32 without the copy: the matrix keeps w as its
// storage, so the caller must not change w afterwards.
func AdoptF32(w []float32, n, k int) *MatF32 {
	return &MatF32{N: n, K: k, Data: w[: n*k : n*k]}
}

// GemmI8 computes output columns [n0, n1) of c = a · wᵀ:
//
//	for i < m, n0 <= j < n1: c[i*w.N+j] = Σ_p int32(a[i*w.K+p]) * int32(w[j][p])
//
// a is m×K uint8 (quantized activations), c is m×N int32. Splitting the
// columns lets the engine share one GEMM between workers.
func GemmI8(c []int32, a []uint8, m int, w *MatI8, n0, n1 int) {
	impl.GemmI8(c, a, m, w, n0, n1)
}

// GemmF32 computes output columns [n0, n1) of c = a · wᵀ (a is m×K, c is
// m×N), with float32 accumulation in order p = 0..K-1.
func GemmF32(c []float32, a []float32, m int, w *MatF32, n0, n1 int) {
	impl.GemmF32(c, a, m, w, n0, n1)
}

// gemmI8Generic is the reference for GemmI8. It reads every layout, in
// place (for tests that run one implementation on another's packing).
func gemmI8Generic(c []int32, a []uint8, m int, w *MatI8, n0, n1 int) {
	k, n := w.K, w.N
	if m == 0 || n1 <= n0 {
		return
	}
	_ = c[(m-1)*n+n1-1]
	kf := k &^ 31
	for i := 0; i < m; i++ {
		row := a[i*k : (i+1)*k]
		for j := n0; j < n1; j++ {
			var s int32
			if w.tiled {
				for p, v := range row {
					s += int32(v) * int32(w.Data[tileAt(j, p, k)])
				}
			} else if !w.grouped || j >= w.N&^7 {
				col := w.Data[j*k : (j+1)*k]
				for p, v := range row {
					s += int32(v) * int32(col[p])
				}
			} else {
				base, r := j&^7*k, j&7
				for b := 0; b < kf; b += 32 {
					col := w.Data[base+b*8+r*32:][:32]
					for q, v := range row[b : b+32] {
						s += int32(v) * int32(col[q])
					}
				}
				col := w.Data[base+8*kf+r*(k-kf):][:k-kf]
				for q, v := range row[kf:] {
					s += int32(v) * int32(col[q])
				}
			}
			c[i*n+j] = s
		}
	}
}

// gemmF32Generic is the reference for GemmF32.
func gemmF32Generic(c []float32, a []float32, m int, w *MatF32, n0, n1 int) {
	k, n := w.K, w.N
	if m == 0 || n1 <= n0 {
		return
	}
	_ = c[(m-1)*n+n1-1]
	for i := 0; i < m; i++ {
		row := a[i*k : (i+1)*k]
		for j := n0; j < n1; j++ {
			col := w.Data[j*k : (j+1)*k]
			var s float32
			for p, v := range row {
				s += float32(v * col[p]) // no FMA: same bits on every architecture
			}
			c[i*n+j] = s
		}
	}
}

// QuantizeRowU8 quantizes one row of activations to uint8 with its own
// scale and zero point (asymmetric, the range always including 0):
//
//	scale = (max(x,0) - min(x,0)) / 255, zp = round(-min/scale),
//	q = clamp(round(x/scale) + zp, 0, 255)
//
// It returns scale and zero point; an all-zero row gets scale 1, zp 0.
// The rounding is round-half-to-even on float32 values, identical on every
// architecture (runtime/quant documents the scheme).
func QuantizeRowU8(dst []uint8, x []float32) (scale float32, zp int32) {
	return impl.QuantizeRowU8(dst, x)
}

func quantizeRowU8Generic(dst []uint8, x []float32) (float32, int32) {
	lo, hi := float32(0), float32(0)
	for _, v := range x {
		lo = min(lo, v)
		hi = max(hi, v)
	}
	if hi == lo {
		clear(dst[:len(x)])
		return 1, 0
	}
	scale := float32(hi-lo) / 255
	inv := 1 / scale
	zp := Round255(float32(-lo * inv))
	for i, v := range x {
		q := roundEven32(float32(v*inv)) + zp
		dst[i] = uint8(max(0, min(255, q)))
	}
	return scale, zp
}

// roundEven32 rounds half to even.
func roundEven32(x float32) int32 { return int32(math.RoundToEven(float64(x))) }

// Round255 rounds half to even and clamps to 0..255 (a zero point).
func Round255(x float32) int32 { return max(0, min(255, roundEven32(x))) }

// DequantRow turns one row of int32 accumulators into reals:
//
//	dst[j] = float32(sx·scales[j]) · float32(acc[j] − zx·rowSum[j]) (+ bias[j])
//
// with len(dst) outputs; bias may be nil.
func DequantRow(dst []float32, acc []int32, sx float32, zx int32, scales []float32, rowSum []int32, bias []float32) {
	impl.DequantRow(dst, acc, sx, zx, scales, rowSum, bias)
}

func dequantRowGeneric(dst []float32, acc []int32, sx float32, zx int32, scales []float32, rowSum []int32, bias []float32) {
	acc, scales, rowSum = acc[:len(dst)], scales[:len(dst)], rowSum[:len(dst)]
	for j := range dst {
		v := float32(float32(sx*scales[j]) * float32(acc[j]-zx*rowSum[j]))
		if bias != nil {
			v += bias[j]
		}
		dst[j] = v
	}
}

// DotF32 returns Σ a[i]·b[i] over len(a) (b at least as long), every
// product rounded to float32, summed in a fixed order that vector units
// can follow exactly: eight lane sums over the multiple-of-8 prefix
// (s[l] gets i ≡ l mod 8), combined ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)),
// then the tail in order. Every implementation returns the same bits.
func DotF32(a, b []float32) float32 { return impl.DotF32(a, b) }

// AxpyF32 computes y[i] += alpha·x[i] for i < len(x), each product rounded
// to float32.
func AxpyF32(alpha float32, x, y []float32) { impl.AxpyF32(alpha, x, y) }

// combine8 adds eight lane sums in the order DotF32's vector kernels
// reduce their registers: ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)). Every
// generic 8-lane sum (dot, sum, squared deviations) ends with it.
func combine8(l *[8]float32) float32 {
	return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]))
}

func dotF32Generic(a, b []float32) float32 {
	b = b[:len(a)]
	n := len(a) &^ 7
	var s float32
	if n > 0 {
		var l [8]float32
		for i := 0; i < n; i += 8 {
			for j := range l {
				l[j] += float32(a[i+j] * b[i+j])
			}
		}
		s = combine8(&l)
	}
	for i := n; i < len(a); i++ {
		s += float32(a[i] * b[i])
	}
	return s
}

func axpyF32Generic(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += float32(alpha * v)
	}
}
