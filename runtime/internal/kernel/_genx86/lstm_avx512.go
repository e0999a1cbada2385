package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

//go:generate go run . -kernel lstm_avx512 -pkg kernel -out ../lstm_avx512_amd64.s

func init() { register("lstm_avx512", lstmAVX512) }

// lstmAVX512 writes lstm_avx512_amd64.s: the LSTM cell update in one pass
// with 512-bit registers, the activations as act_avx512's (tanhRat16,
// Sigmoid as 0.5·Tanh(0.5·x) + 0.5) and every product and sum rounded on
// its own (no FMA). The constants are act_avx512's table, emitted again
// here as lstmz (a DATA symbol is private to its file).
func lstmAVX512() {
	actz = GLOBL("lstmz", RODATA|NOPTR)
	for i, c := range actzConsts {
		DATA(4*i, U32(c.bits))
	}

	TEXT("lstmCellAVX512", NOSPLIT, "func(g, h, c []float32)")
	Comment("For H = len(h) a multiple of 8 (g at least 4H, c at least H long), with",
		"gate pre-activations g in the order i, f, g, o:",
		"",
		"\tc[k] = float32(Sigmoid(g[H+k])·c[k]) + float32(Sigmoid(g[k])·Tanh(g[2H+k]))",
		"\th[k] = float32(Sigmoid(g[3H+k]) · Tanh(c[k]))",
		"",
		"g is read only. Reference: lstmCellGeneric.")
	Load(Param("g").Base(), RSI)
	Load(Param("h").Base(), RDI)
	Load(Param("h").Len(), RCX)
	Load(Param("c").Base(), R11)
	TESTQ(RCX, RCX)
	JZ(LabelRef("done"))
	ratConsts()
	MOVQ(RCX, RAX)
	SHLQ(U8(2), RAX)                               // H in bytes
	LEAQ(Mem{Base: RSI, Index: RAX, Scale: 1}, R8) // f
	LEAQ(Mem{Base: R8, Index: RAX, Scale: 1}, R9)  // g
	LEAQ(Mem{Base: R9, Index: RAX, Scale: 1}, R10) // o
	MOVQ(RCX, RDX)
	SHRQ(U8(4), RCX)
	JZ(LabelRef("tail"))
	Label("loop")
	lstmBody(false)
	for _, r := range []GPPhysical{RSI, R8, R9, R10, R11, RDI} {
		ADDQ(U8(64), r)
	}
	DECQ(RCX)
	JNZ(LabelRef("loop"))
	Label("tail")
	TESTQ(U32(8), RDX)
	JZ(LabelRef("done"))
	MOVL(U32(0xff), EAX)
	KMOVW(EAX, K2)
	lstmBody(true)
	Label("done")
	VZEROUPPER()
	RET()
}

// lstmBody emits one 16-lane (or, masked with K2, 8-lane) step of
// lstmCellAVX512: i and f through the two vectors of tanhRat16, then g
// and o, then tanh(c'). Z10–Z14 keep i, f, tanh(g), o and c'.
func lstmBody(masked bool) {
	a, b := zvecs[0], zvecs[1]
	sigIn := func(r zvec) { VMULPS(Z28, r.x, r.x) } // 0.5·x
	sigOut := func(r zvec) {
		VMULPS(Z28, r.x, r.x)
		VADDPS(Z28, r.x, r.x)
	}
	load(Mem{Base: RSI}, a.x, masked)
	load(Mem{Base: R8}, b.x, masked)
	sigIn(a)
	sigIn(b)
	tanhRat16(zvecs)
	sigOut(a)
	sigOut(b)
	VMOVAPS(a.x, Z10) // i
	VMOVAPS(b.x, Z11) // f
	load(Mem{Base: R9}, a.x, masked)
	load(Mem{Base: R10}, b.x, masked)
	sigIn(b)
	tanhRat16(zvecs)
	sigOut(b)
	VMOVAPS(a.x, Z12) // tanh(g)
	VMOVAPS(b.x, Z13) // o
	load(Mem{Base: R11}, Z14, masked)
	VMULPS(Z14, Z11, Z14) // f·c
	VMULPS(Z12, Z10, Z15) // i·tanh(g)
	VADDPS(Z15, Z14, Z14) // c'
	store(Z14, Mem{Base: R11}, masked)
	VMOVAPS(Z14, a.x)
	tanhRat16(zvecs[:1])
	VMULPS(a.x, Z13, a.x) // o·tanh(c')
	store(a.x, Mem{Base: RDI}, masked)
}
