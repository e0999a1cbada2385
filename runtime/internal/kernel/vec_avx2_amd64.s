//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// func dotF32AVX2(a, b []float32) float32
//
// For len(a) a multiple of 8 (> 0; b at least as long): eight lane sums
// s[l] = Σ_{i ≡ l mod 8} float32(a[i]*b[i]) (multiply, then add: no FMA),
// combined as ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)).
// Reference: dotF32Generic, which sums in exactly this order.
TEXT ·dotF32AVX2(SB), NOSPLIT, $0-52
	MOVQ   a_base+0(FP), SI
	MOVQ   a_len+8(FP), CX
	MOVQ   b_base+24(FP), DI
	VXORPS Y0, Y0, Y0
	SHRQ   $3, CX
dloop:
	VMOVUPS (SI), Y1
	VMULPS  (DI), Y1, Y1
	VADDPS  Y1, Y0, Y0
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     dloop
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0          // t = [s0+s4, s1+s5, s2+s6, s3+s7]
	VPERMILPS    $0x4e, X0, X1       // [t2, t3, t0, t1]
	VADDPS       X1, X0, X0          // [t0+t2, t1+t3, ...]
	VPERMILPS    $0xb1, X0, X1       // [t1+t3, t0+t2, ...]
	VADDSS       X1, X0, X0          // (t0+t2) + (t1+t3)
	MOVSS        X0, ret+48(FP)
	VZEROUPPER
	RET

// func axpyF32AVX2(alpha float32, x, y []float32)
//
// For len(x) a multiple of 8 (y at least as long):
//
//	for i, v := range x { y[i] += float32(alpha * v) }
//
// Reference: axpyF32Generic.
TEXT ·axpyF32AVX2(SB), NOSPLIT, $0-56
	VBROADCASTSS alpha+0(FP), Y0
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	MOVQ         y_base+32(FP), DI
	SHRQ         $3, CX
	JZ           adone
aloop:
	VMULPS  (SI), Y0, Y1
	VADDPS  (DI), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     aloop
adone:
	VZEROUPPER
	RET
