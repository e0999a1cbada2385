//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// Register-resident loops for RoofGOPS: no loads or stores, only the
// arithmetic the GEMM kernels are built from, on enough independent
// accumulators to cover every instruction's latency, so the loop runs at
// the core's issue limit for that instruction mix.

// func roofF32FMA(n int)
//
// n iterations of 24 VFMADD231PS (256-bit, 8 lanes) into 12 independent
// accumulators: 24·8·2 = 384 FLOPs per iteration. The operands are zero,
// so no value ever becomes denormal or overflows.
TEXT ·roofF32FMA(SB), NOSPLIT, $0-8
	MOVQ   n+0(FP), CX
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
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	TESTQ  CX, CX
	JLE    fdone

floop:
	VFMADD231PS Y12, Y13, Y0
	VFMADD231PS Y12, Y13, Y1
	VFMADD231PS Y12, Y13, Y2
	VFMADD231PS Y12, Y13, Y3
	VFMADD231PS Y12, Y13, Y4
	VFMADD231PS Y12, Y13, Y5
	VFMADD231PS Y12, Y13, Y6
	VFMADD231PS Y12, Y13, Y7
	VFMADD231PS Y12, Y13, Y8
	VFMADD231PS Y12, Y13, Y9
	VFMADD231PS Y12, Y13, Y10
	VFMADD231PS Y12, Y13, Y11
	VFMADD231PS Y12, Y13, Y0
	VFMADD231PS Y12, Y13, Y1
	VFMADD231PS Y12, Y13, Y2
	VFMADD231PS Y12, Y13, Y3
	VFMADD231PS Y12, Y13, Y4
	VFMADD231PS Y12, Y13, Y5
	VFMADD231PS Y12, Y13, Y6
	VFMADD231PS Y12, Y13, Y7
	VFMADD231PS Y12, Y13, Y8
	VFMADD231PS Y12, Y13, Y9
	VFMADD231PS Y12, Y13, Y10
	VFMADD231PS Y12, Y13, Y11
	DECQ        CX
	JNZ         floop

fdone:
	VZEROUPPER
	RET

// func roofI8MAC(n int)
//
// n iterations of 20 chains VPMADDUBSW → VPMADDWD (by 1s) → VPADDD, the
// int8 GEMM's multiply-accumulate step, into 10 independent int32
// accumulators: each chain does 32 uint8×int8 multiply-adds, so
// 20·32·2 = 1280 ops per iteration. Only VPADDD carries a dependency
// from one iteration to the next.
TEXT ·roofI8MAC(SB), NOSPLIT, $0-8
	MOVQ         n+0(FP), CX
	MOVL         $0x01010101, AX
	MOVQ         AX, X13
	VPBROADCASTD X13, Y13           // 1 in every byte (the activations)
	VPBROADCASTD X13, Y14           // and the weights
	MOVL         $0x00010001, AX
	MOVQ         AX, X15
	VPBROADCASTD X15, Y15           // 1 in every int16
	VPXOR        Y0, Y0, Y0
	VPXOR        Y1, Y1, Y1
	VPXOR        Y2, Y2, Y2
	VPXOR        Y3, Y3, Y3
	VPXOR        Y4, Y4, Y4
	VPXOR        Y5, Y5, Y5
	VPXOR        Y6, Y6, Y6
	VPXOR        Y7, Y7, Y7
	VPXOR        Y8, Y8, Y8
	VPXOR        Y9, Y9, Y9
	TESTQ        CX, CX
	JLE          idone

#define CHAIN(acc, t) \
	VPMADDUBSW Y14, Y13, t; \
	VPMADDWD   Y15, t, t;   \
	VPADDD     t, acc, acc

iloop:
	CHAIN(Y0, Y10)
	CHAIN(Y1, Y11)
	CHAIN(Y2, Y12)
	CHAIN(Y3, Y10)
	CHAIN(Y4, Y11)
	CHAIN(Y5, Y12)
	CHAIN(Y6, Y10)
	CHAIN(Y7, Y11)
	CHAIN(Y8, Y12)
	CHAIN(Y9, Y10)
	CHAIN(Y0, Y11)
	CHAIN(Y1, Y12)
	CHAIN(Y2, Y10)
	CHAIN(Y3, Y11)
	CHAIN(Y4, Y12)
	CHAIN(Y5, Y10)
	CHAIN(Y6, Y11)
	CHAIN(Y7, Y12)
	CHAIN(Y8, Y10)
	CHAIN(Y9, Y11)
	DECQ CX
	JNZ  iloop

idone:
	VZEROUPPER
	RET

// func roofI8VNNI(n int)
//
// n iterations of 24 VEX VPDPBUSD (32 uint8×int8 multiply-adds each,
// summed into int32 lanes) into 12 independent accumulators: 24·32·2 =
// 1536 ops per iteration. The assembler has no VEX form of VPDPBUSD, so
// it is spelled in BYTEs (encoder: vexVPDPBUSD in vnni_encoding_test.go;
// TestRoofVNNIEncoding checks these lines).
TEXT ·roofI8VNNI(SB), NOSPLIT, $0-8
	MOVQ         n+0(FP), CX
	MOVL         $0x01010101, AX
	MOVQ         AX, X13
	VPBROADCASTD X13, Y13
	VPBROADCASTD X13, Y14
	VPXOR        Y0, Y0, Y0
	VPXOR        Y1, Y1, Y1
	VPXOR        Y2, Y2, Y2
	VPXOR        Y3, Y3, Y3
	VPXOR        Y4, Y4, Y4
	VPXOR        Y5, Y5, Y5
	VPXOR        Y6, Y6, Y6
	VPXOR        Y7, Y7, Y7
	VPXOR        Y8, Y8, Y8
	VPXOR        Y9, Y9, Y9
	VPXOR        Y10, Y10, Y10
	VPXOR        Y11, Y11, Y11
	TESTQ        CX, CX
	JLE          vdone

