package main

import (
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
	genLayerNorm4RowsAVX512()

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
// code (exp16, the lane orders). The loops take whole 16-float vectors;
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
	exp16(Z0, Z1)
	VMOVUPS(Z1, Mem{Base: RSI})
	VADDPS(Y1, Y9, Y9)
	VEXTRACTF64X4(U8(1), Z1, Y1)
	VADDPS(Y1, Y9, Y9)
	ADDQ(U8(64), RSI)
	DECQ(RCX)
	JNZ(LabelRef("esloop"))
	Label("esdone")
	VSUBPS(Z8, Z10, Z0)
	exp16(Z0, Z10) // the last values' exponentials
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

// genSoftmax4RowsAVX512 emits softmax4RowsAVX512: softmaxRowAVX512 on
// four rows of n values (n a positive multiple of 16) at a stride of ld
// floats, their passes interleaved so that the four rows' horizontal max
// and sum reductions, exponentials and divisions overlap. Each row's
// instructions and their order are softmaxRowAVX512's, so its bits too.
func genSoftmax4RowsAVX512() {
	TEXT("softmax4RowsAVX512", NOSPLIT, "func(p []float32, ld, n int) (nan bool)")
	Comment("For n > 0 a multiple of 16 and rows p[i*ld:][:n], i < 4: if any",
		"element is NaN, report it and leave p alone; else softmaxRowAVX512",
		"on each row. Reference: softmaxLoop.")
	ptr := []GPPhysical{RSI, RDI, R10, R11}
	mx := []VecPhysical{Z16, Z17, Z18, Z19}  // maxima, then their broadcasts
	ld := []VecPhysical{Z20, Z21, Z22, Z23}  // loaded vectors
	ex := []VecPhysical{Z24, Z25, Z26, Z27}  // exponentials
	sm := []VecPhysical{Z28, Z29, Z30, Z31}  // lane sums, then the sums broadcast
	smY := []VecPhysical{Y28, Y29, Y30, Y31} // their low halves
	exY := []VecPhysical{Y24, Y25, Y26, Y27}
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
	rewind()
	Label("es4loop")
	for i := range 4 {
		VMOVUPS(Mem{Base: ptr[i]}, ld[i])
		VSUBPS(mx[i], ld[i], ld[i]) // x − mx
		exp16(ld[i], ex[i])
		VMOVUPS(ex[i], Mem{Base: ptr[i]})
		VADDPS(exY[i], smY[i], smY[i])
		VEXTRACTF64X4(U8(1), ex[i], Y1)
		VADDPS(Y1, smY[i], smY[i])
	}
	advance()
	JNZ(LabelRef("es4loop"))
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
func genLayerNorm4RowsAVX512() {
	TEXT("layerNorm4RowsAVX512", NOSPLIT, "func(dst, src, gamma, beta []float32, n int, nd, eps float32)")
	Comment("For n > 0 a multiple of 16, rows r < 4 of src[r*n:][:n] into dst[r*n:][:n]:",
		"mean = Σ/nd, den = float32(sqrt(float64(Σ(x−mean)²/nd + eps))), the sums",
		"in DotF32's lane order, dst = float32(float32((x−mean)/den)·gamma) + beta.",
		"Reference: layerNormGeneric on each row.")
	src := []GPPhysical{RSI, RDI, R8, R9}
	dst := []GPPhysical{R10, R11, R12, R13}
	Load(Param("src").Base(), RSI)
	Load(Param("dst").Base(), R10)
	Load(Param("gamma").Base(), RBX)
	Load(Param("beta").Base(), RDX)
	Load(Param("n"), RCX)
	SHLQ(U8(2), RCX) // row bytes
	for i := 1; i < 4; i++ {
		LEAQ(Mem{Base: src[i-1], Index: RCX, Scale: 1}, src[i])
		LEAQ(Mem{Base: dst[i-1], Index: RCX, Scale: 1}, dst[i])
	}
	MOVSS(NewParamAddr("nd", 104), X15)
	MOVSS(NewParamAddr("eps", 108), X13)
	at := func(b GPPhysical) Mem { return Mem{Base: b, Index: RAX, Scale: 1} }
	ys := []VecPhysical{Y0, Y1, Y2, Y3}
	xs := []VecPhysical{X0, X1, X2, X3}
	for i := range 4 {
		VXORPS(ys[i], ys[i], ys[i])
	}
	XORQ(RAX, RAX)
	Label("ln4sum")
	for i := range 4 {
		VADDPS(at(src[i]), ys[i], ys[i])
	}
	ADDQ(U8(32), RAX)
	CMPQ(RAX, RCX)
	JB(LabelRef("ln4sum"))
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
