package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

//go:generate go run . -kernel act_avx2 -pkg kernel -out ../act_avx2_amd64.s

// actcAVX2 is the constant table actc<>, filled by the generator.
var actcAVX2 Mem

func init() { register("act_avx2", genActAVX2) }

// genActAVX2 writes act_avx2_amd64.s.
//
// Vector versions of Exp, Sigmoid and Tanh (math.go), eight lanes at a
// time, computing exactly what the scalar code computes: the same float32
// operations in the same order, no FMA, the same range reduction
// (floor, then 2ⁿ built from exponent bits, with the subnormal case
// scaled in two exact-then-rounding steps) and the same special cases.
// TestActivationSlices checks every lane bit for bit against math.go.
func genActAVX2() {
	actcAVX2 = GLOBL("actc", RODATA|NOPTR)
	DATA(0, U32(0x3fb8aa3b))  // log2e
	DATA(4, U32(0x3f000000))  // 0.5
	DATA(8, U32(0x3f318000))  // ln2Hi
	DATA(12, U32(0xb95e8083)) // ln2Lo
	DATA(16, U32(0x39506967)) // p0
	DATA(20, U32(0x3ab743ce)) // p1
	DATA(24, U32(0x3c088908)) // p2
	DATA(28, U32(0x3d2aa9c1)) // p3
	DATA(32, U32(0x3e2aaaaa)) // p4
	DATA(36, U32(0x3f000000)) // p5
	DATA(40, U32(0x3f800000)) // 1
	DATA(44, U32(0x42b17217)) // 88.72283
	DATA(48, U32(0xc2cff1b4)) // -103.97208
	DATA(52, U32(0x7f800000)) // +Inf
	DATA(56, U32(0x80000000)) // sign bit
	DATA(60, U32(127))        // int 127
	DATA(64, I32(-126))       // int -126
	DATA(68, U32(126))        // int 126
	DATA(72, U32(0x3d372713)) // GELU 0.044715
	DATA(76, U32(0x3f4c422a)) // GELU 0.7978845608
	for i, c := range tanhRat {
		DATA(ratBase+4*i, U32(c))
	}

	TEXT("expAVX2", NOSPLIT, "func(dst, src []float32)")
	Comment("For len(src) a multiple of 8 (dst at least as long):",
		"",
		"\tfor i := range src { dst[i] = Exp(src[i]) }",
		"",
		"Reference: Exp.")
	actMap("exp", func() {
		VMOVUPS(Mem{Base: RSI}, Y0)
		actExp8(Y0, Y1)
		VMOVUPS(Y1, Mem{Base: RDI})
	})

	TEXT("sigmoidAVX2", NOSPLIT, "func(dst, src []float32)")
	Comment("For len(src) a multiple of 8 (dst at least as long):",
		"",
		"\tfor i := range src { dst[i] = Sigmoid(src[i]) }",
		"",
		"Reference: Sigmoid: 0.5·Tanh(0.5·x) + 0.5.")
	actMap2("sig", func(v []ratVec) {
		for i, r := range v {
			VMULPS(Mem{Base: RSI, Disp: 32 * i}, Y14, r.x) // 0.5·x
		}
		actTanhRat(v)
		for i, r := range v {
			VMULPS(Y14, r.x, r.x)
			VADDPS(Y14, r.x, r.x)
			VMOVUPS(r.x, Mem{Base: RDI, Disp: 32 * i})
		}
	})

	TEXT("tanhAVX2", NOSPLIT, "func(dst, src []float32)")
	Comment("For len(src) a multiple of 8 (dst at least as long):",
		"",
		"\tfor i := range src { dst[i] = Tanh(src[i]) }",
		"",
		"Reference: Tanh: x clamped to ±9, x·P(x²)/Q(x²) clamped to ±1.")
	actMap2("tanh", func(v []ratVec) {
		for i, r := range v {
			VMOVUPS(Mem{Base: RSI, Disp: 32 * i}, r.x)
		}
		actTanhRat(v)
		for i, r := range v {
			VMOVUPS(r.x, Mem{Base: RDI, Disp: 32 * i})
		}
	})

	TEXT("geluAVX2", NOSPLIT, "func(dst, src []float32)")
	Comment("For len(src) a multiple of 8 (dst at least as long):",
		"",
		"\tfor i := range src { dst[i] = GELU(src[i]) }",
		"",
		"Reference: GELU: u = 0.7978845608·(x + 0.044715·(x·x·x)), then",
		"(0.5·x)·(1 + Tanh(u)), each product and sum rounded to float32.")
	actMap2("gelu", func(v []ratVec) {
		for i, r := range v {
			VMOVUPS(Mem{Base: RSI, Disp: 32 * i}, r.z)
			VMULPS(r.z, r.z, r.x) // x·x
			VMULPS(r.z, r.x, r.x) // ·x
		}
		VBROADCASTSS(actcAVX2.Offset(72), Y15)
		for _, r := range v {
			VMULPS(Y15, r.x, r.x) // 0.044715·x³
			VADDPS(r.z, r.x, r.x) // x + …
		}
		VBROADCASTSS(actcAVX2.Offset(76), Y15)
		for _, r := range v {
			VMULPS(Y15, r.x, r.x) // u
		}
		actTanhRat(v)
		for i, r := range v {
			VADDPS(Y11, r.x, r.x)                          // 1 + tanh(u)
			VMULPS(Mem{Base: RSI, Disp: 32 * i}, Y14, r.z) // 0.5·x
			VMULPS(r.x, r.z, r.x)
			VMOVUPS(r.x, Mem{Base: RDI, Disp: 32 * i})
		}
	})

	TEXT("maxF32AVX2", NOSPLIT, "func(p []float32) (mx float32, nan bool)")
	Comment("For len(p) a multiple of 8 (> 0): the largest element (the sign of a",
		"zero maximum is unspecified), and whether any element is NaN (then mx",
		"is meaningless). Reference: the max loop of softmaxLoop.")
	MOVQ(arg(Param("p").Base()), RSI)
	MOVQ(arg(Param("p").Len()), RCX)
	SHRQ(Imm(3), RCX)
	VBROADCASTSS(actcAVX2.Offset(52), Y0) // +Inf
	VBROADCASTSS(actcAVX2.Offset(56), Y1)
	VORPS(Y1, Y0, Y0)  // −Inf
	VXORPS(Y2, Y2, Y2) // NaN lanes seen
	Label("maxloop")
	VMOVUPS(Mem{Base: RSI}, Y3)
	VMAXPS(Y3, Y0, Y0)
	VCMPPS(Imm(3), Y3, Y3, Y4)
	VORPS(Y4, Y2, Y2)
	ADDQ(Imm(32), RSI)
	DECQ(RCX)
	JNZ(LabelRef("maxloop"))
	VEXTRACTF128(Imm(1), Y0, X1)
	VMAXPS(X1, X0, X0)
	VPERMILPS(Imm(0x4e), X0, X1)
	VMAXPS(X1, X0, X0)
	VPERMILPS(Imm(0xb1), X0, X1)
	VMAXPS(X1, X0, X0)
	MOVSS(X0, arg(Return("mx")))
	VMOVMSKPS(Y2, EAX)
	TESTL(EAX, EAX)
	SETNE(arg(Return("nan")))
	VZEROUPPER()
	RET()

	TEXT("expSubSumAVX2", NOSPLIT, "func(p []float32, mx float32) (sum float32)")
	Comment("For len(p) a multiple of 8 (> 0):",
		"",
		"\tfor j := range p { p[j] = Exp(p[j] − mx) }",
		"",
		"and the sum of the new p in DotF32's order (eight lane sums combined as",
		"((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7))). Reference: softmaxLoop.")
	MOVQ(arg(Param("p").Base()), RSI)
	MOVQ(arg(Param("p").Len()), RCX)
	SHRQ(Imm(3), RCX)
	VBROADCASTSS(arg(Param("mx")), Y8)
	VXORPS(Y9, Y9, Y9)
	Label("esloop")
	VMOVUPS(Mem{Base: RSI}, Y0)
	VSUBPS(Y8, Y0, Y0) // x − mx
	actExp8(Y0, Y1)
	VMOVUPS(Y1, Mem{Base: RSI})
	VADDPS(Y1, Y9, Y9)
	ADDQ(Imm(32), RSI)
	DECQ(RCX)
	JNZ(LabelRef("esloop"))
	VEXTRACTF128(Imm(1), Y9, X1)
	VADDPS(X1, X9, X9)
	VPERMILPS(Imm(0x4e), X9, X1)
	VADDPS(X1, X9, X9)
	VPERMILPS(Imm(0xb1), X9, X1)
	VADDSS(X1, X9, X9)
	MOVSS(X9, arg(Return("sum")))
	VZEROUPPER()
	RET()

	TEXT("divF32AVX2", NOSPLIT, "func(p []float32, d float32)")
	Comment("For len(p) a multiple of 8: for j := range p { p[j] /= d }.")
	MOVQ(arg(Param("p").Base()), RSI)
	MOVQ(arg(Param("p").Len()), RCX)
	SHRQ(Imm(3), RCX)
	JZ(LabelRef("divdone"))
	VBROADCASTSS(arg(Param("d")), Y1)
	Label("divloop")
	VMOVUPS(Mem{Base: RSI}, Y0)
	VDIVPS(Y1, Y0, Y0)
	VMOVUPS(Y0, Mem{Base: RSI})
	ADDQ(Imm(32), RSI)
	DECQ(RCX)
	JNZ(LabelRef("divloop"))
	Label("divdone")
	VZEROUPPER()
	RET()

	TEXT("reluAVX2", NOSPLIT, "func(x []float32)")
	Comment("For len(x) a multiple of 8: x[i] = max(x[i], 0) with Go's max: NaN",
		"stays NaN and −0 becomes +0. VMAXPS with the element as its second",
		"source returns the element when either is NaN or both are zero; adding",
		"+0 then turns −0 into +0 and changes nothing else.")
	MOVQ(arg(Param("x").Base()), RSI)
	MOVQ(arg(Param("x").Len()), RCX)
	SHRQ(Imm(3), RCX)
	JZ(LabelRef("reludone"))
	VXORPS(Y1, Y1, Y1)
	Label("reluloop")
	VMOVUPS(Mem{Base: RSI}, Y0)
	VMAXPS(Y0, Y1, Y2)
	VADDPS(Y1, Y2, Y2)
	VMOVUPS(Y2, Mem{Base: RSI})
	ADDQ(Imm(32), RSI)
	DECQ(RCX)
	JNZ(LabelRef("reluloop"))
	Label("reludone")
	VZEROUPPER()
	RET()
}

