package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

//go:generate go run . -kernel pack_avx2 -pkg kernel -out ../pack_avx2_amd64.s

func init() { register("pack_avx2", genPackAVX2) }

// genPackAVX2 writes pack_avx2_amd64.s: the load-time row sums of int8
// weights (rowSums) over the 32-byte prefix of each row, 32 bytes a step
// with AVX2. Each byte biased by +128 (XOR 0x80) is 0..255; VPSADBW
// against zero adds them eight at a time into 64-bit lanes (exact for any
// row length), and a running VPMINUB of the biased bytes is 0 exactly
// when some weight is −128.
func genPackAVX2() {
	TEXT("rowSumsI8AVX2", NOSPLIT, "func(w []int8, n, k int, prefix []int32) (min128 bool)")
	Comment("For n ≥ 1 rows of k ≥ 32 (row-major, w at least n·k long, prefix at",
		"least n long), with kf = k rounded down to 32:",
		"",
		"\tprefix[j] = Σ_{p<kf} w[j·k+p]     (j < n)",
		"\tmin128 = some w[j·k+p] with p < kf is −128",
		"",
		"No byte of a row past kf is read. Reference: rowSums.")
	w, n, k, prefix := RSI, RCX, RDX, RDI
	row, steps, cnt := R8, R9, R10
	MOVQ(arg(Param("w").Base()), w)
	MOVQ(arg(Param("n")), n)
	MOVQ(arg(Param("k")), k)
	MOVQ(arg(Param("prefix").Base()), prefix)
	MOVQ(k, steps)
	SHRQ(Imm(5), steps)
	// bias = 128 per byte of the prefix, taken off each row's biased sum.
	MOVQ(steps, R11)
	SHLQ(Imm(12), R11) // 32·128 per step
	broadcastD(0x80808080, X0, Y0)
	zeroY(Y1)            // zero, for VPSADBW and the check
	VPCMPEQB(Y2, Y2, Y2) // running minimum of the biased bytes
	Label("row")
	MOVQ(w, row)
	MOVQ(steps, cnt)
	zeroY(Y3)
	Label("step")
	VPXOR(Mem{Base: row}, Y0, Y5)
	VPSADBW(Y1, Y5, Y6)
	VPADDQ(Y6, Y3, Y3)
	VPMINUB(Y5, Y2, Y2)
	ADDQ(Imm(32), row)
	DECQ(cnt)
	JNZ(LabelRef("step"))
	VEXTRACTI128(Imm(1), Y3, X4)
	VPADDQ(X4, X3, X3)
	VPSHUFD(Imm(0x4e), X3, X4)
	VPADDQ(X4, X3, X3)
	VMOVQ(X3, RAX)
	SUBQ(R11, RAX)
	MOVL(EAX, Mem{Base: prefix})
	ADDQ(Imm(4), prefix)
	ADDQ(k, w)
	DECQ(n)
	JNZ(LabelRef("row"))
	VPCMPEQB(Y1, Y2, Y2)
	VPMOVMSKB(Y2, EAX)
	TESTL(EAX, EAX)
	SETNE(arg(Return("min128")))
	VZEROUPPER()
	RET()
}
