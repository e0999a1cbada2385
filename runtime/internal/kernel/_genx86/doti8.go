package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

//go:generate go run . -kernel dot_i8_avx2 -pkg kernel -out ../dot_i8_avx2_amd64.s

func init() { register("dot_i8_avx2", genDotI8AVX2) }

// genDotI8AVX2 writes dot_i8_avx2_amd64.s: DotsI8's pair loop, 16 int8
// pairs a step (sign-extend to int16, VPMADDWD to int32, VPADDD).
func genDotI8AVX2() {
	TEXT("dotsI8AVX2", NOSPLIT, "func(acc []int32, a []int8, ra []int32, b []int8, rb []int32, n, stride int)")
	Comment("For len(acc) > 0 and n a multiple of 16 (> 0), rows of stride int8 values,",
		"every row index in range (checked by the caller):",
		"",
		"\tacc[i] = Σ_{k<n} int32(a[ra[i]*stride+k]) * int32(b[rb[i]*stride+k])",
		"",
		"in wrapping int32 arithmetic (so in any order). Reference: dotsI8Generic.")
	MOVQ(arg(Param("acc").Base()), RDI)
	MOVQ(arg(Param("acc").Len()), RCX)
	MOVQ(arg(Param("a").Base()), RSI)
	MOVQ(arg(Param("ra").Base()), R10)
	MOVQ(arg(Param("b").Base()), R11)
	MOVQ(arg(Param("rb").Base()), R12)
	MOVQ(arg(Param("n")), R13)
	MOVQ(arg(Param("stride")), R14)
	SHRQ(Imm(4), R13)
	Label("pair")
	MOVLQSX(Mem{Base: R10}, RAX)
	IMULQ(R14, RAX)
	ADDQ(RSI, RAX)
	MOVLQSX(Mem{Base: R12}, RBX)
	IMULQ(R14, RBX)
	ADDQ(R11, RBX)
	MOVQ(R13, RDX)
	VPXOR(Y0, Y0, Y0)
	Label("step")
	VPMOVSXBW(Mem{Base: RAX}, Y1)
	VPMOVSXBW(Mem{Base: RBX}, Y2)
	VPMADDWD(Y2, Y1, Y1)
	VPADDD(Y1, Y0, Y0)
	ADDQ(Imm(16), RAX)
	ADDQ(Imm(16), RBX)
	DECQ(RDX)
	JNZ(LabelRef("step"))
	VEXTRACTI128(Imm(1), Y0, X1)
	VPADDD(X1, X0, X0)
	VPSHUFD(Imm(0x4e), X0, X1)
	VPADDD(X1, X0, X0)
	VPSHUFD(Imm(0xb1), X0, X1)
	VPADDD(X1, X0, X0)
	VMOVD(X0, Mem{Base: RDI})
	ADDQ(Imm(4), RDI)
	ADDQ(Imm(4), R10)
	ADDQ(Imm(4), R12)
	DECQ(RCX)
	JNZ(LabelRef("pair"))
	VZEROUPPER()
	RET()
}
