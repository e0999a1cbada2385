//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// AVX-VNNI kernels. The Go assembler only knows the EVEX (AVX-512) form of
// VPDPBUSD, so the VEX form is spelled in BYTEs, each line followed by its
// mnemonic; TestVNNIEncoding checks every line against an encoder that is
// itself checked against llvm-mc's encodings.
//
// VPDPBUSD multiplies unsigned bytes of the first source by signed bytes
// of the second and adds groups of four into int32 lanes, with no
// intermediate saturation: exact for every u8 activation and every int8
// weight, −128 included, so no shift and no correction are needed.

// func gemmI8VNNI(c []int32, a []uint8, b []int8, m, n, k, lda, ldb, ldc, bs int)
//
// For full 2×4 tiles only (m even, n a multiple of 4, k a multiple of 32, k > 0),
// with the weights of row j, bytes 32q..32q+31, at b[j*ldb + q*bs:]:
//
//	for i < m, j < n: c[i*ldc+j] = Σ_{p<k} int32(a[i*lda+p]) * int32(b[j*ldb+(p/32)*bs+p%32])
//
// bs is 32 for row-major weights, 256 within a group of the grouped
// layout (see groupRows8). Reference: gemmI8Generic (through gemmI8VNNITiles).
TEXT ·gemmI8VNNI(SB), NOSPLIT, $0-128
	MOVQ c_base+0(FP), R12
	MOVQ a_base+24(FP), SI
	MOVQ m+72(FP), R14
	MOVQ lda+96(FP), R9
	MOVQ ldb+104(FP), R10
	MOVQ ldc+112(FP), R11
	SHLQ $2, R11

vrowloop:
	CMPQ R14, $2
	JLT  vdone
	MOVQ b_base+48(FP), BX
	MOVQ R12, CX
	MOVQ n+80(FP), R8

vcolloop:
	CMPQ R8, $4
	JLT  vnextrows
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	MOVQ SI, DI
	LEAQ (SI)(R9*1), AX
	MOVQ BX, R13
	LEAQ (BX)(R10*2), R15
	MOVQ k+88(FP), DX

vkloop:
	VMOVDQU (DI), Y8
	VMOVDQU (AX), Y9
	VMOVDQU (R13), Y10
	VMOVDQU (R13)(R10*1), Y11
	VMOVDQU (R15), Y12
	VMOVDQU (R15)(R10*1), Y13
	BYTE $0xC4; BYTE $0xC2; BYTE $0x3D; BYTE $0x50; BYTE $0xC2 // {vex} vpdpbusd ymm0, ymm8, ymm10
	BYTE $0xC4; BYTE $0xC2; BYTE $0x3D; BYTE $0x50; BYTE $0xCB // {vex} vpdpbusd ymm1, ymm8, ymm11
	BYTE $0xC4; BYTE $0xC2; BYTE $0x3D; BYTE $0x50; BYTE $0xD4 // {vex} vpdpbusd ymm2, ymm8, ymm12
	BYTE $0xC4; BYTE $0xC2; BYTE $0x3D; BYTE $0x50; BYTE $0xDD // {vex} vpdpbusd ymm3, ymm8, ymm13
	BYTE $0xC4; BYTE $0xC2; BYTE $0x35; BYTE $0x50; BYTE $0xE2 // {vex} vpdpbusd ymm4, ymm9, ymm10
	BYTE $0xC4; BYTE $0xC2; BYTE $0x35; BYTE $0x50; BYTE $0xEB // {vex} vpdpbusd ymm5, ymm9, ymm11
	BYTE $0xC4; BYTE $0xC2; BYTE $0x35; BYTE $0x50; BYTE $0xF4 // {vex} vpdpbusd ymm6, ymm9, ymm12
	BYTE $0xC4; BYTE $0xC2; BYTE $0x35; BYTE $0x50; BYTE $0xFD // {vex} vpdpbusd ymm7, ymm9, ymm13
	ADDQ $32, DI
	ADDQ $32, AX
	ADDQ bs+120(FP), R13
	ADDQ bs+120(FP), R15
	SUBQ $32, DX
	JGT  vkloop

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

	LEAQ (BX)(R10*4), BX
	ADDQ $16, CX
	SUBQ $4, R8
	JMP  vcolloop

vnextrows:
	LEAQ (SI)(R9*2), SI
	LEAQ (R12)(R11*2), R12
	SUBQ $2, R14
	JMP  vrowloop

vdone:
	VZEROUPPER
	RET

// func gemvI8VNNI(c []int32, a []uint8, b []int8, n, k, ldb int)
//
// One activation row against n weight rows (n a multiple of 4, k a
// multiple of 32 and > 0):
//
//	for j < n: c[j] = Σ_{p<k} int32(a[p]) * int32(b[j*ldb+p])
//
// Reference: gemmI8Generic (through gemmI8VNNITiles).
TEXT ·gemvI8VNNI(SB), NOSPLIT, $0-96
	MOVQ c_base+0(FP), CX
	MOVQ a_base+24(FP), SI
	MOVQ b_base+48(FP), BX
	MOVQ n+72(FP), R8
	MOVQ ldb+88(FP), R10

wcolloop:
	CMPQ R8, $4
	JLT  wdone
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	MOVQ SI, DI
	MOVQ BX, R13
	LEAQ (BX)(R10*2), R15
	MOVQ k+80(FP), DX

