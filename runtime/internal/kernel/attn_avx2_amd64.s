//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// RED reduces the eight lane sums in Y as dotF32AVX2 does,
// ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)), multiplies by alpha and stores
// the float32 at DST. X14 is scratch.
#define RED(Y, X, DST) \
	VEXTRACTF128 $1, Y, X14     \
	VADDPS       X14, X, X      \
	VPERMILPS    $0x4e, X, X14  \
	VADDPS       X14, X, X      \
	VPERMILPS    $0xb1, X, X14  \
	VADDSS       X14, X, X      \
	VMULSS       alpha+120(FP), X, X \
	MOVSS        X, DST

// DOT3 adds the products of the a row at MEM with the three b vectors
// Y12..Y14 to the accumulators A0..A2 (multiply, then add: no FMA).
#define DOT3(MEM, A0, A1, A2) \
	VMULPS MEM, Y12, Y15 \
	VADDPS Y15, A0, A0   \
	VMULPS MEM, Y13, Y15 \
	VADDPS Y15, A1, A1   \
	VMULPS MEM, Y14, Y15 \
	VADDPS Y15, A2, A2

// func dotsF32AVX2(c []float32, a []float32, b []float32, mt, nt, k, lda, ldb, ldc int, alpha float32)
//
// 4×3 tiles of c = alpha · a·bᵀ over mt·4 rows of a and nt·3 rows of b,
// every output with one 8-lane accumulator (see RED).
// Reference: dotsLoop over dotF32Generic.
TEXT ·dotsF32AVX2(SB), NOSPLIT, $0-124
	MOVQ c_base+0(FP), DX
	MOVQ a_base+24(FP), AX
	MOVQ mt+72(FP), R13
	MOVQ lda+96(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	MOVQ ldb+104(FP), R10
	SHLQ $2, R10
	MOVQ ldc+112(FP), R11
	SHLQ $2, R11

diloop:
	MOVQ b_base+48(FP), R14
	MOVQ DX, BX
	MOVQ nt+80(FP), R12

djloop:
	MOVQ   AX, SI
	MOVQ   R14, DI
	MOVQ   k+88(FP), CX
	SHRQ   $3, CX
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

dkloop:
	VMOVUPS (DI), Y12
	VMOVUPS (DI)(R10*1), Y13
	VMOVUPS (DI)(R10*2), Y14
	DOT3((SI), Y0, Y1, Y2)
	DOT3((SI)(R8*1), Y3, Y4, Y5)
	DOT3((SI)(R8*2), Y6, Y7, Y8)
	DOT3((SI)(R9*1), Y9, Y10, Y11)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     dkloop

	RED(Y0, X0, (BX))
	RED(Y1, X1, 4(BX))
	RED(Y2, X2, 8(BX))
	RED(Y3, X3, (BX)(R11*1))
	RED(Y4, X4, 4(BX)(R11*1))
	RED(Y5, X5, 8(BX)(R11*1))
	RED(Y6, X6, (BX)(R11*2))
	RED(Y7, X7, 4(BX)(R11*2))
	RED(Y8, X8, 8(BX)(R11*2))
	LEAQ (BX)(R11*2), SI
	ADDQ R11, SI
	RED(Y9, X9, (SI))
	RED(Y10, X10, 4(SI))
	RED(Y11, X11, 8(SI))

	ADDQ $12, BX
	LEAQ (R14)(R10*2), R14
	ADDQ R10, R14
	DECQ R12
	JNZ  djloop

	LEAQ (AX)(R8*4), AX
	LEAQ (DX)(R11*4), DX
	DECQ R13
	JNZ  diloop
	VZEROUPPER
	RET

// MIX2 adds float32(p·v) for the broadcast weight at MEM and the two v
// vectors Y8, Y9 to the accumulators A0, A1.
#define MIX2(MEM, A0, A1) \
	VBROADCASTSS MEM, Y10 \
	VMULPS       Y8, Y10, Y11 \
	VADDPS       Y11, A0, A0  \
	VMULPS       Y9, Y10, Y12 \
	VADDPS       Y12, A1, A1

// func mixF32AVX2(o []float32, p []float32, v []float32, mt, n, kt, ldo, ldp, ldv int)
//
// 4×16 tiles of o = p·v over mt·4 rows and kt·16 columns, each output
// accumulated from zero in order j = 0..n−1, a product rounded then added.
// Reference: mixLoop over axpyF32Generic.
TEXT ·mixF32AVX2(SB), NOSPLIT, $0-120
	MOVQ o_base+0(FP), DX
	MOVQ p_base+24(FP), AX
	MOVQ mt+72(FP), R13
	MOVQ ldp+104(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	MOVQ ldv+112(FP), R10
	SHLQ $2, R10
	MOVQ ldo+96(FP), R11
	SHLQ $2, R11

miloop:
	MOVQ v_base+48(FP), R14
	MOVQ DX, BX
	MOVQ kt+88(FP), R12

mgloop:
	MOVQ   AX, SI
	MOVQ   R14, DI
	MOVQ   n+80(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	TESTQ  CX, CX
	JZ     mstore

mjloop:
	VMOVUPS (DI), Y8
	VMOVUPS 32(DI), Y9
	MIX2((SI), Y0, Y1)
	MIX2((SI)(R8*1), Y2, Y3)
	MIX2((SI)(R8*2), Y4, Y5)
	MIX2((SI)(R9*1), Y6, Y7)
	ADDQ    $4, SI
	ADDQ    R10, DI
	DECQ    CX
	JNZ     mjloop

mstore:
	VMOVUPS Y0, (BX)
	VMOVUPS Y1, 32(BX)
	VMOVUPS Y2, (BX)(R11*1)
	VMOVUPS Y3, 32(BX)(R11*1)
	VMOVUPS Y4, (BX)(R11*2)
	VMOVUPS Y5, 32(BX)(R11*2)
	LEAQ    (BX)(R11*2), SI
	ADDQ    R11, SI
	VMOVUPS Y6, (SI)
	VMOVUPS Y7, 32(SI)

	ADDQ $64, BX
	ADDQ $64, R14
	DECQ R12
	JNZ  mgloop

	LEAQ (AX)(R8*4), AX
	LEAQ (DX)(R11*4), DX
	DECQ R13
	JNZ  miloop
	VZEROUPPER
	RET

// LANESUM reduces the eight lane sums in Y (low half X) to X's lane 0 in
// DotF32's order, ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)). X14 is scratch.
#define LANESUM(Y, X) \
	VEXTRACTF128 $1, Y, X14    \
	VADDPS       X14, X, X     \
	VPERMILPS    $0x4e, X, X14 \
	VADDPS       X14, X, X     \
	VPERMILPS    $0xb1, X, X14 \
	VADDSS       X14, X, X

// func sumF32AVX2(p []float32) float32
//
// For len(p) a multiple of 8 (> 0): Σ p in DotF32's lane order.
// Reference: sumF32.
TEXT ·sumF32AVX2(SB), NOSPLIT, $0-28
	MOVQ   p_base+0(FP), SI
	MOVQ   p_len+8(FP), CX
	SHRQ   $3, CX
	VXORPS Y0, Y0, Y0
sumloop:
	VADDPS (SI), Y0, Y0
	ADDQ   $32, SI
	DECQ   CX
	JNZ    sumloop
	LANESUM(Y0, X0)
	MOVSS  X0, ret+24(FP)
	VZEROUPPER
	RET

// func sumSqDevAVX2(p []float32, mean float32) float32
//
// For len(p) a multiple of 8 (> 0): Σ float32(c·c), c = p[i] − mean, in
// DotF32's lane order. Reference: sumSqDevF32.
TEXT ·sumSqDevAVX2(SB), NOSPLIT, $0-36
	MOVQ         p_base+0(FP), SI
	MOVQ         p_len+8(FP), CX
	SHRQ         $3, CX
	VBROADCASTSS mean+24(FP), Y1
	VXORPS       Y0, Y0, Y0
ssloop:
	VMOVUPS      (SI), Y2
	VSUBPS       Y1, Y2, Y2
	VMULPS       Y2, Y2, Y2
	VADDPS       Y2, Y0, Y0
	ADDQ         $32, SI
	DECQ         CX
	JNZ          ssloop
	LANESUM(Y0, X0)
	MOVSS        X0, ret+32(FP)
	VZEROUPPER
	RET

// func normRowAVX2(dst, src, gamma, beta []float32, mean, den float32)
//
// For len(src) a multiple of 8 (the others at least as long):
// dst[i] = float32(float32((src[i]−mean)/den)·gamma[i]) + beta[i].
// Reference: normRow.
TEXT ·normRowAVX2(SB), NOSPLIT, $0-104
	MOVQ         dst_base+0(FP), DI
	MOVQ         src_base+24(FP), SI
	MOVQ         src_len+32(FP), CX
	MOVQ         gamma_base+48(FP), R8
	MOVQ         beta_base+72(FP), R9
	SHRQ         $3, CX
	JZ           normdone
	VBROADCASTSS mean+96(FP), Y1
	VBROADCASTSS den+100(FP), Y2
normloop:
	VMOVUPS      (SI), Y0
	VSUBPS       Y1, Y0, Y0
	VDIVPS       Y2, Y0, Y0
	VMULPS       (R8), Y0, Y0
	VADDPS       (R9), Y0, Y0
	VMOVUPS      Y0, (DI)
	ADDQ         $32, SI
	ADDQ         $32, DI
	ADDQ         $32, R8
	ADDQ         $32, R9
	DECQ         CX
	JNZ          normloop
normdone:
	VZEROUPPER
	RET
