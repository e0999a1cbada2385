//go:build arm && arm.7 && gc && !noasm && !purego

package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestQuantizeRowNEON32Edges checks the NEON quantizer against the
// reference, bit for bit, on rows long enough for the assembly that hold
// what ARMv7 NEON treats differently from the VFP: denormals (flushed to
// zero), −0, ties, extreme ranges, infinities and NaNs.
func TestQuantizeRowNEON32Edges(t *testing.T) {
	if !cpu.ARM.HasNEON {
		t.Skip("no NEON")
	}
	den := math.Float32frombits(0x00000005)
	bigDen := math.Float32frombits(0x007fffff)
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	negz := float32(math.Copysign(0, -1))
	rows := [][]float32{
		{0.5, 1.5, 2.5, 3.5, 254.5, 255, 0, 100.5, 7.5},                         // ties, scale 1
		{-0.5, -1.5, -2.5, -3.5, -254.5, -255, 0, -100.5, -7.5},                 // negative ties
		{den, -den, bigDen, -bigDen, 1, -1, 0, negz, 0.25, den},                 // denormals with a normal range
		{den, -den, bigDen, -bigDen, den, den, 0, negz, bigDen},                 // denormal range: the reference decides
		{negz, negz, negz, negz, negz, negz, negz, negz, 0},                     // constant
		{negz, 1, 2, 3, 4, 5, 6, 7, 8},                                          // −0 below +0
		{3e38, -3e38, 1, -1, 0, 2e38, -2e38, 5, 6},                              // hi−lo overflows
		{1e-26, -1e-26, den, 3e-27, 0, 1e-27, -5e-27, 2e-26, -den},              // 1/scale near 2^86
		{1e-29, -1e-29, den, 3e-30, 0, 1e-30, -5e-30, 2e-29, -den},              // 1/scale over 2^100
		{1, 2, 3, inf, 5, 6, 7, 8, 9},                                           // infinity
		{1, 2, 3, -inf, 5, 6, 7, 8, 9},                                          // −infinity
		{1, 2, 3, nan, 5, 6, 7, 8, 9},                                           // NaN in the prefix
		{1, 2, 3, 4, 5, 6, 7, 8, nan},                                           // NaN in the tail
		{-1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -16}, // all negative, no tail
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 300; i++ {
		r := make([]float32, 8+rng.IntN(90))
		e := rng.IntN(80) - 40
		for j := range r {
			switch rng.IntN(20) {
			case 0:
				r[j] = math.Float32frombits(rng.Uint32() & 0x807fffff) // a denormal
			case 1:
				r[j] = negz
			default:
				r[j] = float32(rng.NormFloat64() * math.Pow(2, float64(e)))
			}
		}
		rows = append(rows, r)
	}
	for i, r := range rows {
		got := make([]uint8, len(r))
		want := make([]uint8, len(r))
		gs, gz := quantizeRowU8NEON32(got, r)
		ws, wz := quantizeRowU8Generic(want, r)
		if math.Float32bits(gs) != math.Float32bits(ws) && !(gs != gs && ws != ws) || gz != wz || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("row %d %v: scale %v zp %d %v, want %v %d %v", i, r, gs, gz, got, ws, wz, want)
		}
	}
}

// TestMinMaxNEON32 checks the ordered-integer min/max against Go's min and
// max on rows with −0 and denormals.
func TestMinMaxNEON32(t *testing.T) {
	if !cpu.ARM.HasNEON {
		t.Skip("no NEON")
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for i := 0; i < 200; i++ {
		x := make([]float32, 8*(1+rng.IntN(6)))
		for j := range x {
			x[j] = math.Float32frombits(rng.Uint32())
			if x[j] != x[j] || rng.IntN(3) == 0 { // no NaNs; many denormals
				x[j] = math.Float32frombits(rng.Uint32() & 0x807fffff)
			}
		}
		var lanes [8]int32
		minMaxNEON32(x, &lanes)
		for l := 0; l < 4; l++ {
			lo, hi := float32(0), float32(0)
			for j := l; j < len(x); j += 4 {
				lo, hi = min(lo, x[j]), max(hi, x[j])
			}
			glo := math.Float32frombits(uint32(orderedF32(lanes[l])))
			ghi := math.Float32frombits(uint32(orderedF32(lanes[4+l])))
			if math.Float32bits(glo) != math.Float32bits(lo) || math.Float32bits(ghi) != math.Float32bits(hi) {
				t.Fatalf("row %d lane %d: %v %v, want %v %v", i, l, glo, ghi, lo, hi)
			}
		}
	}
}
