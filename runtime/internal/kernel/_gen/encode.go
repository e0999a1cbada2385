package main

import (
	"fmt"
	"strings"
)

// The A64 instructions the Go assembler (cmd/internal/obj/arm64, Go 1.26)
// does not know, encoded by hand: the kernels spell them as
//
//	WORD $0x4e829420 // sdot v0.4s, v1.16b, v2.16b
//
// Each encoder returns the word and the instruction as llvm-mc prints it,
// so encode_test.go can hold `llvm-mc -triple=aarch64 -mattr=+dotprod
// -show-encoding` output verbatim. The Go assembler does have the loads,
// stores, EOR, ADDP and MOVI the kernels also use.

// V is a SIMD&FP register, V0..V31.
type V uint8

// Size is a vector element size.
type Size uint8

const (
	B Size = iota // 8-bit
	H             // 16-bit
	S             // 32-bit
	D             // 64-bit
)

// Inst is one encoded instruction.
type Inst struct {
	Word uint32
	Text string // LLVM syntax, single spaces
}

// Line is the Go assembler spelling: a WORD with the mnemonic as comment.
func (i Inst) Line() string { return fmt.Sprintf("WORD $0x%08x // %s", i.Word, i.Text) }

// arr names the arrangement of lanes of size s in a 64-bit (q false) or
// 128-bit (q true) vector: 8b, 16b, 4h, 8h, 2s, 4s, 1d, 2d.
func arr(s Size, q bool) string {
	bits := 64
	if q {
		bits = 128
	}
	esz := 8 << s
	return fmt.Sprintf("%d%c", bits/esz, "bhsd"[s])
}

func reg(v V, arrangement string) string {
	if v > 31 {
		panic(fmt.Sprintf("no register v%d", v))
	}
	return fmt.Sprintf("v%d.%s", v, arrangement)
}

