//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// Vector versions of Exp, Sigmoid and Tanh (math.go), eight lanes at a
// time, computing exactly what the scalar code computes: the same float32
// operations in the same order, no FMA, the same range reduction
// (floor, then 2ⁿ built from exponent bits, with the subnormal case
// scaled in two exact-then-rounding steps) and the same special cases.
// TestActivationSlices checks every lane bit for bit against math.go.

DATA actc<>+0(SB)/4, $0x3fb8aa3b  // log2e
DATA actc<>+4(SB)/4, $0x3f000000  // 0.5
DATA actc<>+8(SB)/4, $0x3f318000  // ln2Hi
DATA actc<>+12(SB)/4, $0xb95e8083 // ln2Lo
DATA actc<>+16(SB)/4, $0x39506967 // p0
DATA actc<>+20(SB)/4, $0x3ab743ce // p1
DATA actc<>+24(SB)/4, $0x3c088908 // p2
DATA actc<>+28(SB)/4, $0x3d2aa9c1 // p3
DATA actc<>+32(SB)/4, $0x3e2aaaaa // p4
DATA actc<>+36(SB)/4, $0x3f000000 // p5
DATA actc<>+40(SB)/4, $0x3f800000 // 1
DATA actc<>+44(SB)/4, $0x42b17217 // 88.72283
DATA actc<>+48(SB)/4, $0xc2cff1b4 // -103.97208
DATA actc<>+52(SB)/4, $0x7f800000 // +Inf
DATA actc<>+56(SB)/4, $0x80000000 // sign bit
DATA actc<>+60(SB)/4, $127        // int 127
DATA actc<>+64(SB)/4, $-126       // int -126
DATA actc<>+68(SB)/4, $126        // int 126
DATA actc<>+72(SB)/4, $0xbbbaf0ea // tanh t0
DATA actc<>+76(SB)/4, $0x3ca9134e // t1
DATA actc<>+80(SB)/4, $0xbd5c1e2d // t2
DATA actc<>+84(SB)/4, $0x3e088393 // t3
DATA actc<>+88(SB)/4, $0xbeaaaa99 // t4
DATA actc<>+92(SB)/4, $0x41100000 // 9
DATA actc<>+96(SB)/4, $0x3f200000 // 0.625
DATA actc<>+100(SB)/4, $0x3d372713 // GELU 0.044715
DATA actc<>+104(SB)/4, $0x3f4c422a // GELU 0.7978845608
GLOBL actc<>(SB), RODATA|NOPTR, $108

