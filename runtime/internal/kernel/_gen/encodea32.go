package main

import (
	"fmt"
	"strings"
)

// The A32 Advanced SIMD (NEON) instructions of the 32-bit ARM kernels. The
// Go assembler for GOARCH=arm (Go 1.26) knows no NEON at all, so the
// kernels spell every vector instruction, loads and stores included, as
//
//	WORD $0xf2c0cca8 // vmull.s8 q14, d16, d24
//
// Each encoder returns the word and the instruction as
// `llvm-mc -triple=armv7a -mattr=+neon -show-encoding` prints it, so
// encodea32_test.go can hold that output verbatim.

// Q is a 128-bit NEON register, q0..q15 (= d2n, d2n+1).
type Q uint8

// Dr is a 64-bit NEON register, d0..d31.
type Dr uint8

// Lo and Hi are the two D halves of q.
func (q Q) Lo() Dr { return Dr(2 * q) }
func (q Q) Hi() Dr { return Dr(2*q + 1) }

// GPR is an A32 general register r0..r12 (Go's R0..R12).
type GPR uint8

func (d Dr) String() string {
	if d > 31 {
		panic(fmt.Sprintf("no register d%d", d))
	}
	return fmt.Sprintf("d%d", d)
}

func (q Q) String() string {
	if q > 15 {
		panic(fmt.Sprintf("no register q%d", q))
	}
	return fmt.Sprintf("q%d", q)
}

func (r GPR) String() string {
	if r > 12 {
		panic(fmt.Sprintf("no general register r%d", r))
	}
	return fmt.Sprintf("r%d", r)
}

// A32 register fields: a D register number is 5 bits, split into a 4-bit
// field and a high bit (Vd = D:Vd at bits 22 and 15–12, Vn = N:Vn at 7 and
// 19–16, Vm = M:Vm at 5 and 3–0).
func fd(d uint32) uint32 { return (d>>4&1)<<22 | (d&15)<<12 }
func fn(n uint32) uint32 { return (n>>4&1)<<7 | (n&15)<<16 }
func fm(m uint32) uint32 { return (m>>4&1)<<5 | (m & 15) }

// a32op is a NEON data-processing instruction: its word with every register
// field zero, and its operand kinds ('q' or 'd'; the Q bit is in base).
type a32op struct {
	base  uint32
	kinds string
}

// a32ops holds them by LLVM mnemonic.
var a32ops = map[string]a32op{
	// Three registers of different lengths (widening).
	"vmull.s8": {0xf2800c00, "qdd"},
	"vmlal.s8": {0xf2800800, "qdd"},
	// Two registers, miscellaneous.
	"vpadal.s16":   {0xf3b40640, "qq"},
	"vcvt.s32.f32": {0xf3bb0740, "qq"}, // toward zero
	"vqmovun.s32":  {0xf3b60240, "dq"}, // int32 → uint16, saturating
	"vqmovn.u16":   {0xf3b202c0, "dq"}, // uint16 → uint8, saturating
	// Three registers of the same length.
	"veor":      {0xf3000150, "qqq"},
	"vadd.i32":  {0xf2200840, "qqq"},
	"vpadd.i32": {0xf2200b10, "ddd"},
	"vmin.s32":  {0xf2200650, "qqq"},
	"vmax.s32":  {0xf2200640, "qqq"},
	"vpmin.s32": {0xf2200a10, "ddd"},
	"vpmax.s32": {0xf2200a00, "ddd"},
	"vmul.f32":  {0xf3000d50, "qqq"},
	"vadd.f32":  {0xf2000d40, "qqq"},
	"vsub.f32":  {0xf2200d40, "qqq"},
}

// N encodes the a32ops instruction name on registers (Q or Dr values, in
// the order LLVM prints them: destination first).
func N(name string, regs ...any) Inst {
	o, ok := a32ops[name]
	if !ok || len(regs) != len(o.kinds) {
		panic(fmt.Sprintf("no instruction %s with %d operands", name, len(regs)))
	}
	w := o.base
	ops := make([]string, len(regs))
	fields := []func(uint32) uint32{fd, fn, fm}
	if len(regs) == 2 {
		fields = []func(uint32) uint32{fd, fm}
	}
	for i, r := range regs {
		var num uint32
		switch v := r.(type) {
		case Q:
			if o.kinds[i] != 'q' {
				panic(fmt.Sprintf("%s: operand %d is a D register", name, i))
			}
			num, ops[i] = uint32(v.Lo()), v.String()
		case Dr:
			if o.kinds[i] != 'd' {
				panic(fmt.Sprintf("%s: operand %d is a Q register", name, i))
			}
			num, ops[i] = uint32(v), v.String()
		default:
			panic(fmt.Sprintf("%s: operand %v", name, r))
		}
		w |= fields[i](num)
	}
	return Inst{w, name + " " + strings.Join(ops, ", ")}
}