// actExp8 emits r = Exp(x) lane by lane (x, r: ymm registers other than
// the scratch ones). Clobbers Y2..Y7.
func actExp8(x, r Op) {
	VBROADCASTSS(actcAVX2.Offset(0), Y2)
	VMULPS(Y2, x, Y2) // t = x·log2e
	VBROADCASTSS(actcAVX2.Offset(4), Y3)
	VADDPS(Y3, Y2, Y2)       // t += 0.5
	VROUNDPS(Imm(9), Y2, Y2) // fx = floor(t)
	VCVTTPS2DQ(Y2, Y7)       // n
	VBROADCASTSS(actcAVX2.Offset(8), Y3)
	VMULPS(Y3, Y2, Y3)
	VSUBPS(Y3, x, Y4) // r = x − fx·ln2Hi
	VBROADCASTSS(actcAVX2.Offset(12), Y3)
	VMULPS(Y3, Y2, Y3)
	VSUBPS(Y3, Y4, Y4) // r −= fx·ln2Lo
	VMULPS(Y4, Y4, Y5) // z = r·r
	VBROADCASTSS(actcAVX2.Offset(16), r)
	VMULPS(Y4, r, r)
	VBROADCASTSS(actcAVX2.Offset(20), Y3)
	VADDPS(Y3, r, r)
	VMULPS(Y4, r, r)
	VBROADCASTSS(actcAVX2.Offset(24), Y3)
	VADDPS(Y3, r, r)
	VMULPS(Y4, r, r)
	VBROADCASTSS(actcAVX2.Offset(28), Y3)
	VADDPS(Y3, r, r)
	VMULPS(Y4, r, r)
	VBROADCASTSS(actcAVX2.Offset(32), Y3)
	VADDPS(Y3, r, r)
	VMULPS(Y4, r, r)
	VBROADCASTSS(actcAVX2.Offset(36), Y3)
	VADDPS(Y3, r, r)
	VMULPS(Y5, r, r) // y·z
	VADDPS(Y4, r, r) // + r
	VBROADCASTSS(actcAVX2.Offset(40), Y3)
	VADDPS(Y3, r, r)                      // + 1
	VPBROADCASTD(actcAVX2.Offset(64), Y3) // −126
	VPCMPGTD(Y7, Y3, Y5)                  // m = n < −126
	VPBROADCASTD(actcAVX2.Offset(60), Y6) // 127
	VPMINSD(Y6, Y7, Y2)                   // min(n, 127)
	VPBROADCASTD(actcAVX2.Offset(68), Y3) // 126
	VPAND(Y3, Y5, Y5)
	VPADDD(Y5, Y2, Y2) // e1 = min(n,127) + (m ? 126 : 0)
	VPSUBD(Y2, Y7, Y7) // e2 = n − e1 ∈ {−126, 0, 1}
	VPADDD(Y6, Y2, Y2)
	VPSLLD(Imm(23), Y2, Y2) // 2^e1
	VPADDD(Y6, Y7, Y7)
	VPSLLD(Imm(23), Y7, Y7) // 2^e2
	VMULPS(Y2, r, r)        // exact
	VMULPS(Y7, r, r)        // the one rounding
	VBROADCASTSS(actcAVX2.Offset(44), Y3)
	VCMPPS(Imm(0x1e), Y3, x, Y5) // x > 88.72283
	VBROADCASTSS(actcAVX2.Offset(52), Y3)
	VBLENDVPS(Y5, Y3, r, r) // → +Inf
	VBROADCASTSS(actcAVX2.Offset(48), Y3)
	VCMPPS(Imm(0x11), Y3, x, Y5) // x < −103.97208
	VXORPS(Y3, Y3, Y3)
	VBLENDVPS(Y5, Y3, r, r)  // → 0
	VCMPPS(Imm(3), x, x, Y5) // x is NaN
	VBLENDVPS(Y5, x, r, r)   // → x
}