// EXP8(X, R): R = Exp(X) lane by lane. Clobbers Y2..Y7.
#define EXP8(X, R) \
	VBROADCASTSS actc<>+0(SB), Y2  \
	VMULPS       Y2, X, Y2         \ // t = x·log2e
	VBROADCASTSS actc<>+4(SB), Y3  \
	VADDPS       Y3, Y2, Y2        \ // t += 0.5
	VROUNDPS     $9, Y2, Y2        \ // fx = floor(t)
	VCVTTPS2DQ   Y2, Y7            \ // n
	VBROADCASTSS actc<>+8(SB), Y3  \
	VMULPS       Y3, Y2, Y3        \
	VSUBPS       Y3, X, Y4         \ // r = x − fx·ln2Hi
	VBROADCASTSS actc<>+12(SB), Y3 \
	VMULPS       Y3, Y2, Y3        \
	VSUBPS       Y3, Y4, Y4        \ // r −= fx·ln2Lo
	VMULPS       Y4, Y4, Y5        \ // z = r·r
	VBROADCASTSS actc<>+16(SB), R  \
	VMULPS       Y4, R, R          \
	VBROADCASTSS actc<>+20(SB), Y3 \
	VADDPS       Y3, R, R          \
	VMULPS       Y4, R, R          \
	VBROADCASTSS actc<>+24(SB), Y3 \
	VADDPS       Y3, R, R          \
	VMULPS       Y4, R, R          \
	VBROADCASTSS actc<>+28(SB), Y3 \
	VADDPS       Y3, R, R          \
	VMULPS       Y4, R, R          \
	VBROADCASTSS actc<>+32(SB), Y3 \
	VADDPS       Y3, R, R          \
	VMULPS       Y4, R, R          \
	VBROADCASTSS actc<>+36(SB), Y3 \
	VADDPS       Y3, R, R          \
	VMULPS       Y5, R, R          \ // y·z
	VADDPS       Y4, R, R          \ // + r
	VBROADCASTSS actc<>+40(SB), Y3 \
	VADDPS       Y3, R, R          \ // + 1
	VPBROADCASTD actc<>+64(SB), Y3 \ // −126
	VPCMPGTD     Y7, Y3, Y5        \ // m = n < −126
	VPBROADCASTD actc<>+60(SB), Y6 \ // 127
	VPMINSD      Y6, Y7, Y2        \ // min(n, 127)
	VPBROADCASTD actc<>+68(SB), Y3 \ // 126
	VPAND        Y3, Y5, Y5        \
	VPADDD       Y5, Y2, Y2        \ // e1 = min(n,127) + (m ? 126 : 0)
	VPSUBD       Y2, Y7, Y7        \ // e2 = n − e1 ∈ {−126, 0, 1}
	VPADDD       Y6, Y2, Y2        \
	VPSLLD       $23, Y2, Y2       \ // 2^e1
	VPADDD       Y6, Y7, Y7        \
	VPSLLD       $23, Y7, Y7       \ // 2^e2
	VMULPS       Y2, R, R          \ // exact
	VMULPS       Y7, R, R          \ // the one rounding
	VBROADCASTSS actc<>+44(SB), Y3 \
	VCMPPS       $0x1e, Y3, X, Y5  \ // x > 88.72283
	VBROADCASTSS actc<>+52(SB), Y3 \
	VBLENDVPS    Y5, Y3, R, R      \ // → +Inf
	VBROADCASTSS actc<>+48(SB), Y3 \
	VCMPPS       $0x11, Y3, X, Y5  \ // x < −103.97208
	VXORPS       Y3, Y3, Y3        \
	VBLENDVPS    Y5, Y3, R, R      \ // → 0
	VCMPPS       $3, X, X, Y5      \ // x is NaN
	VBLENDVPS    Y5, X, R, R          // → x

// TANH8: Y10 = Tanh(Y8) lane by lane. Clobbers Y0..Y7, Y9, Y11.
#define TANH8 \
	VADDPS       Y8, Y8, Y0 \ // 2x (exact)
	EXP8(Y0, Y1) \ // e
	VBROADCASTSS actc<>+40(SB), Y9 \ // 1
	VSUBPS       Y9, Y1, Y10 \ // e − 1
	VADDPS       Y9, Y1, Y11 \ // e + 1
	VDIVPS       Y11, Y10, Y10 \ // mid-range result
	VMULPS       Y8, Y8, Y2 \ // z = x·x
	VBROADCASTSS actc<>+72(SB), Y3 \
	VMULPS       Y2, Y3, Y3 \
	VBROADCASTSS actc<>+76(SB), Y4 \
	VADDPS       Y4, Y3, Y3 \
	VMULPS       Y2, Y3, Y3 \
	VBROADCASTSS actc<>+80(SB), Y4 \
	VADDPS       Y4, Y3, Y3 \
	VMULPS       Y2, Y3, Y3 \
	VBROADCASTSS actc<>+84(SB), Y4 \
	VADDPS       Y4, Y3, Y3 \
	VMULPS       Y2, Y3, Y3 \
	VBROADCASTSS actc<>+88(SB), Y4 \
	VADDPS       Y4, Y3, Y3 \ // p
	VMULPS       Y2, Y3, Y3 \ // p·z
	VMULPS       Y8, Y3, Y3 \ // ·x
	VADDPS       Y8, Y3, Y3 \ // + x
	VBROADCASTSS actc<>+56(SB), Y4 \
	VANDNPS      Y8, Y4, Y5 \ // |x| (clear the sign bit)
	VBROADCASTSS actc<>+96(SB), Y6 \
	VCMPPS       $0x11, Y6, Y5, Y7 \ // |x| < 0.625
	VBLENDVPS    Y7, Y3, Y10, Y10 \
	VBROADCASTSS actc<>+92(SB), Y6 \ // 9
	VCMPPS       $0x1e, Y6, Y8, Y7 \ // x > 9
	VBLENDVPS    Y7, Y9, Y10, Y10 \ // → 1
	VXORPS       Y4, Y6, Y6 \ // −9
	VCMPPS       $0x11, Y6, Y8, Y7 \ // x < −9
	VXORPS       Y4, Y9, Y9 \ // −1
	VBLENDVPS    Y7, Y9, Y10, Y10    // → −1