// VSHLI32 is vshl.i32 (Q form when q): each lane shifted left by sh < 32.
func VSHLI32(d, m Dr, sh int, q bool) Inst {
	if sh < 0 || sh > 31 {
		panic("vshl.i32: shift out of range")
	}
	w := 0xf2800510 | uint32(32+sh)<<16 | bit(q)<<6 | fd(uint32(d)) | fm(uint32(m))
	if q {
		return Inst{w, fmt.Sprintf("vshl.i32 %s, %s, #%d", Q(d/2), Q(m/2), sh)}
	}
	return Inst{w, fmt.Sprintf("vshl.i32 %s, %s, #%d", d, m, sh)}
}

// VSHR32 is vshr.s32 or vshr.u32 on Q registers, 1 <= sh <= 32.
func VSHR32(unsigned bool, d, m Q, sh int) Inst {
	if sh < 1 || sh > 32 {
		panic("vshr: shift out of range")
	}
	w := 0xf2800050 | bit(unsigned)<<24 | uint32(64-sh)<<16 | fd(uint32(d.Lo())) | fm(uint32(m.Lo()))
	s := "s"
	if unsigned {
		s = "u"
	}
	return Inst{w, fmt.Sprintf("vshr.%s32 %s, %s, #%d", s, d, m, sh)}
}

// VMOVI8 is vmov.i8 Qd, #imm: imm in every byte.
func VMOVI8(d Q, imm uint8) Inst {
	i := uint32(imm)
	w := 0xf2800e50 | (i>>7)<<24 | (i>>4&7)<<16 | i&15 | fd(uint32(d.Lo()))
	return Inst{w, fmt.Sprintf("vmov.i8 %s, #0x%x", d, imm)}
}

// VDUP32 is vdup.32 Qd, Rt: the general register in every 32-bit lane.
func VDUP32(d Q, t GPR) Inst {
	n := uint32(d.Lo())
	w := 0xeea00b10 | (n>>4&1)<<7 | (n&15)<<16 | uint32(t)<<12
	return Inst{w, fmt.Sprintf("vdup.32 %s, %s", d, t)}
}

// ldst1 is VLD1/VST1 (multiple single elements) of count consecutive D
// registers from first, element size esz bits, at [rn] with post-index:
// rm < 0 is "!" (by the bytes moved), else by register rm.
func ldst1(load bool, esz int, first Dr, count int, rn GPR, rm int) Inst {
	types := map[int]uint32{1: 0b0111, 2: 0b1010, 3: 0b0110, 4: 0b0010}
	sizes := map[int]uint32{8: 0, 16: 1, 32: 2, 64: 3}
	ty, ok := types[count]
	sz, ok2 := sizes[esz]
	if !ok || !ok2 || int(first)+count > 32 {
		panic(fmt.Sprintf("vld1/vst1: %d registers from d%d, size %d", count, first, esz))
	}
	m := uint32(13)
	if rm >= 0 {
		m = uint32(rm)
	}
	w := 0xf4000000 | bit(load)<<21 | fd(uint32(first)) | uint32(rn)<<16 | ty<<8 | sz<<6 | m
	regs := make([]string, count)
	for i := range regs {
		regs[i] = Dr(int(first) + i).String()
	}
	name := "vst1"
	if load {
		name = "vld1"
	}
	post := "!"
	if rm >= 0 {
		post = ", " + GPR(rm).String()
	}
	return Inst{w, fmt.Sprintf("%s.%d {%s}, [%s]%s", name, esz, strings.Join(regs, ", "), rn, post)}
}

// VLD1 loads count D registers from [rn], rn += the bytes loaded.
func VLD1(esz int, first Dr, count int, rn GPR) Inst { return ldst1(true, esz, first, count, rn, -1) }

// VST1 stores count D registers to [rn], rn += the bytes stored.
func VST1(esz int, first Dr, count int, rn GPR) Inst { return ldst1(false, esz, first, count, rn, -1) }

// VST1R stores count D registers to [rn], rn += rm.
func VST1R(esz int, first Dr, count int, rn, rm GPR) Inst {
	return ldst1(false, esz, first, count, rn, int(rm))
}
