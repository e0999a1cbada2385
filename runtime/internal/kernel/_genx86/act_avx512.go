package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

//go:generate go run . -kernel act_avx512 -pkg kernel -out ../act_avx512_amd64.s

func init() { register("act_avx512", actAVX512) }

// The vector activations and elementwise kernels with 512-bit registers.
// Each computes exactly what the scalar code (math.go, act.go) computes:
// the same float32 operations in the same order, no FMA, the same range
// reduction and special cases as the 8-lane AVX2 versions, 16 lanes at a
// time; lane selections use mask registers instead of VBLENDVPS.
//
// Every kernel takes a length that is a multiple of 8: the loop does 16
// floats at a time, and a last half vector, if any, goes through the same
// code with the upper eight lanes masked off (zero-filled loads, masked
// stores), so the Go drivers of the AVX2 kernels serve them unchanged.

// actzConsts are the constants of the actz table, one float32 (or int32)
// each, in order; cst addresses them by name.
var actzConsts = []struct {
	name string
	bits uint32
}{
	{"log2e", 0x3fb8aa3b},
	{"half", 0x3f000000},
	{"ln2Hi", 0x3f318000},
	{"ln2Lo", 0xb95e8083},
	{"p0", 0x39506967},
	{"p1", 0x3ab743ce},
	{"p2", 0x3c088908},
	{"p3", 0x3d2aa9c1},
	{"p4", 0x3e2aaaaa},
	{"p5", 0x3f000000},
	{"one", 0x3f800000},
	{"expHi", 0x42b17217}, // 88.72283
	{"expLo", 0xc2cff1b4}, // −103.97208
	{"inf", 0x7f800000},
	{"i127", 127},
	{"im126", uint32(0xffffff82)}, // int −126
	{"i126", 126},
	{"nine", 0x41100000},
	{"geluA", 0x3d372713}, // 0.044715
	{"geluB", 0x3f4c422a}, // 0.7978845608
	{"mnine", 0xc1100000}, // −9
	{"mone", 0xbf800000},  // −1
	{"minf", 0xff800000},  // −Inf
	{"tP4", 0x32668ee6},   // Tanh's rational (math.go)
	{"tP3", 0x37ad5266},
	{"tP2", 0x3b654fbc},
	{"tP1", 0x3e090d58},
	{"tQ4", 0x355182e9},
	{"tQ3", 0x39ac8bfd},
	{"tQ2", 0x3cd417da},
	{"tQ1", 0x3eef3153},
	{"expClamp", 0xc2d10000}, // −104.5: softmax4RowsAVX512's floor for x − max
}

var actz Mem

// cst returns the memory operand of the named constant.
func cst(name string) Mem {
	for i, c := range actzConsts {
		if c.name == name {
			return actz.Offset(4 * i)
		}
	}
	panic("_genx86: no constant " + name)
}

// expPoly16 emits the part of Exp that exp16 and expNeg16 share: fx =
// floor(x·log2e + 0.5) into Z2 (and, when n is not nil, its int32 into
// n, right after the floor), the Cody–Waite reduction r = x − fx·ln2 and
// r = y = 1 + r + r²·P(r), rounded step by step as Exp is. Clobbers
// Z3..Z5.
func expPoly16(x, r, n VecPhysical) {
	expPoly([]VecPhysical{x}, []VecPhysical{r}, []VecPhysical{Z2}, []VecPhysical{Z4}, []VecPhysical{Z5}, Z3, n)
}