// tanhRat holds the bits of Tanh's clamps and coefficients (math.go), at
// actc<>+ratBase on: −9, 9, −1, 1, P4, P3, P2, P1, Q4, Q3, Q2, Q1, 0.5.
const ratBase = 80

var tanhRat = []uint32{0xc1100000, 0x41100000, 0xbf800000, 0x3f800000,
	0x32668ee6, 0x37ad5266, 0x3b654fbc, 0x3e090d58,
	0x355182e9, 0x39ac8bfd, 0x3cd417da, 0x3eef3153, 0x3f000000}

// ratVec is one vector in flight in actTanhRat: x holds the argument and
// gets the result; z, p and q are its temporaries.
type ratVec struct{ x, z, p, q VecPhysical }

// ratVecs are the registers of the (at most) two vectors in flight.
var ratVecs = []ratVec{{Y0, Y1, Y2, Y3}, {Y4, Y5, Y6, Y7}}

// actTanhRatConsts loads the constants actTanhRat keeps in registers:
// Y8 = −9, Y9 = 9, Y10 = −1, Y11 = 1, Y12 = P4, Y13 = Q4, Y14 = 0.5.
func actTanhRatConsts() {
	for i, r := range []VecPhysical{Y8, Y9, Y10, Y11, Y12} {
		VBROADCASTSS(actcAVX2.Offset(ratBase+4*i), r)
	}
	VBROADCASTSS(actcAVX2.Offset(ratBase+4*8), Y13)
	VBROADCASTSS(actcAVX2.Offset(ratBase+4*12), Y14)
}

