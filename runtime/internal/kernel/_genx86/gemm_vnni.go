package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

//go:generate go run . -kernel gemm_vnni -pkg kernel -out ../gemm_vnni_amd64.s

func init() { register("gemm_vnni", genGemmVNNI) }

// genGemmVNNI writes gemm_vnni_amd64.s.
//
// AVX-VNNI kernels. The Go assembler only knows the EVEX (AVX-512) form of
// VPDPBUSD, so the VEX form is spelled in BYTEs, each line followed by its
// mnemonic; TestVNNIEncoding checks every line against an encoder that is
// itself checked against llvm-mc's encodings.
//
// VPDPBUSD multiplies unsigned bytes of the first source by signed bytes
// of the second and adds groups of four into int32 lanes, with no
// intermediate saturation: exact for every u8 activation and every int8
// weight, −128 included, so no shift and no correction are needed.
func genGemmVNNI() {
	TEXT("gemmI8VNNI", NOSPLIT, "func(c []int32, a []uint8, b []int8, m, n, k, lda, ldb, ldc, bs int)")
	Comment("For full 2×4 tiles only (m even, n a multiple of 4, k a multiple of 32, k > 0),",
		"with the weights of row j, bytes 32q..32q+31, at b[j*ldb + q*bs:]:",
		"",
		"\tfor i < m, j < n: c[i*ldc+j] = Σ_{p<k} int32(a[i*lda+p]) * int32(b[j*ldb+(p/32)*bs+p%32])",
		"",
		"bs is 32 for row-major weights, 256 within a group of the grouped",
		"layout (see groupRows8). Reference: gemmI8Generic (through gemmI8VNNITiles).")
	MOVQ(arg(Param("c").Base()), R12)
	MOVQ(arg(Param("a").Base()), RSI)
	MOVQ(arg(Param("m")), R14)
	MOVQ(arg(Param("lda")), R9)
	MOVQ(arg(Param("ldb")), R10)
	MOVQ(arg(Param("ldc")), R11)
	SHLQ(Imm(2), R11)
	Label("vrowloop")
	CMPQ(R14, Imm(2))
	JLT(LabelRef("vdone"))
	MOVQ(arg(Param("b").Base()), RBX)
	MOVQ(R12, RCX)
	MOVQ(arg(Param("n")), R8)
	Label("vcolloop")
	CMPQ(R8, Imm(4))
	JLT(LabelRef("vnextrows"))
	zeroY(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7)
	MOVQ(RSI, RDI)
	LEAQ(Mem{Base: RSI, Index: R9, Scale: 1}, RAX)
	MOVQ(RBX, R13)
	LEAQ(Mem{Base: RBX, Index: R10, Scale: 2}, R15)
	MOVQ(arg(Param("k")), RDX)
	Label("vkloop")
	VMOVDQU(Mem{Base: RDI}, Y8)
	VMOVDQU(Mem{Base: RAX}, Y9)
	VMOVDQU(Mem{Base: R13}, Y10)
	VMOVDQU(Mem{Base: R13, Index: R10, Scale: 1}, Y11)
	VMOVDQU(Mem{Base: R15}, Y12)
	VMOVDQU(Mem{Base: R15, Index: R10, Scale: 1}, Y13)
	vexVPDPBUSD(Y0, Y8, Y10)
	vexVPDPBUSD(Y1, Y8, Y11)
	vexVPDPBUSD(Y2, Y8, Y12)
	vexVPDPBUSD(Y3, Y8, Y13)
	vexVPDPBUSD(Y4, Y9, Y10)
	vexVPDPBUSD(Y5, Y9, Y11)
	vexVPDPBUSD(Y6, Y9, Y12)
	vexVPDPBUSD(Y7, Y9, Y13)
	ADDQ(Imm(32), RDI)
	ADDQ(Imm(32), RAX)
	ADDQ(arg(Param("bs")), R13)
	ADDQ(arg(Param("bs")), R15)
	SUBQ(Imm(32), RDX)
	JGT(LabelRef("vkloop"))
	hsum4D(Y0, Y1, Y2, Y3, X8, Mem{Base: RCX})
	hsum4D(Y4, Y5, Y6, Y7, X8, Mem{Base: RCX, Index: R11, Scale: 1})
	LEAQ(Mem{Base: RBX, Index: R10, Scale: 4}, RBX)
	ADDQ(Imm(16), RCX)
	SUBQ(Imm(4), R8)
	JMP(LabelRef("vcolloop"))
	Label("vnextrows")
	LEAQ(Mem{Base: RSI, Index: R9, Scale: 2}, RSI)
	LEAQ(Mem{Base: R12, Index: R11, Scale: 2}, R12)
	SUBQ(Imm(2), R14)
	JMP(LabelRef("vrowloop"))
	Label("vdone")
	VZEROUPPER()
	RET()

	TEXT("gemvI8VNNI", NOSPLIT, "func(c []int32, a []uint8, b []int8, n, k, ldb int)")
	Comment("One activation row against n weight rows (n a multiple of 4, k a",
		"multiple of 32 and > 0):",
		"",
		"\tfor j < n: c[j] = Σ_{p<k} int32(a[p]) * int32(b[j*ldb+p])",
		"",
		"Reference: gemmI8Generic (through gemmI8VNNITiles).")
	MOVQ(arg(Param("c").Base()), RCX)
	MOVQ(arg(Param("a").Base()), RSI)
	MOVQ(arg(Param("b").Base()), RBX)
	MOVQ(arg(Param("n")), R8)
	MOVQ(arg(Param("ldb")), R10)
	Label("wcolloop")
	CMPQ(R8, Imm(4))
	JLT(LabelRef("wdone"))
	zeroY(Y0, Y1, Y2, Y3)
	MOVQ(RSI, RDI)
	MOVQ(RBX, R13)
	LEAQ(Mem{Base: RBX, Index: R10, Scale: 2}, R15)
	MOVQ(arg(Param("k")), RDX)
	Label("wkloop")
	VMOVDQU(Mem{Base: RDI}, Y8)
	VMOVDQU(Mem{Base: R13}, Y10)
	VMOVDQU(Mem{Base: R13, Index: R10, Scale: 1}, Y11)
	VMOVDQU(Mem{Base: R15}, Y12)
	VMOVDQU(Mem{Base: R15, Index: R10, Scale: 1}, Y13)
	vexVPDPBUSD(Y0, Y8, Y10)
	vexVPDPBUSD(Y1, Y8, Y11)
	vexVPDPBUSD(Y2, Y8, Y12)
	vexVPDPBUSD(Y3, Y8, Y13)
	ADDQ(Imm(32), RDI)
	ADDQ(Imm(32), R13)
	ADDQ(Imm(32), R15)
	SUBQ(Imm(32), RDX)
	JGT(LabelRef("wkloop"))
	hsum4D(Y0, Y1, Y2, Y3, X8, Mem{Base: RCX})
	LEAQ(Mem{Base: RBX, Index: R10, Scale: 4}, RBX)
	ADDQ(Imm(16), RCX)
	SUBQ(Imm(4), R8)
	JMP(LabelRef("wcolloop"))
	Label("wdone")
	VZEROUPPER()
	RET()

	TEXT("gemvI8VNNIRows8", NOSPLIT, "func(c []int32, a []uint8, p []int8, n, k, skip int)")
	Comment("One activation row against n weight rows in the grouped layout (n a",
		"multiple of 8, k a multiple of 32 and > 0; each group's 8·k bytes of",
		"interleaved blocks followed by skip bytes that are not read):",
		"",
		"\tfor j < n: c[j] = Σ_{q<k} int32(a[q]) * int32(w[j][q])",
		"",
		"Each step loads 32 activations once and the 8 rows' next 32 weights",
		"from one sequential stream, 8 independent accumulators, and prefetches",
		"the stream 2 KB ahead (measured: without it, the 4 MB weights of a",
		"4096×1024 layer streamed from L3 at times a fifth slower).",
		"",
		"Reference: gemmI8Generic (through gemmI8VNNITiles).")
	MOVQ(arg(Param("c").Base()), RCX)
	MOVQ(arg(Param("a").Base()), RSI)
	MOVQ(arg(Param("p").Base()), R13)
	MOVQ(arg(Param("n")), R8)
	Label("rgrouploop")
	CMPQ(R8, Imm(8))
	JLT(LabelRef("rdone"))
	zeroY(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7)
	MOVQ(RSI, RDI)
	MOVQ(arg(Param("k")), RDX)
	Label("rkloop")
	for line := range 4 { // this step's 256 bytes, 2 KB ahead
		PREFETCHT0(Mem{Base: R13, Disp: 2048 + 64*line})
	}
	VMOVDQU(Mem{Base: RDI}, Y8)
	// Row r's 32 weights through Y9..Y15 in turn into accumulator Yr.
	acc := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7}
	w := []VecPhysical{Y9, Y10, Y11, Y12, Y13, Y14, Y15}
	for r := range 8 {
		VMOVDQU(Mem{Base: R13, Disp: 32 * r}, w[r%7])
		vexVPDPBUSD(acc[r], Y8, w[r%7])
	}
	ADDQ(Imm(32), RDI)
	ADDQ(U32(256), R13)
	SUBQ(Imm(32), RDX)
	JGT(LabelRef("rkloop"))
	Comment("Y0..Y3 → rows 0..3, Y4..Y7 → rows 4..7, each row's two 128-bit",
		"halves still apart; add them and store the 8 sums.")
	VPHADDD(Y1, Y0, Y0)
	VPHADDD(Y3, Y2, Y2)
	VPHADDD(Y2, Y0, Y0)
	VPHADDD(Y5, Y4, Y4)
	VPHADDD(Y7, Y6, Y6)
	VPHADDD(Y6, Y4, Y4)
	VPERM2I128(Imm(0x20), Y4, Y0, Y8)
	VPERM2I128(Imm(0x31), Y4, Y0, Y9)
	VPADDD(Y9, Y8, Y8)
	VMOVDQU(Y8, Mem{Base: RCX})
	ADDQ(arg(Param("skip")), R13)
	ADDQ(Imm(32), RCX)
	SUBQ(Imm(8), R8)
	JMP(LabelRef("rgrouploop"))
	Label("rdone")
	VZEROUPPER()
	RET()
}
