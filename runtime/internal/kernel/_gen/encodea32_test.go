package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// llvmMCA32 holds what
//
//	llvm-mc -triple=armv7a -mattr=+neon -show-encoding
//
// (LLVM 14.0.6) printed for every NEON instruction of the 32-bit ARM
// kernels and for the other forms encodea32.go offers: the text (whitespace
// collapsed) and the little-endian word of the four encoding bytes. To
// refresh after adding instructions:
//
//	grep -ho 'WORD .*' ../*_arm.s | sed 's|.*// ||' | sort -u |
//		llvm-mc -triple=armv7a -mattr=+neon -show-encoding
var llvmMCA32 = []struct {
	text string
	word uint32
}{
	{"vadd.f32 q0, q0, q15", 0xf2000d6e},
	{"vadd.f32 q1, q1, q15", 0xf2022d6e},
	{"vadd.f32 q9, q10, q11", 0xf2442de6},
	{"vadd.i32 d0, d0, d22", 0xf2200826},
	{"vadd.i32 d31, d0, d17", 0xf260f821},
	{"vadd.i32 d4, d4, d22", 0xf2244826},
	{"vadd.i32 d8, d8, d22", 0xf2288826},
	{"vadd.i32 q0, q0, q10", 0xf2200864},
	{"vadd.i32 q0, q0, q14", 0xf220086c},
	{"vadd.i32 q1, q1, q14", 0xf222286c},
	{"vadd.i32 q8, q9, q10", 0xf26208e4},
	{"vcvt.s32.f32 q0, q0", 0xf3bb0740},
	{"vcvt.s32.f32 q1, q1", 0xf3bb2742},
	{"vcvt.s32.f32 q1, q2", 0xf3bb2744},
	{"vdup.32 q13, r3", 0xeeaa3b90},
	{"vdup.32 q14, r4", 0xeeac4b90},
	{"vdup.32 q15, r5", 0xeeae5b90},
	{"vdup.32 q9, r12", 0xeea2cb90},
	{"veor q0, q0, q0", 0xf3000150},
	{"veor q0, q0, q2", 0xf3000154},
	{"veor q1, q1, q1", 0xf3022152},
	{"veor q1, q1, q3", 0xf3022156},
	{"veor q10, q10, q10", 0xf34441f4},
	{"veor q11, q11, q11", 0xf34661f6},
	{"veor q2, q2, q2", 0xf3044154},
	{"veor q3, q3, q3", 0xf3066156},
	{"veor q4, q4, q15", 0xf308817e},
	{"veor q4, q4, q4", 0xf3088158},
	{"veor q5, q5, q15", 0xf30aa17e},
	{"veor q5, q5, q5", 0xf30aa15a},
	{"veor q6, q6, q15", 0xf30cc17e},
	{"veor q7, q7, q15", 0xf30ee17e},
	{"veor q8, q8, q15", 0xf34001fe},
	{"veor q8, q8, q8", 0xf34001f0},
	{"veor q9, q9, q9", 0xf34221f2},
	{"vld1.32 {d0, d1, d2, d3}, [r0]!", 0xf420028d},
	{"vld1.32 {d0, d1, d2, d3}, [r1]!", 0xf421028d},
	{"vld1.32 {d0, d1, d2}, [r5]!", 0xf425068d},
	{"vld1.32 {d20, d21}, [r9]!", 0xf4694a8d},
	{"vld1.32 {d22}, [r9]!", 0xf469678d},
	{"vld1.8 {d12, d13}, [r0]!", 0xf420ca0d},
	{"vld1.8 {d12, d13}, [r1]!", 0xf421ca0d},
	{"vld1.8 {d14, d15}, [r1]!", 0xf421ea0d},
	{"vld1.8 {d14, d15}, [r2]!", 0xf422ea0d},
	{"vld1.8 {d16, d17}, [r2]!", 0xf4620a0d},
	{"vld1.8 {d16, d17}, [r3]!", 0xf4630a0d},
	{"vld1.8 {d18, d19}, [r3]!", 0xf4632a0d},
	{"vld1.8 {d18, d19}, [r4]!", 0xf4642a0d},
	{"vld1.8 {d20, d21}, [r4]!", 0xf4644a0d},
	{"vld1.8 {d8, d9, d10, d11}, [r0]!", 0xf420820d},
	{"vmax.s32 q11, q11, q1", 0xf26666c2},
	{"vmax.s32 q8, q9, q10", 0xf26206e4},
	{"vmax.s32 q9, q9, q0", 0xf26226c0},
	{"vmax.s32 q9, q9, q11", 0xf26226e6},
	{"vmin.s32 q0, q0, q1", 0xf2200652},
	{"vmin.s32 q10, q10, q1", 0xf26446d2},
	{"vmin.s32 q8, q8, q0", 0xf26006d0},
	{"vmin.s32 q8, q8, q10", 0xf26006f4},
	{"vmlal.s8 q10, d11, d13", 0xf2cb480d},
	{"vmlal.s8 q10, d9, d13", 0xf2c9480d},
	{"vmlal.s8 q11, d11, d15", 0xf2cb680f},
	{"vmlal.s8 q11, d13, d19", 0xf2cd6823},
	{"vmlal.s8 q11, d17, d19", 0xf2c168a3},
	{"vmlal.s8 q11, d9, d15", 0xf2c9680f},
	{"vmlal.s8 q12, d11, d17", 0xf2cb8821},
	{"vmlal.s8 q12, d13, d21", 0xf2cd8825},
	{"vmlal.s8 q12, d17, d21", 0xf2c188a5},
	{"vmlal.s8 q12, d9, d17", 0xf2c98821},
	{"vmlal.s8 q13, d11, d19", 0xf2cba823},
	{"vmlal.s8 q13, d15, d19", 0xf2cfa823},
	{"vmlal.s8 q13, d9, d19", 0xf2c9a823},
	{"vmlal.s8 q14, d15, d21", 0xf2cfc825},
	{"vmlal.s8 q15, d0, d31", 0xf2c0e82f},
	{"vmov.i8 q0, #0x7f", 0xf2870e5f},
	{"vmov.i8 q15, #0x80", 0xf3c0ee50},
	{"vmul.f32 q0, q0, q13", 0xf3000d7a},
	{"vmul.f32 q0, q1, q2", 0xf3020d54},
	{"vmul.f32 q1, q1, q13", 0xf3022d7a},
	{"vmull.s8 q0, d31, d1", 0xf28f0c81},
	{"vmull.s8 q10, d10, d12", 0xf2ca4c0c},
	{"vmull.s8 q10, d8, d12", 0xf2c84c0c},
	{"vmull.s8 q11, d10, d14", 0xf2ca6c0e},
	{"vmull.s8 q11, d12, d18", 0xf2cc6c22},
	{"vmull.s8 q11, d16, d18", 0xf2c06ca2},
	{"vmull.s8 q11, d8, d14", 0xf2c86c0e},
	{"vmull.s8 q12, d10, d16", 0xf2ca8c20},
	{"vmull.s8 q12, d12, d20", 0xf2cc8c24},
	{"vmull.s8 q12, d16, d20", 0xf2c08ca4},
	{"vmull.s8 q12, d8, d16", 0xf2c88c20},
	{"vmull.s8 q13, d10, d18", 0xf2caac22},
	{"vmull.s8 q13, d14, d18", 0xf2ceac22},
	{"vmull.s8 q13, d8, d18", 0xf2c8ac22},
	{"vmull.s8 q14, d14, d20", 0xf2cecc24},
	{"vpadal.s16 q0, q10", 0xf3b40664},
	{"vpadal.s16 q0, q11", 0xf3b40666},
	{"vpadal.s16 q1, q11", 0xf3b42666},
	{"vpadal.s16 q1, q12", 0xf3b42668},
	{"vpadal.s16 q15, q1", 0xf3f4e642},
	{"vpadal.s16 q2, q12", 0xf3b44668},
	{"vpadal.s16 q2, q13", 0xf3b4466a},
	{"vpadal.s16 q3, q13", 0xf3b4666a},
	{"vpadal.s16 q3, q14", 0xf3b4666c},
	{"vpadal.s16 q4, q11", 0xf3b48666},
	{"vpadal.s16 q5, q12", 0xf3b4a668},
	{"vpadd.i32 d0, d0, d1", 0xf2200b11},
	{"vpadd.i32 d0, d0, d2", 0xf2200b12},
	{"vpadd.i32 d1, d4, d6", 0xf2241b16},
	{"vpadd.i32 d10, d10, d11", 0xf22aab1b},
	{"vpadd.i32 d2, d2, d3", 0xf2222b13},
	{"vpadd.i32 d4, d4, d5", 0xf2244b15},
	{"vpadd.i32 d4, d4, d6", 0xf2244b16},
	{"vpadd.i32 d6, d6, d7", 0xf2266b17},
	{"vpadd.i32 d8, d8, d10", 0xf2288b1a},
	{"vpadd.i32 d8, d8, d9", 0xf2288b19},
	{"vpmax.s32 d18, d19, d20", 0xf2632aa4},
	{"vpmin.s32 d0, d0, d1", 0xf2200a11},
	{"vqmovn.u16 d17, q9", 0xf3f212e2},
	{"vqmovn.u16 d4, q2", 0xf3b242c4},
	{"vqmovun.s32 d3, q2", 0xf3b63244},
	{"vqmovun.s32 d4, q0", 0xf3b64240},
	{"vqmovun.s32 d5, q1", 0xf3b65242},
	{"vshl.i32 d22, d22, #7", 0xf2e76536},
	{"vshl.i32 q10, q10, #7", 0xf2e74574},
	{"vshl.i32 q8, q9, #31", 0xf2ff0572},
	{"vshr.s32 q1, q2, #31", 0xf2a12054},
	{"vshr.s32 q2, q0, #31", 0xf2a14050},
	{"vshr.s32 q3, q1, #31", 0xf2a16052},
	{"vshr.u32 q2, q2, #1", 0xf3bf4054},
	{"vshr.u32 q3, q3, #1", 0xf3bf6056},
	{"vshr.u32 q9, q1, #1", 0xf3ff2052},
	{"vst1.32 {d0, d1}, [r8]!", 0xf4080a8d},
	{"vst1.32 {d0}, [r0], r1", 0xf4000781},
	{"vst1.32 {d16, d17, d18, d19}, [r1]!", 0xf441028d},
	{"vst1.32 {d4}, [r0], r1", 0xf4004781},
	{"vst1.32 {d8}, [r0], r1", 0xf4008781},
	{"vst1.64 {d31}, [r3], r7", 0xf443f7c7},
	{"vst1.8 {d16, d17, d18, d19}, [r12]!", 0xf44c020d},
	{"vst1.8 {d4}, [r0]!", 0xf400470d},
	{"vsub.f32 q0, q0, q15", 0xf2200d6e},
	{"vsub.f32 q0, q12, q13", 0xf2280dea},
	{"vsub.f32 q1, q1, q15", 0xf2222d6e},
}

