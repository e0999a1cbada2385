package main

// The activations (act_neon_arm64.s): Exp, Sigmoid and Tanh four lanes at
// a time, computing exactly what math.go computes. The constants live in
// V16–V31 for the whole call (V9–V15 hold Tanh's own), the lane values in
// V0–V8.

// actConst is one constant a kernel keeps in a register: its 32 bits.
type actConst struct {
	name string
	bits uint32
	reg  V
}

// expConsts are Exp's constants. 0.5 serves both as the rounding offset
// and as the last polynomial coefficient (both are 0x3f000000).
var expConsts = []actConst{
	{"log2e", 0x3fb8aa3b, 16},
	{"0.5", 0x3f000000, 17},
	{"ln2Hi", 0x3f318000, 18},
	{"ln2Lo", 0xb95e8083, 19},
	{"p0", 0x39506967, 20},
	{"p1", 0x3ab743ce, 21},
	{"p2", 0x3c088908, 22},
	{"p3", 0x3d2aa9c1, 23},
	{"p4", 0x3e2aaaaa, 24},
	{"1", 0x3f800000, 25},
	{"88.72283", 0x42b17217, 26},
	{"-103.97208", 0xc2cff1b4, 27},
	{"+Inf", 0x7f800000, 28},
	{"int 127", 127, 29},
	{"int -126", 0xffffff82, 30},
	{"int 126", 126, 31},
}

const (
	cLog2e, cHalf, cLn2Hi, cLn2Lo         V = 16, 17, 18, 19
	cP0, cP1, cP2, cP3, cP4, cP5          V = 20, 21, 22, 23, 24, 17
	cOne, cHiCut, cLoCut, cInf            V = 25, 26, 27, 28
	cI127, cIm126, cI126                  V = 29, 30, 31
	cT0, cT1, cT2, cT3, cT4, cNine, c0625 V = 9, 10, 11, 12, 13, 14, 15
)

var tanhConsts = []actConst{
	{"t0", 0xbbbaf0ea, cT0},
	{"t1", 0x3ca9134e, cT1},
	{"t2", 0xbd5c1e2d, cT2},
	{"t3", 0x3e088393, cT3},
	{"t4", 0xbeaaaa99, cT4},
	{"9", 0x41100000, cNine},
	{"0.625", 0x3f200000, c0625},
}

func loadConsts(g *asm, cs []actConst) {
	for _, c := range cs {
		g.op("MOVW $0x%08x, R3", c.bits)
		g.op("VDUP R3, V%d.S4 // %s", c.reg, c.name)
	}
}

// expSeq emits r = Exp(x) lane by lane (x is kept); t are five temporaries.
// Same steps as math.go's Exp: t = x·log2e + 0.5, n = floor(t), r = x −
// n·ln2Hi − n·ln2Lo, the polynomial, then y·2ⁿ as y·2^e1·2^e2 with e1 =
// min(n,127) + (n < −126 ? 126 : 0) and e2 = n − e1 ∈ {−126, 0, 1}: the
// first product is exact, the second rounds once (subnormal results as
// math.Ldexp then float32), and the cut-offs and NaN as in Exp.
func expSeq(g *asm, x, r V, t []V) {
	a, b, rr, z, n := t[0], t[1], t[2], t[3], t[4]
	g.vop("fmul", a, x, cLog2e)
	g.vop("fadd", a, a, cHalf)
	g.vop("frintm", a, a) // fx = floor(t)
	g.vop("fcvtzs", n, a) // n
	g.vop("fmul", b, a, cLn2Hi)
	g.vop("fsub", rr, x, b)
	g.vop("fmul", b, a, cLn2Lo)
	g.vop("fsub", rr, rr, b) // r
	g.vop("fmul", z, rr, rr) // z = r·r
	g.vop("fmul", r, cP0, rr)
	for _, p := range []V{cP1, cP2, cP3, cP4} {
		g.vop("fadd", r, r, p)
		g.vop("fmul", r, r, rr)
	}
	g.vop("fadd", r, r, cP5)
	g.vop("fmul", r, r, z) // y·z
	g.vop("fadd", r, r, rr)
	g.vop("fadd", r, r, cOne)
	g.vop("cmgt", z, cIm126, n) // n < −126
	g.vop("smin", a, n, cI127)
	g.op("VAND V%d.B16, V%d.B16, V%d.B16", cI126, z, z)
	g.op("VADD V%d.S4, V%d.S4, V%d.S4 // e1", z, a, a)
	g.op("VSUB V%d.S4, V%d.S4, V%d.S4 // e2 = n − e1", a, n, n)
	g.op("VADD V%d.S4, V%d.S4, V%d.S4", cI127, a, a)
	g.op("VSHL $23, V%d.S4, V%d.S4 // 2^e1", a, a)
	g.op("VADD V%d.S4, V%d.S4, V%d.S4", cI127, n, n)
	g.op("VSHL $23, V%d.S4, V%d.S4 // 2^e2", n, n)
	g.vop("fmul", r, r, a) // exact
	g.vop("fmul", r, r, n) // the one rounding
	g.vop("fcmgt", z, x, cHiCut)
	g.op("VBIT V%d.B16, V%d.B16, V%d.B16 // x > 88.72283 → +Inf", z, cInf, r)
	g.vop("fcmgt", z, cLoCut, x)
	g.op("VEOR V%d.B16, V%d.B16, V%d.B16", b, b, b)
	g.op("VBIT V%d.B16, V%d.B16, V%d.B16 // x < −103.97208 → 0", z, b, r)
	g.vop("fcmeq", z, x, x)
	g.op("VBIF V%d.B16, V%d.B16, V%d.B16 // x NaN → x", z, x, r)
}