// actTanhRat emits r.x = Tanh(r.x) lane by lane for every vector of v,
// the vectors' instructions interleaved. Clobbers their z, p, q and Y15.
// The clamps take x (then the quotient) as the operand VMAXPS and VMINPS
// return when either is NaN, so NaN stays NaN as with Go's min and max.
func actTanhRat(v []ratVec) {
	for _, r := range v {
		VMAXPS(r.x, Y8, r.x)
		VMINPS(r.x, Y9, r.x)
		VMULPS(r.x, r.x, r.z) // z = x·x
		VMULPS(Y12, r.z, r.p) // P4·z
		VMULPS(Y13, r.z, r.q) // Q4·z
	}
	for k := 0; k < 3; k++ {
		VBROADCASTSS(actcAVX2.Offset(ratBase+4*(5+k)), Y15) // P3, P2, P1
		for _, r := range v {
			VADDPS(Y15, r.p, r.p)
			VMULPS(r.z, r.p, r.p)
		}
		VBROADCASTSS(actcAVX2.Offset(ratBase+4*(9+k)), Y15) // Q3, Q2, Q1
		for _, r := range v {
			VADDPS(Y15, r.q, r.q)
			VMULPS(r.z, r.q, r.q)
		}
	}
	for _, r := range v {
		VADDPS(Y11, r.p, r.p) // P
		VADDPS(Y11, r.q, r.q) // Q
		VMULPS(r.p, r.x, r.x) // x·P
		VDIVPS(r.q, r.x, r.x) // /Q
		VMAXPS(r.x, Y10, r.x)
		VMINPS(r.x, Y11, r.x)
	}
}