var (
	a32Reg  = regexp.MustCompile(`^([qdr])(\d+)$`)
	a32Imm  = regexp.MustCompile(`^#(0x[0-9a-f]+|\d+)$`)
	a32LdSt = regexp.MustCompile(`^(vld1|vst1)\.(\d+) \{([^}]*)\}, \[r(\d+)\](!|, r(\d+))$`)
)

// encodeA32 parses one line of llvm-mc's A32 output and encodes it with
// the encoders of encodea32.go.
func encodeA32(t *testing.T, text string) Inst {
	t.Helper()
	if m := a32LdSt.FindStringSubmatch(text); m != nil {
		esz, _ := strconv.Atoi(m[2])
		regs := strings.Split(m[3], ", ")
		first, _ := strconv.Atoi(strings.TrimPrefix(regs[0], "d"))
		rn, _ := strconv.Atoi(m[4])
		switch {
		case m[1] == "vld1" && m[5] == "!":
			return VLD1(esz, Dr(first), len(regs), GPR(rn))
		case m[1] == "vst1" && m[5] == "!":
			return VST1(esz, Dr(first), len(regs), GPR(rn))
		case m[1] == "vst1":
			rm, _ := strconv.Atoi(m[6])
			return VST1R(esz, Dr(first), len(regs), GPR(rn), GPR(rm))
		}
		t.Fatalf("%s: no encoder", text)
	}
	mn, rest, _ := strings.Cut(text, " ")
	var regs []any
	var kinds []byte
	imm := -1
	for _, op := range strings.Split(rest, ", ") {
		if m := a32Reg.FindStringSubmatch(op); m != nil {
			n, _ := strconv.Atoi(m[2])
			kinds = append(kinds, m[1][0])
			switch m[1] {
			case "q":
				regs = append(regs, Q(n))
			case "d":
				regs = append(regs, Dr(n))
			default:
				regs = append(regs, GPR(n))
			}
		} else if m := a32Imm.FindStringSubmatch(op); m != nil {
			v, _ := strconv.ParseInt(m[1], 0, 32)
			imm = int(v)
		} else {
			t.Fatalf("%s: operand %q", text, op)
		}
	}
	switch mn {
	case "vshl.i32":
		if kinds[0] == 'q' {
			return VSHLI32(regs[0].(Q).Lo(), regs[1].(Q).Lo(), imm, true)
		}
		return VSHLI32(regs[0].(Dr), regs[1].(Dr), imm, false)
	case "vshr.s32", "vshr.u32":
		return VSHR32(mn == "vshr.u32", regs[0].(Q), regs[1].(Q), imm)
	case "vmov.i8":
		return VMOVI8(regs[0].(Q), uint8(imm))
	case "vdup.32":
		return VDUP32(regs[0].(Q), regs[1].(GPR))
	case "vadd.i32":
		if kinds[0] == 'd' {
			return vaddD(regs[0].(Dr), regs[1].(Dr), regs[2].(Dr))
		}
	}
	if _, ok := a32ops[mn]; !ok {
		t.Fatalf("%s: no encoder for %q", text, mn)
	}
	return N(mn, regs...)
}

