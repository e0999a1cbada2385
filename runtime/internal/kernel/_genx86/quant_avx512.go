package main

//go:generate go run . -kernel quant_avx512 -pkg kernel -out ../quant_avx512_amd64.s

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

func init() {
	register("quant_avx512", func() {
		minMaxZ()
		quantRowZ()
		dequantRowZ()
		quantPerm = GLOBL("quantperm", RODATA|NOPTR)
		for i := range 16 {
			DATA(4*i, U32(i%4*4+i/4))
		}
		quantRowsZ()
	})
}

// chunks16 runs body over n elements 16 at a time: the whole chunks
// unmasked (k nil), then, when tmask (the low n mod 16 bits) is not zero,
// the last partial chunk with tmask in k, so masked loads and stores
// touch nothing past the n elements. next advances the pointers by one
// chunk.
func chunks16(n reg.Register, tmask reg.GPVirtual, body func(k reg.Register), next func()) {
	cnt := GP64()
	MOVQ(n, cnt)
	SHRQ(Imm(4), cnt)
	JZ(LabelRef("tail"))
	Label("loop")
	body(nil)
	next()
	DECQ(cnt)
	JNZ(LabelRef("loop"))
	Label("tail")
	TESTQ(tmask, tmask)
	JZ(LabelRef("done"))
	k := K()
	KMOVW(tmask.As32(), k)
	body(k)
	Label("done")
}

// load16 loads 16 lanes from m into z, or the lanes k selects (the others
// zero).
func load16(m Mem, k reg.Register, z reg.VecVirtual) {
	if k == nil {
		VMOVDQU32(m, z)
	} else {
		VMOVDQU32_Z(m, k, z)
	}
}

// minMaxZ writes minMaxZ(x []float32, tmask uint64) (lo, hi float32, nan bool).
func minMaxZ() {
	TEXT("minMaxZ", NOSPLIT, "func(x []float32, tmask uint64) (lo, hi float32, nan bool)")
	Doc("minMaxZ returns min(0, x...) and max(0, x...) and whether x holds a NaN, with AVX-512.")
	p := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	tm := GP64()
	Load(Param("tmask"), tm)
	lo, hi, v := ZMM(), ZMM(), ZMM()
	VPXORD(lo, lo, lo)
	VPXORD(hi, hi, hi)
	nan, kn := K(), K()
	KXORW(nan, nan, nan)
	chunks16(n, tm, func(k reg.Register) {
		load16(Mem{Base: p}, k, v) // masked-off lanes are 0, inside the range
		VMINPS(v, lo, lo)
		VMAXPS(v, hi, hi)
		VCMPPS(Imm(3), v, v, kn) // unordered: NaN
		KORW(kn, nan, nan)
	}, func() { ADDQ(Imm(64), p) })
	y, x := YMM(), XMM()
	for i, acc := range []reg.VecVirtual{lo, hi} {
		op := VMINPS
		if i == 1 {
			op = VMAXPS
		}
		VEXTRACTF64X4(Imm(1), acc, y)
		op(y, acc.AsY(), acc.AsY())
		VEXTRACTF128(Imm(1), acc.AsY(), x)
		op(x, acc.AsX(), acc.AsX())
		VPERMILPS(Imm(0x4e), acc.AsX(), x)
		op(x, acc.AsX(), acc.AsX())
		VPERMILPS(Imm(0xb1), acc.AsX(), x)
		op(x, acc.AsX(), acc.AsX())
	}
	Store(lo.AsX(), ReturnIndex(0))
	Store(hi.AsX(), ReturnIndex(1))
	r := GP32()
	KMOVW(nan, r)
	TESTL(r, r)
	SETNE(r.As8())
	Store(r.As8(), ReturnIndex(2))
	VZEROUPPER()
	RET()
}