wkloop:
	VMOVDQU (DI), Y8
	VMOVDQU (R13), Y10
	VMOVDQU (R13)(R10*1), Y11
	VMOVDQU (R15), Y12
	VMOVDQU (R15)(R10*1), Y13
	BYTE $0xC4; BYTE $0xC2; BYTE $0x3D; BYTE $0x50; BYTE $0xC2 // {vex} vpdpbusd ymm0, ymm8, ymm10
	BYTE $0xC4; BYTE $0xC2; BYTE $0x3D; BYTE $0x50; BYTE $0xCB // {vex} vpdpbusd ymm1, ymm8, ymm11
	BYTE $0xC4; BYTE $0xC2; BYTE $0x3D; BYTE $0x50; BYTE $0xD4 // {vex} vpdpbusd ymm2, ymm8, ymm12
	BYTE $0xC4; BYTE $0xC2; BYTE $0x3D; BYTE $0x50; BYTE $0xDD // {vex} vpdpbusd ymm3, ymm8, ymm13
	ADDQ $32, DI
	ADDQ $32, R13
	ADDQ $32, R15
	SUBQ $32, DX
	JGT  wkloop

	VPHADDD      Y1, Y0, Y0
	VPHADDD      Y3, Y2, Y2
	VPHADDD      Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X8
	VPADDD       X8, X0, X0
	VMOVDQU      X0, (CX)

	LEAQ (BX)(R10*4), BX
	ADDQ $16, CX
	SUBQ $4, R8
	JMP  wcolloop

wdone:
	VZEROUPPER
	RET

// func gemvI8VNNIRows8(c []int32, a []uint8, p []int8, n, k, skip int)
//
// One activation row against n weight rows in the grouped layout (n a
// multiple of 8, k a multiple of 32 and > 0; each group's 8·k bytes of
// interleaved blocks followed by skip bytes that are not read):
//
//	for j < n: c[j] = Σ_{q<k} int32(a[q]) * int32(w[j][q])
//
// Each step loads 32 activations once and the 8 rows' next 32 weights
// from one sequential stream, 8 independent accumulators, and prefetches
// the stream 2 KB ahead (measured: without it, the 4 MB weights of a
// 4096×1024 layer streamed from L3 at times a fifth slower).
//
// Reference: gemmI8Generic (through gemmI8VNNITiles).
TEXT ·gemvI8VNNIRows8(SB), NOSPLIT, $0-96
	MOVQ c_base+0(FP), CX
	MOVQ a_base+24(FP), SI
	MOVQ p_base+48(FP), R13
	MOVQ n+72(FP), R8

rgrouploop:
	CMPQ R8, $8
	JLT  rdone
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	MOVQ SI, DI
	MOVQ k+80(FP), DX

rkloop:
	PREFETCHT0 2048(R13)
	PREFETCHT0 2112(R13)
	PREFETCHT0 2176(R13)
	PREFETCHT0 2240(R13)
	VMOVDQU (DI), Y8
	VMOVDQU (R13), Y9
	BYTE $0xC4; BYTE $0xC2; BYTE $0x3D; BYTE $0x50; BYTE $0xC1 // {vex} vpdpbusd ymm0, ymm8, ymm9
	VMOVDQU 32(R13), Y10
	BYTE $0xC4; BYTE $0xC2; BYTE $0x3D; BYTE $0x50; BYTE $0xCA // {vex} vpdpbusd ymm1, ymm8, ymm10
	VMOVDQU 64(R13), Y11
	BYTE $0xC4; BYTE $0xC2; BYTE $0x3D; BYTE $0x50; BYTE $0xD3 // {vex} vpdpbusd ymm2, ymm8, ymm11
	VMOVDQU 96(R13), Y12
	BYTE $0xC4; BYTE $0xC2; BYTE $0x3D; BYTE $0x50; BYTE $0xDC // {vex} vpdpbusd ymm3, ymm8, ymm12
	VMOVDQU 128(R13), Y13
	BYTE $0xC4; BYTE $0xC2; BYTE $0x3D; BYTE $0x50; BYTE $0xE5 // {vex} vpdpbusd ymm4, ymm8, ymm13
	VMOVDQU 160(R13), Y14
	BYTE $0xC4; BYTE $0xC2; BYTE $0x3D; BYTE $0x50; BYTE $0xEE // {vex} vpdpbusd ymm5, ymm8, ymm14
	VMOVDQU 192(R13), Y15
	BYTE $0xC4; BYTE $0xC2; BYTE $0x3D; BYTE $0x50; BYTE $0xF7 // {vex} vpdpbusd ymm6, ymm8, ymm15
	VMOVDQU 224(R13), Y9
	BYTE $0xC4; BYTE $0xC2; BYTE $0x3D; BYTE $0x50; BYTE $0xF9 // {vex} vpdpbusd ymm7, ymm8, ymm9
	ADDQ $32, DI
	ADDQ $256, R13
	SUBQ $32, DX
	JGT  rkloop

	// Y0..Y3 → rows 0..3, Y4..Y7 → rows 4..7, each row's two 128-bit
	// halves still apart; add them and store the 8 sums.
	VPHADDD    Y1, Y0, Y0
	VPHADDD    Y3, Y2, Y2
	VPHADDD    Y2, Y0, Y0
	VPHADDD    Y5, Y4, Y4
	VPHADDD    Y7, Y6, Y6
	VPHADDD    Y6, Y4, Y4
	VPERM2I128 $0x20, Y4, Y0, Y8
	VPERM2I128 $0x31, Y4, Y0, Y9
	VPADDD     Y9, Y8, Y8
	VMOVDQU    Y8, (CX)

	ADDQ skip+88(FP), R13
	ADDQ $32, CX
	SUBQ $8, R8
	JMP  rgrouploop

rdone:
	VZEROUPPER
	RET
