package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

//go:generate go run . -kernel lstm_avx2 -pkg kernel -out ../lstm_avx2_amd64.s

func init() { register("lstm_avx2", lstmAVX2) }

// lstmAVX2 writes lstm_avx2_amd64.s: the LSTM cell update with 256-bit
// registers, the activations as act_avx2's (actTanhRat, Sigmoid as
// 0.5·Tanh(0.5·x) + 0.5), every product and sum rounded on its own (no
// FMA). Sixteen ymm registers hold two tanh evaluations in flight and
// their constants, so the sigmoids of i and f go back to g (scratch by
// the contract) and are read again for the new c. The constant table is
// act_avx2's, emitted again here as lstmc (a DATA symbol is private to
// its file).
func lstmAVX2() {
	actcAVX2 = GLOBL("lstmc", RODATA|NOPTR)
	for i, c := range tanhRat {
		DATA(ratBase+4*i, U32(c))
	}

	TEXT("lstmCellAVX2", NOSPLIT, "func(g, h, c []float32)")
	Comment("For H = len(h) a multiple of 8 (g at least 4H, c at least H long), with",
		"gate pre-activations g in the order i, f, g, o:",
		"",
		"\tc[k] = float32(Sigmoid(g[H+k])·c[k]) + float32(Sigmoid(g[k])·Tanh(g[2H+k]))",
		"\th[k] = float32(Sigmoid(g[3H+k]) · Tanh(c[k]))",
		"",
		"g[:2H] is overwritten with Sigmoid(i), Sigmoid(f). Reference: lstmCellGeneric.")
	MOVQ(arg(Param("g").Base()), RSI)
	MOVQ(arg(Param("h").Base()), RDI)
	MOVQ(arg(Param("h").Len()), RCX)
	MOVQ(arg(Param("c").Base()), R11)
	SHRQ(Imm(3), RCX)
	JZ(LabelRef("done"))
	actTanhRatConsts()
	MOVQ(arg(Param("h").Len()), RAX)
	SHLQ(Imm(2), RAX)                              // H in bytes
	LEAQ(Mem{Base: RSI, Index: RAX, Scale: 1}, R8) // f
	LEAQ(Mem{Base: R8, Index: RAX, Scale: 1}, R9)  // g
	LEAQ(Mem{Base: R9, Index: RAX, Scale: 1}, R10) // o
	a, b := ratVecs[0], ratVecs[1]
	Label("loop")
	// i and f: sigmoids, stored back.
	VMULPS(Mem{Base: RSI}, Y14, a.x)
	VMULPS(Mem{Base: R8}, Y14, b.x)
	actTanhRat(ratVecs)
	for _, r := range ratVecs {
		VMULPS(Y14, r.x, r.x)
		VADDPS(Y14, r.x, r.x)
	}
	VMOVUPS(a.x, Mem{Base: RSI})
	VMOVUPS(b.x, Mem{Base: R8})
	// tanh(g) in a.x, Sigmoid(o) in b.x.
	VMOVUPS(Mem{Base: R9}, a.x)
	VMULPS(Mem{Base: R10}, Y14, b.x)
	actTanhRat(ratVecs)
	VMULPS(Y14, b.x, b.x)
	VADDPS(Y14, b.x, b.x)
	// c' = f·c + i·tanh(g); h = o·tanh(c').
	VMOVUPS(Mem{Base: R11}, a.z)
	VMULPS(Mem{Base: R8}, a.z, a.z)  // f·c
	VMULPS(Mem{Base: RSI}, a.x, a.p) // i·tanh(g)
	VADDPS(a.p, a.z, a.x)
	VMOVUPS(a.x, Mem{Base: R11})
	actTanhRat(ratVecs[:1])
	VMULPS(a.x, b.x, a.x)
	VMOVUPS(a.x, Mem{Base: RDI})
	for _, r := range []GPPhysical{RSI, R8, R9, R10, R11, RDI} {
		ADDQ(Imm(32), r)
	}
	DECQ(RCX)
	JNZ(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}
