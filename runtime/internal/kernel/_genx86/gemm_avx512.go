package main

//go:generate go run . -kernel gemm_avx512 -pkg kernel -out ../gemm_avx512_amd64.s

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

func init() {
	register("gemm_avx512", func() {
		gemmAVX512()
		gemmF32EpiAVX512()
		gemvAVX512("gemvI8Z", 0)
		gemvAVX512("gemvI8ZPF", gemvI8ZPrefetch)
	})
}

// i8zMaxPanels is, per row count R (index), the widest tile the int8
// AVX-512 kernel has: R×P accumulators, P weight registers (none for one
// row, whose weights are memory operands) and one broadcast stay within
// the 32 zmm registers, and R row pointers, P panel pointers and three
// counters within the general registers. The Go driver mirrors it.
var i8zMaxPanels = [...]int{0, 8, 8, 6, 5, 4, 4}

// gemmAVX512 writes gemmI8Z: one register tile of R rows × P panels of 16
// columns of the 64-byte-tile layout ([N/16][K/4][16][4]), over all of K,
// for every R ≤ 6 and P ≤ i8zMaxPanels[R], chosen by a branch chain.
func gemmAVX512() {
	TEXT("gemmI8Z", NOSPLIT, "func(c []int32, a []uint8, b []int8, rows, panels, kq int, tmask uint64, lda, ldc, ps int, masks uint64)")
	Doc("gemmI8Z computes one R×P register tile of GemmI8 over the 64-byte-tile layout with AVX-512 VNNI.")
	rows := Load(Param("rows"), GP64())
	panels := Load(Param("panels"), GP64())
	for r := 1; r < len(i8zMaxPanels); r++ {
		for p := 1; p <= i8zMaxPanels[r]; p++ {
			next := fmt.Sprintf("not%dx%d", r, p)
			CMPQ(rows, Imm(uint64(r)))
			JNE(LabelRef(next))
			CMPQ(panels, Imm(uint64(p)))
			JNE(LabelRef(next))
			i8zTile(r, p, false, i8zParams)
			VZEROUPPER()
			RET()
			Label(next)
		}
	}
	RET()
}

// i8zTile emits the R×P tile: zeroed accumulators; per 4-byte step of K
// the P weight tiles (64 bytes each) and, per row, the row's 4 activation
// bytes broadcast to 16 lanes, VPDPBUSD into the row's P accumulators;
// the K tail (tmask ≠ 0 selects its bytes) through a masked byte load, so
// nothing past a row is read; masked stores (first and last panel).
//
// With epi (gemmI8ZF) the accumulators are dequantized in registers
// instead (i8zEpilogue) and c holds float32. src loads the tile's
// pointers and store masks (i8zParams: from the arguments).
func i8zTile(R, P int, epi bool, src i8zSrc) {
	Commentf("tile %d×%d", R, P)
	acc := make([][]reg.VecVirtual, R)
	for r := range acc {
		acc[r] = make([]reg.VecVirtual, P)
		for p := range acc[r] {
			acc[r][p] = ZMM()
			zeroZ(acc[r][p])
		}
	}
	a := src("a")
	lda := Load(Param("lda"), GP64())
	rowp := make([]reg.GPVirtual, R)
	for r := range rowp {
		rowp[r] = GP64()
		if r == 0 {
			MOVQ(a, rowp[r])
		} else {
			LEAQ(Mem{Base: rowp[r-1], Index: lda, Scale: 1}, rowp[r])
		}
	}
	b := src("b")
	ps := Load(Param("ps"), GP64())
	panp := make([]reg.GPVirtual, P)
	for p := range panp {
		panp[p] = GP64()
		if p == 0 {
			MOVQ(b, panp[p])
		} else {
			LEAQ(Mem{Base: panp[p-1], Index: ps, Scale: 1}, panp[p])
		}
	}
	ia, iw := GP64(), GP64()
	XORQ(ia, ia)
	XORQ(iw, iw)
	end := Load(Param("kq"), GP64())
	SHLQ(Imm(2), end)
	bc := ZMM()
	var wr []reg.VecVirtual
	if R > 1 {
		wr = make([]reg.VecVirtual, P)
		for p := range wr {
			wr[p] = ZMM()
		}
	}
	// step does one 4-byte step of K for every row, from the broadcasts
	// load(r) writes into bc.
	step := func(load func(r int)) {
		for p := range wr {
			VMOVDQU64(Mem{Base: panp[p], Index: iw, Scale: 1}, wr[p])
		}
		for r := 0; r < R; r++ {
			load(r)
			for p := 0; p < P; p++ {
				if R > 1 {
					VPDPBUSD(wr[p], bc, acc[r][p])
				} else {
					VPDPBUSD(Mem{Base: panp[p], Index: iw, Scale: 1}, bc, acc[r][p])
				}
			}
		}
	}
	loop, tail := fmt.Sprintf("loop%dx%d", R, P), fmt.Sprintf("tail%dx%d", R, P)
	CMPQ(ia, end)
	JE(LabelRef(tail))
	Label(loop)
	step(func(r int) { VPBROADCASTD(Mem{Base: rowp[r], Index: ia, Scale: 1}, bc) })
	ADDQ(Imm(4), ia)
	ADDQ(Imm(64), iw)
	CMPQ(ia, end)
	JNE(LabelRef(loop))
	Label(tail)
	store := fmt.Sprintf("store%dx%d", R, P)
	tm := Load(Param("tmask"), GP64())
	TESTQ(tm, tm)
	JZ(LabelRef(store))
	kt := K()
	KMOVQ(tm, kt)
	xt := XMM()
	step(func(r int) {
		VMOVDQU8_Z(Mem{Base: rowp[r], Index: ia, Scale: 1}, kt, xt)
		VPBROADCASTD(xt, bc)
	})
	Label(store)
	if epi {
		i8zEpilogue(R, P, acc, src)
		return
	}
	c := src("c")
	ldc := Load(Param("ldc"), GP64())
	SHLQ(Imm(2), ldc)
	ms := src("masks")
	kf, kl := K(), K()
	KMOVW(ms.As32(), kf)
	SHRQ(Imm(16), ms)
	KMOVW(ms.As32(), kl)
	for r := 0; r < R; r++ {
		for p := 0; p < P; p++ {
			dst := Mem{Base: c, Disp: 64 * p}
			switch {
			case p == 0:
				VMOVDQU32(acc[r][p], kf, dst)
			case p == P-1:
				VMOVDQU32(acc[r][p], kl, dst)
			default:
				VMOVDQU32(acc[r][p], dst)
			}
		}
		if r+1 < R {
			ADDQ(ldc, c)
		}
	}
}

