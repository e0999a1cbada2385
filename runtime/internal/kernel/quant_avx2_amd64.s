//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// func minMaxAVX2(x []float32) (lo, hi float32)
//
// For len(x) a multiple of 8 (> 0): the smallest and largest element;
// lo is NaN when any element is NaN (VMINPS/VMAXPS alone would drop it,
// they return their second operand when either is NaN), so the caller
// can hand the row to the reference. Reference: the min/max loop of
// quantizeRowU8Generic.
TEXT ·minMaxAVX2(SB), NOSPLIT, $0-32
	MOVQ    x_base+0(FP), SI
	MOVQ    x_len+8(FP), CX
	VMOVUPS (SI), Y0
	VMOVAPS Y0, Y1
	VCMPPS  $3, Y0, Y0, Y3 // NaN lanes
	ADDQ    $32, SI
	SUBQ    $8, CX
	JZ      mmreduce
mmloop:
	VMOVUPS (SI), Y2
	VMINPS  Y2, Y0, Y0
	VMAXPS  Y2, Y1, Y1
	VCMPPS  $3, Y2, Y2, Y4
	VORPS   Y4, Y3, Y3
	ADDQ    $32, SI
	SUBQ    $8, CX
	JNZ     mmloop
mmreduce:
	VEXTRACTF128 $1, Y0, X2
	VMINPS       X2, X0, X0
	VPERMILPS    $0x4e, X0, X2
	VMINPS       X2, X0, X0
	VPERMILPS    $0xb1, X0, X2
	VMINPS       X2, X0, X0
	VEXTRACTF128 $1, Y1, X2
	VMAXPS       X2, X1, X1
	VPERMILPS    $0x4e, X1, X2
	VMAXPS       X2, X1, X1
	VPERMILPS    $0xb1, X1, X2
	VMAXPS       X2, X1, X1
	VEXTRACTF128 $1, Y3, X2
	VORPS        X2, X3, X3
	VPERMILPS    $0x4e, X3, X2
	VORPS        X2, X3, X3
	VPERMILPS    $0xb1, X3, X2
	VORPS        X2, X3, X3
	VORPS        X3, X0, X0 // all ones, a NaN, when any lane was NaN
	MOVSS        X0, lo+24(FP)
	MOVSS        X1, hi+28(FP)
	VZEROUPPER
	RET

// func quantRowAVX2(dst []uint8, x []float32, inv float32, zp int32)
//
// For len(x) a multiple of 8 (dst at least as long):
//
//	for i, v := range x { dst[i] = uint8(clamp(roundEven(float32(v*inv)) + zp, 0, 255)) }
//
// The clamp comes from the saturating packs (|round(v·inv)| ≤ 255 for
// values inside the row's range, so nothing wraps first).
// Reference: quantizeRowU8Generic.
TEXT ·quantRowAVX2(SB), NOSPLIT, $0-56
	MOVQ         dst_base+0(FP), DI
	MOVQ         x_base+24(FP), SI
	MOVQ         x_len+32(FP), CX
	VBROADCASTSS inv+48(FP), Y1
	MOVL         zp+52(FP), AX
	MOVQ         AX, X2
	VPBROADCASTD X2, Y2
	SHRQ         $3, CX
	JZ           qdone
qloop:
	VMOVUPS      (SI), Y0
	VMULPS       Y1, Y0, Y0
	VROUNDPS     $8, Y0, Y0          // nearest, ties to even
	VCVTPS2DQ    Y0, Y0
	VPADDD       Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X3
	VPACKUSDW    X3, X0, X0          // int32 → uint16, saturating
	VPACKUSWB    X0, X0, X0          // → uint8, saturating
	MOVQ         X0, (DI)
	ADDQ         $32, SI
	ADDQ         $8, DI
	DECQ         CX
	JNZ          qloop
qdone:
	VZEROUPPER
	RET

// func dequantRowAVX2(dst []float32, acc []int32, scales []float32, rowSum []int32, bias []float32, sx float32, zx int32)
//
// For len(dst) a multiple of 8 (the others at least as long; bias may be
// empty):
//
//	for j := range dst { dst[j] = float32(sx*scales[j]) * float32(acc[j]-zx*rowSum[j]) (+ bias[j]) }
//
// Reference: DequantRow's portable loop.
TEXT ·dequantRowAVX2(SB), NOSPLIT, $0-128
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         acc_base+24(FP), SI
	MOVQ         scales_base+48(FP), R8
	MOVQ         rowSum_base+72(FP), R9
	MOVQ         bias_base+96(FP), R10
	MOVQ         bias_len+104(FP), R11
	VBROADCASTSS sx+120(FP), Y1
	MOVL         zx+124(FP), AX
	MOVQ         AX, X2
	VPBROADCASTD X2, Y2
	SHRQ         $3, CX
	JZ           ddone
dloop:
	VMULPS    (R8), Y1, Y3               // sx·scale
	VPMULLD   (R9), Y2, Y4               // zx·rowSum (wrapping, as in Go)
	VMOVDQU   (SI), Y5
	VPSUBD    Y4, Y5, Y5                 // acc − zx·rowSum
	VCVTDQ2PS Y5, Y5
	VMULPS    Y5, Y3, Y3
	TESTQ     R11, R11
	JZ        dnobias
	VADDPS    (R10), Y3, Y3
	ADDQ      $32, R10
dnobias:
	VMOVUPS Y3, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, R8
	ADDQ    $32, R9
	DECQ    CX
	JNZ     dloop
ddone:
	VZEROUPPER
	RET