// expPoly is expPoly16 on len(x) vectors, each step on every vector
// before the next step, so that their dependent chains issue side by
// side: fx[i], rr[i] (the reduced argument) and zz[i] (its square) are
// vector i's registers, t a temporary they share. With one vector it
// emits expPoly16's instructions (fx, rr, zz, t = Z2, Z4, Z5, Z3); n,
// when not nil, takes the int32 of fx[0] (one vector only).
func expPoly(x, r, fx, rr, zz []VecPhysical, t, n VecPhysical) {
	each := func(f func(i int)) {
		for i := range x {
			f(i)
		}
	}
	each(func(i int) { VMULPS_BCST(cst("log2e"), x[i], fx[i]) }) // t = x·log2e
	each(func(i int) { VADDPS_BCST(cst("half"), fx[i], fx[i]) }) // t += 0.5
	each(func(i int) { VRNDSCALEPS(U8(9), fx[i], fx[i]) })       // fx = floor(t)
	if n != nil {
		VCVTTPS2DQ(fx[0], n) // n
	}
	each(func(i int) { VMULPS_BCST(cst("ln2Hi"), fx[i], t); VSUBPS(t, x[i], rr[i]) })  // r = x − fx·ln2Hi
	each(func(i int) { VMULPS_BCST(cst("ln2Lo"), fx[i], t); VSUBPS(t, rr[i], rr[i]) }) // r −= fx·ln2Lo
	each(func(i int) { VMULPS(rr[i], rr[i], zz[i]) })                                  // z = r·r
	each(func(i int) { VBROADCASTSS(cst("p0"), r[i]) })
	each(func(i int) { VMULPS(rr[i], r[i], r[i]) })
	for _, p := range []string{"p1", "p2", "p3", "p4"} {
		each(func(i int) { VADDPS_BCST(cst(p), r[i], r[i]) })
		each(func(i int) { VMULPS(rr[i], r[i], r[i]) })
	}
	each(func(i int) { VADDPS_BCST(cst("p5"), r[i], r[i]) })
	each(func(i int) { VMULPS(zz[i], r[i], r[i]) })           // y·z
	each(func(i int) { VADDPS(rr[i], r[i], r[i]) })           // + r
	each(func(i int) { VADDPS_BCST(cst("one"), r[i], r[i]) }) // + 1
}

// exp16 emits r = Exp(x) lane by lane. Clobbers Z2..Z7 and K1.
func exp16(x, r VecPhysical) {
	expPoly16(x, r, Z7)
	VPCMPD_BCST(U8(1), cst("im126"), Z7, K1) // n < −126
	VPMINSD_BCST(cst("i127"), Z7, Z2)        // min(n, 127)
	VPADDD_BCST(cst("i126"), Z2, K1, Z2)     // e1 = min(n,127) + (n < −126 ? 126 : 0)
	VPSUBD(Z2, Z7, Z7)                       // e2 = n − e1 ∈ {−126, 0, 1}
	VPADDD_BCST(cst("i127"), Z2, Z2)
	VPSLLD(U8(23), Z2, Z2) // 2^e1
	VPADDD_BCST(cst("i127"), Z7, Z7)
	VPSLLD(U8(23), Z7, Z7) // 2^e2
	VMULPS(Z2, r, r)       // exact
	VMULPS(Z7, r, r)       // the one rounding
	VCMPPS_BCST(U8(0x1e), cst("expHi"), x, K1)
	VBROADCASTSS(cst("inf"), K1, r) // x > 88.72283 → +Inf
	VCMPPS_BCST(U8(0x11), cst("expLo"), x, K1)
	VPXORD(r, r, K1, r) // x < −103.97208 → 0
	VCMPPS(U8(3), x, x, K1)
	VMOVAPS(x, K1, r) // NaN → x
}

// zvec is one vector in flight in tanhRat16: x holds the argument and
// gets the result; z, p, q are its temporaries, o is free for the caller.
type zvec struct{ x, z, p, q, o VecPhysical }

// ratConsts loads the constants tanhRat16 and its callers keep in
// registers: Z16 = −9, Z17 = 9, Z18 = −1, Z19 = 1, Z20–Z23 = P4–P1,
// Z24–Z27 = Q4–Q1, Z28 = 0.5, Z29 and Z30 GELU's 0.044715 and
// 0.7978845608.
func ratConsts() {
	for i, n := range []string{"mnine", "nine", "mone", "one", "tP4", "tP3", "tP2", "tP1",
		"tQ4", "tQ3", "tQ2", "tQ1", "half", "geluA", "geluB"} {
		if ratFromMem && i >= 4 && i < 12 {
			continue // tanhRat16 reads P and Q from memory
		}
		VBROADCASTSS(cst(n), zc(16+i))
	}
}

// zc returns register Zi.
func zc(i int) VecPhysical {
	return []VecPhysical{Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27,
		Z28, Z29, Z30, Z31}[i-16]
}

