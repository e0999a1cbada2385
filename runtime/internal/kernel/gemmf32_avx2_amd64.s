//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

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

// func gemmF32AVX2(c []float32, a []float32, b []float32, m, n, k, lda, ldb, ldc int)
//
// For full 4×3 tiles only (m a multiple of 4, n a multiple of 3, k a
// multiple of 8, k > 0):
//
//	for i < m, j < n: c[i*ldc+j] = Σ_{p<k} a[i*lda+p] * b[j*ldb+p]
//
// Per 8 values of k it loads 3 weight vectors and 4 activation vectors
// for 12 FMAs into 12 accumulators (Y0..Y11: row i, column j in Y(3i+j)).
// Rows go in the outer loop, so a 4-row block of a stays in L1 while the
// weight rows stream from L2 (the Go wrapper passes panels that fit).
// Reference: gemmF32Generic, through gemmF32AVX2Tiles.
TEXT ·gemmF32AVX2(SB), NOSPLIT, $0-120
	MOVQ c_base+0(FP), R12          // c, current row block
	MOVQ a_base+24(FP), SI          // a, current row block
	MOVQ m+72(FP), R14              // rows left
	MOVQ lda+96(FP), R9
	SHLQ $2, R9                     // lda in bytes
	MOVQ ldb+104(FP), R10
	SHLQ $2, R10                    // ldb in bytes
	MOVQ ldc+112(FP), R11
	SHLQ $2, R11                    // ldc in bytes

rowloop:
	CMPQ R14, $4
	JLT  done
	MOVQ b_base+48(FP), BX          // weight rows of this column block
	MOVQ R12, CX                    // outputs of this column block
	MOVQ n+80(FP), R8               // columns left

colloop:
	CMPQ R8, $3
	JLT  nextrows
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	MOVQ SI, DI                     // a rows 0..2 at (DI), (DI)(R9*1), (DI)(R9*2)
	LEAQ (SI)(R9*2), AX
	ADDQ R9, AX                     // a row 3
	MOVQ BX, R13                    // weight rows j..j+2 at (R13), (R13)(R10*1), (R13)(R10*2)
	MOVQ k+88(FP), DX               // floats of k left

kloop:
	VMOVUPS (R13), Y12
	VMOVUPS (R13)(R10*1), Y13
	VMOVUPS (R13)(R10*2), Y14

	VMOVUPS     (DI), Y15
	VFMADD231PS Y12, Y15, Y0
	VFMADD231PS Y13, Y15, Y1
	VFMADD231PS Y14, Y15, Y2
	VMOVUPS     (DI)(R9*1), Y15
	VFMADD231PS Y12, Y15, Y3
	VFMADD231PS Y13, Y15, Y4
	VFMADD231PS Y14, Y15, Y5
	VMOVUPS     (DI)(R9*2), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VFMADD231PS Y14, Y15, Y8
	VMOVUPS     (AX), Y15
	VFMADD231PS Y12, Y15, Y9
	VFMADD231PS Y13, Y15, Y10
	VFMADD231PS Y14, Y15, Y11

	ADDQ $32, DI
	ADDQ $32, AX
	ADDQ $32, R13
	SUBQ $8, DX
	JGT  kloop

	// Horizontal sums, three outputs per row: the fourth lane of each
	// result is a duplicate and is not stored.
	VHADDPS      Y1, Y0, Y0
	VHADDPS      Y2, Y2, Y2
	VHADDPS      Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X12
	VADDPS       X12, X0, X0
	VMOVSD       X0, (CX)
	VEXTRACTPS   $2, X0, 8(CX)

	VHADDPS      Y4, Y3, Y3
	VHADDPS      Y5, Y5, Y5
	VHADDPS      Y5, Y3, Y3
	VEXTRACTF128 $1, Y3, X12
	VADDPS       X12, X3, X3
	VMOVSD       X3, (CX)(R11*1)
	VEXTRACTPS   $2, X3, 8(CX)(R11*1)

	VHADDPS      Y7, Y6, Y6
	VHADDPS      Y8, Y8, Y8
	VHADDPS      Y8, Y6, Y6
	VEXTRACTF128 $1, Y6, X12
	VADDPS       X12, X6, X6
	VMOVSD       X6, (CX)(R11*2)
	VEXTRACTPS   $2, X6, 8(CX)(R11*2)

	LEAQ         (CX)(R11*2), DI
	ADDQ         R11, DI            // c row 3
	VHADDPS      Y10, Y9, Y9
	VHADDPS      Y11, Y11, Y11
	VHADDPS      Y11, Y9, Y9
	VEXTRACTF128 $1, Y9, X12
	VADDPS       X12, X9, X9
	VMOVSD       X9, (DI)
	VEXTRACTPS   $2, X9, 8(DI)

	LEAQ (BX)(R10*2), BX
	ADDQ R10, BX                    // next 3 weight rows
	ADDQ $12, CX                    // next 3 outputs
	SUBQ $3, R8
	JMP  colloop

nextrows:
	LEAQ (SI)(R9*4), SI             // a += 4 rows
	LEAQ (R12)(R11*4), R12          // c += 4 rows
	SUBQ $4, R14
	JMP  rowloop

done:
	VZEROUPPER
	RET

