package main

//go:generate go run . -kernel gemm_avx512 -pkg kernel -out ../gemm_avx512_amd64.s

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
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
			i8zTile(r, p, false)
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
// instead (i8zEpilogue) and c holds float32.
func i8zTile(R, P int, epi bool) {
	Commentf("tile %d×%d", R, P)
	acc := make([][]reg.VecVirtual, R)
	for r := range acc {
		acc[r] = make([]reg.VecVirtual, P)
		for p := range acc[r] {
			acc[r][p] = ZMM()
			VPXORD(acc[r][p], acc[r][p], acc[r][p])
		}
	}
	a := Load(Param("a").Base(), GP64())
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
	b := Load(Param("b").Base(), GP64())
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
		i8zEpilogue(R, P, acc)
		return
	}
	c := Load(Param("c").Base(), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(Imm(2), ldc)
	ms := GP64()
	Load(Param("masks"), ms)
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

// gemmF32EpiAVX512 writes gemmI8ZF: gemmI8Z's tiles with the
// dequantize, bias and ReLU epilogue of GemmI8F32 applied to the
// accumulator registers, so the int32 products never reach memory.
func gemmF32EpiAVX512() {
	TEXT("gemmI8ZF", NOSPLIT, "func(c []float32, a []uint8, b []int8, rows, panels, kq int, tmask uint64, lda, ldc, ps int, masks uint64, sc []float32, rs []int32, bias []float32, ldb int, sx []float32, zx []int32, relu bool)")
	Doc("gemmI8ZF computes one R×P register tile of GemmI8F32 over the 64-byte-tile layout with AVX-512 VNNI.")
	rows := Load(Param("rows"), GP64())
	panels := Load(Param("panels"), GP64())
	for r := 1; r < len(i8zMaxPanels); r++ {
		for p := 1; p <= i8zMaxPanels[r]; p++ {
			next := fmt.Sprintf("fnot%dx%d", r, p)
			CMPQ(rows, Imm(uint64(r)))
			JNE(LabelRef(next))
			CMPQ(panels, Imm(uint64(p)))
			JNE(LabelRef(next))
			i8zTile(r, p, true)
			VZEROUPPER()
			RET()
			Label(next)
		}
	}
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
func i8zEpilogue(R, P int, acc [][]reg.VecVirtual) {
	c := Load(Param("c").Base(), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(Imm(2), ldc)
	ms := GP64()
	Load(Param("masks"), ms)
	kf, kl := K(), K()
	KMOVW(ms.As32(), kf)
	SHRQ(Imm(16), ms)
	KMOVW(ms.As32(), kl)
	sc := Load(Param("sc").Base(), GP64())
	rs := Load(Param("rs").Base(), GP64())
	bi := Load(Param("bias").Base(), GP64())
	bl := Load(Param("bias").Len(), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(Imm(2), ldb)
	bp := GP64()
	sxp := Load(Param("sx").Base(), GP64())
	zxp := Load(Param("zx").Base(), GP64())
	relu := GP8()
	Load(Param("relu"), relu)
	zero := ZMM()
	VPXORD(zero, zero, zero)
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
