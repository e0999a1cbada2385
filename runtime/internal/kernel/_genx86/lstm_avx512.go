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
		"Two passes: the gates and c, keeping Sigmoid(o) in g[3H:], then h.",
		"Reference: lstmCellGeneric.")
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
	for _, r := range []GPPhysical{RSI, R8, R9, R10, R11} {
		ADDQ(U8(64), r)
	}
	DECQ(RCX)
	JNZ(LabelRef("loop"))
	Label("tail")
	TESTQ(U32(8), RDX)
	JZ(LabelRef("pass2"))
	MOVL(U32(0xff), EAX)
	KMOVW(EAX, K2)
	lstmBody(true)
	// Second pass: h = o·tanh(c'), four vectors in flight.
	Label("pass2")
	Load(Param("h").Base(), RDI)
	Load(Param("h").Len(), RCX)
	Load(Param("c").Base(), R11)
	Load(Param("g").Base(), R10)
	MOVQ(RCX, RAX)
	SHLQ(U8(2), RAX)
	LEAQ(Mem{Base: R10, Index: RAX, Scale: 2}, R10)
	LEAQ(Mem{Base: R10, Index: RAX, Scale: 1}, R10) // o = g[3H:]
	Label("hloop4")
	CMPQ(RCX, U8(64))
	JB(LabelRef("hloop1"))
	hBody(lstmVecs, false)
	for _, r := range []GPPhysical{R10, R11, RDI} {
		ADDQ(U32(256), r)
	}
	SUBQ(U8(64), RCX)
	JMP(LabelRef("hloop4"))
	Label("hloop1")
	CMPQ(RCX, U8(16))
	JB(LabelRef("htail"))
	hBody(lstmVecs[:1], false)
	for _, r := range []GPPhysical{R10, R11, RDI} {
		ADDQ(U8(64), r)
	}
	SUBQ(U8(16), RCX)
	JMP(LabelRef("hloop1"))
	Label("htail")
	TESTQ(RCX, RCX)
	JZ(LabelRef("done"))
	hBody(lstmVecs[:1], true) // K2 = 0x00ff from the first pass
	Label("done")
	VZEROUPPER()
	RET()
}

// hBody emits h = o·tanh(c') for len(v) consecutive 16-lane vectors (or
// one masked with K2) at R11 (c'), R10 (o) and RDI (h).
func hBody(v []zvec, masked bool) {
	for k, r := range v {
		load(Mem{Base: R11, Disp: 64 * k}, r.x, masked)
	}
	tanhRat16(v)
	for k, r := range v {
		load(Mem{Base: R10, Disp: 64 * k}, r.z, masked)
		VMULPS(r.x, r.z, r.x) // o·tanh(c')
		store(r.x, Mem{Base: RDI, Disp: 64 * k}, masked)
	}
}

// lstmVecs are the four vectors in flight in lstmBody (tanhRat16 uses
// their x, z, p and q only): the gates i, f, g and o of one chunk.
var lstmVecs = []zvec{{Z0, Z1, Z2, Z3, Z0}, {Z4, Z5, Z6, Z7, Z4}, {Z8, Z9, Z10, Z11, Z8}, {Z12, Z13, Z14, Z15, Z12}}

// lstmBody emits one 16-lane (or, masked with K2, 8-lane) step of
// lstmCellAVX512's first pass: the four gates' activations through
// tanhRat16 with their instructions interleaved, then the new c; o's
// sigmoid goes back to g for the second pass (hBody).
func lstmBody(masked bool) {
	vi, vf, vg, vo := lstmVecs[0], lstmVecs[1], lstmVecs[2], lstmVecs[3]
	load(Mem{Base: RSI}, vi.x, masked)
	load(Mem{Base: R8}, vf.x, masked)
	load(Mem{Base: R9}, vg.x, masked)
	load(Mem{Base: R10}, vo.x, masked)
	for _, r := range []zvec{vi, vf, vo} {
		VMULPS(Z28, r.x, r.x) // 0.5·x
	}
	tanhRat16(lstmVecs)
	for _, r := range []zvec{vi, vf, vo} {
		VMULPS(Z28, r.x, r.x)
		VADDPS(Z28, r.x, r.x)
	}
	load(Mem{Base: R11}, vi.z, masked)
	VMULPS(vi.z, vf.x, vi.z) // f·c
	VMULPS(vg.x, vi.x, vi.p) // i·tanh(g)
	VADDPS(vi.p, vi.z, vi.x) // c'
	store(vi.x, Mem{Base: R11}, masked)
	store(vo.x, Mem{Base: R10}, masked) // Sigmoid(o), for the second pass
}