// zvecs4 are the registers of the (at most) four vectors in flight of
// the loop64 kernels: the third and fourth take Z10–Z15 and Z20–Z23, which
// the register constants P1–P4 and Q1–Q4 of ratConsts no longer hold.
var zvecs4 = []zvec{{Z0, Z1, Z2, Z3, Z8}, {Z4, Z5, Z6, Z7, Z9}, {Z10, Z11, Z12, Z13, Z14}, {Z15, Z20, Z21, Z22, Z23}}

// ratFromMem is set while loop64 emits a kernel: tanhRat16 then takes the
// coefficients P1–P4 and Q1–Q4 as broadcast memory operands (the same
// values, so the same bits) instead of from Z20–Z27.
var ratFromMem bool

// tanhRat16 emits r.x = Tanh(r.x) lane by lane for every vector of v,
// the vectors' instructions interleaved; it clobbers their z, p and q.
// The clamps take x (then the quotient) as the operand VMAXPS and VMINPS
// return when either is NaN, so NaN stays NaN as with Go's min and max.
func tanhRat16(v []zvec) {
	coef := func(i int) Op { // P4, P3, P2, P1, Q4, Q3, Q2, Q1
		if ratFromMem {
			return cst([]string{"tP4", "tP3", "tP2", "tP1", "tQ4", "tQ3", "tQ2", "tQ1"}[i])
		}
		return zc(20 + i)
	}
	mul := func(c Op, x, y VecPhysical) {
		if m, ok := c.(Mem); ok {
			VMULPS_BCST(m, x, y)
		} else {
			VMULPS(c, x, y)
		}
	}
	add := func(c Op, x VecPhysical) {
		if m, ok := c.(Mem); ok {
			VADDPS_BCST(m, x, x)
		} else {
			VADDPS(c, x, x)
		}
	}
	clamp := func(lo, hi string, rlo, rhi VecPhysical, x VecPhysical) {
		if clampFromMem {
			VMAXPS_BCST(cst(lo), x, x)
			VMINPS_BCST(cst(hi), x, x)
		} else {
			VMAXPS(x, rlo, x)
			VMINPS(x, rhi, x)
		}
	}
	for _, r := range v {
		clamp("mnine", "nine", Z16, Z17, r.x)
		VMULPS(r.x, r.x, r.z)  // z = x·x
		mul(coef(0), r.z, r.p) // P4·z
		mul(coef(4), r.z, r.q) // Q4·z
	}
	for k := 0; k < 3; k++ {
		for _, r := range v {
			add(coef(1+k), r.p) // + P3, P2, P1
			add(coef(5+k), r.q) // + Q3, Q2, Q1
			VMULPS(r.z, r.p, r.p)
			VMULPS(r.z, r.q, r.q)
		}
	}
	for _, r := range v {
		if clampFromMem {
			VADDPS_BCST(cst("one"), r.p, r.p) // P
			VADDPS_BCST(cst("one"), r.q, r.q) // Q
		} else {
			VADDPS(Z19, r.p, r.p) // P
			VADDPS(Z19, r.q, r.q) // Q
		}
		VMULPS(r.p, r.x, r.x) // x·P
		VDIVPS(r.q, r.x, r.x) // /Q
		clamp("mone", "one", Z18, Z19, r.x)
	}
}

// clampFromMem is set while geluAVX512 is emitted: tanhRat16 then takes
// every constant from memory, and its clamps take the constant as the
// operand VMAXPS and VMINPS return when either is NaN, so a NaN argument
// comes out of the tanh as a number; GELU's last product by 0.5·x, NaN
// too, makes the result NaN all the same.
var clampFromMem bool

// geluVecs is how many vectors geluAVX512's loop has in flight: with
// every constant in memory, eight take all 32 registers and keep more of
// the rational's dependent multiplies issuing side by side (on Zen 5,
// one thread: 0.19 ns an element against 0.24 with four and 0.21 with
// six).
const geluVecs = 8

