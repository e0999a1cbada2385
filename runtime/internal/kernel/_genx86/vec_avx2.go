package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

//go:generate go run . -kernel vec_avx2 -pkg kernel -out ../vec_avx2_amd64.s

func init() { register("vec_avx2", genVecAVX2) }

// genVecAVX2 writes vec_avx2_amd64.s.
func genVecAVX2() {
	TEXT("dotF32AVX2", NOSPLIT, "func(a, b []float32) float32")
	Comment("For len(a) a multiple of 8 (> 0; b at least as long): eight lane sums",
		"s[l] = Σ_{i ≡ l mod 8} float32(a[i]*b[i]) (multiply, then add: no FMA),",
		"combined as ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)).",
		"Reference: dotF32Generic, which sums in exactly this order.")
	MOVQ(arg(Param("a").Base()), RSI)
	MOVQ(arg(Param("a").Len()), RCX)
	MOVQ(arg(Param("b").Base()), RDI)
	VXORPS(Y0, Y0, Y0)
	SHRQ(Imm(3), RCX)
	Label("dloop")
	VMOVUPS(Mem{Base: RSI}, Y1)
	VMULPS(Mem{Base: RDI}, Y1, Y1)
	VADDPS(Y1, Y0, Y0)
	ADDQ(Imm(32), RSI)
	ADDQ(Imm(32), RDI)
	DECQ(RCX)
	JNZ(LabelRef("dloop"))
	VEXTRACTF128(Imm(1), Y0, X1)
	VADDPS(X1, X0, X0)           // t = [s0+s4, s1+s5, s2+s6, s3+s7]
	VPERMILPS(Imm(0x4e), X0, X1) // [t2, t3, t0, t1]
	VADDPS(X1, X0, X0)           // [t0+t2, t1+t3, ...]
	VPERMILPS(Imm(0xb1), X0, X1) // [t1+t3, t0+t2, ...]
	VADDSS(X1, X0, X0)           // (t0+t2) + (t1+t3)
	MOVSS(X0, arg(ReturnIndex(0)))
	VZEROUPPER()
	RET()

	TEXT("axpyF32AVX2", NOSPLIT, "func(alpha float32, x, y []float32)")
	Comment("For len(x) a multiple of 8 (y at least as long):",
		"",
		"\tfor i, v := range x { y[i] += float32(alpha * v) }",
		"",
		"Reference: axpyF32Generic.")
	VBROADCASTSS(arg(Param("alpha")), Y0)
	MOVQ(arg(Param("x").Base()), RSI)
	MOVQ(arg(Param("x").Len()), RCX)
	MOVQ(arg(Param("y").Base()), RDI)
	SHRQ(Imm(3), RCX)
	JZ(LabelRef("adone"))
	Label("aloop")
	VMULPS(Mem{Base: RSI}, Y0, Y1)
	VADDPS(Mem{Base: RDI}, Y1, Y1)
	VMOVUPS(Y1, Mem{Base: RDI})
	ADDQ(Imm(32), RSI)
	ADDQ(Imm(32), RDI)
	DECQ(RCX)
	JNZ(LabelRef("aloop"))
	Label("adone")
	VZEROUPPER()
	RET()
}
