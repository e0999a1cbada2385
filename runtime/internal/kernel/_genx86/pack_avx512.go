package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

//go:generate go run . -kernel pack_avx512 -pkg kernel -out ../pack_avx512_amd64.s

func init() { register("pack_avx512", genPackAVX512) }

// genPackAVX512 writes pack_avx512_amd64.s: the load-time packing of one
// 16-row panel of int8 weights into the tile layout of the AVX-512 int8
// kernels (tileI8), with the rows' sums, 32-rounded prefix sums and −128
// check (rowSums) taken from the tiles on the way.
//
// A step reads 32 bytes (8 K groups of 4) of each of the 16 rows and
// writes 8 tiles of 64 bytes: a 16×8 transpose of dwords. Rows i and 4+i
// (i < 4) share a zmm (low and high 256 bits), rows 8+i and 12+i another,
// so the two VPUNPCK levels of an 8×8 transpose within each 128-bit lane
// followed by one VSHUFI64X2 per tile put row r's group in lane r. Each
// tile then adds into the sums with one VPDPBUSD against bytes of 1 (lane
// r gains the signed sum of row r's 4 bytes) and into a VPMINSB running
// minimum, whose byte −128 is the −128 check. The prefix boundary K&^31
// is a step boundary; the K tail (K mod 32, a multiple of 4) is one more
// step with masked, zeroing loads (zero weights change neither sums nor
// the minimum) and only its tiles stored.
func genPackAVX512() {
	TEXT("tilePanelI8Z", NOSPLIT, "func(dst, src []int8, k int, sum, prefix []int32) (min128 bool)")
	Comment("For k > 0 a multiple of 4, src the 16×k panel (row-major, at least",
		"16·k bytes), dst at least 16·k bytes not overlapping src, sum and",
		"prefix at least 16 long:",
		"",
		"\tdst[(p/4)·64 + r·4 + p%4] = src[r·k + p]     (r < 16, p < k)",
		"\tsum[r] = Σ_{p<k} src[r·k+p],  prefix[r] = Σ_{p<k&^31} src[r·k+p]",
		"\tmin128 = some src byte is −128",
		"",
		"Reference: rowSums and tileI8.")
	src, dst, k := RSI, RDI, RDX
	steps, tail := R8, R9
	b3, b6, b7, b12 := R10, R11, R12, R13
	MOVQ(arg(Param("src").Base()), src)
	MOVQ(arg(Param("dst").Base()), dst)
	MOVQ(arg(Param("k")), k)
	// Row r is read at a base src + c·k plus k times 0, 1, 2, 4 or 8.
	LEAQ(Mem{Base: k, Index: k, Scale: 2}, RAX) // 3k
	LEAQ(Mem{Base: src, Index: RAX, Scale: 1}, b3)
	LEAQ(Mem{Base: src, Index: RAX, Scale: 2}, b6)
	LEAQ(Mem{Base: b6, Index: k, Scale: 1}, b7)
	LEAQ(Mem{Base: src, Index: RAX, Scale: 4}, b12)
	type base struct {
		b Register
		s uint8 // 0: no index
	}
	rows := [16]base{
		{src, 0}, {src, 1}, {src, 2}, {b3, 0},
		{src, 4}, {b3, 2}, {b6, 0}, {b7, 0},
		{src, 8}, {b7, 2}, {b6, 4}, {b7, 4},
		{b12, 0}, {b12, 1}, {b6, 8}, {b7, 8},
	}
	row := func(r int) Mem {
		m := Mem{Base: rows[r].b}
		if rows[r].s != 0 {
			m.Index, m.Scale = k, rows[r].s
		}
		return m
	}
	MOVQ(k, steps)
	SHRQ(Imm(5), steps)
	MOVQ(k, tail)
	ANDQ(Imm(31), tail)
	SHRQ(Imm(2), tail) // K groups in the tail, 0..7

	ones, mn, accA, accB := Z16, Z17, Z18, Z19
	MOVL(U32(0x01010101), EAX)
	VPBROADCASTD(EAX, ones)
	MOVL(U32(0x7f7f7f7f), EAX)
	VPBROADCASTD(EAX, mn)
	VPXORD(accA, accA, accA)
	VPXORD(accB, accB, accB)

	// transpose turns the loaded Z0..Z7 into the step's 8 tiles, tile g
	// in Z8+g, and adds them into the sums (even tiles accA, odd accB)
	// and the minimum.
	zl := []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7}
	zt := []VecPhysical{Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15}
	transpose := func() {
		for j := 0; j < 8; j += 2 { // dword pairs of rows j, j+1
			VPUNPCKLDQ(zl[j+1], zl[j], zt[j])
			VPUNPCKHDQ(zl[j+1], zl[j], zt[j+1])
		}
		for j := 0; j < 8; j += 4 { // qword pairs: groups 0..3 of each 128-bit lane
			VPUNPCKLQDQ(zt[j+2], zt[j], zl[j])
			VPUNPCKHQDQ(zt[j+2], zt[j], zl[j+1])
			VPUNPCKLQDQ(zt[j+3], zt[j+1], zl[j+2])
			VPUNPCKHQDQ(zt[j+3], zt[j+1], zl[j+3])
		}
		// zl[q] lanes: rows 0–3 group q, rows 0–3 group 4+q, rows 4–7
		// group q, rows 4–7 group 4+q; zl[4+q] the same for rows 8–15.
		for q := range 4 {
			VSHUFI64X2(Imm(0x88), zl[4+q], zl[q], zt[q])
			VSHUFI64X2(Imm(0xdd), zl[4+q], zl[q], zt[4+q])
		}
		for g := range 8 {
			acc := accA
			if g%2 == 1 {
				acc = accB
			}
			VPDPBUSD(zt[g], ones, acc)
			VPMINSB(zt[g], mn, mn)
		}
	}

	Label("loop")
	TESTQ(steps, steps)
	JZ(LabelRef("prefix"))
	for i := range 4 {
		VMOVDQU(row(i), zl[i].AsY())
		VINSERTI64X4(Imm(1), row(4+i), zl[i], zl[i])
		VMOVDQU(row(8+i), zl[4+i].AsY())
		VINSERTI64X4(Imm(1), row(12+i), zl[4+i], zl[4+i])
	}
	transpose()
	for g := range 8 {
		VMOVDQU64(zt[g], Mem{Base: dst, Disp: 64 * g})
	}
	for _, b := range []Register{src, b3, b6, b7, b12} {
		ADDQ(Imm(32), b)
	}
	ADDQ(U32(512), dst)
	DECQ(steps)
	JMP(LabelRef("loop"))

	Label("prefix")
	VPADDD(accB, accA, Z20)
	MOVQ(arg(Param("prefix").Base()), RAX)
	VMOVDQU32(Z20, Mem{Base: RAX})
	TESTQ(tail, tail)
	JZ(LabelRef("sum"))
	// The tail: dword mask of its groups, 2^tail − 1.
	MOVQ(tail, RCX)
	MOVL(U32(1), EAX)
	SHLL(CL, EAX)
	DECL(EAX)
	KMOVW(EAX, K1)
	for i := range 4 {
		VMOVDQU32_Z(row(i), K1, zl[i].AsY())
		VMOVDQU32_Z(row(4+i), K1, Y20)
		VINSERTI64X4(Imm(1), Y20, zl[i], zl[i])
		VMOVDQU32_Z(row(8+i), K1, zl[4+i].AsY())
		VMOVDQU32_Z(row(12+i), K1, Y20)
		VINSERTI64X4(Imm(1), Y20, zl[4+i], zl[4+i])
	}
	transpose()
	for g := range 7 { // tail ≤ 7 tiles
		VMOVDQU64(zt[g], Mem{Base: dst, Disp: 64 * g})
		if g < 6 {
			CMPQ(tail, Imm(uint64(g+1)))
			JE(LabelRef("sum"))
		}
	}

	Label("sum")
	VPADDD(accB, accA, Z20)
	MOVQ(arg(Param("sum").Base()), RAX)
	VMOVDQU32(Z20, Mem{Base: RAX})
	MOVL(U32(0x80808080), EAX)
	VPBROADCASTD(EAX, Z21)
	VPCMPEQB(Z21, mn, K2)
	KORTESTQ(K2, K2)
	SETNE(arg(Return("min128")))
	VZEROUPPER()
	RET()
}
