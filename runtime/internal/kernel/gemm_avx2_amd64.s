//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// func gemmI8AVX2(c []int32, a []uint8, b []int8, m, n, k, lda, ldb, ldc int)
//
// For full 2×4 tiles only (m even, n a multiple of 4, k a multiple of 32,
// k > 0), with a' = a − 128:
//
//	for i < m, j < n: c[i*ldc+j] = Σ_{p<k} int32(a[i*lda+p]−128) * int32(b[j*ldb+p])
//
// Each product pair goes through VPMADDUBSW as |a'| · (b·sign(a')): |a'| ≤ 128
// and |b| ≤ 127, so a pair sums to at most 2·128·127 = 32512 and the int16
// lanes never saturate. Weights must therefore be in −127..127 (the v1
// quantizer never produces −128). The caller adds 128·Σb to undo the shift.
// Reference: gemmI8Generic (through gemmI8AVX2Tiles).
TEXT ·gemmI8AVX2(SB), NOSPLIT, $0-120
	MOVQ c_base+0(FP), R12
	MOVQ a_base+24(FP), SI
	MOVQ m+72(FP), R14
	MOVQ lda+96(FP), R9
	MOVQ ldb+104(FP), R10
	MOVQ ldc+112(FP), R11
	SHLQ $2, R11                    // ldc in bytes

	MOVL $0x80808080, AX
	MOVQ AX, X15
	VPBROADCASTD X15, Y15           // 0x80 in every byte
	MOVL $0x00010001, AX
	MOVQ AX, X14
	VPBROADCASTD X14, Y14           // 1 in every int16

rowloop:
	CMPQ R14, $2
	JLT  done
	MOVQ b_base+48(FP), BX          // weight rows of this column block
	MOVQ R12, CX                    // outputs of this column block
	MOVQ n+80(FP), R8               // columns left

colloop:
	CMPQ R8, $4
	JLT  nextrows
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	MOVQ SI, DI                     // a row 0
	LEAQ (SI)(R9*1), AX             // a row 1
	MOVQ BX, R13                    // weight row j
	MOVQ k+88(FP), DX               // bytes of k left

kloop:
	VMOVDQU (DI), Y8
	VPXOR   Y15, Y8, Y8             // a0' = a0 − 128, as int8
	VPABSB  Y8, Y9                  // |a0'|
	VMOVDQU (AX), Y10
	VPXOR   Y15, Y10, Y10
	VPABSB  Y10, Y11

	// column 0
	VMOVDQU    (R13), Y12
	VPSIGNB    Y8, Y12, Y13
	VPMADDUBSW Y13, Y9, Y13
	VPMADDWD   Y14, Y13, Y13
	VPADDD     Y13, Y0, Y0
	VPSIGNB    Y10, Y12, Y13
	VPMADDUBSW Y13, Y11, Y13
	VPMADDWD   Y14, Y13, Y13
	VPADDD     Y13, Y4, Y4

	LEAQ (R13)(R10*1), R15
	// column 1
	VMOVDQU    (R15), Y12
	VPSIGNB    Y8, Y12, Y13
	VPMADDUBSW Y13, Y9, Y13
	VPMADDWD   Y14, Y13, Y13
	VPADDD     Y13, Y1, Y1
	VPSIGNB    Y10, Y12, Y13
	VPMADDUBSW Y13, Y11, Y13
	VPMADDWD   Y14, Y13, Y13
	VPADDD     Y13, Y5, Y5

	ADDQ R10, R15
	// column 2
	VMOVDQU    (R15), Y12
	VPSIGNB    Y8, Y12, Y13
	VPMADDUBSW Y13, Y9, Y13
	VPMADDWD   Y14, Y13, Y13
	VPADDD     Y13, Y2, Y2
	VPSIGNB    Y10, Y12, Y13
	VPMADDUBSW Y13, Y11, Y13
	VPMADDWD   Y14, Y13, Y13
	VPADDD     Y13, Y6, Y6

	ADDQ R10, R15
	// column 3
	VMOVDQU    (R15), Y12
	VPSIGNB    Y8, Y12, Y13
	VPMADDUBSW Y13, Y9, Y13
	VPMADDWD   Y14, Y13, Y13
	VPADDD     Y13, Y3, Y3
	VPSIGNB    Y10, Y12, Y13
	VPMADDUBSW Y13, Y11, Y13
	VPMADDWD   Y14, Y13, Y13
	VPADDD     Y13, Y7, Y7

	ADDQ $32, DI
	ADDQ $32, AX
	ADDQ $32, R13
	SUBQ $32, DX
	JGT  kloop

	// Horizontal sums: row 0 from Y0..Y3, row 1 from Y4..Y7.
	VPHADDD      Y1, Y0, Y0
	VPHADDD      Y3, Y2, Y2
	VPHADDD      Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X8
	VPADDD       X8, X0, X0
	VMOVDQU      X0, (CX)
	VPHADDD      Y5, Y4, Y4
	VPHADDD      Y7, Y6, Y6
	VPHADDD      Y6, Y4, Y4
	VEXTRACTI128 $1, Y4, X8
	VPADDD       X8, X4, X4
	VMOVDQU      X4, (CX)(R11*1)

	LEAQ (BX)(R10*4), BX            // next 4 weight rows
	ADDQ $16, CX                    // next 4 outputs
	SUBQ $4, R8
	JMP  colloop

