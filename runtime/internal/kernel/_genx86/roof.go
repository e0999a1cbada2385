package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

//go:generate go run . -kernel roof -pkg kernel -out ../roof_amd64.s

func init() { register("roof", genRoof) }

// genRoof writes roof_amd64.s.
//
// Register-resident loops for RoofGOPS: no loads or stores, only the
// arithmetic the GEMM kernels are built from, on enough independent
// accumulators to cover every instruction's latency, so the loop runs at
// the core's issue limit for that instruction mix. Every loop has the
// same frame: n in CX, counted down to zero; n ≤ 0 runs no iteration.
func genRoof() {
	ymm := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}
	zmm := []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}

	TEXT("roofF32FMA", NOSPLIT, "func(n int)")
	Comment("n iterations of 24 VFMADD231PS (256-bit, 8 lanes) into 12 independent",
		"accumulators: 24·8·2 = 384 FLOPs per iteration. The operands are zero,",
		"so no value ever becomes denormal or overflows.")
	MOVQ(arg(Param("n")), RCX)
	for _, r := range ymm[:14] { // accumulators Y0..Y11, operands Y12, Y13
		VXORPS(r, r, r)
	}
	roofLoop("f", func() {
		for i := range 24 {
			VFMADD231PS(Y12, Y13, ymm[i%12])
		}
	})

	TEXT("roofI8MAC", NOSPLIT, "func(n int)")
	Comment("n iterations of 20 chains VPMADDUBSW → VPMADDWD (by 1s) → VPADDD, the",
		"int8 GEMM's multiply-accumulate step, into 10 independent int32",
		"accumulators: each chain does 32 uint8×int8 multiply-adds, so",
		"20·32·2 = 1280 ops per iteration. Only VPADDD carries a dependency",
		"from one iteration to the next.")
	MOVQ(arg(Param("n")), RCX)
	MOVL(U32(0x01010101), EAX)
	MOVQ(RAX, X13)
	VPBROADCASTD(X13, Y13) // 1 in every byte (the activations)
	VPBROADCASTD(X13, Y14) // and the weights
	MOVL(U32(0x00010001), EAX)
	MOVQ(RAX, X15)
	VPBROADCASTD(X15, Y15) // 1 in every int16
	for _, r := range ymm[:10] {
		VPXOR(r, r, r)
	}
	roofLoop("i", func() {
		// Chain i accumulates into Y(i mod 10) through the temporary
		// Y(10 + i mod 3).
		for i := range 20 {
			acc, t := ymm[i%10], ymm[10+i%3]
			VPMADDUBSW(Y14, Y13, t)
			VPMADDWD(Y15, t, t)
			VPADDD(t, acc, acc)
		}
	})

	TEXT("roofI8VNNI", NOSPLIT, "func(n int)")
	Comment("n iterations of 24 VEX VPDPBUSD (32 uint8×int8 multiply-adds each,",
		"summed into int32 lanes) into 12 independent accumulators: 24·32·2 =",
		"1536 ops per iteration. The assembler has no VEX form of VPDPBUSD, so",
		"it is spelled in BYTEs (_genx86's vexVPDPBUSD; TestRoofVNNIEncoding",
		"checks them against the encoder in vnni_encoding_test.go).")
	MOVQ(arg(Param("n")), RCX)
	MOVL(U32(0x01010101), EAX)
	MOVQ(RAX, X13)
	VPBROADCASTD(X13, Y13)
	VPBROADCASTD(X13, Y14)
	for _, r := range ymm[:12] {
		VPXOR(r, r, r)
	}
	roofLoop("v", func() {
		for i := range 24 {
			vexVPDPBUSD(ymm[i%12], Y13, Y14)
		}
	})

	TEXT("roofF32FMA512", NOSPLIT, "func(n int)")
	Comment("n iterations of 24 VFMADD231PS (512-bit, 16 lanes) into 24 independent",
		"accumulators: 24·16·2 = 768 FLOPs per iteration, the avx512vnni f32",
		"kernels' instruction. Zero operands, as in roofF32FMA. Needs AVX-512F.")
	MOVQ(arg(Param("n")), RCX)
	for _, r := range zmm[:26] { // accumulators Z0..Z23, operands Z24, Z25
		VPXORD(r, r, r)
	}
	roofLoop("fz", func() {
		for i := range 24 {
			VFMADD231PS(Z24, Z25, zmm[i])
		}
	})

	TEXT("roofI8VNNI512", NOSPLIT, "func(n int)")
	Comment("n iterations of 24 EVEX VPDPBUSD (512-bit: 64 uint8×int8",
		"multiply-adds each, summed into int32 lanes) into 24 independent",
		"accumulators: 24·64·2 = 3072 ops per iteration, the avx512vnni int8",
		"kernels' instruction. Needs AVX-512F and AVX512-VNNI.")
	MOVQ(arg(Param("n")), RCX)
	MOVL(U32(0x01010101), EAX)
	VPBROADCASTD(EAX, Z24) // 1 in every byte (the activations)
	VPBROADCASTD(EAX, Z25) // and the weights
	for _, r := range zmm[:24] {
		VPXORD(r, r, r)
	}
	roofLoop("vz", func() {
		for i := range 24 {
			VPDPBUSD(Z25, Z24, zmm[i])
		}
	})
}

// roofLoop emits the loop of a roof kernel around body: n (in CX)
// iterations, none when n ≤ 0, then VZEROUPPER and RET. p prefixes the
// labels (p+"loop", p+"done").
func roofLoop(p string, body func()) {
	loop, done := p+"loop", p+"done"
	TESTQ(RCX, RCX)
	JLE(LabelRef(done))
	Label(loop)
	body()
	DECQ(RCX)
	JNZ(LabelRef(loop))
	Label(done)
	VZEROUPPER()
	RET()
}