// TestEncodingsA32 checks every A32 encoder against llvm-mc's words and
// text.
func TestEncodingsA32(t *testing.T) {
	for _, e := range llvmMCA32 {
		got := encodeA32(t, e.text)
		if got.Word != e.word || got.Text != e.text {
			t.Errorf("%s: encoded 0x%08x %q, llvm-mc 0x%08x", e.text, got.Word, got.Text, e.word)
		}
	}
}

// TestInnerLoopsArm reports the 32-bit ARM k loops' instructions per int8
// multiply-accumulate (32 bytes of k per row and column per iteration).
func TestInnerLoopsArm(t *testing.T) {
	src, err := generate("neon32")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct {
		label     string
		rows, col int
	}{{"kloop", 3, 2}, {"gkloop", 1, 4}} {
		n := len(inner(src, l.label))
		macs := 32 * l.rows * l.col
		t.Logf("neon32 %s (%d×%d tile): %d instructions per %d MACs = %.3f per MAC", l.label, l.rows, l.col, n, macs, float64(n)/float64(macs))
		if n == 0 {
			t.Errorf("neon32: no %s", l.label)
		}
	}
	src, err = generate("quant32")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct{ label, what string }{{"mmloop", "min/max"}, {"qloop", "quantize"}} {
		n := len(inner(src, l.label))
		t.Logf("quant32 %s: %d instructions per 8 elements = %.3f per element (%s)", l.label, n, float64(n)/8, l.what)
		if n == 0 {
			t.Errorf("quant32: no %s", l.label)
		}
	}
}
