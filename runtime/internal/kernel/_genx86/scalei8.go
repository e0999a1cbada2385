package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

//go:generate go run . -kernel scalei8 -pkg kernel -out ../scalei8_amd64.s

func init() { register("scalei8", genScaleI8) }

// genScaleI8 writes scalei8_amd64.s: an int8 row times its scale, as
// float32 (an int8 embedding row looked up), 8 values a step with AVX2 and
// 64 (four zmm of 16) with AVX-512. Each value is converted exactly
// (VCVTDQ2PS of a sign-extended int8) and multiplied once, rounded, so the
// bits are scaleI8F32Generic's.
func genScaleI8() {
	TEXT("scaleI8F32AVX2", NOSPLIT, "func(dst []float32, q []int8, s float32)")
	Comment("For len(q) a multiple of 8 (dst at least as long):",
		"",
		"\tfor j, v := range q { dst[j] = float32(v) * s }",
		"",
		"Reference: scaleI8F32Generic.")
	MOVQ(arg(Param("dst").Base()), RDI)
	MOVQ(arg(Param("q").Base()), RSI)
	MOVQ(arg(Param("q").Len()), RCX)
	VBROADCASTSS(arg(Param("s")), Y0)
	SHRQ(Imm(3), RCX)
	JZ(LabelRef("done2"))
	Label("loop2")
	VPMOVSXBD(Mem{Base: RSI}, Y1)
	VCVTDQ2PS(Y1, Y1)
	VMULPS(Y0, Y1, Y1)
	VMOVUPS(Y1, Mem{Base: RDI})
	ADDQ(Imm(8), RSI)
	ADDQ(Imm(32), RDI)
	DECQ(RCX)
	JNZ(LabelRef("loop2"))
	Label("done2")
	VZEROUPPER()
	RET()

	TEXT("scaleI8F32AVX512", NOSPLIT, "func(dst []float32, q []int8, s float32)")
	Comment("For len(q) a multiple of 16 (dst at least as long): scaleI8F32AVX2's",
		"loop with 512-bit registers, four a step while 64 values are left.",
		"Reference: scaleI8F32Generic.")
	MOVQ(arg(Param("dst").Base()), RDI)
	MOVQ(arg(Param("q").Base()), RSI)
	MOVQ(arg(Param("q").Len()), RCX)
	VBROADCASTSS(arg(Param("s")), Z0)
	MOVQ(RCX, RDX)
	SHRQ(Imm(6), RDX)
	JZ(LabelRef("one"))
	Label("loop4")
	for i := 0; i < 4; i++ {
		VPMOVSXBD(Mem{Base: RSI, Disp: 16 * i}, Z(1+i))
	}
	for i := 0; i < 4; i++ {
		VCVTDQ2PS(Z(1+i), Z(1+i))
	}
	for i := 0; i < 4; i++ {
		VMULPS(Z0, Z(1+i), Z(1+i))
	}
	for i := 0; i < 4; i++ {
		VMOVUPS(Z(1+i), Mem{Base: RDI, Disp: 64 * i})
	}
	ADDQ(Imm(64), RSI)
	ADDQ(U32(256), RDI)
	DECQ(RDX)
	JNZ(LabelRef("loop4"))
	Label("one")
	ANDQ(Imm(63), RCX)
	SHRQ(Imm(4), RCX)
	JZ(LabelRef("done16"))
	Label("loop1")
	VPMOVSXBD(Mem{Base: RSI}, Z1)
	VCVTDQ2PS(Z1, Z1)
	VMULPS(Z0, Z1, Z1)
	VMOVUPS(Z1, Mem{Base: RDI})
	ADDQ(Imm(16), RSI)
	ADDQ(Imm(64), RDI)
	DECQ(RCX)
	JNZ(LabelRef("loop1"))
	Label("done16")
	VZEROUPPER()
	RET()
}
