package main

// The roof loops (roof_arm64.s), the arm64 counterparts of roof_amd64.s.

// Register use: V0–V23 accumulators (V0–V11 for the neon chains, whose
// int16 products use V12–V23), V24 and V25 the zero operands. R0 counts.
const (
	roofAccs  = 24 // FMLA and SDOT accumulators
	roofNEON  = 12 // SMULL→SMLAL2→SADALP chains
	roofOpA   = V(24)
	roofOpB   = V(25)
	roofFirst = V(0)
)

func genRoof(g *asm) {
	header(g, "roof")
	g.p(`// Register-resident loops for RoofGOPS (roof.go, roof_arm64.go): no loads
// or stores, only the arithmetic the arm64 kernels are built from, on
// enough independent accumulators to cover every instruction's latency,
// so a loop runs at the core's issue limit for that instruction mix. The
// operands are zero, so no value ever overflows or becomes denormal.
`)
	roofFunc(g, "roofF32FMLA", "FMLA (4 lanes)", roofAccs, roofAccs*4*2, "FLOPs", func() {
		for i := range roofAccs {
			g.op("VFMLA V%d.S4, V%d.S4, V%d.S4", roofOpA, roofOpB, roofFirst+V(i))
		}
	})
	g.p("")
	roofFunc(g, "roofI8SDOT", "SDOT (16 int8 multiply-adds)", roofAccs, roofAccs*16*2, "int8 ops; needs FEAT_DotProd", func() {
		for i := range roofAccs {
			g.word(SDOT(roofFirst+V(i), roofOpA, roofOpB))
		}
	})
	g.p("")
	roofFunc(g, "roofI8NEON", "SMULL→SMLAL2→SADALP chains (16 int8 multiply-adds, as gemmI8NEON's)", roofNEON, roofNEON*16*2, "int8 ops", func() {
		t := func(i int) V { return V(roofNEON + i) }
		for i := range roofNEON {
			g.word(SMULL(B, t(i), roofOpA, roofOpB))
		}
		for i := range roofNEON {
			g.word(SMLAL2(B, t(i), roofOpA, roofOpB))
		}
		for i := range roofNEON {
			g.word(SADALP(H, roofFirst+V(i), t(i)))
		}
	})
}

// roofFunc writes func name(n int): n iterations of body, count
// instructions of what, ops operations of unit each.
func roofFunc(g *asm, name, what string, count, ops int, unit string, body func()) {
	g.p("// func %s(n int)", name)
	g.p("//")
	g.p("// n iterations of %d independent %s: %d %s per iteration.", count, what, ops, unit)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-8", name)
	g.op("MOVD n+0(FP), R0")
	for i := range 26 {
		g.op("VEOR V%d.B16, V%d.B16, V%d.B16", i, i, i)
	}
	g.op("CBZ  R0, %sdone", name)
	g.label(name + "loop")
	body()
	g.op("SUBS $1, R0, R0")
	g.op("BNE  %sloop", name)
	g.label(name + "done")
	g.op("RET")
}