// func gemvF32AVX2(c []float32, x []float32, b []float32, n, k, ldb, incc int)
//
// One vector against n rows (any n; k a multiple of 8, k > 0), outputs
// incc apart:
//
//	for j < n: c[j*incc] = Σ_{p<k} x[p] * b[j*ldb+p]
//
// Groups of 8 rows (8 accumulators, enough to hide the FMA latency), then
// of 4, then single rows. The Go wrapper uses it for the rows of a that
// do not fill a 4-row tile (x = a row, b = weights, incc = 1) and for the
// columns that do not fill a 3-column tile (x = a weight row, b = a,
// incc = ldc): products commute exactly, so either way every output has
// the bits gemmF32AVX2 would give it. Reference: gemmF32Generic, through
// gemmF32AVX2Tiles.
TEXT ·gemvF32AVX2(SB), NOSPLIT, $0-104
	MOVQ c_base+0(FP), CX
	MOVQ x_base+24(FP), SI
	MOVQ b_base+48(FP), BX
	MOVQ n+72(FP), R8
	MOVQ k+80(FP), R9
	MOVQ ldb+88(FP), R10
	SHLQ $2, R10                    // ldb in bytes
	MOVQ incc+96(FP), R11
	SHLQ $2, R11                    // incc in bytes

g8loop:
	CMPQ R8, $8
	JLT  g4loop
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ SI, DI                     // x
	MOVQ BX, R13                    // rows 0..2
	LEAQ (BX)(R10*2), R14
	ADDQ R10, R14                   // rows 3..5
	LEAQ (R14)(R10*2), R15
	ADDQ R10, R15                   // rows 6, 7
	MOVQ R9, DX

g8k:
	VMOVUPS     (DI), Y8
	VFMADD231PS (R13), Y8, Y0
	VFMADD231PS (R13)(R10*1), Y8, Y1
	VFMADD231PS (R13)(R10*2), Y8, Y2
	VFMADD231PS (R14), Y8, Y3
	VFMADD231PS (R14)(R10*1), Y8, Y4
	VFMADD231PS (R14)(R10*2), Y8, Y5
	VFMADD231PS (R15), Y8, Y6
	VFMADD231PS (R15)(R10*1), Y8, Y7
	ADDQ        $32, DI
	ADDQ        $32, R13
	ADDQ        $32, R14
	ADDQ        $32, R15
	SUBQ        $8, DX
	JGT         g8k

	VHADDPS      Y1, Y0, Y0
	VHADDPS      Y3, Y2, Y2
	VHADDPS      Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X8
	VADDPS       X8, X0, X0
	VHADDPS      Y5, Y4, Y4
	VHADDPS      Y7, Y6, Y6
	VHADDPS      Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X8
	VADDPS       X8, X4, X4
	MOVQ         CX, DI
	VMOVSS       X0, (DI)
	VEXTRACTPS   $1, X0, (DI)(R11*1)
	VEXTRACTPS   $2, X0, (DI)(R11*2)
	LEAQ         (DI)(R11*2), DI
	ADDQ         R11, DI
	VEXTRACTPS   $3, X0, (DI)
	VMOVSS       X4, (DI)(R11*1)
	VEXTRACTPS   $1, X4, (DI)(R11*2)
	LEAQ         (DI)(R11*2), DI
	ADDQ         R11, DI
	VEXTRACTPS   $2, X4, (DI)
	VEXTRACTPS   $3, X4, (DI)(R11*1)

	LEAQ (BX)(R10*8), BX            // next 8 rows
	LEAQ (CX)(R11*8), CX            // next 8 outputs
	SUBQ $8, R8
	JMP  g8loop

g4loop:
	CMPQ R8, $4
	JLT  g1loop
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ   SI, DI
	MOVQ   BX, R13
	LEAQ   (BX)(R10*2), R14
	ADDQ   R10, R14
	MOVQ   R9, DX

g4k:
	VMOVUPS     (DI), Y8
	VFMADD231PS (R13), Y8, Y0
	VFMADD231PS (R13)(R10*1), Y8, Y1
	VFMADD231PS (R13)(R10*2), Y8, Y2
	VFMADD231PS (R14), Y8, Y3
	ADDQ        $32, DI
	ADDQ        $32, R13
	ADDQ        $32, R14
	SUBQ        $8, DX
	JGT         g4k

	VHADDPS      Y1, Y0, Y0
	VHADDPS      Y3, Y2, Y2
	VHADDPS      Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X8
	VADDPS       X8, X0, X0
	VMOVSS       X0, (CX)
	VEXTRACTPS   $1, X0, (CX)(R11*1)
	VEXTRACTPS   $2, X0, (CX)(R11*2)
	LEAQ         (CX)(R11*2), DI
	ADDQ         R11, DI
	VEXTRACTPS   $3, X0, (DI)

	LEAQ (BX)(R10*4), BX
	LEAQ (CX)(R11*4), CX
	SUBQ $4, R8
	JMP  g4loop

g1loop:
	CMPQ R8, $1
	JLT  gdone
	VXORPS Y0, Y0, Y0
	MOVQ   SI, DI
	MOVQ   BX, R13
	MOVQ   R9, DX

g1k:
	VMOVUPS     (DI), Y8
	VFMADD231PS (R13), Y8, Y0
	ADDQ        $32, DI
	ADDQ        $32, R13
	SUBQ        $8, DX
	JGT         g1k

	VHADDPS      Y0, Y0, Y0
	VHADDPS      Y0, Y0, Y0
	VEXTRACTF128 $1, Y0, X8
	VADDSS       X8, X0, X0
	VMOVSS       X0, (CX)

	ADDQ R10, BX
	ADDQ R11, CX
	DECQ R8
	JMP  g1loop

gdone:
	VZEROUPPER
	RET
