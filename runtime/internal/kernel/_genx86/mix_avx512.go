package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

//go:generate go run . -kernel mix_avx512 -pkg kernel -out ../mix_avx512_amd64.s

func init() { register("mix_avx512", mixAVX512) }

// mixAVX512 emits mixF32AVX512, the P·V product of attention in 4-row by
// 32-column tiles (eight zmm accumulators): every output is accumulated
// from zero in order j = 0..n−1, a product rounded then added, with the
// operand order of mixF32AVX2, so both give AxpyF32's loop bit for bit.
func mixAVX512() {
	TEXT("mixF32AVX512", NOSPLIT, "func(o []float32, p []float32, v []float32, mt, n, kt, ldo, ldp, ldv int)")
	Comment("4×32 tiles of o = p·v over mt·4 rows and kt·32 columns (mt, kt > 0,",
		"n ≥ 0), each output accumulated from zero in order j = 0..n−1, a",
		"product rounded then added. Reference: mixLoop over axpyF32Generic.")
	Load(Param("o").Base(), RDX)
	Load(Param("p").Base(), RAX)
	Load(Param("mt"), R13)
	Load(Param("ldp"), R8)
	SHLQ(U8(2), R8)
	LEAQ(Mem{Base: R8, Index: R8, Scale: 2}, R9) // 3·ldp
	Load(Param("ldv"), R10)
	SHLQ(U8(2), R10)
	Load(Param("ldo"), R11)
	SHLQ(U8(2), R11)

	Label("miloop")
	Load(Param("v").Base(), R14)
	MOVQ(RDX, RBX)
	Load(Param("kt"), R12)

	Label("mgloop")
	MOVQ(RAX, RSI)
	MOVQ(R14, RDI)
	Load(Param("n"), RCX)
	for i := 0; i < 8; i++ {
		VPXORD(Z(i), Z(i), Z(i))
	}
	TESTQ(RCX, RCX)
	JZ(LabelRef("mstore"))

	Label("mjloop")
	VMOVUPS(Mem{Base: RDI}, Z8)
	VMOVUPS(Mem{Base: RDI, Disp: 64}, Z9)
	for r, m := range []Mem{{Base: RSI}, {Base: RSI, Index: R8, Scale: 1}, {Base: RSI, Index: R8, Scale: 2}, {Base: RSI, Index: R9, Scale: 1}} {
		VBROADCASTSS(m, Z10)
		VMULPS(Z8, Z10, Z11)
		VADDPS(Z11, Z(2*r), Z(2*r))
		VMULPS(Z9, Z10, Z12)
		VADDPS(Z12, Z(2*r+1), Z(2*r+1))
	}
	ADDQ(U8(4), RSI)
	ADDQ(R10, RDI)
	DECQ(RCX)
	JNZ(LabelRef("mjloop"))

	Label("mstore")
	for r := 0; r < 4; r++ {
		var m Mem
		switch r {
		case 0:
			m = Mem{Base: RBX}
		case 1:
			m = Mem{Base: RBX, Index: R11, Scale: 1}
		case 2:
			m = Mem{Base: RBX, Index: R11, Scale: 2}
		case 3:
			LEAQ(Mem{Base: RBX, Index: R11, Scale: 2}, RSI)
			ADDQ(R11, RSI)
			m = Mem{Base: RSI}
		}
		VMOVUPS(Z(2*r), m)
		VMOVUPS(Z(2*r+1), m.Offset(64))
	}
	ADDQ(U32(128), RBX)
	ADDQ(U32(128), R14)
	DECQ(R12)
	JNZ(LabelRef("mgloop"))

	LEAQ(Mem{Base: RAX, Index: R8, Scale: 4}, RAX)
	LEAQ(Mem{Base: RDX, Index: R11, Scale: 4}, RDX)
	DECQ(R13)
	JNZ(LabelRef("miloop"))
	VZEROUPPER()
	RET()
}
