package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

//go:generate go run . -kernel gemm_avx2 -pkg kernel -out ../gemm_avx2_amd64.s

func init() { register("gemm_avx2", genGemmAVX2) }

// genGemmAVX2 writes gemm_avx2_amd64.s.
func genGemmAVX2() {
	TEXT("gemmI8AVX2", NOSPLIT, "func(c []int32, a []uint8, b []int8, m, n, k, lda, ldb, ldc int)")
	Comment("For full 2×4 tiles only (m even, n a multiple of 4, k a multiple of 32,",
		"k > 0), with a' = a − 128:",
		"",
		"\tfor i < m, j < n: c[i*ldc+j] = Σ_{p<k} int32(a[i*lda+p]−128) * int32(b[j*ldb+p])",
		"",
		"Each product pair goes through VPMADDUBSW as |a'| · (b·sign(a')): |a'| ≤ 128",
		"and |b| ≤ 127, so a pair sums to at most 2·128·127 = 32512 and the int16",
		"lanes never saturate. Weights must therefore be in −127..127 (the v1",
		"quantizer never produces −128). The caller adds 128·Σb to undo the shift.",
		"Reference: gemmI8Generic (through gemmI8AVX2Tiles).")
	MOVQ(arg(Param("c").Base()), R12)
	MOVQ(arg(Param("a").Base()), RSI)
	MOVQ(arg(Param("m")), R14)
	MOVQ(arg(Param("lda")), R9)
	MOVQ(arg(Param("ldb")), R10)
	MOVQ(arg(Param("ldc")), R11)
	SHLQ(Imm(2), R11)                // ldc in bytes
	broadcastD(0x80808080, X15, Y15) // 0x80 in every byte
	broadcastD(0x00010001, X14, Y14) // 1 in every int16
	Label("rowloop")
	CMPQ(R14, Imm(2))
	JLT(LabelRef("done"))
	MOVQ(arg(Param("b").Base()), RBX) // weight rows of this column block
	MOVQ(R12, RCX)                    // outputs of this column block
	MOVQ(arg(Param("n")), R8)         // columns left
	Label("colloop")
	CMPQ(R8, Imm(4))
	JLT(LabelRef("nextrows"))
	zeroY(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7)
	MOVQ(RSI, RDI)                                 // a row 0
	LEAQ(Mem{Base: RSI, Index: R9, Scale: 1}, RAX) // a row 1
	MOVQ(RBX, R13)                                 // weight row j
	MOVQ(arg(Param("k")), RDX)                     // bytes of k left
	Label("kloop")
	VMOVDQU(Mem{Base: RDI}, Y8)
	VPXOR(Y15, Y8, Y8) // a0' = a0 − 128, as int8
	VPABSB(Y8, Y9)     // |a0'|
	VMOVDQU(Mem{Base: RAX}, Y10)
	VPXOR(Y15, Y10, Y10)
	VPABSB(Y10, Y11)
	Comment("column 0")
	VMOVDQU(Mem{Base: R13}, Y12)
	gemmI8AVX2MAC(Y8, Y9, Y0)
	gemmI8AVX2MAC(Y10, Y11, Y4)
	LEAQ(Mem{Base: R13, Index: R10, Scale: 1}, R15)
	Comment("column 1")
	VMOVDQU(Mem{Base: R15}, Y12)
	gemmI8AVX2MAC(Y8, Y9, Y1)
	gemmI8AVX2MAC(Y10, Y11, Y5)
	ADDQ(R10, R15)
	Comment("column 2")
	VMOVDQU(Mem{Base: R15}, Y12)
	gemmI8AVX2MAC(Y8, Y9, Y2)
	gemmI8AVX2MAC(Y10, Y11, Y6)
	ADDQ(R10, R15)
	Comment("column 3")
	VMOVDQU(Mem{Base: R15}, Y12)
	gemmI8AVX2MAC(Y8, Y9, Y3)
	gemmI8AVX2MAC(Y10, Y11, Y7)
	ADDQ(Imm(32), RDI)
	ADDQ(Imm(32), RAX)
	ADDQ(Imm(32), R13)
	SUBQ(Imm(32), RDX)
	JGT(LabelRef("kloop"))
	Comment("Horizontal sums: row 0 from Y0..Y3, row 1 from Y4..Y7.")
	hsum4D(Y0, Y1, Y2, Y3, X8, Mem{Base: RCX})
	hsum4D(Y4, Y5, Y6, Y7, X8, Mem{Base: RCX, Index: R11, Scale: 1})
	LEAQ(Mem{Base: RBX, Index: R10, Scale: 4}, RBX) // next 4 weight rows
	ADDQ(Imm(16), RCX)                              // next 4 outputs
	SUBQ(Imm(4), R8)
	JMP(LabelRef("colloop"))
	Label("nextrows")
	LEAQ(Mem{Base: RSI, Index: R9, Scale: 2}, RSI)  // a += 2 rows
	LEAQ(Mem{Base: R12, Index: R11, Scale: 2}, R12) // c += 2 rows
	SUBQ(Imm(2), R14)
	JMP(LabelRef("rowloop"))
	Label("done")
	VZEROUPPER()
	RET()

	TEXT("gemvI8AVX2", NOSPLIT, "func(c []int32, a []uint8, b []int8, n, k, ldb int)")
	Comment("One activation row against n weight rows (n a multiple of 4, k a",
		"multiple of 32 and > 0), with a' = a − 128:",
		"",
		"\tfor j < n: c[j] = Σ_{p<k} int32(a[p]−128) * int32(b[j*ldb+p])",
		"",
		"Same saturation argument and weight range as gemmI8AVX2.",
		"Reference: gemmI8Generic, through gemmI8AVX2Tiles.")
	MOVQ(arg(Param("c").Base()), RCX)
	MOVQ(arg(Param("a").Base()), RSI)
	MOVQ(arg(Param("b").Base()), RBX)
	MOVQ(arg(Param("n")), R8)
	MOVQ(arg(Param("ldb")), R10)
	broadcastD(0x80808080, X15, Y15)
	broadcastD(0x00010001, X14, Y14)
	Label("gcolloop")
	CMPQ(R8, Imm(4))
	JLT(LabelRef("gdone"))
	zeroY(Y0, Y1, Y2, Y3)
	MOVQ(RSI, RDI)
	MOVQ(RBX, R13)
	MOVQ(arg(Param("k")), RDX)
	Label("gkloop")
	VMOVDQU(Mem{Base: RDI}, Y8)
	VPXOR(Y15, Y8, Y8)
	VPABSB(Y8, Y9)
	VMOVDQU(Mem{Base: R13}, Y12)
	gemmI8AVX2MAC(Y8, Y9, Y0)
	LEAQ(Mem{Base: R13, Index: R10, Scale: 1}, R15)
	VMOVDQU(Mem{Base: R15}, Y12)
	gemmI8AVX2MAC(Y8, Y9, Y1)
	ADDQ(R10, R15)
	VMOVDQU(Mem{Base: R15}, Y12)
	gemmI8AVX2MAC(Y8, Y9, Y2)
	ADDQ(R10, R15)
	VMOVDQU(Mem{Base: R15}, Y12)
	gemmI8AVX2MAC(Y8, Y9, Y3)
	ADDQ(Imm(32), RDI)
	ADDQ(Imm(32), R13)
	SUBQ(Imm(32), RDX)
	JGT(LabelRef("gkloop"))
	hsum4D(Y0, Y1, Y2, Y3, X8, Mem{Base: RCX})
	LEAQ(Mem{Base: RBX, Index: R10, Scale: 4}, RBX)
	ADDQ(Imm(16), RCX)
	SUBQ(Imm(4), R8)
	JMP(LabelRef("gcolloop"))
	Label("gdone")
	VZEROUPPER()
	RET()
}

// gemmI8AVX2MAC emits one shifted-activation multiply-accumulate of
// gemmI8AVX2: acc += Σ pairs |a'|·(b·sign(a')) for the weights in Y12,
// a' in sa, |a'| in abs, through Y13, with Y14 holding 1 in every int16.
func gemmI8AVX2MAC(sa, abs, acc VecPhysical) {
	VPSIGNB(sa, Y12, Y13)
	VPMADDUBSW(Y13, abs, Y13)
	VPMADDWD(Y14, Y13, Y13)
	VPADDD(Y13, acc, acc)
}