// quantRowZ writes quantRowZ(dst []uint8, x []float32, inv float32, zp int32, tmask uint64).
func quantRowZ() {
	TEXT("quantRowZ", NOSPLIT, "func(dst []uint8, x []float32, inv float32, zp int32, tmask uint64)")
	Doc("quantRowZ quantizes x into dst with the given inverse scale and zero point, with AVX-512.")
	d := Load(Param("dst").Base(), GP64())
	p := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	tm := GP64()
	Load(Param("tmask"), tm)
	inv, zp, zero, v := ZMM(), ZMM(), ZMM(), ZMM()
	VBROADCASTSS(NewParamAddr("inv", 48), inv)
	VBROADCASTSS(NewParamAddr("zp", 52), zp) // the bits of zp in every lane
	VPXORD(zero, zero, zero)
	chunks16(n, tm, func(k reg.Register) {
		load16(Mem{Base: p}, k, v)
		VMULPS(inv, v, v)
		VCVTPS2DQ_RN_SAE(v, v) // nearest, ties to even
		VPADDD(zp, v, v)
		VPMAXSD(zero, v, v) // then unsigned saturation: clamp to 0..255
		if k == nil {
			VPMOVUSDB(v, Mem{Base: d})
		} else {
			VPMOVUSDB(v, k, Mem{Base: d})
		}
	}, func() {
		ADDQ(Imm(64), p)
		ADDQ(Imm(16), d)
	})
	VZEROUPPER()
	RET()
}

// dequantRowZ writes dequantRowZ(dst []float32, acc []int32, scales []float32, rowSum []int32, bias []float32, sx float32, zx int32, tmask uint64).
func dequantRowZ() {
	TEXT("dequantRowZ", NOSPLIT, "func(dst []float32, acc []int32, scales []float32, rowSum []int32, bias []float32, sx float32, zx int32, tmask uint64)")
	Doc("dequantRowZ is DequantRow's loop with AVX-512.")
	d := Load(Param("dst").Base(), GP64())
	n := Load(Param("dst").Len(), GP64())
	ac := Load(Param("acc").Base(), GP64())
	sc := Load(Param("scales").Base(), GP64())
	rs := Load(Param("rowSum").Base(), GP64())
	bi := Load(Param("bias").Base(), GP64())
	bl := Load(Param("bias").Len(), GP64())
	tm := GP64()
	Load(Param("tmask"), tm)
	sx, zx := ZMM(), ZMM()
	VBROADCASTSS(NewParamAddr("sx", 120), sx)
	VBROADCASTSS(NewParamAddr("zx", 124), zx) // the bits of zx in every lane
	s, u, a, b := ZMM(), ZMM(), ZMM(), ZMM()
	chunks16(n, tm, func(k reg.Register) {
		load16(Mem{Base: sc}, k, s)
		VMULPS(sx, s, s) // sx·scale
		load16(Mem{Base: rs}, k, u)
		VPMULLD(zx, u, u) // zx·rowSum, wrapping as in Go
		load16(Mem{Base: ac}, k, a)
		VPSUBD(u, a, a)
		VCVTDQ2PS(a, a)
		VMULPS(a, s, s)
		nob := "nobias"
		if k != nil {
			nob = "nobiastail"
		}
		TESTQ(bl, bl)
		JZ(LabelRef(nob))
		load16(Mem{Base: bi}, k, b)
		VADDPS(b, s, s)
		if k == nil {
			ADDQ(Imm(64), bi)
		}
		Label(nob)
		if k == nil {
			VMOVUPS(s, Mem{Base: d})
		} else {
			VMOVUPS(s, k, Mem{Base: d})
		}
	}, func() {
		for _, r := range []reg.Register{d, ac, sc, rs} {
			ADDQ(Imm(64), r)
		}
	})
	VZEROUPPER()
	RET()
}

// quantPerm holds the dword indices [0 4 8 12 1 5 9 13 2 6 10 14 3 7 11
// 15]: after VPACKSSDW and VPACKUSWB of four vectors v0..v3, dword 4L+v
// holds elements 4L..4L+3 of vector v; VPERMD by these brings them to
// dword 4v+L.
var quantPerm Mem

