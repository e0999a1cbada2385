package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

//go:generate go run . -kernel quant_avx2 -pkg kernel -out ../quant_avx2_amd64.s

func init() {
	register("quant_avx2", func() {
		genQuantAVX2()
		genQuantRowsAVX2()
	})
}

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

// genQuantRowsAVX2 writes quantRowsAVX2, QuantizeRowsU8 in one call.
func genQuantRowsAVX2() {
	TEXT("quantRowsAVX2", NOSPLIT, "func(q []uint8, x []float32, m, k int, xs, xz []float32) (done int)")
	Comment("For m > 0 consecutive rows of k > 0 floats of x (q as long): row by",
		"row, as quantizeRowU8Generic, the row's uint8 into q, its scale into",
		"xs[i] and its zero point, as a float32, into xz[i], up to the first",
		"row holding a NaN, whose index it returns (the row untouched), or m.",
		"The last k mod 8 floats of a row are read with VMASKMOVPS (the lanes",
		"past the row read as 0, inside the range) and stored a byte at a",
		"time, so nothing past m·k elements is touched. Reference:",
		"QuantizeRowsU8 over quantizeRowU8Generic.")
	MOVQ(arg(Param("q").Base()), RDI)
	MOVQ(arg(Param("x").Base()), RSI)
	MOVQ(arg(Param("m")), RDX)
	MOVQ(arg(Param("k")), RBX)
	MOVQ(arg(Param("xs").Base()), R8)
	MOVQ(arg(Param("xz").Base()), R9)
	// Y5: the tail mask, lane j set when j < k mod 8 (in CX).
	MOVQ(RBX, RCX)
	ANDQ(Imm(7), RCX)
	MOVQ(U64(0x0706050403020100), RAX)
	VMOVQ(RAX, X4)
	VPMOVZXBD(X4, Y4)
	VMOVQ(RCX, X5)
	VPBROADCASTD(X5, Y5)
	VPCMPGTD(Y4, Y5, Y5)
	// Scalar constants, in the low lane: 255, 1, the sign bit, and the
	// int32 255 the zero point clamps to; X6 zero.
	for _, c := range []struct {
		bits uint32
		x    VecPhysical
	}{{0x437f0000, X7}, {0x3f800000, X8}, {0x80000000, X9}, {255, X10}} {
		MOVL(U32(c.bits), EAX)
		VMOVQ(RAX, c.x)
	}
	VPXOR(X6, X6, X6)
	XORQ(R10, R10)

	Label("row")
	// lo = min(0, row...) in Y0 and Y13, hi = max(0, row...) in Y1 and
	// Y14 (two accumulators each, 16 floats a step), and in Y2 the
	// largest element bits shifted left by one, as uint32: above
	// 0xff000000 (+Inf's) when an element is NaN (integer operations,
	// which leave the FP pipes to VMINPS and VMAXPS).
	zeroPS(Y0, Y1, Y2, Y13, Y14)
	MOVQ(RSI, R11)
	MOVQ(RBX, R13)
	SHRQ(Imm(4), R13)
	JZ(LabelRef("mmone"))
	Label("mmloop")
	VMOVUPS(Mem{Base: R11}, Y3)
	VMOVUPS(Mem{Base: R11, Disp: 32}, Y15)
	minMaxNaN8(Y3, Y0, Y1)
	minMaxNaN8(Y15, Y13, Y14)
	ADDQ(Imm(64), R11)
	DECQ(R13)
	JNZ(LabelRef("mmloop"))
	Label("mmone")
	TESTQ(U32(8), RBX)
	JZ(LabelRef("mmtail"))
	VMOVUPS(Mem{Base: R11}, Y3)
	minMaxNaN8(Y3, Y0, Y1)
	ADDQ(Imm(32), R11)
	Label("mmtail")
	TESTQ(RCX, RCX)
	JZ(LabelRef("mmdone"))
	VMASKMOVPS(Mem{Base: R11}, Y5, Y3)
	minMaxNaN8(Y3, Y0, Y1)
	Label("mmdone")
	MOVL(U32(0xff000000), EAX)
	VMOVD(EAX, X4)
	VPBROADCASTD(X4, Y4)
	VPMAXUD(Y2, Y4, Y15)
	VPCMPEQD(Y4, Y15, Y15) // all ones where no NaN
	VMOVMSKPS(Y15, EAX)
	CMPL(EAX, U8(0xff))
	JNE(LabelRef("out")) // a NaN row: the caller's reference decides
	VMINPS(Y13, Y0, Y0)
	VMAXPS(Y14, Y1, Y1)
	VEXTRACTF128(Imm(1), Y0, X4)
	VMINPS(X4, X0, X0)
	VPERMILPS(Imm(0x4e), X0, X4)
	VMINPS(X4, X0, X0)
	VPERMILPS(Imm(0xb1), X0, X4)
	VMINPS(X4, X0, X0)
	VEXTRACTF128(Imm(1), Y1, X4)
	VMAXPS(X4, X1, X1)
	VPERMILPS(Imm(0x4e), X1, X4)
	VMAXPS(X4, X1, X1)
	VPERMILPS(Imm(0xb1), X1, X4)
	VMAXPS(X4, X1, X1)
	// The scale (X13), inverse (X11) and zero point (X14): the
	// reference's float32 operations in order, scale = (hi−lo)/255,
	// inv = 1/scale, zp = clamp(roundEven(−lo·inv), 0, 255) (the
	// conversion rounds to nearest even, as MXCSR is set, and gives the
	// integer indefinite −2³¹ for NaN and out-of-range values, as Go's
	// int32(float64) does on amd64, which the clamp turns into 0).
	VUCOMISS(X0, X1)
	JNE(LabelRef("scaled"))
	// hi == lo: every element is ±0; the reference clears the row and
	// returns scale 1, zp 0, which inv = 0 and zp = 0 give.
	VMOVAPS(X8, X13)
	VXORPS(X11, X11, X11)
	VPXOR(X14, X14, X14)
	JMP(LabelRef("store"))
	Label("scaled")
	VSUBSS(X0, X1, X13)
	VDIVSS(X7, X13, X13)
	VDIVSS(X13, X8, X11)
	VXORPS(X9, X0, X4) // −lo
	VMULSS(X11, X4, X4)
	VCVTPS2DQ(X4, X14)
	VPMINSD(X10, X14, X14)
	VPMAXSD(X6, X14, X14)
	Label("store")
	VMOVSS(X13, Mem{Base: R8, Index: R10, Scale: 4})
	VCVTDQ2PS(X14, X4) // float32(zp), exact
	VMOVSS(X4, Mem{Base: R9, Index: R10, Scale: 4})
	VBROADCASTSS(X11, Y11)
	VPBROADCASTD(X14, Y12)
	// The row's quantization: q = clamp(roundEven(v·inv) + zp, 0, 255),
	// the clamp from the saturating packs (|round(v·inv)| ≤ 255 inside
	// the row's range, and the indefinite stays negative after + zp).
	MOVQ(RSI, R11)
	MOVQ(RDI, R12)
	MOVQ(RBX, R13)
	SHRQ(Imm(4), R13)
	JZ(LabelRef("qone"))
	Label("qloop")
	VMOVUPS(Mem{Base: R11}, Y3)
	VMOVUPS(Mem{Base: R11, Disp: 32}, Y15)
	quant8(Y3)
	quant8(Y15)
	VMOVQ(X3, Mem{Base: R12})
	VMOVQ(X15, Mem{Base: R12, Disp: 8})
	ADDQ(Imm(64), R11)
	ADDQ(Imm(16), R12)
	DECQ(R13)
	JNZ(LabelRef("qloop"))
	Label("qone")
	TESTQ(U32(8), RBX)
	JZ(LabelRef("qtail"))
	VMOVUPS(Mem{Base: R11}, Y3)
	quant8(Y3)
	VMOVQ(X3, Mem{Base: R12})
	ADDQ(Imm(32), R11)
	ADDQ(Imm(8), R12)
	Label("qtail")
	TESTQ(RCX, RCX)
	JZ(LabelRef("qdone"))
	VMASKMOVPS(Mem{Base: R11}, Y5, Y3)
	quant8(Y3)
	VMOVQ(X3, RAX)
	MOVQ(RCX, R13)
	Label("qbytes")
	MOVB(AL, Mem{Base: R12})
	SHRQ(Imm(8), RAX)
	INCQ(R12)
	DECQ(R13)
	JNZ(LabelRef("qbytes"))
	Label("qdone")
	LEAQ(Mem{Base: RSI, Index: RBX, Scale: 4}, RSI)
	ADDQ(RBX, RDI)
	INCQ(R10)
	CMPQ(R10, RDX)
	JB(LabelRef("row"))
	Label("out")
	MOVQ(R10, arg(Return("done")))
	VZEROUPPER()
	RET()
}

// minMaxNaN8 folds the 8 floats in v into the running min (lo), max (hi)
// and the largest bits shifted left by one (Y2), clobbering Y4.
func minMaxNaN8(v, lo, hi VecPhysical) {
	VMINPS(v, lo, lo)
	VMAXPS(v, hi, hi)
	VPSLLD(Imm(1), v, Y4) // drop the sign: NaN iff above 0xff000000
	VPMAXUD(Y4, Y2, Y2)
}

// quant8 turns the 8 floats in the YMM register v into 8 bytes in its
// XMM half's low half: uint8(clamp(roundEven(v·inv) + zp, 0, 255)) with
// inv in Y11 and zp in Y12 (the conversion rounds to nearest even, as
// MXCSR is set), clobbering X4.
func quant8(v VecPhysical) {
	x := v.AsX()
	VMULPS(Y11, v, v)
	VCVTPS2DQ(v, v)
	VPADDD(Y12, v, v)
	VEXTRACTI128(Imm(1), v, X4)
	VPACKUSDW(X4, x, x) // int32 → uint16, saturating
	VPACKUSWB(x, x, x)  // → uint8, saturating
}