vloop:
	BYTE $0xC4; BYTE $0xC2; BYTE $0x15; BYTE $0x50; BYTE $0xC6 // {vex} vpdpbusd ymm0, ymm13, ymm14
	BYTE $0xC4; BYTE $0xC2; BYTE $0x15; BYTE $0x50; BYTE $0xCE // {vex} vpdpbusd ymm1, ymm13, ymm14
	BYTE $0xC4; BYTE $0xC2; BYTE $0x15; BYTE $0x50; BYTE $0xD6 // {vex} vpdpbusd ymm2, ymm13, ymm14
	BYTE $0xC4; BYTE $0xC2; BYTE $0x15; BYTE $0x50; BYTE $0xDE // {vex} vpdpbusd ymm3, ymm13, ymm14
	BYTE $0xC4; BYTE $0xC2; BYTE $0x15; BYTE $0x50; BYTE $0xE6 // {vex} vpdpbusd ymm4, ymm13, ymm14
	BYTE $0xC4; BYTE $0xC2; BYTE $0x15; BYTE $0x50; BYTE $0xEE // {vex} vpdpbusd ymm5, ymm13, ymm14
	BYTE $0xC4; BYTE $0xC2; BYTE $0x15; BYTE $0x50; BYTE $0xF6 // {vex} vpdpbusd ymm6, ymm13, ymm14
	BYTE $0xC4; BYTE $0xC2; BYTE $0x15; BYTE $0x50; BYTE $0xFE // {vex} vpdpbusd ymm7, ymm13, ymm14
	BYTE $0xC4; BYTE $0x42; BYTE $0x15; BYTE $0x50; BYTE $0xC6 // {vex} vpdpbusd ymm8, ymm13, ymm14
	BYTE $0xC4; BYTE $0x42; BYTE $0x15; BYTE $0x50; BYTE $0xCE // {vex} vpdpbusd ymm9, ymm13, ymm14
	BYTE $0xC4; BYTE $0x42; BYTE $0x15; BYTE $0x50; BYTE $0xD6 // {vex} vpdpbusd ymm10, ymm13, ymm14
	BYTE $0xC4; BYTE $0x42; BYTE $0x15; BYTE $0x50; BYTE $0xDE // {vex} vpdpbusd ymm11, ymm13, ymm14
	BYTE $0xC4; BYTE $0xC2; BYTE $0x15; BYTE $0x50; BYTE $0xC6 // {vex} vpdpbusd ymm0, ymm13, ymm14
	BYTE $0xC4; BYTE $0xC2; BYTE $0x15; BYTE $0x50; BYTE $0xCE // {vex} vpdpbusd ymm1, ymm13, ymm14
	BYTE $0xC4; BYTE $0xC2; BYTE $0x15; BYTE $0x50; BYTE $0xD6 // {vex} vpdpbusd ymm2, ymm13, ymm14
	BYTE $0xC4; BYTE $0xC2; BYTE $0x15; BYTE $0x50; BYTE $0xDE // {vex} vpdpbusd ymm3, ymm13, ymm14
	BYTE $0xC4; BYTE $0xC2; BYTE $0x15; BYTE $0x50; BYTE $0xE6 // {vex} vpdpbusd ymm4, ymm13, ymm14
	BYTE $0xC4; BYTE $0xC2; BYTE $0x15; BYTE $0x50; BYTE $0xEE // {vex} vpdpbusd ymm5, ymm13, ymm14
	BYTE $0xC4; BYTE $0xC2; BYTE $0x15; BYTE $0x50; BYTE $0xF6 // {vex} vpdpbusd ymm6, ymm13, ymm14
	BYTE $0xC4; BYTE $0xC2; BYTE $0x15; BYTE $0x50; BYTE $0xFE // {vex} vpdpbusd ymm7, ymm13, ymm14
	BYTE $0xC4; BYTE $0x42; BYTE $0x15; BYTE $0x50; BYTE $0xC6 // {vex} vpdpbusd ymm8, ymm13, ymm14
	BYTE $0xC4; BYTE $0x42; BYTE $0x15; BYTE $0x50; BYTE $0xCE // {vex} vpdpbusd ymm9, ymm13, ymm14
	BYTE $0xC4; BYTE $0x42; BYTE $0x15; BYTE $0x50; BYTE $0xD6 // {vex} vpdpbusd ymm10, ymm13, ymm14
	BYTE $0xC4; BYTE $0x42; BYTE $0x15; BYTE $0x50; BYTE $0xDE // {vex} vpdpbusd ymm11, ymm13, ymm14
	DECQ CX
	JNZ  vloop

vdone:
	VZEROUPPER
	RET