// quantRowsZ writes quantRowsZ(q []uint8, x []float32, m, k int, xs, xz []float32, tmask uint64) (done int).
func quantRowsZ() {
	TEXT("quantRowsZ", NOSPLIT, "func(q []uint8, x []float32, m, k int, xs, xz []float32, tmask uint64) (done int)")
	Doc("quantRowsZ quantizes consecutive rows of x into q, with their scales and zero points, with AVX-512.")
	d := Load(Param("q").Base(), GP64())
	p := Load(Param("x").Base(), GP64())
	m := Load(Param("m"), GP64())
	k := Load(Param("k"), GP64())
	sp := Load(Param("xs").Base(), GP64())
	zq := Load(Param("xz").Base(), GP64())
	tm := GP64()
	Load(Param("tmask"), tm)
	kt := K()
	KMOVW(tm.As32(), kt)
	// Scalar constants, in the low lane: 255, 1, the sign bit, and the
	// int32 255 the zero point clamps to.
	t32 := GP32()
	c255, one, sign, i255 := XMM(), XMM(), XMM(), XMM()
	for _, c := range []struct {
		bits uint32
		x    reg.VecVirtual
	}{{0x437f0000, c255}, {0x3f800000, one}, {0x80000000, sign}, {255, i255}} {
		MOVL(U32(c.bits), t32)
		VMOVD(t32, c.x)
	}
	zero := ZMM()
	VPXORD(zero, zero, zero)
	// The bits of |x| and of +Inf, in every lane.
	absm, inf := ZMM(), ZMM()
	MOVL(U32(0x7fffffff), t32)
	VPBROADCASTD(t32, absm)
	MOVL(U32(0x7f800000), t32)
	VPBROADCASTD(t32, inf)
	i := GP64()
	XORQ(i, i)
	pp, dd, cnt := GP64(), GP64(), GP64()
	// loop16Of runs body over the n floats at pp, 32 at a time (j = 0 and
	// 1: two accumulators; measured 10% faster than 16 at a time on rows
	// of 512), then 16 (j = 0), then the tail under kt; next(n) advances
	// the pointers by n chunks of 16.
	loop16Of := func(name string, n reg.Register, body func(k reg.Register, j int), next func(n int)) {
		MOVQ(n, cnt)
		SHRQ(Imm(5), cnt)
		JZ(LabelRef(name + "one"))
		Label(name + "loop")
		body(nil, 0)
		body(nil, 1)
		next(2)
		DECQ(cnt)
		JNZ(LabelRef(name + "loop"))
		Label(name + "one")
		TESTQ(U32(16), n)
		JZ(LabelRef(name + "tail"))
		body(nil, 0)
		next(1)
		Label(name + "tail")
		TESTQ(tm, tm)
		JZ(LabelRef(name + "done"))
		body(kt, 0)
		Label(name + "done")
	}
	loop16 := func(name string, body func(k reg.Register, j int), next func(n int)) {
		loop16Of(name, k, body, next)
	}
	// VPERMD's indices that put the 64 bytes of the packed loop in order.
	perm := ZMM()
	VMOVDQU32(quantPerm, perm)

	// The parts of one row's quantization. Two rows go at a time (their
	// min/max passes, then their scale chains, then their quantization),
	// so that one row's dependent reductions and divisions overlap the
	// other's (Zen 5, interleaved: 64 rows of 512 16–21% faster than a row
	// at a time, 64 rows of 128 4–14%).
	// A NaN in either row sends the pair to the single-row loop, which
	// quantizes the rows before it and stops there.
	type rowRegs struct {
		lo, hi         []reg.VecVirtual
		mag, invz, zpz reg.VecVirtual
		scale, inv, zp reg.VecVirtual // XMM
	}
	newRegs := func() *rowRegs {
		return &rowRegs{lo: []reg.VecVirtual{ZMM(), ZMM()}, hi: []reg.VecVirtual{ZMM(), ZMM()},
			mag: ZMM(), invz: ZMM(), zpz: ZMM(), scale: XMM(), inv: XMM(), zp: XMM()}
	}
	v, t0 := []reg.VecVirtual{ZMM(), ZMM()}, ZMM()
	q4 := []reg.VecVirtual{v[0], v[1], ZMM(), ZMM()}
	// rowAt sets r to the row at base + off rows (of k floats, or of k
	// bytes when bytes).
	rowAt := func(base reg.Register, off int, bytes bool, r reg.GPVirtual) {
		sc := uint8(4)
		if bytes {
			sc = 1
		}
		if off == 0 {
			MOVQ(base, r)
		} else {
			LEAQ(Mem{Base: base, Index: k, Scale: sc}, r)
		}
	}
	// mm: lo = min(0, row...), hi = max(0, row...) in two accumulators
	// each; mag = the largest |element| as uint32 bits, above +Inf's when
	// an element is NaN (integer operations: cheaper here than VCMPPS and
	// a mask OR per chunk, which share the FP pipes with VMINPS and
	// VMAXPS).
	mm := func(tag string, off int, r *rowRegs) {
		for _, z := range []reg.VecVirtual{r.lo[0], r.lo[1], r.hi[0], r.hi[1], r.mag} {
			VPXORD(z, z, z)
		}
		rowAt(p, off, false, pp)
		loop16("mm"+tag, func(k reg.Register, j int) {
			load16(Mem{Base: pp, Disp: 64 * j}, k, v[j]) // masked-off lanes are 0, inside the range
			VMINPS(v[j], r.lo[j], r.lo[j])
			VMAXPS(v[j], r.hi[j], r.hi[j])
			VPANDD(absm, v[j], t0)
			VPMAXUD(t0, r.mag, r.mag)
		}, func(n int) { ADDQ(Imm(uint64(64*n)), pp) })
	}
	// nanTo jumps to target when r's row holds a NaN.
	nanTo := func(r *rowRegs, target string) {
		nan := K()
		VPCMPUD(Imm(6), inf, r.mag, nan) // |bits| > +Inf's: NaN
		KORTESTW(nan, nan)
		JNZ(LabelRef(target))
	}
	// scalar: the scale and zero point, the reference's float32
	// operations in order: scale = (hi−lo)/255, inv = 1/scale,
	// zp = clamp(roundEven(−lo·inv), 0, 255) (the conversion rounds to
	// nearest even, as MXCSR is set, and gives the integer indefinite
	// −2³¹ for NaN and out-of-range values, as Go's int32(float64) does on
	// amd64, which the clamp turns into 0), stored at xs[i+off] and
	// xz[i+off]; the inverse and zero point broadcast for q.
	scalar := func(tag string, off int, r *rowRegs) {
		VMINPS(r.lo[1], r.lo[0], r.lo[0])
		VMAXPS(r.hi[1], r.hi[0], r.hi[0])
		y, x := YMM(), XMM()
		for j, acc := range []reg.VecVirtual{r.lo[0], r.hi[0]} {
			op := VMINPS
			if j == 1 {
				op = VMAXPS
			}
			VEXTRACTF64X4(Imm(1), acc, y)
			op(y, acc.AsY(), acc.AsY())
			VEXTRACTF32X4(Imm(1), acc.AsY(), x)
			op(x, acc.AsX(), acc.AsX())
			VPERMILPS(Imm(0x4e), acc.AsX(), x)
			op(x, acc.AsX(), acc.AsX())
			VPERMILPS(Imm(0xb1), acc.AsX(), x)
			op(x, acc.AsX(), acc.AsX())
		}
		l, h := r.lo[0].AsX(), r.hi[0].AsX()
		scale, inv, zp, t := r.scale, r.inv, r.zp, XMM()
		VUCOMISS(l, h)
		JNE(LabelRef("scaled" + tag))
		// hi == lo: every element is ±0; the reference clears the row
		// and returns scale 1, zp 0, which inv = 0 and zp = 0 give.
		VMOVAPS(one, scale)
		VPXORD(inv, inv, inv)
		VPXORD(zp, zp, zp)
		JMP(LabelRef("store" + tag))
		Label("scaled" + tag)
		VSUBSS(l, h, scale)
		VDIVSS(c255, scale, scale)
		VDIVSS(scale, one, inv)
		VPXORD(sign, l, t) // −lo
		VMULSS(inv, t, t)
		VCVTPS2DQ(t, zp)
		VPMINSD(i255, zp, zp)
		VPMAXSD(zero.AsX(), zp, zp)
		Label("store" + tag)
		VMOVSS(scale, Mem{Base: sp, Index: i, Scale: 4, Disp: 4 * off})
		VCVTDQ2PS(zp, t) // float32(zp), exact
		VMOVSS(t, Mem{Base: zq, Index: i, Scale: 4, Disp: 4 * off})
		VBROADCASTSS(inv, r.invz)
		VPBROADCASTD(zp, r.zpz)
	}
	// q: the row's quantization, as quantRowZ: 64 floats at a time
	// packed to bytes by VPACKSSDW and VPACKUSWB (signed then unsigned
	// saturation: clamp(v, 0, 255), as VPMAXSD and VPMOVUSDB below) and
	// put back in order by VPERMD, one 64-byte store; then the rest 32,
	// 16 and the tail at a time.
	q := func(tag string, off int, r *rowRegs) {
		rowAt(p, off, false, pp)
		rowAt(d, off, true, dd)
		MOVQ(k, cnt)
		SHRQ(Imm(6), cnt)
		JZ(LabelRef("q64done" + tag))
		Label("q64loop" + tag)
		for j, z := range q4 {
			VMULPS(Mem{Base: pp, Disp: 64 * j}, r.invz, z)
			VCVTPS2DQ_RN_SAE(z, z)
			VPADDD(r.zpz, z, z)
		}
		VPACKSSDW(q4[1], q4[0], q4[0]) // per 128-bit lane: 4 words of v0, 4 of v1
		VPACKSSDW(q4[3], q4[2], q4[2])
		VPACKUSWB(q4[2], q4[0], q4[0]) // per lane: 4 bytes each of v0..v3
		VPERMD(q4[0], perm, q4[0])
		VMOVDQU8(q4[0], Mem{Base: dd})
		ADDQ(U32(256), pp)
		ADDQ(Imm(64), dd)
		DECQ(cnt)
		JNZ(LabelRef("q64loop" + tag))
		Label("q64done" + tag)
		rest := GP64()
		MOVQ(k, rest)
		ANDQ(Imm(63), rest)
		loop16Of("q"+tag, rest, func(k reg.Register, j int) {
			load16(Mem{Base: pp, Disp: 64 * j}, k, v[j])
			VMULPS(r.invz, v[j], v[j])
			VCVTPS2DQ_RN_SAE(v[j], v[j]) // nearest, ties to even
			VPADDD(r.zpz, v[j], v[j])
			VPMAXSD(zero, v[j], v[j]) // then unsigned saturation: clamp to 0..255
			if k == nil {
				VPMOVUSDB(v[j], Mem{Base: dd, Disp: 16 * j})
			} else {
				VPMOVUSDB(v[j], k, Mem{Base: dd})
			}
		}, func(n int) {
			ADDQ(Imm(uint64(64*n)), pp)
			ADDQ(Imm(uint64(16*n)), dd)
		})
	}
	a, b := newRegs(), newRegs()

	Label("pair")
	left := GP64()
	MOVQ(m, left)
	SUBQ(i, left)
	CMPQ(left, Imm(2))
	JB(LabelRef("row"))
	mm("a", 0, a)
	mm("b", 1, b)
	nanTo(a, "row")
	nanTo(b, "row")
	scalar("a", 0, a)
	scalar("b", 1, b)
	q("a", 0, a)
	q("b", 1, b)
	for range 2 {
		LEAQ(Mem{Base: p, Index: k, Scale: 4}, p)
		ADDQ(k, d)
	}
	ADDQ(Imm(2), i)
	JMP(LabelRef("pair"))

	Label("row")
	CMPQ(i, m)
	JAE(LabelRef("out"))
	mm("s", 0, a)
	nanTo(a, "out") // a NaN row: the caller's reference decides
	scalar("s", 0, a)
	q("s", 0, a)
	LEAQ(Mem{Base: p, Index: k, Scale: 4}, p)
	ADDQ(k, d)
	INCQ(i)
	JMP(LabelRef("row"))
	Label("out")
	Store(i, ReturnIndex(0))
	VZEROUPPER()
	RET()
}
