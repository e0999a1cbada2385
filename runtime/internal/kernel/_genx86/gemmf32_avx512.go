package main

import (
	"fmt"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

//go:generate go run . -kernel gemmf32_avx512 -pkg kernel -out ../gemmf32_avx512_amd64.s

func init() { register("gemmf32_avx512", gemmF32AVX512) }

// The f32 GEMM with 512-bit FMA. Every output is computed one way,
// whatever loop computes it: one 16-lane accumulator, acc[l] += a[p]·b[p]
// for p ≡ l (mod 16) in increasing p with VFMADD231PS, then the fixed tree
//
//	x[l] = acc[l] + acc[l+8]                       (l < 8)
//	((x0+x1) + (x2+x3)) + ((x4+x5) + (x6+x7))
//
// (the high 256-bit half added to the low one, two VHADDPS levels, then
// the high 128-bit half added to the low one). So an output's bits depend
// only on its a row, its b row and k, never on the tile or on how the
// columns are split between workers.

// Tile shape of gemmF32AVX512: tileM rows by tileN columns, tileM·tileN
// accumulators plus tileN weight vectors and one activation vector must
// fit in the 32 zmm registers.
const (
	f32TileM = 4
	f32TileN = 6
)

// Z returns zmm register i; Y and X the ymm and xmm views.
func Z(i int) VecPhysical {
	return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15, Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}[i]
}
func Y(i int) VecPhysical {
	return []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15, Y16, Y17, Y18, Y19, Y20, Y21, Y22, Y23, Y24, Y25, Y26, Y27, Y28, Y29, Y30, Y31}[i]
}
func X(i int) VecPhysical {
	return []VecPhysical{X0, X1, X2, X3, X4, X5, X6, X7, X8, X9, X10, X11, X12, X13, X14, X15, X16, X17, X18, X19, X20, X21, X22, X23, X24, X25, X26, X27, X28, X29, X30, X31}[i]
}

// reduce16 folds the zmm accumulators src[0..len) (any registers) into
// the fixed tree above and leaves output q in lane q%4 of X(q/4*4) —
// outputs 0..3 in X0, 4..7 in X4 — using Y0..Y(len-1) (plus Y4..Y7 when
// fewer than 8 are given) and tmp (any register ≥ len) as scratch.
// len(src) is 1, 2, 4, 6 or 8; src[q] may be Z(q) but no other register
// below len(src).
func reduce16(src []int, tmp int) {
	n := len(src)
	for q, s := range src {
		VEXTRACTF64X4(U8(1), Z(s), Y(tmp))
		VADDPS(Y(tmp), Y(s), Y(q))
	}
	// groups of four outputs: two VHADDPS levels give lanes
	// [q0, q1, q2, q3] (per 128-bit half) for the group starting at g.
	for g := 0; g < n; g += 4 {
		switch n - g {
		case 1:
			VHADDPS(Y(g), Y(g), Y(g))
			VHADDPS(Y(g), Y(g), Y(g))
		case 2:
			VHADDPS(Y(g+1), Y(g), Y(g))
			VHADDPS(Y(g), Y(g), Y(g))
		default:
			VHADDPS(Y(g+1), Y(g), Y(g))
			VHADDPS(Y(g+3), Y(g+2), Y(g+2))
			VHADDPS(Y(g+2), Y(g), Y(g))
		}
		VEXTRACTF32X4(U8(1), Y(g), X(tmp))
		VADDPS(X(tmp), X(g), X(g))
	}
}

func gemmF32AVX512() {
	gemmF32AVX512Order("gemmF32AVX512", false)
	gemmF32AVX512Order("gemmF32AVX512C", true)
	for tm := 5; tm <= 8; tm++ {
		gemmF32AVX512RN(tm)
	}
	gemvF32AVX512()
	gemvF32AVX512Rows(2)
	gemvF32AVX512Rows(3)
}