// func expAVX2(dst, src []float32)
//
// For len(src) a multiple of 8 (dst at least as long):
//
//	for i := range src { dst[i] = Exp(src[i]) }
//
// Reference: Exp.
TEXT ·expAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	SHRQ $3, CX
	JZ   expdone
exploop:
	VMOVUPS (SI), Y0
	EXP8(Y0, Y1)
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     exploop
expdone:
	VZEROUPPER
	RET

// func sigmoidAVX2(dst, src []float32)
//
// For len(src) a multiple of 8 (dst at least as long):
//
//	for i := range src { dst[i] = Sigmoid(src[i]) }
//
// Reference: Sigmoid. Both branches use e = Exp(−|x|): 1/(1+e) for
// x ≥ 0, e/(1+e) otherwise.
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	SHRQ $3, CX
	JZ   sigdone
sigloop:
	VMOVUPS      (SI), Y8
	VBROADCASTSS actc<>+56(SB), Y9
	VORPS        Y9, Y8, Y0            // −|x|
	EXP8(Y0, Y1)                       // e
	VBROADCASTSS actc<>+40(SB), Y9     // 1
	VADDPS       Y1, Y9, Y10           // 1 + e
	VXORPS       Y11, Y11, Y11
	VCMPPS       $0x1d, Y11, Y8, Y11   // x ≥ 0
	VBLENDVPS    Y11, Y9, Y1, Y1       // numerator: 1 or e
	VDIVPS       Y10, Y1, Y1
	VMOVUPS      Y1, (DI)
	ADDQ         $32, SI
	ADDQ         $32, DI
	DECQ         CX
	JNZ          sigloop
sigdone:
	VZEROUPPER
	RET

// func tanhAVX2(dst, src []float32)
//
// For len(src) a multiple of 8 (dst at least as long):
//
//	for i := range src { dst[i] = Tanh(src[i]) }
//
// Reference: Tanh: ±1 beyond ±9, an odd polynomial inside ±0.625,
// (e−1)/(e+1) with e = Exp(2x) between.
TEXT ·tanhAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	SHRQ $3, CX
	JZ   tanhdone
tanhloop:
	VMOVUPS      (SI), Y8
	TANH8
	VMOVUPS      Y10, (DI)
	ADDQ         $32, SI
	ADDQ         $32, DI
	DECQ         CX
	JNZ          tanhloop
tanhdone:
	VZEROUPPER
	RET

// func geluAVX2(dst, src []float32)
//
// For len(src) a multiple of 8 (dst at least as long):
//
//	for i := range src { dst[i] = GELU(src[i]) }
//
// Reference: GELU: u = 0.7978845608·(x + 0.044715·(x·x·x)), then
// (0.5·x)·(1 + Tanh(u)), each product and sum rounded to float32.
TEXT ·geluAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	SHRQ $3, CX
	JZ   geludone
geluloop:
	VMOVUPS      (SI), Y12
	VMULPS       Y12, Y12, Y8          // x·x
	VMULPS       Y12, Y8, Y8           // ·x
	VBROADCASTSS actc<>+100(SB), Y9
	VMULPS       Y9, Y8, Y8            // 0.044715·x³
	VADDPS       Y12, Y8, Y8           // x + …
	VBROADCASTSS actc<>+104(SB), Y9
	VMULPS       Y9, Y8, Y8            // u
	TANH8
	VBROADCASTSS actc<>+40(SB), Y9
	VADDPS       Y9, Y10, Y10          // 1 + tanh(u)
	VBROADCASTSS actc<>+4(SB), Y9
	VMULPS       Y9, Y12, Y11          // 0.5·x
	VMULPS       Y10, Y11, Y10
	VMOVUPS      Y10, (DI)
	ADDQ         $32, SI
	ADDQ         $32, DI
	DECQ         CX
	JNZ          geluloop