// zeroZ emits VPXORD r, r, r declared as a write of r only: avo v0.5.0
// counts the EVEX xor as a read of r, which would keep r live from its
// previous use (around gemmI8ZF's block loop: across every tile) to here.
func zeroZ(r reg.VecVirtual) {
	Instruction(&ir.Instruction{
		Opcode:   "VPXORD",
		Operands: []Op{r, r, r},
		Outputs:  []Op{r},
		ISA:      []string{"AVX512F"},
	})
}

// i8zSrc emits the load of one of the tile's pointers (the base of
// slice "a", "b", "c", "sc", "rs", "bias", "sx" or "zx", each at the
// tile's first row and column) or of its store masks ("masks") into a
// new register.
type i8zSrc func(name string) reg.GPVirtual

// i8zParams loads them from the arguments of the same name.
func i8zParams(name string) reg.GPVirtual {
	r := GP64()
	if name == "masks" {
		Load(Param(name), r)
	} else {
		Load(Param(name).Base(), r)
	}
	return r
}

// gemmF32EpiAVX512 writes gemmI8ZF: all of GemmI8F32 over the tile
// layout in one call, with gemmI8Tiled's blocking: panel groups outside
// (the first with the masks and panels arguments, the middle ones with
// panels and full masks, the last with lastMasks and lastPanels), and
// inside, per group, the row blocks (big blocks of q+1 rows, then blocks
// of q, nb in all), each block one of gemmI8Z's R×P tiles with the
// dequantize, bias and ReLU epilogue of GemmI8F32 applied to the
// accumulator registers, so the int32 products never reach memory.
// Before its tile a block converts its R zero points (float32 integers)
// to int32 by truncation, as Go's int32(x), into the frame. The loops
// keep their state in the frame, as the widest tiles need every general
// register; a block that is followed by one of the same size jumps
// straight back to its own tile, past the branch chain.
func gemmF32EpiAVX512() {
	TEXT("gemmI8ZF", NOSPLIT, "func(c []float32, a []uint8, b []int8, q, big, nb, groups, panels, lastPanels, kq int, tmask uint64, lda, ldc, ps int, masks, lastMasks uint64, sc []float32, rs []int32, bias []float32, ldb int, sx, xz []float32, relu bool)")
	Doc("gemmI8ZF computes GemmI8F32 over the 64-byte-tile layout with AVX-512 VNNI, in R×P register tiles.")
	// The current panel group: its first output, weight, scale, row sum
	// and bias pointers, the groups left (this one included), its masks
	// and panels.
	gc, gb, gsc, grs, gbias := AllocLocal(8), AllocLocal(8), AllocLocal(8), AllocLocal(8), AllocLocal(8)
	gleft, gm, gp := AllocLocal(8), AllocLocal(8), AllocLocal(8)
	// The current row block: its first output, activation, bias, scale
	// and zero point pointers, the blocks left in the group (this one
	// included), the big blocks left (this one included) and its zero
	// points as int32.
	cp, ap, bp, sxp, xzp := AllocLocal(8), AllocLocal(8), AllocLocal(8), AllocLocal(8), AllocLocal(8)
	left, bigl := AllocLocal(8), AllocLocal(8)
	zx := AllocLocal(4 * (len(i8zMaxPanels) - 1))
	move := func(src, dst Mem) {
		t := GP64()
		MOVQ(src, t)
		MOVQ(t, dst)
	}
	base := func(name string, dst Mem) {
		t := GP64()
		Load(Param(name).Base(), t)
		MOVQ(t, dst)
	}
	word := func(name string, dst Mem) {
		t := GP64()
		Load(Param(name), t)
		MOVQ(t, dst)
	}
	base("c", gc)
	base("b", gb)
	base("sc", gsc)
	base("rs", grs)
	base("bias", gbias)
	word("groups", gleft)
	word("masks", gm)
	word("panels", gp)

	Label("group")
	move(gc, cp)
	move(gbias, bp)
	base("a", ap)
	base("sx", sxp)
	base("xz", xzp)
	word("nb", left)
	word("big", bigl)

	// rows is the current block's row count, q + (bigl > 0).
	rows := func() reg.GPVirtual {
		r := GP64()
		Load(Param("q"), r)
		t := GP64()
		XORQ(t, t)
		CMPQ(bigl, Imm(0))
		SETNE(t.As8())
		ADDQ(t, r)
		return r
	}
	src := func(name string) reg.GPVirtual {
		r := GP64()
		switch name {
		case "a":
			MOVQ(ap, r)
		case "b":
			MOVQ(gb, r)
		case "c":
			MOVQ(cp, r)
		case "sc":
			MOVQ(gsc, r)
		case "rs":
			MOVQ(grs, r)
		case "bias":
			MOVQ(bp, r)
		case "sx":
			MOVQ(sxp, r)
		case "zx":
			LEAQ(zx, r)
		case "masks":
			MOVQ(gm, r)
		default:
			panic("i8z: no tile pointer " + name)
		}
		return r
	}

	Label("block")
	r := rows()
	panels := GP64()
	MOVQ(gp, panels)
	for R := 1; R < len(i8zMaxPanels); R++ {
		for P := 1; P <= i8zMaxPanels[R]; P++ {
			next, tile := fmt.Sprintf("fnot%dx%d", R, P), fmt.Sprintf("ftile%dx%d", R, P)
			CMPQ(r, Imm(uint64(R)))
			JNE(LabelRef(next))
			CMPQ(panels, Imm(uint64(P)))
			JNE(LabelRef(next))
			Label(tile)
			x := GP64()
			MOVQ(xzp, x)
			for i := 0; i < R; i++ {
				z := GP32()
				CVTTSS2SL(Mem{Base: x, Disp: 4 * i}, z)
				MOVL(z, zx.Offset(4*i))
			}
			i8zTile(R, P, true, src)
			Commentf("next block of %d rows", R)
			DECQ(left)
			JZ(LabelRef("nextgroup"))
			ldc := Load(Param("ldc"), GP64())
			IMUL3Q(Imm(uint64(4*R)), ldc, ldc)
			ADDQ(ldc, cp)
			lda := Load(Param("lda"), GP64())
			IMUL3Q(Imm(uint64(R)), lda, lda)
			ADDQ(lda, ap)
			ldb := Load(Param("ldb"), GP64())
			IMUL3Q(Imm(uint64(4*R)), ldb, ldb)
			ADDQ(ldb, bp)
			ADDQ(Imm(uint64(4*R)), sxp)
			ADDQ(Imm(uint64(4*R)), xzp)
			t := GP64()
			XORQ(t, t)
			CMPQ(bigl, Imm(0))
			SETNE(t.As8())
			SUBQ(t, bigl)
			CMPQ(rows(), Imm(uint64(R)))
			JE(LabelRef(tile))
			JMP(LabelRef("block"))
			Label(next)
		}
	}
	RET()

	Label("nextgroup")
	DECQ(gleft)
	JZ(LabelRef("done"))
	cols := GP64()
	MOVQ(gp, cols)
	SHLQ(Imm(6), cols) // 16 float32 (or int32) columns a panel
	ADDQ(cols, gc)
	ADDQ(cols, gsc)
	ADDQ(cols, grs)
	ADDQ(cols, gbias)
	wb := GP64()
	MOVQ(gp, wb)
	ps := Load(Param("ps"), GP64())
	IMULQ(ps, wb)
	ADDQ(wb, gb)
	CMPQ(gleft, Imm(1))
	JNE(LabelRef("middle"))
	word("lastMasks", gm)
	word("lastPanels", gp)
	JMP(LabelRef("group"))
	Label("middle")
	full := GP64()
	MOVL(U32(0xffffffff), full.As32())
	MOVQ(full, gm)
	JMP(LabelRef("group"))

	Label("done")
	VZEROUPPER()
	RET()
}

