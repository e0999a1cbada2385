package main

// The activations (act_neon_arm64.s): Exp four lanes at a time, Sigmoid
// and Tanh eight, computing exactly what math.go computes. The constants
// live in V16–V31 for the whole call, the lane values in V0–V8.

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
	cLog2e, cHalf, cLn2Hi, cLn2Lo V = 16, 17, 18, 19
	cP0, cP1, cP2, cP3, cP4, cP5  V = 20, 21, 22, 23, 24, 17
	cOne, cHiCut, cLoCut, cInf    V = 25, 26, 27, 28
	cI127, cIm126, cI126          V = 29, 30, 31
)

// ratConsts are the constants of Tanh's rational form and of Sigmoid
// and GELU (math.go), held in V16–V30 by tanhNEON, sigmoidNEON and
// geluNEON.
var ratConsts = []actConst{
	{"-9", 0xc1100000, 16},
	{"9", 0x41100000, 17},
	{"-1", 0xbf800000, 18},
	{"1", 0x3f800000, 19},
	{"P4", 0x32668ee6, 20},
	{"P3", 0x37ad5266, 21},
	{"P2", 0x3b654fbc, 22},
	{"P1", 0x3e090d58, 23},
	{"Q4", 0x355182e9, 24},
	{"Q3", 0x39ac8bfd, 25},
	{"Q2", 0x3cd417da, 26},
	{"Q1", 0x3eef3153, 27},
	{"0.5", 0x3f000000, 28},
	{"0.044715", 0x3d372713, 29},
	{"0.7978845608", 0x3f4c422a, 30},
}

const (
	rM9, r9, rM1, r1, rHalf V = 16, 17, 18, 19, 28
	rP4, rQ4                V = 20, 24
	rGeluA, rGeluB          V = 29, 30
)

// ratVec is one vector in flight in tanhRat: x holds the argument and gets
// the result, z, p, q are its temporaries.
type ratVec struct{ x, z, p, q V }

// ratVecs are the two vectors of the main loop; x must be V0 and V1 for
// the two-register loads and stores.
var ratVecs = []ratVec{{0, 2, 3, 4}, {1, 5, 6, 7}}

// tanhRat emits r.x = Tanh(r.x) for every vector of v, interleaved: x
// clamped to ±9 (FMAX and FMIN propagate NaN as Go's max and min do),
// P and Q by Horner in z = x·x, x·P/Q clamped to ±1.
func tanhRat(g *asm, v []ratVec) {
	for _, r := range v {
		g.vop("fmax", r.x, r.x, rM9)
		g.vop("fmin", r.x, r.x, r9)
		g.vop("fmul", r.z, r.x, r.x)
		g.vop("fmul", r.p, r.z, rP4)
		g.vop("fmul", r.q, r.z, rQ4)
	}
	for k := V(1); k <= 3; k++ {
		for _, r := range v {
			g.vop("fadd", r.p, r.p, rP4+k)
			g.vop("fadd", r.q, r.q, rQ4+k)
			g.vop("fmul", r.p, r.p, r.z)
			g.vop("fmul", r.q, r.q, r.z)
		}
	}
	for _, r := range v {
		g.vop("fadd", r.p, r.p, r1)
		g.vop("fadd", r.q, r.q, r1)
		g.vop("fmul", r.x, r.x, r.p)
		g.vop("fdiv", r.x, r.x, r.q)
		g.vop("fmax", r.x, r.x, rM1)
		g.vop("fmin", r.x, r.x, r1)
	}
}

// ratFunc emits tanhNEON, sigmoidNEON or geluNEON: eight lanes per loop
// iteration, then four if len(src) is an odd multiple of 4. The loads go
// to V(in) and V(in+1) (V(in) alone for the last four), body computes the
// results into the x registers of the vectors it gets (V0, V1), which are
// stored.
func ratFunc(g *asm, name, doc string, in V, body func(v []ratVec)) {
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
	loadConsts(g, ratConsts)
	g.label(name + "loop")
	g.op("CMP  $8, R2")
	g.op("BLT  %sone", name)
	g.op("VLD1.P 32(R1), [V%d.S4, V%d.S4]", in, in+1)
	body(ratVecs)
	g.op("VST1.P [V0.S4, V1.S4], 32(R0)")
	g.op("SUB  $8, R2, R2")
	g.op("B    %sloop", name)
	g.label(name + "one")
	g.op("CBZ  R2, %sdone", name)
	g.op("VLD1 (R1), [V%d.S4]", in)
	body(ratVecs[:1])
	g.op("VST1 [V0.S4], (R0)")
	g.label(name + "done")
	g.op("RET")
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
func actFunc(g *asm, name, doc string, body func()) {
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
	g.p(`// Vector versions of Exp, Sigmoid and Tanh (math.go), computing exactly
// what the scalar code computes: the same float32 operations, no FMA,
// for Exp the same range reduction (floor, then 2ⁿ built from exponent
// bits, with the subnormal case scaled in two exact-then-rounding steps)
// and the same special cases, for Tanh the same clamps and rational form.
// TestActivationSlices checks every lane bit for bit against math.go.
`)
	temps := []V{3, 4, 5, 6, 7}
	actFunc(g, "expNEON", "//\tfor i := range src { dst[i] = Exp(src[i]) }\n//\n// Reference: Exp.\n", func() {
		expSeq(g, 0, 2, temps)
	})
	g.p("")
	ratFunc(g, "sigmoidNEON", "//\tfor i := range src { dst[i] = Sigmoid(src[i]) }\n//\n// Reference: Sigmoid: 0.5·Tanh(0.5·x) + 0.5.\n", 0, func(v []ratVec) {
		for _, r := range v {
			g.vop("fmul", r.x, r.x, rHalf)
		}
		tanhRat(g, v)
		for _, r := range v {
			g.vop("fmul", r.x, r.x, rHalf)
			g.vop("fadd", r.x, r.x, rHalf)
		}
	})
	g.p("")
	ratFunc(g, "tanhNEON", "//\tfor i := range src { dst[i] = Tanh(src[i]) }\n//\n// Reference: Tanh: x clamped to ±9, x·P(x²)/Q(x²) clamped to ±1.\n", 0, func(v []ratVec) {
		tanhRat(g, v)
	})
	g.p("")
	ratFunc(g, "geluNEON", "//\tfor i := range src { dst[i] = GELU(src[i]) }\n//\n// Reference: GELU: u = 0.7978845608·(x + 0.044715·(x·x·x)), then\n// (0.5·x)·(1 + Tanh(u)), each product and sum rounded to float32; x is\n// loaded to V8 (V9).\n", 8, func(v []ratVec) {
		for i, r := range v {
			o := 8 + V(i)
			g.vop("fmul", r.x, o, o)   // x·x
			g.vop("fmul", r.x, r.x, o) // ·x
			g.vop("fmul", r.x, r.x, rGeluA)
			g.vop("fadd", r.x, r.x, o) // x + …
			g.vop("fmul", r.x, r.x, rGeluB)
		}
		tanhRat(g, v)
		for i, r := range v {
			o := 8 + V(i)
			g.vop("fadd", r.x, r.x, r1) // 1 + tanh(u)
			g.vop("fmul", o, o, rHalf)  // 0.5·x
			g.vop("fmul", r.x, o, r.x)
		}
	})
}