geludone:
	VZEROUPPER
	RET

// func maxF32AVX2(p []float32) (mx float32, nan bool)
//
// For len(p) a multiple of 8 (> 0): the largest element (the sign of a
// zero maximum is unspecified), and whether any element is NaN (then mx
// is meaningless). Reference: the max loop of softmaxLoop.
TEXT ·maxF32AVX2(SB), NOSPLIT, $0-29
	MOVQ         p_base+0(FP), SI
	MOVQ         p_len+8(FP), CX
	SHRQ         $3, CX
	VBROADCASTSS actc<>+52(SB), Y0 // +Inf
	VBROADCASTSS actc<>+56(SB), Y1
	VORPS        Y1, Y0, Y0        // −Inf
	VXORPS       Y2, Y2, Y2        // NaN lanes seen
maxloop:
	VMOVUPS      (SI), Y3
	VMAXPS       Y3, Y0, Y0
	VCMPPS       $3, Y3, Y3, Y4
	VORPS        Y4, Y2, Y2
	ADDQ         $32, SI
	DECQ         CX
	JNZ          maxloop
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X1, X0, X0
	MOVSS        X0, mx+24(FP)
	VMOVMSKPS    Y2, AX
	TESTL        AX, AX
	SETNE        nan+28(FP)
	VZEROUPPER
	RET

// func expSubSumAVX2(p []float32, mx float32) (sum float32)
//
// For len(p) a multiple of 8 (> 0):
//
//	for j := range p { p[j] = Exp(p[j] − mx) }
//
// and the sum of the new p in DotF32's order (eight lane sums combined as
// ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7))). Reference: softmaxLoop.
TEXT ·expSubSumAVX2(SB), NOSPLIT, $0-36
	MOVQ         p_base+0(FP), SI
	MOVQ         p_len+8(FP), CX
	SHRQ         $3, CX
	VBROADCASTSS mx+24(FP), Y8
	VXORPS       Y9, Y9, Y9
esloop:
	VMOVUPS      (SI), Y0
	VSUBPS       Y8, Y0, Y0 // x − mx
	EXP8(Y0, Y1)
	VMOVUPS      Y1, (SI)
	VADDPS       Y1, Y9, Y9
	ADDQ         $32, SI
	DECQ         CX
	JNZ          esloop
	VEXTRACTF128 $1, Y9, X1
	VADDPS       X1, X9, X9
	VPERMILPS    $0x4e, X9, X1
	VADDPS       X1, X9, X9
	VPERMILPS    $0xb1, X9, X1
	VADDSS       X1, X9, X9
	MOVSS        X9, sum+32(FP)
	VZEROUPPER
	RET

// func divF32AVX2(p []float32, d float32)
//
// For len(p) a multiple of 8: for j := range p { p[j] /= d }.
TEXT ·divF32AVX2(SB), NOSPLIT, $0-28
	MOVQ         p_base+0(FP), SI
	MOVQ         p_len+8(FP), CX
	SHRQ         $3, CX
	JZ           divdone
	VBROADCASTSS d+24(FP), Y1
divloop:
	VMOVUPS      (SI), Y0
	VDIVPS       Y1, Y0, Y0
	VMOVUPS      Y0, (SI)
	ADDQ         $32, SI
	DECQ         CX
	JNZ          divloop
divdone:
	VZEROUPPER
	RET

// func reluAVX2(x []float32)
//
// For len(x) a multiple of 8: x[i] = max(x[i], 0) with Go's max: NaN
// stays NaN and −0 becomes +0. VMAXPS with the element as its second
// source returns the element when either is NaN or both are zero; adding
// +0 then turns −0 into +0 and changes nothing else.
TEXT ·reluAVX2(SB), NOSPLIT, $0-24
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	SHRQ   $3, CX
	JZ     reludone
	VXORPS Y1, Y1, Y1
reluloop:
	VMOVUPS (SI), Y0
	VMAXPS  Y0, Y1, Y2
	VADDPS  Y1, Y2, Y2
	VMOVUPS Y2, (SI)
	ADDQ    $32, SI
	DECQ    CX
	JNZ     reluloop
reludone:
	VZEROUPPER
	RET