nextrows:
	LEAQ (SI)(R9*2), SI             // a += 2 rows
	LEAQ (R12)(R11*2), R12          // c += 2 rows
	SUBQ $2, R14
	JMP  rowloop

done:
	VZEROUPPER
	RET

// func gemvI8AVX2(c []int32, a []uint8, b []int8, n, k, ldb int)
//
// One activation row against n weight rows (n a multiple of 4, k a
// multiple of 32 and > 0), with a' = a − 128:
//
//	for j < n: c[j] = Σ_{p<k} int32(a[p]−128) * int32(b[j*ldb+p])
//
// Same saturation argument and weight range as gemmI8AVX2.
// Reference: gemmI8Generic, through gemmI8AVX2Tiles.
TEXT ·gemvI8AVX2(SB), NOSPLIT, $0-96
	MOVQ c_base+0(FP), CX
	MOVQ a_base+24(FP), SI
	MOVQ b_base+48(FP), BX
	MOVQ n+72(FP), R8
	MOVQ ldb+88(FP), R10

	MOVL $0x80808080, AX
	MOVQ AX, X15
	VPBROADCASTD X15, Y15
	MOVL $0x00010001, AX
	MOVQ AX, X14
	VPBROADCASTD X14, Y14

gcolloop:
	CMPQ R8, $4
	JLT  gdone
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	MOVQ SI, DI
	MOVQ BX, R13
	MOVQ k+80(FP), DX

gkloop:
	VMOVDQU (DI), Y8
	VPXOR   Y15, Y8, Y8
	VPABSB  Y8, Y9

	VMOVDQU    (R13), Y12
	VPSIGNB    Y8, Y12, Y13
	VPMADDUBSW Y13, Y9, Y13
	VPMADDWD   Y14, Y13, Y13
	VPADDD     Y13, Y0, Y0
	LEAQ (R13)(R10*1), R15
	VMOVDQU    (R15), Y12
	VPSIGNB    Y8, Y12, Y13
	VPMADDUBSW Y13, Y9, Y13
	VPMADDWD   Y14, Y13, Y13
	VPADDD     Y13, Y1, Y1
	ADDQ R10, R15
	VMOVDQU    (R15), Y12
	VPSIGNB    Y8, Y12, Y13
	VPMADDUBSW Y13, Y9, Y13
	VPMADDWD   Y14, Y13, Y13
	VPADDD     Y13, Y2, Y2
	ADDQ R10, R15
	VMOVDQU    (R15), Y12
	VPSIGNB    Y8, Y12, Y13
	VPMADDUBSW Y13, Y9, Y13
	VPMADDWD   Y14, Y13, Y13
	VPADDD     Y13, Y3, Y3

	ADDQ $32, DI
	ADDQ $32, R13
	SUBQ $32, DX
	JGT  gkloop

	VPHADDD      Y1, Y0, Y0
	VPHADDD      Y3, Y2, Y2
	VPHADDD      Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X8
	VPADDD       X8, X0, X0
	VMOVDQU      X0, (CX)

	LEAQ (BX)(R10*4), BX
	ADDQ $16, CX
	SUBQ $4, R8
	JMP  gcolloop

gdone:
	VZEROUPPER
	RET