// zvecsN are the registers of the eight vectors in flight of geluAVX512's
// loop: x, z, p, q each (o unused: x is loaded again for the last
// product).
var zvecsN = func() []zvec {
	var v []zvec
	for i := 0; i < 32; i += 4 {
		v = append(v, zvec{x: zr(i), z: zr(i + 1), p: zr(i + 2), q: zr(i + 3)})
	}
	return v
}()

// zr returns register Zi.
func zr(i int) VecPhysical {
	if i >= 16 {
		return zc(i)
	}
	return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15}[i]
}

// loop64 emits the loop of an elementwise kernel over n floats (n a
// multiple of 8, in CX) from SI to DI: body(v, masked) gets the vectors in
// flight, four (64 floats) in the loop, then two for a last 32, one for a
// last 16 and one masked (K2 = 0x00ff) for a last 8. The constants of
// ratConsts are loaded first. Clobbers DX and AX. Four vectors let the
// rational tanh's chains of dependent multiplies and its division overlap
// (against two: tanh and sigmoid 8 % faster on Zen 5; geluAVX512 has its own loop of eight); the
// tanh's coefficients then come from memory (ratFromMem) to free the
// registers.
func loop64(name string, body func(v []zvec, masked bool)) {
	ratFromMem = true
	defer func() { ratFromMem = false }()
	TESTQ(RCX, RCX)
	JZ(LabelRef(name + "done"))
	ratConsts()
	MOVQ(RCX, RDX)
	SHRQ(U8(6), RCX)
	JZ(LabelRef(name + "r32"))
	Label(name + "loop")
	body(zvecs4, false)
	ADDQ(U32(256), RSI)
	ADDQ(U32(256), RDI)
	DECQ(RCX)
	JNZ(LabelRef(name + "loop"))
	Label(name + "r32")
	TESTQ(U32(32), RDX)
	JZ(LabelRef(name + "rest"))
	body(zvecs4[:2], false)
	ADDQ(U32(128), RSI)
	ADDQ(U32(128), RDI)
	Label(name + "rest")
	TESTQ(U32(16), RDX)
	JZ(LabelRef(name + "tail"))
	body(zvecs4[:1], false)
	ADDQ(U8(64), RSI)
	ADDQ(U8(64), RDI)
	Label(name + "tail")
	TESTQ(U32(8), RDX)
	JZ(LabelRef(name + "done"))
	MOVL(U32(0xff), EAX)
	KMOVW(EAX, K2)
	body(zvecs4[:1], true)
	Label(name + "done")
}

// unary64 emits func name(dst, src []float32) over len(src) floats
// through loop64.
func unary64(name string, doc []string, body func(v []zvec, masked bool)) {
	TEXT(name, NOSPLIT, "func(dst, src []float32)")
	Comment(doc...)
	Load(Param("dst").Base(), RDI)
	Load(Param("src").Base(), RSI)
	Load(Param("src").Len(), RCX)
	loop64(name, body)
	VZEROUPPER()
	RET()
}

// loop16 emits the loop of an elementwise kernel over n floats (n a
// multiple of 8, in CX) starting at SI (and DI when the kernel has a
// destination): body(masked) is called once for whole vectors and once
// for the last half vector, which has K2 = 0x00ff (load and store below
// then mask the moves). Clobbers DX and AX.
func loop16(name string, body func(masked bool)) {
	MOVQ(RCX, RDX)
	SHRQ(U8(4), RCX)
	JZ(LabelRef(name + "tail"))
	Label(name + "loop")
	body(false)
	ADDQ(U8(64), RSI)
	ADDQ(U8(64), RDI)
	DECQ(RCX)
	JNZ(LabelRef(name + "loop"))
	Label(name + "tail")
	TESTQ(U32(8), RDX)
	JZ(LabelRef(name + "done"))
	MOVL(U32(0xff), EAX)
	KMOVW(EAX, K2)
	body(true)
	Label(name + "done")
}

// load emits a (masked, zero-filled) load of 16 floats.
func load(m Mem, z VecPhysical, masked bool) {
	if masked {
		VMOVUPS_Z(m, K2, z)
	} else {
		VMOVUPS(m, z)
	}
}

// store emits a (masked) store of 16 floats.
func store(z VecPhysical, m Mem, masked bool) {
	if masked {
		VMOVUPS(z, K2, m)
	} else {
		VMOVUPS(z, m)
	}
}

