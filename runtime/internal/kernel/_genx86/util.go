package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Small sequences several amd64 generators share.

// broadcastD emits y = v in every int32 lane, through EAX and x (x is
// y's low half or another xmm register): MOVL, MOVQ, VPBROADCASTD.
func broadcastD(v uint32, x, y VecPhysical) {
	MOVL(U32(v), EAX)
	MOVQ(RAX, x)
	VPBROADCASTD(x, y)
}

// zeroY emits VPXOR r, r, r for each register.
func zeroY(regs ...VecPhysical) {
	for _, r := range regs {
		VPXOR(r, r, r)
	}
}

// hsum4D emits the horizontal int32 sums of the four 8-lane accumulators
// y0..y3 (clobbering them and t) and stores
// them as four int32 at dst: [Σy0, Σy1, Σy2, Σy3].
func hsum4D(y0, y1, y2, y3, t VecPhysical, dst Mem) {
	VPHADDD(y1, y0, y0)
	VPHADDD(y3, y2, y2)
	VPHADDD(y2, y0, y0)
	VEXTRACTI128(Imm(1), y0, t)
	VPADDD(t, y0.AsX(), y0.AsX())
	VMOVDQU(y0.AsX(), dst)
}

// zeroPS emits VXORPS r, r, r for each register.
func zeroPS(regs ...VecPhysical) {
	for _, r := range regs {
		VXORPS(r, r, r)
	}
}

// hsum4PS emits the horizontal float32 sums of the four 8-lane
// accumulators y0..y3 into y0's low half x0, lane q the fixed tree
// ((l0+l1) + (l2+l3)) + ((l4+l5) + (l6+l7)) of yq: two VHADDPS levels,
// then the high 128-bit half added to the low one. It clobbers y0, y2
// and t. (y2 = y3 gives three sums and a duplicate.)
func hsum4PS(y0, y1, y2, y3, t VecPhysical) {
	VHADDPS(y1, y0, y0)
	VHADDPS(y3, y2, y2)
	VHADDPS(y2, y0, y0)
	VEXTRACTF128(Imm(1), y0, t)
	VADDPS(t, y0.AsX(), y0.AsX())
}