func bit(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// dot is SDOT/UDOT (vector): Vd.4S += per lane i, Σ_{t<4} Vn.b[4i+t]·Vm.b[4i+t]
// (ARMv8.2 FEAT_DotProd; "Advanced SIMD three same (extra)", size 10,
// opcode 0010). q false is the 2S/8B form.
func dot(name string, u, q bool, d, n, m V) Inst {
	w := 0x0e809400 | bit(q)<<30 | bit(u)<<29 | uint32(m&31)<<16 | uint32(n&31)<<5 | uint32(d&31)
	return Inst{w, fmt.Sprintf("%s %s, %s, %s", name, reg(d, arr(S, q)), reg(n, arr(B, q)), reg(m, arr(B, q)))}
}

// dotElem is SDOT/UDOT (by element): Vd.4S += per lane i,
// Σ_{t<4} Vn.b[4i+t]·Vm.b[4·idx+t] ("Advanced SIMD vector x indexed
// element", size 10, opcode 1110; idx = H:L, Vm is 5 bits as M:Rm).
func dotElem(name string, u, q bool, d, n, m V, idx int) Inst {
	if idx < 0 || idx > 3 {
		panic(fmt.Sprintf("%s: index %d out of 0..3", name, idx))
	}
	hi, lo := uint32(idx>>1), uint32(idx&1)
	w := 0x0f80e000 | bit(q)<<30 | bit(u)<<29 | lo<<21 | uint32(m&31)<<16 | hi<<11 | uint32(n&31)<<5 | uint32(d&31)
	return Inst{w, fmt.Sprintf("%s %s, %s, %s[%d]", name, reg(d, arr(S, q)), reg(n, arr(B, q)), reg(m, "4b"), idx)}
}

// SDOT is sdot Vd.4s, Vn.16b, Vm.16b (signed × signed, int32 lanes).
func SDOT(d, n, m V) Inst { return dot("sdot", false, true, d, n, m) }

// UDOT is udot Vd.4s, Vn.16b, Vm.16b (unsigned × unsigned).
func UDOT(d, n, m V) Inst { return dot("udot", true, true, d, n, m) }

// SDOTElem is sdot Vd.4s, Vn.16b, Vm.4b[idx].
func SDOTElem(d, n, m V, idx int) Inst { return dotElem("sdot", false, true, d, n, m, idx) }

// UDOTElem is udot Vd.4s, Vn.16b, Vm.4b[idx].
func UDOTElem(d, n, m V, idx int) Inst { return dotElem("udot", true, true, d, n, m, idx) }

// long3 is the "Advanced SIMD three different" class (widening): Vd has
// lanes of twice size s, Vn and Vm the low (q false) or high (q true, the
// "2" forms) halves of lanes of size s.
func long3(name string, u bool, opcode uint32, q bool, s Size, d, n, m V) Inst {
	if s > S {
		panic(name + ": no 64-bit source lanes")
	}
	w := 0x0e200000 | bit(q)<<30 | bit(u)<<29 | uint32(s)<<22 | uint32(m&31)<<16 | opcode<<12 | uint32(n&31)<<5 | uint32(d&31)
	if q {
		name += "2"
	}
	return Inst{w, fmt.Sprintf("%s %s, %s, %s", name, reg(d, arr(s+1, true)), reg(n, arr(s, q)), reg(m, arr(s, q)))}
}

// SMULL is smull Vd, Vn, Vm: Vd[i] = sext(Vn[i])·sext(Vm[i]), low halves.
func SMULL(s Size, d, n, m V) Inst { return long3("smull", false, 0b1100, false, s, d, n, m) }

// SMULL2 is SMULL on the high halves of Vn and Vm.
func SMULL2(s Size, d, n, m V) Inst { return long3("smull", false, 0b1100, true, s, d, n, m) }

// SMLAL is smlal Vd, Vn, Vm: Vd[i] += sext(Vn[i])·sext(Vm[i]), low halves.
func SMLAL(s Size, d, n, m V) Inst { return long3("smlal", false, 0b1000, false, s, d, n, m) }

// SMLAL2 is SMLAL on the high halves of Vn and Vm.
func SMLAL2(s Size, d, n, m V) Inst { return long3("smlal", false, 0b1000, true, s, d, n, m) }

// UMULL is umull Vd, Vn, Vm (unsigned SMULL).
func UMULL(s Size, d, n, m V) Inst { return long3("umull", true, 0b1100, false, s, d, n, m) }

// UMLAL is umlal Vd, Vn, Vm (unsigned SMLAL).
func UMLAL(s Size, d, n, m V) Inst { return long3("umlal", true, 0b1000, false, s, d, n, m) }

// adalp is SADALP/UADALP ("Advanced SIMD two-register miscellaneous",
// opcode 00110): Vd[i] += Vn[2i] + Vn[2i+1], widened to twice size s.
func adalp(name string, u, q bool, s Size, d, n V) Inst {
	if s > S {
		panic(name + ": no 64-bit source lanes")
	}
	w := 0x0e206800 | bit(q)<<30 | bit(u)<<29 | uint32(s)<<22 | uint32(n&31)<<5 | uint32(d&31)
	return Inst{w, fmt.Sprintf("%s %s, %s", name, reg(d, arr(s+1, q)), reg(n, arr(s, q)))}
}

// SADALP is sadalp Vd, Vn on a 128-bit Vn of lanes of size s (e.g. H:
// sadalp v0.4s, v1.8h).
func SADALP(s Size, d, n V) Inst { return adalp("sadalp", false, true, s, d, n) }

// UADALP is the unsigned SADALP.
func UADALP(s Size, d, n V) Inst { return adalp("uadalp", true, true, s, d, n) }

// vop is a vector instruction of the float and vector-integer kernels
// (f32 GEMM, quantize, dot, activations) that the Go assembler lacks: its
// word with every register field zero, and the arrangement of each
// operand ("4s", "8h", ...; "s" is a scalar S register). Rd is bits 0–4,
// Rn 5–9 and Rm 16–20 in every one of them.
type vop struct {
	base uint32
	arrs []string
}

// vops holds them by mnemonic and operand count ("faddp/3" is the vector
// form, "faddp/2" the scalar pairwise add).
var vops = map[string]vop{
	// Advanced SIMD three same, 4S (Q=1, sz=0 / size=10).
	"fadd/3":  {0x4e20d400, []string{"4s", "4s", "4s"}},
	"fsub/3":  {0x4ea0d400, []string{"4s", "4s", "4s"}},
	"fmul/3":  {0x6e20dc00, []string{"4s", "4s", "4s"}},
	"fdiv/3":  {0x6e20fc00, []string{"4s", "4s", "4s"}},
	"fmin/3":  {0x4ea0f400, []string{"4s", "4s", "4s"}}, // NaN-propagating, −0 < +0: Go's min
	"fmax/3":  {0x4e20f400, []string{"4s", "4s", "4s"}},
	"faddp/3": {0x6e20d400, []string{"4s", "4s", "4s"}},
	"fcmgt/3": {0x6ea0e400, []string{"4s", "4s", "4s"}},
	"fcmge/3": {0x6e20e400, []string{"4s", "4s", "4s"}},
	"fcmeq/3": {0x4e20e400, []string{"4s", "4s", "4s"}},
	"mul/3":   {0x4ea09c00, []string{"4s", "4s", "4s"}},
	"smin/3":  {0x4ea06c00, []string{"4s", "4s", "4s"}},
	"cmgt/3":  {0x4ea03400, []string{"4s", "4s", "4s"}},
	// Advanced SIMD two-register miscellaneous.
	"scvtf/2":   {0x4e21d800, []string{"4s", "4s"}},
	"fcvtns/2":  {0x4e21a800, []string{"4s", "4s"}}, // to nearest, ties to even; saturating
	"fcvtzs/2":  {0x4ea1b800, []string{"4s", "4s"}},
	"frintm/2":  {0x4e219800, []string{"4s", "4s"}}, // floor
	"fabs/2":    {0x4ea0f800, []string{"4s", "4s"}},
	"fneg/2":    {0x6ea0f800, []string{"4s", "4s"}},
	"sqxtun/2":  {0x2e612800, []string{"4h", "4s"}}, // int32 → uint16, saturating
	"sqxtun2/2": {0x6e612800, []string{"8h", "4s"}},
	"uqxtn/2":   {0x2e214800, []string{"8b", "8h"}}, // uint16 → uint8, saturating
	// Across lanes and scalar pairwise.
	"fminv/2": {0x6eb0f800, []string{"s", "4s"}},
	"fmaxv/2": {0x6e30f800, []string{"s", "4s"}},
	"faddp/2": {0x7e30d800, []string{"s", "2s"}}, // s = lane 0 + lane 1
}

// Op encodes the vops instruction name with registers d, n (and m).
func Op(name string, regs ...V) Inst {
	o, ok := vops[fmt.Sprintf("%s/%d", name, len(regs))]
	if !ok {
		panic(fmt.Sprintf("no instruction %s with %d operands", name, len(regs)))
	}
	w := o.base | uint32(regs[0]&31) | uint32(regs[1]&31)<<5
	if len(regs) == 3 {
		w |= uint32(regs[2]&31) << 16
	}
	ops := make([]string, len(regs))
	for i, r := range regs {
		if o.arrs[i] == "s" {
			ops[i] = fmt.Sprintf("s%d", r)
			if r > 31 {
				panic(fmt.Sprintf("no register s%d", r))
			}
		} else {
			ops[i] = reg(r, o.arrs[i])
		}
	}
	return Inst{w, name + " " + strings.Join(ops, ", ")}
}
