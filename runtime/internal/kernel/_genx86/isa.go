package main

import (
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// Instructions avo v0.5.0's database lacks. The Go assembler knows the EVEX
// (AVX-512) forms, so those are emitted as ordinary instructions with their
// register inputs and outputs declared for avo's liveness and allocation.
// The VEX forms of AVX-VNNI are unknown to the Go assembler too: they are
// spelled in BYTEs over physical registers (vexVPDPBUSD).

// VPDPBUSD emits the EVEX VPDPBUSD (AVX512-VNNI; ymm needs AVX512VL):
// acc[i] += Σ_{q<4} uint8(u[4i+q]) · int8(s[4i+q]), in Go operand order
// (s, u, acc) — s may be a memory operand.
func VPDPBUSD(s, u, acc operand.Op) {
	build.Instruction(&ir.Instruction{
		Opcode:   "VPDPBUSD",
		Operands: []operand.Op{s, u, acc},
		Inputs:   []operand.Op{s, u, acc},
		Outputs:  []operand.Op{acc},
		ISA:      []string{"AVX512VNNI"},
	})
}

// vexVPDPBUSD emits the VEX (AVX-VNNI) form of VPDPBUSD acc, u, s (Intel
// operand order: acc += u8(u)·s8(s)) on physical ymm registers, as BYTEs
// followed by a comment with the mnemonic. s is a register.
func vexVPDPBUSD(acc, u, s reg.VecPhysical) {
	// VEX.256.66.0F38.W0 50 /r: C4 RXB.00010 W.vvvv.L.pp ModRM
	a, v, b := int(acc.PhysicalIndex()), int(u.PhysicalIndex()), int(s.PhysicalIndex())
	rxb := 0xe0 ^ (a>>3&1)<<7 ^ (b>>3&1)<<5
	byte2 := 0x02 | rxb
	byte3 := (^v&15)<<3 | 1<<2 | 1 // W0, vvvv, L=1, pp=01
	modrm := 0xc0 | (a&7)<<3 | b&7
	for i, x := range []int{0xc4, byte2, byte3, 0x50, modrm} {
		in := &ir.Instruction{Opcode: "BYTE", Operands: []operand.Op{operand.U8(uint8(x))}}
		if i == 0 { // the registers it reads and writes, for avo's liveness
			in.Inputs = []operand.Op{acc, u, s}
			in.Outputs = []operand.Op{acc}
		}
		build.Instruction(in)
	}
	build.Commentf("VPDPBUSD %s, %s, %s (VEX)", s.Asm(), u.Asm(), acc.Asm())
}