// i8zEpilogue turns the R×P int32 accumulators into float32 with the
// operations, operand order included, of dequantRowZ (and reluAVX512):
// per panel the 16 column scales and row sums (masked loads for the
// first and last panel, so nothing past the column range's panel ends is
// read), then per row, with row r's biases ldb floats past row r−1's
// (ldb = 0: one bias row for all),
//
//	v = float32(sx[r]·scale) · float32(acc − zx[r]·rowSum) (+ bias)
//	v = max(v, 0) + 0 when relu (NaN stays, −0 becomes +0, as Go's max)
//
// and a masked store into row r of c (row length ldc).
func i8zEpilogue(R, P int, acc [][]reg.VecVirtual, src i8zSrc) {
	c := src("c")
	ldc := Load(Param("ldc"), GP64())
	SHLQ(Imm(2), ldc)
	ms := src("masks")
	kf, kl := K(), K()
	KMOVW(ms.As32(), kf)
	SHRQ(Imm(16), ms)
	KMOVW(ms.As32(), kl)
	sc := src("sc")
	rs := src("rs")
	bi := src("bias")
	bl := Load(Param("bias").Len(), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(Imm(2), ldb)
	bp := GP64()
	sxp := src("sx")
	zxp := src("zx")
	relu := GP8()
	Load(Param("relu"), relu)
	zero := ZMM()
	zeroZ(zero)
	vs, vr, vb, t1, t2 := ZMM(), ZMM(), ZMM(), ZMM(), ZMM()
	load := func(m Mem, p int, dst reg.VecVirtual) {
		switch {
		case p == 0:
			VMOVDQU32_Z(m, kf, dst)
		case p == P-1:
			VMOVDQU32_Z(m, kl, dst)
		default:
			VMOVDQU32(m, dst)
		}
	}
	for p := 0; p < P; p++ {
		load(Mem{Base: sc, Disp: 64 * p}, p, vs)
		load(Mem{Base: rs, Disp: 64 * p}, p, vr)
		for r := 0; r < R; r++ {
			if r == 0 {
				MOVQ(bi, bp)
			} else {
				ADDQ(ldb, bp)
			}
			a := acc[r][p]
			VMULPS_BCST(Mem{Base: sxp, Disp: 4 * r}, vs, t1)  // sx·scale
			VPMULLD_BCST(Mem{Base: zxp, Disp: 4 * r}, vr, t2) // zx·rowSum, wrapping
			VPSUBD(t2, a, a)
			VCVTDQ2PS(a, a)
			VMULPS(a, t1, a)
			lb := fmt.Sprintf("fnob%dx%dp%dr%d", R, P, p, r)
			TESTQ(bl, bl)
			JZ(LabelRef(lb))
			load(Mem{Base: bp, Disp: 64 * p}, p, vb)
			VADDPS(vb, a, a)
			Label(lb)
			lr := fmt.Sprintf("fnorelu%dx%dp%dr%d", R, P, p, r)
			TESTB(relu, relu)
			JZ(LabelRef(lr))
			VMAXPS(a, zero, a)
			VADDPS(zero, a, a)
			Label(lr)
		}
	}
	for r := 0; r < R; r++ {
		for p := 0; p < P; p++ {
			dst := Mem{Base: c, Disp: 64 * p}
			switch {
			case p == 0:
				VMOVUPS(acc[r][p], kf, dst)
			case p == P-1:
				VMOVUPS(acc[r][p], kl, dst)
			default:
				VMOVUPS(acc[r][p], dst)
			}
		}
		if r+1 < R {
			ADDQ(ldc, c)
		}
	}
}

// gemvI8ZPrefetch is how far ahead (bytes) gemvI8ZPF prefetches its
// weight stream.
const gemvI8ZPrefetch = 2048

// gemvAVX512 writes gemvI8Z: one row against consecutive panels, one
// panel at a time, so the weights are read as one sequential stream; the
// K steps of a panel go round-robin into eight accumulators (eight
// independent VPDPBUSD chains), summed before the store. With pf > 0
// (gemvI8ZPF) the 8-step loop prefetches each cache line it will read pf
// bytes ahead.
func gemvAVX512(name string, pf int) {
	TEXT(name, NOSPLIT, "func(c []int32, a []uint8, b []int8, panels, kq int, tmask uint64, ps int, masks uint64)")
	Doc(name + " computes one row of GemmI8 over consecutive panels of the 64-byte-tile layout with AVX-512 VNNI.")
	if pf > 0 {
		Comment(fmt.Sprintf("The weight stream is prefetched %d bytes ahead.", pf))
	}
	const U = 8
	cp := Load(Param("c").Base(), GP64())
	ap := Load(Param("a").Base(), GP64())
	bp := Load(Param("b").Base(), GP64())
	np := Load(Param("panels"), GP64())
	ps := Load(Param("ps"), GP64())
	ms := GP64()
	Load(Param("masks"), ms)
	mlast := GP64()
	MOVQ(ms, mlast)
	SHRQ(Imm(16), mlast)
	ANDQ(U32(0xffff), ms)
	end1 := Load(Param("kq"), GP64())
	SHLQ(Imm(2), end1)
	end8 := GP64()
	MOVQ(end1, end8)
	ANDQ(I32(-4*U), end8)
	tm := Load(Param("tmask"), GP64())
	kt := K()
	KMOVQ(tm, kt)
	acc := make([]reg.VecVirtual, U)
	bc := make([]reg.VecVirtual, U)
	for u := range acc {
		acc[u], bc[u] = ZMM(), ZMM()
	}
	ia, iw := GP64(), GP64()
	km := K()
	xt := XMM()
	Label("panel")
	for u := range acc {
		VPXORD(acc[u], acc[u], acc[u])
	}
	XORQ(ia, ia)
	XORQ(iw, iw)
	CMPQ(ia, end8)
	JE(LabelRef("single"))
	Label("loop8")
	for u := 0; u < U; u++ {
		if pf > 0 {
			PREFETCHT0(Mem{Base: bp, Index: iw, Scale: 1, Disp: pf + 64*u})
		}
		VPBROADCASTD(Mem{Base: ap, Index: ia, Scale: 1, Disp: 4 * u}, bc[u])
		VPDPBUSD(Mem{Base: bp, Index: iw, Scale: 1, Disp: 64 * u}, bc[u], acc[u])
	}
	ADDQ(Imm(4*U), ia)
	ADDQ(U32(64*U), iw)
	CMPQ(ia, end8)
	JNE(LabelRef("loop8"))
	Label("single")
	CMPQ(ia, end1)
	JE(LabelRef("tail"))
	VPBROADCASTD(Mem{Base: ap, Index: ia, Scale: 1}, bc[0])
	VPDPBUSD(Mem{Base: bp, Index: iw, Scale: 1}, bc[0], acc[0])
	ADDQ(Imm(4), ia)
	ADDQ(Imm(64), iw)
	JMP(LabelRef("single"))
	Label("tail")
	TESTQ(tm, tm)
	JZ(LabelRef("sum"))
	VMOVDQU8_Z(Mem{Base: ap, Index: ia, Scale: 1}, kt, xt)
	VPBROADCASTD(xt, bc[0])
	VPDPBUSD(Mem{Base: bp, Index: iw, Scale: 1}, bc[0], acc[0])
	Label("sum")
	for s := U / 2; s >= 1; s /= 2 {
		for u := 0; u < s; u++ {
			VPADDD(acc[u+s], acc[u], acc[u])
		}
	}
	CMPQ(np, Imm(1))
	JNE(LabelRef("storeit"))
	ANDQ(mlast, ms)
	Label("storeit")
	KMOVW(ms.As32(), km)
	VMOVDQU32(acc[0], km, Mem{Base: cp})
	MOVQ(U32(0xffff), ms)
	ADDQ(Imm(64), cp)
	ADDQ(ps, bp)
	DECQ(np)
	JNZ(LabelRef("panel"))
	VZEROUPPER()
	RET()
}
