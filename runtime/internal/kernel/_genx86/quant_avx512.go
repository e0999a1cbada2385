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
