package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

//go:generate go run . -kernel quant_avx2 -pkg kernel -out ../quant_avx2_amd64.s

func init() { register("quant_avx2", genQuantAVX2) }

// genQuantAVX2 writes quant_avx2_amd64.s.
func genQuantAVX2() {
	TEXT("minMaxAVX2", NOSPLIT, "func(x []float32) (lo, hi float32)")
	Comment("For len(x) a multiple of 8 (> 0): the smallest and largest element;",
		"lo is NaN when any element is NaN (VMINPS/VMAXPS alone would drop it,",
		"they return their second operand when either is NaN), so the caller",
		"can hand the row to the reference. Reference: the min/max loop of",
		"quantizeRowU8Generic.")
	MOVQ(arg(Param("x").Base()), RSI)
	MOVQ(arg(Param("x").Len()), RCX)
	VMOVUPS(Mem{Base: RSI}, Y0)
	VMOVAPS(Y0, Y1)
	VCMPPS(Imm(3), Y0, Y0, Y3) // NaN lanes
	ADDQ(Imm(32), RSI)
	SUBQ(Imm(8), RCX)
	JZ(LabelRef("mmreduce"))
	Label("mmloop")
	VMOVUPS(Mem{Base: RSI}, Y2)
	VMINPS(Y2, Y0, Y0)
	VMAXPS(Y2, Y1, Y1)
	VCMPPS(Imm(3), Y2, Y2, Y4)
	VORPS(Y4, Y3, Y3)
	ADDQ(Imm(32), RSI)
	SUBQ(Imm(8), RCX)
	JNZ(LabelRef("mmloop"))
	Label("mmreduce")
	VEXTRACTF128(Imm(1), Y0, X2)
	VMINPS(X2, X0, X0)
	VPERMILPS(Imm(0x4e), X0, X2)
	VMINPS(X2, X0, X0)
	VPERMILPS(Imm(0xb1), X0, X2)
	VMINPS(X2, X0, X0)
	VEXTRACTF128(Imm(1), Y1, X2)
	VMAXPS(X2, X1, X1)
	VPERMILPS(Imm(0x4e), X1, X2)
	VMAXPS(X2, X1, X1)
	VPERMILPS(Imm(0xb1), X1, X2)
	VMAXPS(X2, X1, X1)
	VEXTRACTF128(Imm(1), Y3, X2)
	VORPS(X2, X3, X3)
	VPERMILPS(Imm(0x4e), X3, X2)
	VORPS(X2, X3, X3)
	VPERMILPS(Imm(0xb1), X3, X2)
	VORPS(X2, X3, X3)
	VORPS(X3, X0, X0) // all ones, a NaN, when any lane was NaN
	MOVSS(X0, arg(Return("lo")))
	MOVSS(X1, arg(Return("hi")))
	VZEROUPPER()
	RET()

	TEXT("quantRowAVX2", NOSPLIT, "func(dst []uint8, x []float32, inv float32, zp int32)")
	Comment("For len(x) a multiple of 8 (dst at least as long):",
		"",
		"\tfor i, v := range x { dst[i] = uint8(clamp(roundEven(float32(v*inv)) + zp, 0, 255)) }",
		"",
		"The clamp comes from the saturating packs (|round(v·inv)| ≤ 255 for",
		"values inside the row's range, so nothing wraps first).",
		"Reference: quantizeRowU8Generic.")
	MOVQ(arg(Param("dst").Base()), RDI)
	MOVQ(arg(Param("x").Base()), RSI)
	MOVQ(arg(Param("x").Len()), RCX)
	VBROADCASTSS(arg(Param("inv")), Y1)
	MOVL(arg(Param("zp")), EAX)
	MOVQ(RAX, X2)
	VPBROADCASTD(X2, Y2)
	SHRQ(Imm(3), RCX)
	JZ(LabelRef("qdone"))
	Label("qloop")
	VMOVUPS(Mem{Base: RSI}, Y0)
	VMULPS(Y1, Y0, Y0)
	VROUNDPS(Imm(8), Y0, Y0) // nearest, ties to even
	VCVTPS2DQ(Y0, Y0)
	VPADDD(Y2, Y0, Y0)
	VEXTRACTI128(Imm(1), Y0, X3)
	VPACKUSDW(X3, X0, X0) // int32 → uint16, saturating
	VPACKUSWB(X0, X0, X0) // → uint8, saturating
	MOVQ(X0, Mem{Base: RDI})
	ADDQ(Imm(32), RSI)
	ADDQ(Imm(8), RDI)
	DECQ(RCX)
	JNZ(LabelRef("qloop"))
	Label("qdone")
	VZEROUPPER()
	RET()

	TEXT("dequantRowAVX2", NOSPLIT, "func(dst []float32, acc []int32, scales []float32, rowSum []int32, bias []float32, sx float32, zx int32)")
	Comment("For len(dst) a multiple of 8 (the others at least as long; bias may be",
		"empty):",
		"",
		"\tfor j := range dst { dst[j] = float32(sx*scales[j]) * float32(acc[j]-zx*rowSum[j]) (+ bias[j]) }",
		"",
		"Reference: DequantRow's portable loop.")
	MOVQ(arg(Param("dst").Base()), RDI)
	MOVQ(arg(Param("dst").Len()), RCX)
	MOVQ(arg(Param("acc").Base()), RSI)
	MOVQ(arg(Param("scales").Base()), R8)
	MOVQ(arg(Param("rowSum").Base()), R9)
	MOVQ(arg(Param("bias").Base()), R10)
	MOVQ(arg(Param("bias").Len()), R11)
	VBROADCASTSS(arg(Param("sx")), Y1)
	MOVL(arg(Param("zx")), EAX)
	MOVQ(RAX, X2)
	VPBROADCASTD(X2, Y2)
	SHRQ(Imm(3), RCX)
	JZ(LabelRef("ddone"))
	Label("dloop")
	VMULPS(Mem{Base: R8}, Y1, Y3)  // sx·scale
	VPMULLD(Mem{Base: R9}, Y2, Y4) // zx·rowSum (wrapping, as in Go)
	VMOVDQU(Mem{Base: RSI}, Y5)
	VPSUBD(Y4, Y5, Y5) // acc − zx·rowSum
	VCVTDQ2PS(Y5, Y5)
	VMULPS(Y5, Y3, Y3)
	TESTQ(R11, R11)
	JZ(LabelRef("dnobias"))
	VADDPS(Mem{Base: R10}, Y3, Y3)
	ADDQ(Imm(32), R10)
	Label("dnobias")
	VMOVUPS(Y3, Mem{Base: RDI})
	ADDQ(Imm(32), RDI)
	ADDQ(Imm(32), RSI)
	ADDQ(Imm(32), R8)
	ADDQ(Imm(32), R9)
	DECQ(RCX)
	JNZ(LabelRef("dloop"))
	Label("ddone")
	VZEROUPPER()
	RET()
}
