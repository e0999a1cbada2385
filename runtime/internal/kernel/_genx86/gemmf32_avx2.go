package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

//go:generate go run . -kernel gemmf32_avx2 -pkg kernel -out ../gemmf32_avx2_amd64.s

func init() { register("gemmf32_avx2", genGemmf32AVX2) }

// genGemmf32AVX2 writes gemmf32_avx2_amd64.s.
//
// Every output of both kernels below is computed the same way, whatever
// tile or loop computes it: one 8-lane accumulator, acc[l] += a[p]·b[p]
// for p ≡ l (mod 8) in increasing p with VFMADD231PS (one rounding per
// step), then the fixed tree
//
//	((acc0+acc1) + (acc2+acc3)) + ((acc4+acc5) + (acc6+acc7))
//
// (two VHADDPS levels, then the high 128-bit half added to the low one).
// So an output's bits depend only on its a row, its b row and k, never on
// where the column range starts or how it is split between workers.
func genGemmf32AVX2() {
	TEXT("gemmF32AVX2", NOSPLIT, "func(c []float32, a []float32, b []float32, m, n, k, lda, ldb, ldc int)")
	Comment("For full 4×3 tiles only (m a multiple of 4, n a multiple of 3, k a",
		"multiple of 8, k > 0):",
		"",
		"\tfor i < m, j < n: c[i*ldc+j] = Σ_{p<k} a[i*lda+p] * b[j*ldb+p]",
		"",
		"Per 8 values of k it loads 3 weight vectors and 4 activation vectors",
		"for 12 FMAs into 12 accumulators (Y0..Y11: row i, column j in Y(3i+j)).",
		"Rows go in the outer loop, so a 4-row block of a stays in L1 while the",
		"weight rows stream from L2 (the Go wrapper passes panels that fit).",
		"Reference: gemmF32Generic, through gemmF32AVX2Tiles.")
	MOVQ(arg(Param("c").Base()), R12) // c, current row block
	MOVQ(arg(Param("a").Base()), RSI) // a, current row block
	MOVQ(arg(Param("m")), R14)        // rows left
	MOVQ(arg(Param("lda")), R9)
	SHLQ(Imm(2), R9) // lda in bytes
	MOVQ(arg(Param("ldb")), R10)
	SHLQ(Imm(2), R10) // ldb in bytes
	MOVQ(arg(Param("ldc")), R11)
	SHLQ(Imm(2), R11) // ldc in bytes
	Label("rowloop")
	CMPQ(R14, Imm(4))
	JLT(LabelRef("done"))
	MOVQ(arg(Param("b").Base()), RBX) // weight rows of this column block
	MOVQ(R12, RCX)                    // outputs of this column block
	MOVQ(arg(Param("n")), R8)         // columns left
	Label("colloop")
	CMPQ(R8, Imm(3))
	JLT(LabelRef("nextrows"))
	zeroPS(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11)
	MOVQ(RSI, RDI) // a rows 0..2 at (DI), (DI)(R9*1), (DI)(R9*2)
	LEAQ(Mem{Base: RSI, Index: R9, Scale: 2}, RAX)
	ADDQ(R9, RAX)              // a row 3
	MOVQ(RBX, R13)             // weight rows j..j+2 at (R13), (R13)(R10*1), (R13)(R10*2)
	MOVQ(arg(Param("k")), RDX) // floats of k left
	Label("kloop")
	VMOVUPS(Mem{Base: R13}, Y12)
	VMOVUPS(Mem{Base: R13, Index: R10, Scale: 1}, Y13)
	VMOVUPS(Mem{Base: R13, Index: R10, Scale: 2}, Y14)
	acc := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11}
	rows := []Mem{{Base: RDI}, {Base: RDI, Index: R9, Scale: 1}, {Base: RDI, Index: R9, Scale: 2}, {Base: RAX}}
	for i, row := range rows {
		VMOVUPS(row, Y15)
		for j, w := range []VecPhysical{Y12, Y13, Y14} {
			VFMADD231PS(w, Y15, acc[3*i+j])
		}
	}
	ADDQ(Imm(32), RDI)
	ADDQ(Imm(32), RAX)
	ADDQ(Imm(32), R13)
	SUBQ(Imm(8), RDX)
	JGT(LabelRef("kloop"))
	Comment("Horizontal sums, three outputs per row: the fourth lane of each",
		"result is a duplicate and is not stored.")
	hsum4PS(Y0, Y1, Y2, Y2, X12)
	VMOVSD(X0, Mem{Base: RCX})
	VEXTRACTPS(Imm(2), X0, Mem{Base: RCX, Disp: 8})
	hsum4PS(Y3, Y4, Y5, Y5, X12)
	VMOVSD(X3, Mem{Base: RCX, Index: R11, Scale: 1})
	VEXTRACTPS(Imm(2), X3, Mem{Base: RCX, Disp: 8, Index: R11, Scale: 1})
	hsum4PS(Y6, Y7, Y8, Y8, X12)
	VMOVSD(X6, Mem{Base: RCX, Index: R11, Scale: 2})
	VEXTRACTPS(Imm(2), X6, Mem{Base: RCX, Disp: 8, Index: R11, Scale: 2})
	LEAQ(Mem{Base: RCX, Index: R11, Scale: 2}, RDI)
	ADDQ(R11, RDI) // c row 3
	hsum4PS(Y9, Y10, Y11, Y11, X12)
	VMOVSD(X9, Mem{Base: RDI})
	VEXTRACTPS(Imm(2), X9, Mem{Base: RDI, Disp: 8})
	LEAQ(Mem{Base: RBX, Index: R10, Scale: 2}, RBX)
	ADDQ(R10, RBX)     // next 3 weight rows
	ADDQ(Imm(12), RCX) // next 3 outputs
	SUBQ(Imm(3), R8)
	JMP(LabelRef("colloop"))
	Label("nextrows")
	LEAQ(Mem{Base: RSI, Index: R9, Scale: 4}, RSI)  // a += 4 rows
	LEAQ(Mem{Base: R12, Index: R11, Scale: 4}, R12) // c += 4 rows
	SUBQ(Imm(4), R14)
	JMP(LabelRef("rowloop"))
	Label("done")
	VZEROUPPER()
	RET()

	TEXT("gemvF32AVX2", NOSPLIT, "func(c []float32, x []float32, b []float32, n, k, ldb, incc int)")
	Comment("One vector against n rows (any n; k a multiple of 8, k > 0), outputs",
		"incc apart:",
		"",
		"\tfor j < n: c[j*incc] = Σ_{p<k} x[p] * b[j*ldb+p]",
		"",
		"Groups of 8 rows (8 accumulators, enough to hide the FMA latency), then",
		"of 4, then single rows. The Go wrapper uses it for the rows of a that",
		"do not fill a 4-row tile (x = a row, b = weights, incc = 1) and for the",
		"columns that do not fill a 3-column tile (x = a weight row, b = a,",
		"incc = ldc): products commute exactly, so either way every output has",
		"the bits gemmF32AVX2 would give it. Reference: gemmF32Generic, through",
		"gemmF32AVX2Tiles.")
	MOVQ(arg(Param("c").Base()), RCX)
	MOVQ(arg(Param("x").Base()), RSI)
	MOVQ(arg(Param("b").Base()), RBX)
	MOVQ(arg(Param("n")), R8)
	MOVQ(arg(Param("k")), R9)
	MOVQ(arg(Param("ldb")), R10)
	SHLQ(Imm(2), R10) // ldb in bytes
	MOVQ(arg(Param("incc")), R11)
	SHLQ(Imm(2), R11) // incc in bytes
	Label("g8loop")
	CMPQ(R8, Imm(8))
	JLT(LabelRef("g4loop"))
	zeroPS(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7)
	MOVQ(RSI, RDI) // x
	MOVQ(RBX, R13) // rows 0..2
	LEAQ(Mem{Base: RBX, Index: R10, Scale: 2}, R14)
	ADDQ(R10, R14) // rows 3..5
	LEAQ(Mem{Base: R14, Index: R10, Scale: 2}, R15)
	ADDQ(R10, R15) // rows 6, 7
	MOVQ(R9, RDX)
	Label("g8k")
	VMOVUPS(Mem{Base: RDI}, Y8)
	VFMADD231PS(Mem{Base: R13}, Y8, Y0)
	VFMADD231PS(Mem{Base: R13, Index: R10, Scale: 1}, Y8, Y1)
	VFMADD231PS(Mem{Base: R13, Index: R10, Scale: 2}, Y8, Y2)
	VFMADD231PS(Mem{Base: R14}, Y8, Y3)
	VFMADD231PS(Mem{Base: R14, Index: R10, Scale: 1}, Y8, Y4)
	VFMADD231PS(Mem{Base: R14, Index: R10, Scale: 2}, Y8, Y5)
	VFMADD231PS(Mem{Base: R15}, Y8, Y6)
	VFMADD231PS(Mem{Base: R15, Index: R10, Scale: 1}, Y8, Y7)
	ADDQ(Imm(32), RDI)
	ADDQ(Imm(32), R13)
	ADDQ(Imm(32), R14)
	ADDQ(Imm(32), R15)
	SUBQ(Imm(8), RDX)
	JGT(LabelRef("g8k"))
	hsum4PS(Y0, Y1, Y2, Y3, X8)
	hsum4PS(Y4, Y5, Y6, Y7, X8)
	MOVQ(RCX, RDI)
	VMOVSS(X0, Mem{Base: RDI})
	VEXTRACTPS(Imm(1), X0, Mem{Base: RDI, Index: R11, Scale: 1})
	VEXTRACTPS(Imm(2), X0, Mem{Base: RDI, Index: R11, Scale: 2})
	LEAQ(Mem{Base: RDI, Index: R11, Scale: 2}, RDI)
	ADDQ(R11, RDI)
	VEXTRACTPS(Imm(3), X0, Mem{Base: RDI})
	VMOVSS(X4, Mem{Base: RDI, Index: R11, Scale: 1})
	VEXTRACTPS(Imm(1), X4, Mem{Base: RDI, Index: R11, Scale: 2})
	LEAQ(Mem{Base: RDI, Index: R11, Scale: 2}, RDI)
	ADDQ(R11, RDI)
	VEXTRACTPS(Imm(2), X4, Mem{Base: RDI})
	VEXTRACTPS(Imm(3), X4, Mem{Base: RDI, Index: R11, Scale: 1})
	LEAQ(Mem{Base: RBX, Index: R10, Scale: 8}, RBX) // next 8 rows
	LEAQ(Mem{Base: RCX, Index: R11, Scale: 8}, RCX) // next 8 outputs
	SUBQ(Imm(8), R8)
	JMP(LabelRef("g8loop"))
	Label("g4loop")
	CMPQ(R8, Imm(4))
	JLT(LabelRef("g1loop"))
	zeroPS(Y0, Y1, Y2, Y3)
	MOVQ(RSI, RDI)
	MOVQ(RBX, R13)
	LEAQ(Mem{Base: RBX, Index: R10, Scale: 2}, R14)
	ADDQ(R10, R14)
	MOVQ(R9, RDX)
	Label("g4k")
	VMOVUPS(Mem{Base: RDI}, Y8)
	VFMADD231PS(Mem{Base: R13}, Y8, Y0)
	VFMADD231PS(Mem{Base: R13, Index: R10, Scale: 1}, Y8, Y1)
	VFMADD231PS(Mem{Base: R13, Index: R10, Scale: 2}, Y8, Y2)
	VFMADD231PS(Mem{Base: R14}, Y8, Y3)
	ADDQ(Imm(32), RDI)
	ADDQ(Imm(32), R13)
	ADDQ(Imm(32), R14)
	SUBQ(Imm(8), RDX)
	JGT(LabelRef("g4k"))
	hsum4PS(Y0, Y1, Y2, Y3, X8)
	VMOVSS(X0, Mem{Base: RCX})
	VEXTRACTPS(Imm(1), X0, Mem{Base: RCX, Index: R11, Scale: 1})
	VEXTRACTPS(Imm(2), X0, Mem{Base: RCX, Index: R11, Scale: 2})
	LEAQ(Mem{Base: RCX, Index: R11, Scale: 2}, RDI)
	ADDQ(R11, RDI)
	VEXTRACTPS(Imm(3), X0, Mem{Base: RDI})
	LEAQ(Mem{Base: RBX, Index: R10, Scale: 4}, RBX)
	LEAQ(Mem{Base: RCX, Index: R11, Scale: 4}, RCX)
	SUBQ(Imm(4), R8)
	JMP(LabelRef("g4loop"))
	Label("g1loop")
	CMPQ(R8, Imm(1))
	JLT(LabelRef("gdone"))
	VXORPS(Y0, Y0, Y0)
	MOVQ(RSI, RDI)
	MOVQ(RBX, R13)
	MOVQ(R9, RDX)
	Label("g1k")
	VMOVUPS(Mem{Base: RDI}, Y8)
	VFMADD231PS(Mem{Base: R13}, Y8, Y0)
	ADDQ(Imm(32), RDI)
	ADDQ(Imm(32), R13)
	SUBQ(Imm(8), RDX)
	JGT(LabelRef("g1k"))
	VHADDPS(Y0, Y0, Y0)
	VHADDPS(Y0, Y0, Y0)
	VEXTRACTF128(Imm(1), Y0, X8)
	VADDSS(X8, X0, X0)
	VMOVSS(X0, Mem{Base: RCX})
	ADDQ(R10, RBX)
	ADDQ(R11, RCX)
	DECQ(R8)
	JMP(LabelRef("g1loop"))
	Label("gdone")
	VZEROUPPER()
	RET()
}