// gemmF32AVX512Order emits the tiled GEMM with rows in the outer loop (a
// row block stays in L1 while the weight rows stream from L2) or, with
// colOuter, columns in the outer loop (six weight rows stay in L1 while
// the rows of a stream from L2).
func gemmF32AVX512Order(name string, colOuter bool) {
	TEXT(name, NOSPLIT, "func(c []float32, a []float32, b []float32, m, n, k, lda, ldb, ldc int)")
	order := "Rows go in the outer loop, so a row block of a stays in L1 while the\n" +
		"weight rows stream from L2 (the Go wrapper passes panels that fit)."
	if colOuter {
		order = "Columns go in the outer loop, so six weight rows stay in L1 while the\n" +
			"rows of a stream from L2 (the Go wrapper passes row panels that fit)."
	}
	Comment(fmt.Sprintf("For full %d×%d tiles only (m a multiple of %d, n a multiple of %d, k a", f32TileM, f32TileN, f32TileM, f32TileN),
		"multiple of 16, k > 0):",
		"",
		"\tfor i < m, j < n: c[i*ldc+j] = Σ_{p<k} a[i*lda+p] * b[j*ldb+p]",
		"",
		fmt.Sprintf("Per 16 values of k it loads %d weight vectors and %d activation vectors", f32TileN, f32TileM),
		fmt.Sprintf("for %d FMAs into %d accumulators (row i, column j in Z(%d·i+j)).", f32TileM*f32TileN, f32TileM*f32TileN, f32TileN))
	Comment(strings.Split(order, "\n")...)
	Comment("Reference: gemmF32Generic, through gemmF32AVX512Tiles.")
	Load(Param("lda"), R9)
	SHLQ(U8(2), R9)
	Load(Param("ldb"), R10)
	SHLQ(U8(2), R10)
	Load(Param("ldc"), R11)
	SHLQ(U8(2), R11)
	if !colOuter {
		Load(Param("c").Base(), R12)
		Load(Param("a").Base(), RSI)
		Load(Param("m"), R14)
		Label("rowloop")
		CMPQ(R14, U8(f32TileM))
		JLT(LabelRef("done"))
		Load(Param("b").Base(), RBX)
		MOVQ(R12, RCX)
		Load(Param("n"), R8)
		Label("colloop")
		CMPQ(R8, U8(f32TileN))
		JLT(LabelRef("nextrows"))
		f32Tile512()
		LEAQ(Mem{Base: RBX, Index: R10, Scale: 4}, RBX)
		LEAQ(Mem{Base: RBX, Index: R10, Scale: 2}, RBX) // next 6 weight rows
		ADDQ(U8(4*f32TileN), RCX)
		SUBQ(U8(f32TileN), R8)
		JMP(LabelRef("colloop"))
		Label("nextrows")
		LEAQ(Mem{Base: RSI, Index: R9, Scale: 4}, RSI)
		LEAQ(Mem{Base: R12, Index: R11, Scale: 4}, R12)
		SUBQ(U8(f32TileM), R14)
		JMP(LabelRef("rowloop"))
	} else {
		Load(Param("c").Base(), R12)
		Load(Param("b").Base(), RBX)
		Load(Param("n"), R8)
		Label("colloop")
		CMPQ(R8, U8(f32TileN))
		JLT(LabelRef("done"))
		Load(Param("a").Base(), RSI)
		MOVQ(R12, RCX)
		Load(Param("m"), R14)
		Label("rowloop")
		CMPQ(R14, U8(f32TileM))
		JLT(LabelRef("nextcols"))
		f32Tile512()
		LEAQ(Mem{Base: RSI, Index: R9, Scale: 4}, RSI)
		LEAQ(Mem{Base: RCX, Index: R11, Scale: 4}, RCX)
		SUBQ(U8(f32TileM), R14)
		JMP(LabelRef("rowloop"))
		Label("nextcols")
		LEAQ(Mem{Base: RBX, Index: R10, Scale: 4}, RBX)
		LEAQ(Mem{Base: RBX, Index: R10, Scale: 2}, RBX) // next 6 weight rows
		ADDQ(U8(4*f32TileN), R12)
		SUBQ(U8(f32TileN), R8)
		JMP(LabelRef("colloop"))
	}
	Label("done")
	VZEROUPPER()
	RET()
}