// actFunc emits one slice kernel: prologue, constants, a loop of four
// lanes from (R1) to (R0), body computing V2 from V0... as given.
func actFunc(g *asm, name, doc string, tanh bool, body func()) {
	g.p("// func %s(dst, src []float32)", name)
	g.p("//")
	g.p("// For len(src) a multiple of 4 (dst at least as long):")
	g.p("//")
	g.b.WriteString(doc)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-48", name)
	g.op("MOVD dst_base+0(FP), R0")
	g.op("MOVD src_base+24(FP), R1")
	g.op("MOVD src_len+32(FP), R2")
	g.op("CBZ  R2, %sdone", name)
	loadConsts(g, expConsts)
	if tanh {
		loadConsts(g, tanhConsts)
	}
	g.label(name + "loop")
	g.op("VLD1.P 16(R1), [V0.S4]")
	body()
	g.op("VST1.P [V2.S4], 16(R0)")
	g.op("SUBS $4, R2, R2")
	g.op("BNE  %sloop", name)
	g.label(name + "done")
	g.op("RET")
}

func genAct(g *asm) {
	header(g, "act")
	g.p(`// Vector versions of Exp, Sigmoid and Tanh (math.go), four lanes at a
// time, computing exactly what the scalar code computes: the same float32
// operations in the same order, no FMA, the same range reduction (floor,
// then 2ⁿ built from exponent bits, with the subnormal case scaled in two
// exact-then-rounding steps) and the same special cases.
// TestActivationSlices checks every lane bit for bit against math.go.
`)
	temps := []V{3, 4, 5, 6, 7}
	actFunc(g, "expNEON", "//\tfor i := range src { dst[i] = Exp(src[i]) }\n//\n// Reference: Exp.\n", false, func() {
		expSeq(g, 0, 2, temps)
	})
	g.p("")
	actFunc(g, "sigmoidNEON", "//\tfor i := range src { dst[i] = Sigmoid(src[i]) }\n//\n// Reference: Sigmoid. Both branches use e = Exp(−|x|): 1/(1+e) for\n// x ≥ 0, e/(1+e) otherwise.\n", false, func() {
		g.vop("fabs", 1, 0)
		g.vop("fneg", 1, 1) // −|x|
		expSeq(g, 1, 2, temps)
		g.vop("fadd", 3, 2, cOne) // 1 + e
		g.op("VEOR V4.B16, V4.B16, V4.B16")
		g.vop("fcmge", 4, 0, 4) // x ≥ 0
		g.op("VBIT V4.B16, V%d.B16, V2.B16 // numerator: 1 or e", cOne)
		g.vop("fdiv", 2, 2, 3)
	})
	g.p("")
	actFunc(g, "tanhNEON", "//\tfor i := range src { dst[i] = Tanh(src[i]) }\n//\n// Reference: Tanh: ±1 beyond ±9, an odd polynomial inside ±0.625,\n// (e−1)/(e+1) with e = Exp(2x) between.\n", true, func() {
		g.vop("fadd", 1, 0, 0) // 2x (exact)
		expSeq(g, 1, 2, temps)
		g.vop("fsub", 3, 2, cOne) // e − 1
		g.vop("fadd", 4, 2, cOne) // e + 1
		g.vop("fdiv", 2, 3, 4)    // mid-range result
		g.vop("fmul", 3, 0, 0)    // z = x·x
		g.vop("fmul", 4, cT0, 3)
		for _, c := range []V{cT1, cT2, cT3, cT4} {
			g.vop("fadd", 4, 4, c)
			g.vop("fmul", 4, 4, 3)
		}
		g.vop("fmul", 4, 4, 0) // ·x
		g.vop("fadd", 4, 4, 0) // + x
		g.vop("fabs", 5, 0)
		g.vop("fcmgt", 6, c0625, 5) // |x| < 0.625
		g.op("VBIT V6.B16, V4.B16, V2.B16")
		g.vop("fcmgt", 6, 0, cNine) // x > 9
		g.op("VBIT V6.B16, V%d.B16, V2.B16 // → 1", cOne)
		g.vop("fneg", 7, cNine)
		g.vop("fcmgt", 6, 7, 0) // x < −9
		g.vop("fneg", 7, cOne)
		g.op("VBIT V6.B16, V7.B16, V2.B16 // → −1")
	})
}