// actMap2 emits the loop of an elementwise kernel func(dst, src []float32)
// over len(src)/8 blocks, two at a time: body maps the 8·len(v) floats at
// (SI) to as many it stores at (DI) itself, with the vector registers v;
// a last odd block gets one. The constants of actTanhRat are loaded
// first. p prefixes the labels.
func actMap2(p string, body func(v []ratVec)) {
	MOVQ(arg(Param("dst").Base()), RDI)
	MOVQ(arg(Param("src").Base()), RSI)
	MOVQ(arg(Param("src").Len()), RCX)
	SHRQ(Imm(3), RCX)
	JZ(LabelRef(p + "done"))
	actTanhRatConsts()
	MOVQ(RCX, RDX)
	SHRQ(Imm(1), RCX)
	JZ(LabelRef(p + "one"))
	Label(p + "loop")
	body(ratVecs)
	ADDQ(Imm(64), RSI)
	ADDQ(Imm(64), RDI)
	DECQ(RCX)
	JNZ(LabelRef(p + "loop"))
	Label(p + "one")
	TESTQ(U32(1), RDX)
	JZ(LabelRef(p + "done"))
	body(ratVecs[:1])
	Label(p + "done")
	VZEROUPPER()
	RET()
}

// actMap emits the loop of an elementwise kernel func(dst, src []float32)
// over len(src)/8 blocks: body maps the 8 floats loaded from (SI) to 8
// floats it stores at (DI) itself. p prefixes the labels.
func actMap(p string, body func()) {
	MOVQ(arg(Param("dst").Base()), RDI)
	MOVQ(arg(Param("src").Base()), RSI)
	MOVQ(arg(Param("src").Len()), RCX)
	SHRQ(Imm(3), RCX)
	JZ(LabelRef(p + "done"))
	Label(p + "loop")
	body()
	ADDQ(Imm(32), RSI)
	ADDQ(Imm(32), RDI)
	DECQ(RCX)
	JNZ(LabelRef(p + "loop"))
	Label(p + "done")
	VZEROUPPER()
	RET()
}