// f32Tile512 emits one tile: a rows at SI (R9 bytes apart), weight rows at
// BX (R10 apart), outputs at CX (R11 apart), k from the arguments.
// Clobbers DI, AX, R13, R15, DX and every zmm register.
func f32Tile512() {
	const nacc = f32TileM * f32TileN
	const bReg = nacc // weight vectors Z(bReg..bReg+tileN-1)
	const aReg = nacc + f32TileN
	const tmp = aReg + 1
	for i := 0; i < nacc; i++ {
		VPXORD(Z(i), Z(i), Z(i))
	}
	// a rows 0..3 at (DI), (DI)(R9), (DI)(R9*2), (AX)
	MOVQ(RSI, RDI)
	LEAQ(Mem{Base: RSI, Index: R9, Scale: 2}, RAX)
	ADDQ(R9, RAX)
	// weight rows j..j+5 at (R13), (R13)(R10), (R13)(R10*2), (R15), (R15)(R10), (R15)(R10*2)
	MOVQ(RBX, R13)
	LEAQ(Mem{Base: RBX, Index: R10, Scale: 2}, R15)
	ADDQ(R10, R15)
	Load(Param("k"), RDX)
	aRow := []Mem{{Base: RDI}, {Base: RDI, Index: R9, Scale: 1}, {Base: RDI, Index: R9, Scale: 2}, {Base: RAX}}
	bRow := []Mem{{Base: R13}, {Base: R13, Index: R10, Scale: 1}, {Base: R13, Index: R10, Scale: 2},
		{Base: R15}, {Base: R15, Index: R10, Scale: 1}, {Base: R15, Index: R10, Scale: 2}}

	Label("kloop")
	for j := 0; j < f32TileN; j++ {
		VMOVUPS(bRow[j], Z(bReg+j))
	}
	for i := 0; i < f32TileM; i++ {
		VMOVUPS(aRow[i], Z(aReg))
		for j := 0; j < f32TileN; j++ {
			VFMADD231PS(Z(bReg+j), Z(aReg), Z(f32TileN*i+j))
		}
	}
	for _, r := range []Register{RDI, RAX, R13, R15} {
		ADDQ(U8(64), r)
	}
	SUBQ(U8(16), RDX)
	JGT(LabelRef("kloop"))

	Comment("Horizontal sums, row by row, into X0 (columns 0..3) and X4 (4, 5).")
	MOVQ(RCX, RDI)
	for i := 0; i < f32TileM; i++ {
		src := make([]int, f32TileN)
		for j := range src {
			src[j] = f32TileN*i + j
		}
		reduce16(src, tmp)
		VMOVUPS(X0, Mem{Base: RDI})
		VMOVSD(X4, Mem{Base: RDI, Disp: 16})
		ADDQ(R11, RDI)
	}
}

// gemvF32AVX512 emits the one-row kernel: x against groups of 8, 4 and 1
// rows of b. The 8 rows are 8 independent weight streams and FMA chains;
// measured on Zen 4 (1×4096×1024 and 1×1024×1024, weights from L3), 16
// streams were about 20% slower and software prefetch (256 B to 4 KiB
// ahead) no faster than the hardware prefetchers, so there is none.
func gemvF32AVX512() {
	TEXT("gemvF32AVX512", NOSPLIT, "func(c []float32, x []float32, b []float32, n, k, ldb, incc int)")
	Comment("One vector against n rows (any n; k a multiple of 16, k > 0), outputs",
		"incc apart:",
		"",
		"\tfor j < n: c[j*incc] = Σ_{p<k} x[p] * b[j*ldb+p]",
		"",
		"Groups of 8 rows, then of 4, then single rows, each output with the",
		"accumulation and tree of gemmF32AVX512. The Go wrapper uses it for the",
		"rows of a outside the tiles (x = a row, b = weights, incc = 1) and for",
		"the columns outside them (x = a weight row, b = a, incc = ldc): products",
		"commute exactly, so either way every output has the bits gemmF32AVX512",
		"would give it. Reference: gemmF32Generic, through gemmF32AVX512Tiles.")
	Load(Param("c").Base(), RCX)
	Load(Param("x").Base(), RSI)
	Load(Param("b").Base(), RBX)
	Load(Param("n"), R8)
	Load(Param("k"), R9)
	Load(Param("ldb"), R10)
	SHLQ(U8(2), R10)
	Load(Param("incc"), R11)
	SHLQ(U8(2), R11)
	const xr, tmp = 16, 17
	for _, g := range []int{8, 4, 1} {
		loop := fmt.Sprintf("g%dloop", g)
		next := map[int]string{8: "g4loop", 4: "g1loop", 1: "done"}[g]
		Label(loop)
		CMPQ(R8, U8(g))
		JLT(LabelRef(next))
		for i := 0; i < g; i++ {
			VPXORD(Z(i), Z(i), Z(i))
		}
		MOVQ(RSI, RDI)
		rows := gemvRowPtrs(g)
		MOVQ(R9, RDX)
		kl := fmt.Sprintf("g%dk", g)
		Label(kl)
		VMOVUPS(Mem{Base: RDI}, Z(xr))
		for i := 0; i < g; i++ {
			VFMADD231PS(rows[i], Z(xr), Z(i))
		}
		ADDQ(U8(64), RDI)
		gemvAdvance(g)
		SUBQ(U8(16), RDX)
		JGT(LabelRef(kl))

		src := make([]int, g)
		for i := range src {
			src[i] = i
		}
		reduce16(src, tmp)
		MOVQ(RCX, RDI)
		for q := 0; q < g; q++ {
			x := X(q / 4 * 4)
			if q%4 == 0 {
				VMOVSS(x, Mem{Base: RDI})
			} else {
				VEXTRACTPS(U8(q%4), x, Mem{Base: RDI})
			}
			if q < g-1 {
				ADDQ(R11, RDI)
			}
		}
		switch g {
		case 8:
			LEAQ(Mem{Base: RBX, Index: R10, Scale: 8}, RBX)
			LEAQ(Mem{Base: RCX, Index: R11, Scale: 8}, RCX)
		case 4:
			LEAQ(Mem{Base: RBX, Index: R10, Scale: 4}, RBX)
			LEAQ(Mem{Base: RCX, Index: R11, Scale: 4}, RCX)
		default:
			ADDQ(R10, RBX)
			ADDQ(R11, RCX)
		}
		SUBQ(U8(g), R8)
		JMP(LabelRef(loop))
	}
	Label("done")
	VZEROUPPER()
	RET()
}

