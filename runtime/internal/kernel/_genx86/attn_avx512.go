package main

import (
	"strconv"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

//go:generate go run . -kernel attn_avx512 -pkg kernel -out ../attn_avx512_amd64.s

func init() { register("attn_avx512", genAttnAVX512) }

// genAttnAVX512 writes attn_avx512_amd64.s: the scores Q·Kᵀ of attention
// with two dots per zmm register. The low 256 bits of an accumulator hold
// the eight lane sums of key j, the high 256 bits those of key j+1, each
// lane doing exactly what dotsF32AVX2's lane does (a product rounded, then
// added), so the outputs keep DotF32's bits while every instruction does
// the work of two.
func genAttnAVX512() {
	actz = GLOBL("attnz", RODATA|NOPTR) // exp16's constants (see actAVX512)
	for i, c := range actzConsts {
		DATA(4*i, U32(c.bits))
	}
	genSoftmaxRowAVX512()
	genSoftmax4RowsAVX512()
	genLayerNorm4RowsAVX512(false)
	genLayerNorm4RowsAVX512(true)
	genDotsTAVX512()

	perm := GLOBL("attnperm512", RODATA|NOPTR)
	for i, v := range attnPerm512() {
		DATA(4*i, U32(v))
	}

	TEXT("dotsF32AVX512", NOSPLIT, "func(c []float32, a []float32, b []float32, mt, nt, k, lda, ldb, ldc int, alpha float32)")
	Comment("4×8 tiles of c = alpha · a·bᵀ over mt·4 rows of a and nt·8 rows of b",
		"(k a multiple of 8): accumulator Z(4r+p) holds the lane sums of row r",
		"with key 2p (low half) and key 2p+1 (high half); attnReduce512 combines",
		"them in DotF32's order. Reference: dotsLoop over dotF32Generic.")
	Load(Param("c").Base(), RDX)
	Load(Param("a").Base(), RAX)
	Load(Param("lda"), R8)
	SHLQ(U8(2), R8)
	LEAQ(Mem{Base: R8, Index: R8, Scale: 2}, R9) // 3·lda
	Load(Param("ldb"), R10)
	SHLQ(U8(2), R10)
	LEAQ(Mem{Base: R10, Index: R10, Scale: 2}, R11) // 3·ldb
	VBROADCASTSS(arg(Param("alpha")), Z30)
	VMOVDQU32(perm, Z31)

	Label("diloop")
	Load(Param("b").Base(), R14)
	MOVQ(RDX, RBX)
	Load(Param("nt"), R12)

	Label("djloop")
	MOVQ(RAX, RSI)
	MOVQ(R14, RDI)
	LEAQ(Mem{Base: R14, Index: R10, Scale: 4}, R13) // keys 4..7
	Load(Param("k"), RCX)
	SHRQ(U8(3), RCX)
	for i := 0; i < 16; i++ {
		VPXORD(Z(i), Z(i), Z(i))
	}

	Label("dkloop")
	keys := []Mem{
		{Base: RDI}, {Base: RDI, Index: R10, Scale: 1}, {Base: RDI, Index: R10, Scale: 2}, {Base: RDI, Index: R11, Scale: 1},
		{Base: R13}, {Base: R13, Index: R10, Scale: 1}, {Base: R13, Index: R10, Scale: 2}, {Base: R13, Index: R11, Scale: 1},
	}
	for p := 0; p < 4; p++ {
		VMOVUPS(keys[2*p], Y(16+p))
		VINSERTF64X4(U8(1), keys[2*p+1], Z(16+p), Z(16+p))
	}
	for r, m := range []Mem{{Base: RSI}, {Base: RSI, Index: R8, Scale: 1}, {Base: RSI, Index: R8, Scale: 2}, {Base: RSI, Index: R9, Scale: 1}} {
		VBROADCASTF64X4(m, Z20)
		for p := 0; p < 4; p++ {
			// key · query, then acc + product: dotsF32AVX2's operand order.
			VMULPS(Z20, Z(16+p), Z(21+p))
			VADDPS(Z(21+p), Z(4*r+p), Z(4*r+p))
		}
	}
	ADDQ(U8(32), RSI)
	ADDQ(U8(32), RDI)
	ADDQ(U8(32), R13)
	DECQ(RCX)
	JNZ(LabelRef("dkloop"))

	Load(Param("ldc"), RCX)
	SHLQ(U8(2), RCX)
	attnReduce512(0)
	VMOVUPS(Y0, Mem{Base: RBX})
	VEXTRACTF64X4(U8(1), Z0, Mem{Base: RBX, Index: RCX, Scale: 1})
	LEAQ(Mem{Base: RBX, Index: RCX, Scale: 2}, RSI)
	attnReduce512(8)
	VMOVUPS(Y8, Mem{Base: RSI})
	VEXTRACTF64X4(U8(1), Z8, Mem{Base: RSI, Index: RCX, Scale: 1})
	ADDQ(U8(32), RBX)
	LEAQ(Mem{Base: R14, Index: R10, Scale: 8}, R14)
	DECQ(R12)
	JNZ(LabelRef("djloop"))

	LEAQ(Mem{Base: RAX, Index: R8, Scale: 4}, RAX)
	LEAQ(Mem{Base: RDX, Index: RCX, Scale: 4}, RDX)
	DECQ(arg(Param("mt")))
	JNZ(LabelRef("diloop"))
	VZEROUPPER()
	RET()
}

// attnReduce512 turns the accumulators Z(z)..Z(z+7) of two rows (row r:
// Z(z+p), keys 2p and 2p+1; row r+1: Z(z+4+p)) into alpha times their 16
// dots in Z(z), row r's eight keys in the low half, row r+1's in the high
// half. Every dot is ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)) with the lower
// lane sums as the first operand, dotsF32AVX2's order: the three steps
// below each add pairs of dots' partial sums in one instruction, then
// VPERMPS (index Z31, see attnPerm512) puts the 16 results in order.
// Z16..Z29 are scratch.
func attnReduce512(z int) {
	// Step 1, per pair of accumulators A, B: the 128-bit lanes
	// [A0 A2 B0 B2] + [A1 A3 B1 B3], so lane L holds s_l + s_{l+4} of
	// dot L (row r: keys 0..3 from Z(z), Z(z+1); 4..7 from Z(z+2), Z(z+3)).
	for _, q := range []int{z, z + 2, z + 4, z + 6} {
		VSHUFF32X4(U8(0x88), Z(q+1), Z(q), Z16)
		VSHUFF32X4(U8(0xdd), Z(q+1), Z(q), Z17)
		VADDPS(Z17, Z16, Z(q))
	}
	// Step 2, per pair S, T: within each 128-bit lane
	// [S0 S1 T0 T1] + [S2 S3 T2 T3] = (x0+x2, x1+x3) of both.
	for _, q := range []int{z, z + 4} {
		VSHUFPS(U8(0x44), Z(q+2), Z(q), Z16)
		VSHUFPS(U8(0xee), Z(q+2), Z(q), Z17)
		VADDPS(Z17, Z16, Z(q))
	}
	// Step 3, U and V: [U0 U2 V0 V2] + [U1 U3 V1 V3] = y0+y1 of four dots
	// per 128-bit lane.
	VSHUFPS(U8(0x88), Z(z+4), Z(z), Z16)
	VSHUFPS(U8(0xdd), Z(z+4), Z(z), Z17)
	VADDPS(Z17, Z16, Z(z))
	VMULPS(Z30, Z(z), Z(z))
	VPERMPS(Z(z), Z31, Z(z))
}

// attnPerm512 is the VPERMPS index that orders attnReduce512's results:
// after step 3, element 4L+e holds row r key L (e = 0), row r key 4+L
// (e = 1), row r+1 key L (e = 2) or row r+1 key 4+L (e = 3); output
// 8·row + key takes it from there.
func attnPerm512() [16]uint32 {
	var idx [16]uint32
	for row := 0; row < 2; row++ {
		for key := 0; key < 8; key++ {
			e := 2*row + key/4
			idx[8*row+key] = uint32(4*(key%4) + e)
		}
	}
	return idx
}

// genSoftmaxRowAVX512 emits softmaxRowAVX512: maxF32AVX512,
// expSubSumAVX512 and divF32AVX512 of act_avx512 in one call, with their
// bits: their lane orders, and exp16's bits from expNeg16, its variant
// for the x − mx ≤ 0 of softmax. The loops take whole 16-float vectors;
// the last len mod 16 values are loaded once into masked lanes and kept
// in registers through the three passes (a masked load of what a masked
// store just wrote stalls), their first eight, if that many, added to
// the lane sums as a low half, the rest to the sum one by one as
// softmaxLoop adds its tail. So a short attention row of any length pays
// one call.
func genSoftmaxRowAVX512() {
	TEXT("softmaxRowAVX512", NOSPLIT, "func(p []float32) (nan bool)")
	Comment("For len(p) > 0: if any element is NaN, report it and leave p",
		"alone; else SoftmaxF32(p): mx the largest element, p[j] = Exp(p[j] − mx)",
		"summed in DotF32's order (eight lane sums over the 8-multiple prefix,",
		"the low half of each 16-float vector added before its high half,",
		"combined ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)), then the tail added in",
		"order), then p[j] /= sum. Reference: softmaxLoop.")
	Load(Param("p").Base(), R9)
	Load(Param("p").Len(), R8)
	MOVQ(R8, R10)
	ANDQ(U8(15), R10) // values after the whole vectors
	SHRQ(U8(4), R8)   // whole vectors
	MOVQ(R8, R11)
	SHLQ(U8(6), R11)
	ADDQ(R9, R11) // the last values
	MOVL(U32(1), EAX)
	MOVQ(R10, RCX)
	SHLL(CL, EAX)
	DECL(EAX)
	KMOVW(EAX, K4)
	VMOVUPS_Z(Mem{Base: R11}, K4, Z10) // zeros beyond the row

	VBROADCASTSS(cst("minf"), Z0)
	VMAXPS(Z10, Z0, K4, Z0)
	VCMPPS(U8(3), Z10, Z10, K3) // NaN lanes seen
	MOVQ(R9, RSI)
	MOVQ(R8, RCX)
	TESTQ(RCX, RCX)
	JZ(LabelRef("maxdone"))
	Label("maxloop")
	VMOVUPS(Mem{Base: RSI}, Z3)
	VMAXPS(Z3, Z0, Z0)
	VCMPPS(U8(3), Z3, Z3, K1)
	KORW(K1, K3, K3)
	ADDQ(U8(64), RSI)
	DECQ(RCX)
	JNZ(LabelRef("maxloop"))
	Label("maxdone")
	KORTESTW(K3, K3)
	JNE(LabelRef("nan"))
	VEXTRACTF64X4(U8(1), Z0, Y1)
	VMAXPS(Y1, Y0, Y0)
	VEXTRACTF128(U8(1), Y0, X1)
	VMAXPS(X1, X0, X0)
	VPERMILPS(U8(0x4e), X0, X1)
	VMAXPS(X1, X0, X0)
	VPERMILPS(U8(0xb1), X0, X1)
	VMAXPS(X1, X0, X0)
	VBROADCASTSS(X0, Z8)

	VXORPS(Y9, Y9, Y9)
	MOVQ(R9, RSI)
	MOVQ(R8, RCX)
	TESTQ(RCX, RCX)
	JZ(LabelRef("esdone"))
	Label("esloop")
	VMOVUPS(Mem{Base: RSI}, Z0)
	VSUBPS(Z8, Z0, Z0) // x − mx
	expNeg16(Z0, Z1)
	VMOVUPS(Z1, Mem{Base: RSI})
	VADDPS(Y1, Y9, Y9)
	VEXTRACTF64X4(U8(1), Z1, Y1)
	VADDPS(Y1, Y9, Y9)
	ADDQ(U8(64), RSI)
	DECQ(RCX)
	JNZ(LabelRef("esloop"))
	Label("esdone")
	VSUBPS(Z8, Z10, Z0)
	expNeg16(Z0, Z10) // the last values' exponentials
	VMOVAPS(Z10, Z12)
	MOVQ(R10, RCX)
	CMPQ(RCX, U8(8))
	JB(LabelRef("reduce"))
	VADDPS(Y10, Y9, Y9) // eight more lane sums' terms
	VEXTRACTF64X4(U8(1), Z10, Y12)
	SUBQ(U8(8), RCX)
	Label("reduce")
	VEXTRACTF128(U8(1), Y9, X1)
	VADDPS(X1, X9, X9)
	VPERMILPS(U8(0x4e), X9, X1)
	VADDPS(X1, X9, X9)
	VPERMILPS(U8(0xb1), X9, X1)
	VADDSS(X1, X9, X9)
	TESTQ(RCX, RCX)
	JZ(LabelRef("divide"))
	Label("tailsum") // sum += tail[j] in order
	VADDSS(X12, X9, X9)
	VALIGND(U8(1), Z12, Z12, Z12)
	DECQ(RCX)
	JNZ(LabelRef("tailsum"))

	Label("divide")
	VBROADCASTSS(X9, Z1)
	VDIVPS(Z1, Z10, Z10)
	VMOVUPS(Z10, K4, Mem{Base: R11})
	MOVQ(R9, RSI)
	MOVQ(R8, RCX)
	TESTQ(RCX, RCX)
	JZ(LabelRef("done"))
	Label("divloop")
	VMOVUPS(Mem{Base: RSI}, Z0)
	VDIVPS(Z1, Z0, Z0)
	VMOVUPS(Z0, Mem{Base: RSI})
	ADDQ(U8(64), RSI)
	DECQ(RCX)
	JNZ(LabelRef("divloop"))
	Label("done")
	MOVB(U8(0), NewParamAddr("nan", 24))
	VZEROUPPER()
	RET()
	Label("nan")
	MOVB(U8(1), NewParamAddr("nan", 24))
	VZEROUPPER()
	RET()
}

// expNeg16 emits r = Exp(x) lane by lane for x ≤ 0 or NaN, the
// arguments of softmax after the max subtraction (x − mx ≤ 0, NaN from
// Inf − Inf): exp16's range reduction and polynomial, then y·2ⁿ as one
// VSCALEFPS by fx = n, which rounds the exact product once, as Exp's
// y·2ⁿ does for n ≥ −126 (exact or, for y < 1 at n = −126, one
// rounding) and its Ldexp for subnormal results; n > 127 and x > 88.7
// cannot occur. The x < −103.97 (and −Inf) and NaN fix-ups stay.
// Clobbers Z2..Z5 and K1.
func expNeg16(x, r VecPhysical) {
	expNeg([]VecPhysical{x}, []VecPhysical{r}, []VecPhysical{Z2}, []VecPhysical{Z4}, []VecPhysical{Z5}, Z3)
}

// expNeg16x4 is expNeg16 on four vectors, r[i] = Exp(x[i]), its steps
// interleaved so that the four dependent chains issue side by side.
// Clobbers Z0, Z2..Z8, Z10..Z15 and K1.
func expNeg16x4(x, r []VecPhysical) {
	expNeg(x, r, []VecPhysical{Z0, Z2, Z4, Z5}, []VecPhysical{Z6, Z7, Z8, Z10}, []VecPhysical{Z11, Z12, Z13, Z14}, Z15)
}

// expNeg is expNeg16 on len(x) vectors through expPoly (its registers).
func expNeg(x, r, fx, rr, zz []VecPhysical, t VecPhysical) {
	expPoly(x, r, fx, rr, zz, t, nil)
	for i := range x {
		VSCALEFPS(fx[i], r[i], r[i]) // y·2^fx, rounded once
	}
	for i := range x {
		VCMPPS_BCST(U8(0x11), cst("expLo"), x[i], K1)
		VPXORD(r[i], r[i], K1, r[i]) // x < −103.97208 → 0
		VCMPPS(U8(3), x[i], x[i], K1)
		VMOVAPS(x[i], K1, r[i]) // NaN → x
	}
}

// softmaxExps emits one step of softmax4RowsAVX512's exponential pass:
// per row (pointers ptr), per vector j < per, x = p[row][j] − max (the
// row's maximum at mxs), clamped to −104.5, e = Exp(x) with expPoly's
// operations and operand order and expNeg's VSCALEFPS (its two fixes are
// not needed: x is not NaN, and below −103.97208 the clamp makes e 0),
// stored back, and added to the row's 8-lane sum (low half, then high
// half, as expSubSumAVX2). Vectors in Z0–Z23 (three each), temporaries
// Z24 and Y25.
func softmaxExps(ptr []GPPhysical, mxs Mem, smY []VecPhysical, per int) {
	type ev struct {
		row, j    int
		rr, fx, r VecPhysical
	}
	var v []ev
	for j := 0; j < per; j++ {
		for row := range ptr {
			k := 3 * len(v)
			v = append(v, ev{row, j, Z(k), Z(k + 1), Z(k + 2)})
		}
	}
	t := Z24
	each := func(f func(e ev)) {
		for _, e := range v {
			f(e)
		}
	}
	each(func(e ev) { VMOVUPS(Mem{Base: ptr[e.row], Disp: 64 * e.j}, e.rr) })
	each(func(e ev) { VSUBPS_BCST(mxs.Offset(4*e.row), e.rr, e.rr) }) // x − max
	each(func(e ev) { VMAXPS_BCST(cst("expClamp"), e.rr, e.rr) })
	each(func(e ev) { VMULPS_BCST(cst("log2e"), e.rr, e.fx) })
	each(func(e ev) { VADDPS_BCST(cst("half"), e.fx, e.fx) })
	each(func(e ev) { VRNDSCALEPS(U8(9), e.fx, e.fx) })
	each(func(e ev) { VMULPS_BCST(cst("ln2Hi"), e.fx, t); VSUBPS(t, e.rr, e.rr) })
	each(func(e ev) { VMULPS_BCST(cst("ln2Lo"), e.fx, t); VSUBPS(t, e.rr, e.rr) })
	each(func(e ev) { VBROADCASTSS(cst("p0"), e.r) })
	each(func(e ev) { VMULPS(e.rr, e.r, e.r) })
	for _, p := range []string{"p1", "p2", "p3", "p4"} {
		each(func(e ev) { VADDPS_BCST(cst(p), e.r, e.r) })
		each(func(e ev) { VMULPS(e.rr, e.r, e.r) })
	}
	each(func(e ev) { VADDPS_BCST(cst("p5"), e.r, e.r) })
	each(func(e ev) { VMULPS(e.rr, e.rr, t); VMULPS(t, e.r, e.r) }) // y·z
	each(func(e ev) { VADDPS(e.rr, e.r, e.r) })                     // + r
	each(func(e ev) { VADDPS_BCST(cst("one"), e.r, e.r) })          // + 1
	each(func(e ev) { VSCALEFPS(e.fx, e.r, e.r) })                  // y·2^fx, rounded once
	each(func(e ev) {
		VMOVUPS(e.r, Mem{Base: ptr[e.row], Disp: 64 * e.j})
		VADDPS(e.r.AsY(), smY[e.row], smY[e.row])
		VEXTRACTF64X4(U8(1), e.r, Y25)
		VADDPS(Y25, smY[e.row], smY[e.row])
	})
}

// genSoftmax4RowsAVX512 emits softmax4RowsAVX512: softmaxRowAVX512 on
// four rows of n values (n a positive multiple of 16) at a stride of ld
// floats, their passes interleaved so that the four rows' horizontal max
// and sum reductions, exponentials and divisions overlap. Each row's
// instructions and their order are softmaxRowAVX512's, so its bits too.
func genSoftmax4RowsAVX512() {
	TEXT("softmax4RowsAVX512", NOSPLIT, "func(p []float32, ld, n int) (nan bool)")
	Comment("For n > 0 a multiple of 16 and rows p[i*ld:][:n], i < 4: if any",
		"element is NaN or a row's maximum is ±Inf, report it and leave p alone;",
		"else softmaxRowAVX512 on each row. Reference: softmaxLoop.")
	ptr := []GPPhysical{RSI, RDI, R10, R11}
	mx := []VecPhysical{Z16, Z17, Z18, Z19}  // maxima, then their broadcasts
	ld := []VecPhysical{Z20, Z21, Z22, Z23}  // loaded vectors
	sm := []VecPhysical{Z28, Z29, Z30, Z31}  // lane sums, then the sums broadcast
	smY := []VecPhysical{Y28, Y29, Y30, Y31} // their low halves
	mxs := AllocLocal(16)                    // the four maxima
	Load(Param("p").Base(), R9)
	Load(Param("ld"), RDX)
	SHLQ(U8(2), RDX) // row stride in bytes
	Load(Param("n"), R8)
	SHRQ(U8(4), R8) // whole vectors a row
	rewind := func() {
		MOVQ(R9, RSI)
		LEAQ(Mem{Base: RSI, Index: RDX, Scale: 1}, RDI)
		LEAQ(Mem{Base: RSI, Index: RDX, Scale: 2}, R10)
		LEAQ(Mem{Base: RDI, Index: RDX, Scale: 2}, R11)
		MOVQ(R8, RCX)
	}
	advance := func() {
		for _, r := range ptr {
			ADDQ(U8(64), r)
		}
		DECQ(RCX)
	}
	for i := range 4 {
		VBROADCASTSS(cst("minf"), mx[i])
	}
	KXORW(K3, K3, K3) // NaN lanes seen
	rewind()
	Label("max4loop")
	for i := range 4 {
		VMOVUPS(Mem{Base: ptr[i]}, ld[i])
		VMAXPS(ld[i], mx[i], mx[i])
		VCMPPS(U8(3), ld[i], ld[i], K1)
		KORW(K1, K3, K3)
	}
	advance()
	JNZ(LabelRef("max4loop"))
	KORTESTW(K3, K3)
	JNE(LabelRef("nan4"))
	for i := range 4 {
		VMOVAPS(mx[i], Z0)
		VEXTRACTF64X4(U8(1), Z0, Y1)
		VMAXPS(Y1, Y0, Y0)
		VEXTRACTF128(U8(1), Y0, X1)
		VMAXPS(X1, X0, X0)
		VPERMILPS(U8(0x4e), X0, X1)
		VMAXPS(X1, X0, X0)
		VPERMILPS(U8(0xb1), X0, X1)
		VMAXPS(X1, X0, X0)
		VBROADCASTSS(X0, mx[i])
		VPXORD(sm[i], sm[i], sm[i])
	}
	// A row whose maximum is ±Inf (x − max is NaN for its infinite
	// elements) goes to the caller's reference too; past this, x − max is
	// never NaN.
	for i := range 4 {
		VMOVAPS(mx[i].AsX(), X0)
		VUCOMISS(cst("inf"), X0)
		JEQ(LabelRef("nan4"))
		VUCOMISS(cst("minf"), X0)
		JEQ(LabelRef("nan4"))
		VMOVSS(X0, mxs.Offset(4*i))
	}
	// The exponentials, eight vectors at a time (two of each row) while
	// two are left in the rows, then four: each x − max clamped to
	// −104.5 (every x below −103.97208, where Exp is 0, then also gives
	// exactly 0 through the polynomial and VSCALEFPS: TestSoftmaxExpNegAVX512
	// checks every float32 between), the square of the reduced argument
	// computed again where expPoly keeps it, so three registers a vector.
	rewind()
	Label("es8loop")
	CMPQ(RCX, U8(2))
	JB(LabelRef("es4tail"))
	softmaxExps(ptr, mxs, smY, 2)
	for _, r := range ptr {
		ADDQ(U8(128), r)
	}
	SUBQ(U8(2), RCX)
	JMP(LabelRef("es8loop"))
	Label("es4tail")
	TESTQ(RCX, RCX)
	JZ(LabelRef("es4done"))
	softmaxExps(ptr, mxs, smY, 1)
	Label("es4done")
	for i := range 4 {
		VMOVAPS(smY[i], Y9)
		VEXTRACTF128(U8(1), Y9, X1)
		VADDPS(X1, X9, X9)
		VPERMILPS(U8(0x4e), X9, X1)
		VADDPS(X1, X9, X9)
		VPERMILPS(U8(0xb1), X9, X1)
		VADDSS(X1, X9, X9)
		VBROADCASTSS(X9, sm[i])
	}
	rewind()
	Label("div4loop")
	for i := range 4 {
		VMOVUPS(Mem{Base: ptr[i]}, ld[i])
		VDIVPS(sm[i], ld[i], ld[i])
		VMOVUPS(ld[i], Mem{Base: ptr[i]})
	}
	advance()
	JNZ(LabelRef("div4loop"))
	MOVB(U8(0), NewParamAddr("nan", 40))
	VZEROUPPER()
	RET()
	Label("nan4")
	MOVB(U8(1), NewParamAddr("nan", 40))
	VZEROUPPER()
	RET()
}

// genLayerNorm4RowsAVX512 emits layerNorm4RowsAVX512: layerNormAVX512 on
// four consecutive rows of n values (n a positive multiple of 16), their
// passes interleaved so that the rows' dependent sum chains, lane sums,
// square roots and divisions overlap. Each row's arithmetic and its
// order are sumF32AVX2's, sumSqDevAVX2's, the Go scalar steps' and
// normRowAVX512's, so its bits too.
func genLayerNorm4RowsAVX512(add bool) {
	src := []GPPhysical{RSI, RDI, R8, R9}
	dst := []GPPhysical{R10, R11, R12, R13}
	ndOff, epsOff := 104, 108
	if add {
		TEXT("addLayerNorm4RowsAVX512", NOSPLIT, "func(dst, y, x, gamma, beta []float32, ldx, n int, nd, eps float32)")
		Comment("For n > 0 a multiple of 16, rows r < 4: t = y[r*n:][:n] + float32(1·x[r*ldx:][:n])",
			"(AxpyF32(1, x row, y row)'s operations and operand order) into dst[r*n:][:n],",
			"then layerNorm4RowsAVX512 on those rows of dst in place. dst may be y;",
			"nothing else may overlap it. Reference: AxpyF32 then layerNormGeneric on each row.")
		Load(Param("y").Base(), RSI)
		Load(Param("x").Base(), R14)
		Load(Param("ldx"), R15)
		SHLQ(U8(2), R15) // x row stride in bytes
		ndOff, epsOff = 136, 140
	} else {
		TEXT("layerNorm4RowsAVX512", NOSPLIT, "func(dst, src, gamma, beta []float32, n int, nd, eps float32)")
		Comment("For n > 0 a multiple of 16, rows r < 4 of src[r*n:][:n] into dst[r*n:][:n]:",
			"mean = Σ/nd, den = float32(sqrt(float64(Σ(x−mean)²/nd + eps))), the sums",
			"in DotF32's lane order, dst = float32(float32((x−mean)/den)·gamma) + beta.",
			"Reference: layerNormGeneric on each row.")
		Load(Param("src").Base(), RSI)
	}
	Load(Param("dst").Base(), R10)
	Load(Param("gamma").Base(), RBX)
	Load(Param("beta").Base(), RDX)
	Load(Param("n"), RCX)
	SHLQ(U8(2), RCX) // row bytes
	for i := 1; i < 4; i++ {
		LEAQ(Mem{Base: src[i-1], Index: RCX, Scale: 1}, src[i])
		LEAQ(Mem{Base: dst[i-1], Index: RCX, Scale: 1}, dst[i])
	}
	MOVSS(NewParamAddr("nd", ndOff), X15)
	MOVSS(NewParamAddr("eps", epsOff), X13)
	at := func(b GPPhysical) Mem { return Mem{Base: b, Index: RAX, Scale: 1} }
	ys := []VecPhysical{Y0, Y1, Y2, Y3}
	xs := []VecPhysical{X0, X1, X2, X3}
	for i := range 4 {
		VXORPS(ys[i], ys[i], ys[i])
	}
	XORQ(RAX, RAX)
	if add {
		// The sums of t, written to dst; x's rows from R14 at R15 bytes
		// apart (0: one row for all), walked by RBX (gamma's base is
		// loaded again after this pass).
		MOVL(U32(0x3f800000), EAX)
		VMOVD(EAX, X14)
		VBROADCASTSS(X14, Y14) // 1
		XORQ(RAX, RAX)
		Label("aln4sum")
		MOVQ(R14, RBX)
		for i := range 4 {
			VMOVUPS(Mem{Base: RBX, Index: RAX, Scale: 1}, Y12)
			VMULPS(Y12, Y14, Y12)        // 1·x, alpha the first source
			VADDPS(at(src[i]), Y12, Y12) // + y, the product the first source
			VMOVUPS(Y12, at(dst[i]))
			VADDPS(Y12, ys[i], ys[i])
			if i < 3 {
				ADDQ(R15, RBX)
			}
		}
		ADDQ(U8(32), RAX)
		CMPQ(RAX, RCX)
		JB(LabelRef("aln4sum"))
		// The other passes read t from dst.
		for i := range 4 {
			MOVQ(dst[i], src[i])
		}
		Load(Param("gamma").Base(), RBX)
	} else {
		Label("ln4sum")
		for i := range 4 {
			VADDPS(at(src[i]), ys[i], ys[i])
		}
		ADDQ(U8(32), RAX)
		CMPQ(RAX, RCX)
		JB(LabelRef("ln4sum"))
	}
	mean := []VecPhysical{Z4, Z5, Z6, Z7}
	meanY := []VecPhysical{Y4, Y5, Y6, Y7}
	for i := range 4 {
		attnLanesum(ys[i], xs[i])
		VDIVSS(X15, xs[i], xs[i]) // mean = Σ / nd
		VBROADCASTSS(xs[i], mean[i])
	}
	ss := []VecPhysical{Y8, Y9, Y10, Y11}
	ssX := []VecPhysical{X8, X9, X10, X11}
	den := []VecPhysical{Z8, Z9, Z10, Z11}
	for i := range 4 {
		VXORPS(ss[i], ss[i], ss[i])
	}
	XORQ(RAX, RAX)
	Label("ln4ss")
	for i := range 4 {
		VMOVUPS(at(src[i]), Y12)
		VSUBPS(meanY[i], Y12, Y12)
		VMULPS(Y12, Y12, Y12)
		VADDPS(Y12, ss[i], ss[i])
	}
	ADDQ(U8(32), RAX)
	CMPQ(RAX, RCX)
	JB(LabelRef("ln4ss"))
	for i := range 4 {
		attnLanesum(ss[i], ssX[i])
		VDIVSS(X15, ssX[i], ssX[i]) // ss / nd
		VADDSS(X13, ssX[i], ssX[i]) // + eps
		VCVTSS2SD(ssX[i], ssX[i], ssX[i])
		VSQRTSD(ssX[i], ssX[i], ssX[i])
		VCVTSD2SS(ssX[i], ssX[i], ssX[i])
		VBROADCASTSS(ssX[i], den[i])
	}
	XORQ(RAX, RAX)
	Label("ln4norm")
	VMOVUPS(at(RBX), Z20)
	VMOVUPS(at(RDX), Z21)
	for i := range 4 {
		v := []VecPhysical{Z16, Z17, Z18, Z19}[i]
		VMOVUPS(at(src[i]), v)
		VSUBPS(mean[i], v, v)
		VDIVPS(den[i], v, v)
		VMULPS(Z20, v, v)
		VADDPS(Z21, v, v)
		VMOVUPS(v, at(dst[i]))
	}
	ADDQ(U8(64), RAX)
	CMPQ(RAX, RCX)
	JB(LabelRef("ln4norm"))
	VZEROUPPER()
	RET()
}

// transposeKT emits the Kᵀ block of dotsTAVX512: the keys b[j*ldb:][:k]
// (j < rows ≤ 16; b at RSI, ldb in bytes in R8, rows in R13, k in RBX) as
// rows of 16 floats at R14, kt[d*16+j] = b[j*ldb+d], for d below k
// rounded up to 16 (the rows past k, and the lanes from rows on, zero).
// Each 16×16 block is loaded with the dims past k masked off and the keys
// from rows on not loaded (no read past a row or the last key),
// transposed in four stages of 16 shuffles (VUNPCKLPS/VUNPCKHPS pairs,
// VSHUFPS 4×4 blocks within 128-bit lanes, then two VSHUFF32X4 steps
// across them) and stored as 16 rows. It clobbers RAX, RBX, RCX, RDI,
// R9..R12, K1 and every zmm register.
func transposeKT() {
	MOVQ(R14, RDI)
	LEAQ(Mem{Base: R8, Index: R8, Scale: 2}, R9)   // 3L
	LEAQ(Mem{Base: RSI, Index: R8, Scale: 4}, R10) // keys 4..7
	LEAQ(Mem{Base: R10, Index: R8, Scale: 4}, R11) // keys 8..11
	LEAQ(Mem{Base: R11, Index: R8, Scale: 4}, R12) // keys 12..15
	Label("trloop")
	MOVL(U32(16), ECX)
	CMPQ(RBX, RCX)
	JAE(LabelRef("trmask"))
	MOVL(EBX, ECX)
	Label("trmask")
	MOVL(U32(1), EAX)
	SHLL(CL, EAX)
	DECL(EAX)
	KMOVW(EAX, K1) // the dims of this block below k
	bases := []GPPhysical{RSI, R10, R11, R12}
	for j := 0; j < 16; j++ {
		m := Mem{Base: bases[j/4]}
		switch j % 4 {
		case 1:
			m = m.Idx(R8, 1)
		case 2:
			m = m.Idx(R8, 2)
		case 3:
			m = m.Idx(R9, 1)
		}
		if j > 0 {
			CMPQ(R13, U8(j))
			JBE(LabelRef("trzero" + strconv.Itoa(j)))
		}
		VMOVUPS_Z(m, K1, Z(j))
	}
	JMP(LabelRef("trloaded"))
	// Rows from j on are past the keys: jumping to trzero(j) zeroes them.
	for j := 1; j < 16; j++ {
		Label("trzero" + strconv.Itoa(j))
		VPXORD(Z(j), Z(j), Z(j))
	}
	Label("trloaded")
	// Stage 1: Z(16+2i), Z(17+2i) interleave keys 2i and 2i+1.
	for i := 0; i < 8; i++ {
		VUNPCKLPS(Z(2*i+1), Z(2*i), Z(16+2*i))
		VUNPCKHPS(Z(2*i+1), Z(2*i), Z(17+2*i))
	}
	// Stage 2: Z(4i+c) holds, in 128-bit lane L, keys 4i..4i+3 at dim 4L+c.
	for i := 0; i < 4; i++ {
		t := 16 + 4*i
		VSHUFPS(U8(0x44), Z(t+2), Z(t), Z(4*i))
		VSHUFPS(U8(0xee), Z(t+2), Z(t), Z(4*i+1))
		VSHUFPS(U8(0x44), Z(t+3), Z(t+1), Z(4*i+2))
		VSHUFPS(U8(0xee), Z(t+3), Z(t+1), Z(4*i+3))
	}
	// Stages 3 and 4, per c: the 4×4 transpose of the 128-bit lanes of
	// Z(c), Z(4+c), Z(8+c), Z(12+c), so Z(16+4L+c) holds dim 4L+c.
	for c := 0; c < 4; c++ {
		VSHUFF32X4(U8(0x44), Z(4+c), Z(c), Z(16+c))
		VSHUFF32X4(U8(0xee), Z(4+c), Z(c), Z(20+c))
		VSHUFF32X4(U8(0x44), Z(12+c), Z(8+c), Z(24+c))
		VSHUFF32X4(U8(0xee), Z(12+c), Z(8+c), Z(28+c))
	}
	for c := 0; c < 4; c++ {
		VSHUFF32X4(U8(0x88), Z(24+c), Z(16+c), Z(c))
		VSHUFF32X4(U8(0xdd), Z(24+c), Z(16+c), Z(4+c))
		VSHUFF32X4(U8(0x88), Z(28+c), Z(20+c), Z(8+c))
		VSHUFF32X4(U8(0xdd), Z(28+c), Z(20+c), Z(12+c))
	}
	for d := 0; d < 16; d++ {
		VMOVUPS(Z(d), Mem{Base: RDI, Disp: 64 * d})
	}
	for _, r := range bases {
		ADDQ(U8(64), r)
	}
	ADDQ(U32(1024), RDI)
	SUBQ(U8(16), RBX)
	JGT(LabelRef("trloop"))
}

// dotsTK is the longest row dotsTAVX512 takes: its Kᵀ block, 16·dotsTK
// floats, is in its frame (as kernel.dotsTK).
const dotsTK = 128

// genDotsTAVX512 emits dotsTAVX512: the scores of m query rows against n
// keys with one key per vector lane, so that DotF32's lane sums are whole
// registers and need no horizontal reduction. For each block of 16 keys
// (the last one short, its lanes masked), transposeKT writes their Kᵀ
// into the frame once, and every query row's 16 scores come from it: lane
// sum s_l (l < 8) is a zmm over the 16 keys, s_l = q[l]·Kᵀ[l] +
// q[l+8]·Kᵀ[l+8] + … (VMULPS with q[d] broadcast from memory, key first
// as in dotsF32AVX2, then VADDPS with the sum first), and the tree
// ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)) is seven elementwise adds. The
// reference starts every s_l from +0; here s_l starts from its first
// product, which differs only where every product of s_l is −0 (the sum
// −0 instead of +0), and that sign can reach the tree's result only when
// all eight s_l are −0, so one add of +0 after the tree gives the
// reference's bits. The k mod 8 tail products are then added in order,
// the sum multiplied by alpha and stored under the lane mask. Four rows go
// at a time, each Kᵀ row loaded once for the four; the lane sums are done
// in two halves (s0, s4, s2, s6, then s1, s5, s3, s7) so 16 accumulators
// are live, not 32. The Kᵀ block is a local of the frame, which the Go
// compiler would zero were it a Go array (2 KiB for k = 32: 6% of a
// 16×64×32 call, measured).
func genDotsTAVX512() {
	TEXT("dotsTAVX512", 0, "func(c, a, b []float32, m, n, k, lda, ldb, ldc int, alpha float32)")
	Comment("For m, n > 0 and 8 ≤ k ≤ 128: c[i*ldc+j] = float32(dot(a[i*lda:][:k],",
		"b[j*ldb:][:k]) * alpha), dot DotF32's. Reference: dotsLoop over",
		"dotF32Generic.")
	kt := AllocLocal(16*4*dotsTK + 64)
	bcur := AllocLocal(8) // the block's keys
	ccur := AllocLocal(8) // the block's outputs
	nrem := AllocLocal(8) // keys from the block on
	LEAQ(kt, R14)
	ADDQ(U8(63), R14)
	ANDQ(I8(-64), R14) // Kᵀ, 64-byte aligned
	Load(Param("b").Base(), RAX)
	MOVQ(RAX, bcur)
	Load(Param("c").Base(), RAX)
	MOVQ(RAX, ccur)
	Load(Param("n"), RAX)
	MOVQ(RAX, nrem)

	Label("dt_block")
	MOVQ(bcur, RSI)
	Load(Param("ldb"), R8)
	SHLQ(U8(2), R8)
	MOVL(U32(16), R13L)
	CMPQ(nrem, R13)
	JAE(LabelRef("dt_full"))
	MOVQ(nrem, R13)
	Label("dt_full")
	Load(Param("k"), RBX)
	transposeKT()

	// The block's store mask: its first min(16, nrem) lanes.
	MOVL(U32(16), ECX)
	CMPQ(nrem, RCX)
	JAE(LabelRef("dt_mask"))
	MOVQ(nrem, RCX)
	Label("dt_mask")
	MOVL(U32(1), EBX)
	SHLL(CL, EBX)
	DECL(EBX)
	KMOVW(EBX, K1)
	MOVQ(ccur, RDX)
	Load(Param("a").Base(), RAX)
	Load(Param("lda"), R8)
	SHLQ(U8(2), R8)
	LEAQ(Mem{Base: R8, Index: R8, Scale: 2}, R9) // 3·lda
	Load(Param("ldc"), R10)
	SHLQ(U8(2), R10)
	LEAQ(Mem{Base: R10, Index: R10, Scale: 2}, R11) // 3·ldc
	Load(Param("k"), R12)
	MOVQ(R12, R13)
	SHRQ(U8(3), R12) // whole groups of eight dims
	ANDQ(U8(7), R13) // tail dims
	Load(Param("m"), R15)
	VBROADCASTSS(arg(Param("alpha")), Z29)
	VPXORD(Z28, Z28, Z28)

	CMPQ(R15, U8(4))
	JB(LabelRef("dt_rest"))
	Label("dt_rows4")
	dotsTRows(4, "r4")
	LEAQ(Mem{Base: RAX, Index: R8, Scale: 4}, RAX)
	LEAQ(Mem{Base: RDX, Index: R10, Scale: 4}, RDX)
	SUBQ(U8(4), R15)
	CMPQ(R15, U8(4))
	JAE(LabelRef("dt_rows4"))
	Label("dt_rest")
	CMPQ(R15, U8(2))
	JB(LabelRef("dt_one"))
	JE(LabelRef("dt_two"))
	dotsTRows(3, "r3")
	JMP(LabelRef("dt_next"))
	Label("dt_two")
	dotsTRows(2, "r2")
	JMP(LabelRef("dt_next"))
	Label("dt_one")
	TESTQ(R15, R15)
	JZ(LabelRef("dt_next"))
	dotsTRows(1, "r1")

	Label("dt_next")
	Load(Param("ldb"), RAX)
	SHLQ(U8(6), RAX) // 16 key rows
	ADDQ(RAX, bcur)
	ADDQ(U8(64), ccur)
	SUBQ(U8(16), nrem)
	JG(LabelRef("dt_block"))
	VZEROUPPER()
	RET()
}

// dotsTRows emits one pass of dotsTAVX512 over rows rows (1..4) of a at
// RAX (row stride R8, 3·R8 in R9) into c at RDX (stride R10, 3·R10 in
// R11), with Kᵀ at R14, R12 whole groups of eight dims (≥ 1), R13 tail
// dims, alpha in Z29, +0 in Z28 and the store mask in K1. Registers:
// Z0..Z15 the accumulators (row r, half slot i: Z(4r+i)), Z16..Z19 the
// rows' first half trees, Z20..Z23 Kᵀ rows, Z24..Z27 products; RSI, RDI
// and RCX scratch.
func dotsTRows(rows int, tag string) {
	q := func(r, l int) Mem {
		m := Mem{Base: RSI, Disp: 4 * l}
		switch r {
		case 1:
			m = m.Idx(R8, 1)
		case 2:
			m = m.Idx(R8, 2)
		case 3:
			m = m.Idx(R9, 1)
		}
		return m
	}
	acc := func(r, i int) VecPhysical { return Z(4*r + i) }
	half := func(lanes [4]int, init bool) {
		for i, l := range lanes {
			VMOVUPS(Mem{Base: RDI, Disp: 64 * l}, Z(20+i))
			for r := 0; r < rows; r++ {
				if init {
					VMULPS_BCST(q(r, l), Z(20+i), acc(r, i))
				} else {
					VMULPS_BCST(q(r, l), Z(20+i), Z(24+r))
					VADDPS(Z(24+r), acc(r, i), acc(r, i))
				}
			}
		}
	}
	// pass emits the lane sums of lanes (tree order) over every whole
	// group of dims, then their half tree (a+b)+(c+d) into out(r).
	pass := func(lanes [4]int, name string, out func(r int) VecPhysical) {
		MOVQ(RAX, RSI)
		MOVQ(R14, RDI)
		half(lanes, true)
		MOVQ(R12, RCX)
		DECQ(RCX)
		JZ(LabelRef(name + "_tree"))
		Label(name + "_loop")
		ADDQ(U8(32), RSI)
		ADDQ(U32(512), RDI)
		half(lanes, false)
		DECQ(RCX)
		JNZ(LabelRef(name + "_loop"))
		Label(name + "_tree")
		for r := 0; r < rows; r++ {
			VADDPS(acc(r, 1), acc(r, 0), acc(r, 0))
			VADDPS(acc(r, 3), acc(r, 2), acc(r, 2))
			VADDPS(acc(r, 2), acc(r, 0), out(r))
		}
	}
	pass([4]int{0, 4, 2, 6}, "dt"+tag+"a", func(r int) VecPhysical { return Z(16 + r) })
	pass([4]int{1, 5, 3, 7}, "dt"+tag+"b", func(r int) VecPhysical { return acc(r, 0) })
	for r := 0; r < rows; r++ {
		VADDPS(acc(r, 0), Z(16+r), Z(16+r))
		VADDPS(Z28, Z(16+r), Z(16+r)) // a −0 from all-(−0) lane sums is +0
	}
	// The tail: dims 8·R12 + t for t < R13, added in order.
	MOVQ(R13, RCX)
	TESTQ(RCX, RCX)
	JZ(LabelRef("dt" + tag + "_store"))
	ADDQ(U8(32), RSI)
	ADDQ(U32(512), RDI)
	Label("dt" + tag + "_tail")
	VMOVUPS(Mem{Base: RDI}, Z20)
	for r := 0; r < rows; r++ {
		VMULPS_BCST(q(r, 0), Z20, Z(24+r))
		VADDPS(Z(24+r), Z(16+r), Z(16+r))
	}
	ADDQ(U8(4), RSI)
	ADDQ(U8(64), RDI)
	DECQ(RCX)
	JNZ(LabelRef("dt" + tag + "_tail"))
	Label("dt" + tag + "_store")
	for r := 0; r < rows; r++ {
		VMULPS(Z29, Z(16+r), Z(16+r))
		m := Mem{Base: RDX}
		switch r {
		case 1:
			m = m.Idx(R10, 1)
		case 2:
			m = m.Idx(R10, 2)
		case 3:
			m = m.Idx(R11, 1)
		}
		VMOVUPS(Z(16+r), K1, m)
	}
}