// unary emits func name(dst, src []float32) over len(src) floats.
func unary(name string, doc []string, body func(masked bool)) {
	TEXT(name, NOSPLIT, "func(dst, src []float32)")
	Comment(doc...)
	Load(Param("dst").Base(), RDI)
	Load(Param("src").Base(), RSI)
	Load(Param("src").Len(), RCX)
	loop16(name, body)
	VZEROUPPER()
	RET()
}

func actAVX512() {
	actz = GLOBL("actz", RODATA|NOPTR)
	for i, c := range actzConsts {
		DATA(4*i, U32(c.bits))
	}

	unary("expAVX512", []string{
		"For len(src) a multiple of 8 (dst at least as long):",
		"",
		"\tfor i := range src { dst[i] = Exp(src[i]) }",
		"",
		"Reference: Exp.",
	}, func(masked bool) {
		load(Mem{Base: RSI}, Z0, masked)
		exp16(Z0, Z1)
		store(Z1, Mem{Base: RDI}, masked)
	})

	unary64("sigmoidAVX512", []string{
		"For len(src) a multiple of 8 (dst at least as long):",
		"",
		"\tfor i := range src { dst[i] = Sigmoid(src[i]) }",
		"",
		"Reference: Sigmoid: 0.5·Tanh(0.5·x) + 0.5.",
	}, func(v []zvec, masked bool) {
		for i, r := range v {
			load(Mem{Base: RSI, Disp: 64 * i}, r.x, masked)
			VMULPS(Z28, r.x, r.x) // 0.5·x
		}
		tanhRat16(v)
		for i, r := range v {
			VMULPS(Z28, r.x, r.x)
			VADDPS(Z28, r.x, r.x)
			store(r.x, Mem{Base: RDI, Disp: 64 * i}, masked)
		}
	})

	unary64("tanhAVX512", []string{
		"For len(src) a multiple of 8 (dst at least as long):",
		"",
		"\tfor i := range src { dst[i] = Tanh(src[i]) }",
		"",
		"Reference: Tanh: x clamped to ±9, x·P(x²)/Q(x²) clamped to ±1.",
	}, func(v []zvec, masked bool) {
		for i, r := range v {
			load(Mem{Base: RSI, Disp: 64 * i}, r.x, masked)
		}
		tanhRat16(v)
		for i, r := range v {
			store(r.x, Mem{Base: RDI, Disp: 64 * i}, masked)
		}
	})

	TEXT("geluAVX512", NOSPLIT, "func(dst, src []float32)")
	Comment("For len(src) a multiple of 8 (dst at least as long):",
		"",
		"\tfor i := range src { dst[i] = GELU(src[i]) }",
		"",
		"Reference: GELU: u = 0.7978845608·(x + 0.044715·(x·x·x)), then",
		"(0.5·x)·(1 + Tanh(u)), each product and sum rounded to float32.")
	Load(Param("dst").Base(), RDI)
	Load(Param("src").Base(), RSI)
	Load(Param("src").Len(), RCX)
	clampFromMem, ratFromMem = true, true
	gelu := func(v []zvec, masked bool) {
		for i, r := range v {
			load(Mem{Base: RSI, Disp: 64 * i}, r.p, masked)
			VMULPS(r.p, r.p, r.x)               // x·x
			VMULPS(r.p, r.x, r.x)               // ·x
			VMULPS_BCST(cst("geluA"), r.x, r.x) // 0.044715·x³
			VADDPS(r.p, r.x, r.x)               // x + …
			VMULPS_BCST(cst("geluB"), r.x, r.x) // u
		}
		tanhRat16(v)
		for i, r := range v {
			VADDPS_BCST(cst("one"), r.x, r.x) // 1 + tanh(u)
			load(Mem{Base: RSI, Disp: 64 * i}, r.p, masked)
			VMULPS_BCST(cst("half"), r.p, r.p) // 0.5·x
			VMULPS(r.x, r.p, r.x)
			store(r.x, Mem{Base: RDI, Disp: 64 * i}, masked)
		}
	}
	nv := geluVecs
	TESTQ(RCX, RCX)
	JZ(LabelRef("geludone"))
	CMPQ(RCX, U32(16*nv))
	JB(LabelRef("gelur16"))
	Label("geluloop")
	gelu(zvecsN[:nv], false)
	ADDQ(U32(64*nv), RSI)
	ADDQ(U32(64*nv), RDI)
	SUBQ(U32(16*nv), RCX)
	CMPQ(RCX, U32(16*nv))
	JAE(LabelRef("geluloop"))
	Label("gelur16")
	CMPQ(RCX, U8(16))
	JB(LabelRef("gelutail"))
	gelu(zvecsN[:1], false)
	ADDQ(U8(64), RSI)
	ADDQ(U8(64), RDI)
	SUBQ(U8(16), RCX)
	JMP(LabelRef("gelur16"))
	Label("gelutail")
	TESTQ(RCX, RCX)
	JZ(LabelRef("geludone"))
	MOVL(U32(0xff), EAX)
	KMOVW(EAX, K2)
	gelu(zvecsN[:1], true)
	Label("geludone")
	clampFromMem, ratFromMem = false, false
	VZEROUPPER()
	RET()

	// Softmax passes.
	TEXT("maxF32AVX512", NOSPLIT, "func(p []float32) (mx float32, nan bool)")
	Comment("For len(p) a multiple of 8 (> 0): the largest element (the sign of a",
		"zero maximum is unspecified), and whether any element is NaN (then mx",
		"is meaningless). Reference: the max loop of softmaxLoop.")
	Load(Param("p").Base(), RSI)
	Load(Param("p").Len(), RCX)
	VBROADCASTSS(cst("minf"), Z0)
	KXORW(K3, K3, K3) // NaN lanes seen
	loop16("max", func(masked bool) {
		if masked {
			VBROADCASTSS(cst("minf"), Z3)
			VMOVUPS(Mem{Base: RSI}, K2, Z3)
		} else {
			VMOVUPS(Mem{Base: RSI}, Z3)
		}
		VMAXPS(Z3, Z0, Z0)
		VCMPPS(U8(3), Z3, Z3, K1)
		KORW(K1, K3, K3)
	})
	VEXTRACTF64X4(U8(1), Z0, Y1)
	VMAXPS(Y1, Y0, Y0)
	VEXTRACTF128(U8(1), Y0, X1)
	VMAXPS(X1, X0, X0)
	VPERMILPS(U8(0x4e), X0, X1)
	VMAXPS(X1, X0, X0)
	VPERMILPS(U8(0xb1), X0, X1)
	VMAXPS(X1, X0, X0)
	VMOVSS(X0, NewParamAddr("mx", 24))
	KORTESTW(K3, K3)
	SETNE(NewParamAddr("nan", 28))
	VZEROUPPER()
	RET()

	TEXT("expSubSumAVX512", NOSPLIT, "func(p []float32, mx float32) (sum float32)")
	Comment("For len(p) a multiple of 8 (> 0):",
		"",
		"\tfor j := range p { p[j] = Exp(p[j] − mx) }",
		"",
		"and the sum of the new p in DotF32's order: eight lane sums (the low",
		"half of each 16-float vector added before its high half, so each",
		"lane adds its elements in increasing order) combined as",
		"((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)). Reference: softmaxLoop.")
	Load(Param("p").Base(), RSI)
	Load(Param("p").Len(), RCX)
	MOVQ(RSI, RDI)
	VBROADCASTSS(NewParamAddr("mx", 24), Z8)
	VXORPS(Y9, Y9, Y9)
	loop16("es", func(masked bool) {
		load(Mem{Base: RSI}, Z0, masked)
		VSUBPS(Z8, Z0, Z0) // x − mx
		exp16(Z0, Z1)
		store(Z1, Mem{Base: RSI}, masked)
		VADDPS(Y1, Y9, Y9)
		if !masked {
			VEXTRACTF64X4(U8(1), Z1, Y1)
			VADDPS(Y1, Y9, Y9)
		}
	})
	VEXTRACTF128(U8(1), Y9, X1)
	VADDPS(X1, X9, X9)
	VPERMILPS(U8(0x4e), X9, X1)
	VADDPS(X1, X9, X9)
	VPERMILPS(U8(0xb1), X9, X1)
	VADDSS(X1, X9, X9)
	VMOVSS(X9, NewParamAddr("sum", 32))
	VZEROUPPER()
	RET()

	TEXT("divF32AVX512", NOSPLIT, "func(p []float32, d float32)")
	Comment("For len(p) a multiple of 8: for j := range p { p[j] /= d }.")
	Load(Param("p").Base(), RSI)
	Load(Param("p").Len(), RCX)
	MOVQ(RSI, RDI)
	VBROADCASTSS(NewParamAddr("d", 24), Z1)
	loop16("div", func(masked bool) {
		load(Mem{Base: RSI}, Z0, masked)
		VDIVPS(Z1, Z0, Z0)
		store(Z0, Mem{Base: RSI}, masked)
	})
	VZEROUPPER()
	RET()

	TEXT("reluAVX512", NOSPLIT, "func(x []float32)")
	Comment("For len(x) a multiple of 8: x[i] = max(x[i], 0) with Go's max: NaN",
		"stays NaN and −0 becomes +0. VMAXPS with the element as its second",
		"source returns the element when either is NaN or both are zero; adding",
		"+0 then turns −0 into +0 and changes nothing else.")
	Load(Param("x").Base(), RSI)
	Load(Param("x").Len(), RCX)
	MOVQ(RSI, RDI)
	VPXORD(Z1, Z1, Z1)
	loop16("relu", func(masked bool) {
		load(Mem{Base: RSI}, Z0, masked)
		VMAXPS(Z0, Z1, Z2)
		VADDPS(Z1, Z2, Z2)
		store(Z2, Mem{Base: RSI}, masked)
	})
	VZEROUPPER()
	RET()

	TEXT("normRowAVX512", NOSPLIT, "func(dst, src, gamma, beta []float32, mean, den float32)")
	Comment("For len(src) a multiple of 8 (the others at least as long):",
		"dst[i] = float32(float32((src[i]−mean)/den)·gamma[i]) + beta[i], with",
		"the operand order of normRowAVX2. Reference: normRow.")
	Load(Param("dst").Base(), RDI)
	Load(Param("src").Base(), RSI)
	Load(Param("src").Len(), RCX)
	Load(Param("gamma").Base(), R8)
	Load(Param("beta").Base(), R9)
	VBROADCASTSS(NewParamAddr("mean", 96), Z1)
	VBROADCASTSS(NewParamAddr("den", 100), Z2)
	loop16("norm", func(masked bool) {
		load(Mem{Base: RSI}, Z0, masked)
		VSUBPS(Z1, Z0, Z0)
		VDIVPS(Z2, Z0, Z0)
		load(Mem{Base: R8}, Z3, masked)
		VMULPS(Z3, Z0, Z0)
		load(Mem{Base: R9}, Z3, masked)
		VADDPS(Z3, Z0, Z0)
		store(Z0, Mem{Base: RDI}, masked)
		if !masked {
			ADDQ(U8(64), R8)
			ADDQ(U8(64), R9)
		}
	})
	VZEROUPPER()
	RET()

	TEXT("axpyF32AVX512", NOSPLIT, "func(alpha float32, x, y []float32)")
	Comment("For len(x) a multiple of 8 (y at least as long):",
		"",
		"\tfor i, v := range x { y[i] += float32(alpha * v) }",
		"",
		"(a rounded product, then the add: no FMA). Reference: axpyF32Generic.")
	Load(Param("x").Base(), RSI)
	Load(Param("y").Base(), RDI)
	Load(Param("x").Len(), RCX)
	VBROADCASTSS(NewParamAddr("alpha", 0), Z1)
	loop16("axpy", func(masked bool) {
		// Operand order as in axpyF32AVX2 (first sources alpha, then the
		// product), so even NaN payloads agree.
		load(Mem{Base: RSI}, Z0, masked)
		VMULPS(Z0, Z1, Z0)
		load(Mem{Base: RDI}, Z2, masked)
		VADDPS(Z2, Z0, Z0)
		store(Z0, Mem{Base: RDI}, masked)
	})
	VZEROUPPER()
	RET()
}