// gemvRowPtrs points R13, R14 and R15 at rows 0, 3 and 6 of the group of
// g rows of b at BX (R10 bytes apart) and returns the g row operands.
func gemvRowPtrs(g int) []Mem {
	MOVQ(RBX, R13)
	if g > 1 {
		LEAQ(Mem{Base: RBX, Index: R10, Scale: 2}, R14)
		ADDQ(R10, R14)
	}
	if g > 4 {
		LEAQ(Mem{Base: R14, Index: R10, Scale: 2}, R15)
		ADDQ(R10, R15)
	}
	rows := []Mem{{Base: R13}, {Base: R13, Index: R10, Scale: 1}, {Base: R13, Index: R10, Scale: 2},
		{Base: R14}, {Base: R14, Index: R10, Scale: 1}, {Base: R14, Index: R10, Scale: 2},
		{Base: R15}, {Base: R15, Index: R10, Scale: 1}}
	return rows[:g]
}

// gemvAdvance moves the row pointers of a group of g rows 64 bytes on.
func gemvAdvance(g int) {
	ADDQ(U8(64), R13)
	if g > 1 {
		ADDQ(U8(64), R14)
	}
	if g > 4 {
		ADDQ(U8(64), R15)
	}
}

// gemvF32AVX512Rows emits gemvF32AVX512R<r>: r rows of a (2 or 3) against
// groups of 8, 4 and 1 rows of b, each weight vector loaded once for the r
// rows, so a few rows left over by the 4-row tiles stream the weights once,
// not once per row.
func gemvF32AVX512Rows(r int) {
	name := fmt.Sprintf("gemvF32AVX512R%d", r)
	TEXT(name, NOSPLIT, "func(c []float32, a []float32, b []float32, n, k, lda, ldb, ldc int)")
	Comment(fmt.Sprintf("%d rows of a against n rows of b (any n; k a multiple of 16, k > 0):", r),
		"",
		fmt.Sprintf("\tfor i < %d, j < n: c[i*ldc+j] = Σ_{p<k} a[i*lda+p] * b[j*ldb+p]", r),
		"",
		"Groups of 8 columns, then of 4, then single ones; each weight vector is",
		fmt.Sprintf("loaded once for %d FMAs. Every output has the accumulation and tree", r),
		"of gemmF32AVX512. Reference: gemmF32Generic, through gemmF32AVX512Tiles.")
	Load(Param("c").Base(), RCX)
	Load(Param("a").Base(), RSI)
	Load(Param("b").Base(), RBX)
	Load(Param("n"), R8)
	Load(Param("k"), R9)
	Load(Param("ldb"), R10)
	SHLQ(U8(2), R10)
	Load(Param("ldc"), R11)
	SHLQ(U8(2), R11)
	Load(Param("lda"), R12)
	SHLQ(U8(2), R12)
	// accumulator (row i, column j) in Z(8i+j); rows of a in Z24..; the
	// weight vector in Z28; Z31 scratch for the sums.
	const xr, wr, tmp = 24, 28, 31
	acc := func(i, j int) int { return 8*i + j }
	xRow := []Mem{{Base: RDI}, {Base: RDI, Index: R12, Scale: 1}, {Base: RDI, Index: R12, Scale: 2}}
	for _, g := range []int{8, 4, 1} {
		loop := fmt.Sprintf("g%dloop", g)
		next := map[int]string{8: "g4loop", 4: "g1loop", 1: "done"}[g]
		Label(loop)
		CMPQ(R8, U8(g))
		JLT(LabelRef(next))
		for i := 0; i < r; i++ {
			for j := 0; j < g; j++ {
				VPXORD(Z(acc(i, j)), Z(acc(i, j)), Z(acc(i, j)))
			}
		}
		MOVQ(RSI, RDI)
		rows := gemvRowPtrs(g)
		MOVQ(R9, RDX)
		kl := fmt.Sprintf("g%dk", g)
		Label(kl)
		for i := 0; i < r; i++ {
			VMOVUPS(xRow[i], Z(xr+i))
		}
		for j := 0; j < g; j++ {
			VMOVUPS(rows[j], Z(wr))
			for i := 0; i < r; i++ {
				VFMADD231PS(Z(wr), Z(xr+i), Z(acc(i, j)))
			}
		}
		ADDQ(U8(64), RDI)
		gemvAdvance(g)
		SUBQ(U8(16), RDX)
		JGT(LabelRef(kl))

		MOVQ(RCX, RDI)
		for i := 0; i < r; i++ {
			src := make([]int, g)
			for j := range src {
				src[j] = acc(i, j)
			}
			reduce16(src, tmp)
			switch g {
			case 8:
				VMOVUPS(X0, Mem{Base: RDI})
				VMOVUPS(X4, Mem{Base: RDI, Disp: 16})
			case 4:
				VMOVUPS(X0, Mem{Base: RDI})
			default:
				VMOVSS(X0, Mem{Base: RDI})
			}
			if i < r-1 {
				ADDQ(R11, RDI)
			}
		}
		switch g {
		case 8:
			LEAQ(Mem{Base: RBX, Index: R10, Scale: 8}, RBX)
			ADDQ(U8(32), RCX)
		case 4:
			LEAQ(Mem{Base: RBX, Index: R10, Scale: 4}, RBX)
			ADDQ(U8(16), RCX)
		default:
			ADDQ(R10, RBX)
			ADDQ(U8(4), RCX)
		}
		SUBQ(U8(g), R8)
		JMP(LabelRef(loop))
	}
	Label("done")
	VZEROUPPER()
	RET()
}

// gemmF32AVX512RN emits gemmF32AVX512R<tm>, the tm×3 tiles (tm = 5..8)
// for a few rows (m a multiple of tm): each weight vector, loaded once,
// goes to tm rows, so the weights stream once per tm rows (the 4×6 tiles
// stream them twice, the second time from L2) while the activation rows
// stay in L1.
func gemmF32AVX512RN(tm int) {
	const tn = 3
	TEXT(fmt.Sprintf("gemmF32AVX512R%d", tm), NOSPLIT, "func(c []float32, a []float32, b []float32, m, n, k, lda, ldb, ldc int)")
	Comment(fmt.Sprintf("For full %d×%d tiles only (m a multiple of %d, n a multiple of %d, k a", tm, tn, tm, tn),
		"multiple of 16, k > 0):",
		"",
		"\tfor i < m, j < n: c[i*ldc+j] = Σ_{p<k} a[i*lda+p] * b[j*ldb+p]",
		"",
		fmt.Sprintf("Per 16 values of k it loads %d weight vectors and %d activation vectors", tn, tm),
		fmt.Sprintf("for %d FMAs into %d accumulators (row i, column j in Z(%d·i+j)), rows in", tm*tn, tm*tn, tn),
		"the outer loop. Every output has the accumulation and tree of",
		"gemmF32AVX512. Reference: gemmF32Generic, through gemmF32AVX512Tiles.")
	Load(Param("lda"), R9)
	SHLQ(U8(2), R9)
	Load(Param("ldb"), R10)
	SHLQ(U8(2), R10)
	Load(Param("ldc"), R11)
	SHLQ(U8(2), R11)
	Load(Param("c").Base(), R12)
	Load(Param("a").Base(), RSI)
	Load(Param("m"), R14)
	Label("rowloop")
	CMPQ(R14, U8(tm))
	JLT(LabelRef("done"))
	Load(Param("b").Base(), RBX)
	MOVQ(R12, RCX)
	Load(Param("n"), R8)
	Label("colloop")
	CMPQ(R8, U8(tn))
	JLT(LabelRef("nextrows"))

	nacc := tm * tn
	bReg, aReg, tmp := nacc, nacc+tn, nacc+tn+1
	for i := 0; i < nacc; i++ {
		VPXORD(Z(i), Z(i), Z(i))
	}
	// a rows 0..7 at (DI), (DI)(R9), (DI)(R9*2), (AX), (AX)(R9), (AX)(R9*2),
	// (R15), (R15)(R9); weight rows at (R13), (R13)(R10), (R13)(R10*2)
	MOVQ(RSI, RDI)
	LEAQ(Mem{Base: RSI, Index: R9, Scale: 2}, RAX)
	ADDQ(R9, RAX)
	LEAQ(Mem{Base: RAX, Index: R9, Scale: 2}, R15)
	ADDQ(R9, R15)
	MOVQ(RBX, R13)
	Load(Param("k"), RDX)
	aRow := []Mem{{Base: RDI}, {Base: RDI, Index: R9, Scale: 1}, {Base: RDI, Index: R9, Scale: 2},
		{Base: RAX}, {Base: RAX, Index: R9, Scale: 1}, {Base: RAX, Index: R9, Scale: 2},
		{Base: R15}, {Base: R15, Index: R9, Scale: 1}}[:tm]
	bRow := []Mem{{Base: R13}, {Base: R13, Index: R10, Scale: 1}, {Base: R13, Index: R10, Scale: 2}}
	Label("kloop")
	for j := 0; j < tn; j++ {
		VMOVUPS(bRow[j], Z(bReg+j))
	}
	for i := 0; i < tm; i++ {
		VMOVUPS(aRow[i], Z(aReg))
		for j := 0; j < tn; j++ {
			VFMADD231PS(Z(bReg+j), Z(aReg), Z(tn*i+j))
		}
	}
	ptrs := []Register{RDI, RAX, R13}
	if tm > 6 {
		ptrs = append(ptrs, R15)
	}
	for _, r := range ptrs {
		ADDQ(U8(64), r)
	}
	SUBQ(U8(16), RDX)
	JGT(LabelRef("kloop"))

	Comment("Horizontal sums, two rows at a time: row i in lanes 0..2 of X0, row",
		"i+1 in lane 3 of X0 and lanes 0, 1 of X4; a last odd row alone, its",
		"third column repeated as a fourth (lane 3, not stored).")
	MOVQ(RCX, RDI)
	for i := 0; i < tm; i += 2 {
		if i+1 == tm {
			b := tn * i
			reduce16([]int{b, b + 1, b + 2, b + 2}, tmp)
			VMOVSD(X0, Mem{Base: RDI})
			VEXTRACTPS(U8(2), X0, Mem{Base: RDI, Disp: 8})
			break
		}
		src := make([]int, 2*tn)
		for j := range src {
			src[j] = tn*i + j
		}
		reduce16(src, tmp)
		VMOVSD(X0, Mem{Base: RDI})
		VEXTRACTPS(U8(2), X0, Mem{Base: RDI, Disp: 8})
		ADDQ(R11, RDI)
		VEXTRACTPS(U8(3), X0, Mem{Base: RDI})
		VMOVSD(X4, Mem{Base: RDI, Disp: 4})
		if i+2 < tm {
			ADDQ(R11, RDI)
		}
	}

	LEAQ(Mem{Base: RBX, Index: R10, Scale: 2}, RBX)
	ADDQ(R10, RBX) // next 3 weight rows
	ADDQ(U8(4*tn), RCX)
	SUBQ(U8(tn), R8)
	JMP(LabelRef("colloop"))
	Label("nextrows")
	if tm == 8 {
		LEAQ(Mem{Base: RSI, Index: R9, Scale: 8}, RSI)
		LEAQ(Mem{Base: R12, Index: R11, Scale: 8}, R12)
	} else {
		for range tm {
			ADDQ(R9, RSI)
			ADDQ(R11, R12)
		}
	}
	SUBQ(U8(tm), R14)
	JMP(LabelRef("rowloop"))
	Label("done")
	VZEROUPPER()
	RET()
}
