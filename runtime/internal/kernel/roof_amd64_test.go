//go:build amd64 && gc && !noasm && !purego

package kernel

import (
	"strings"
	"testing"
	"time"
)

// TestRoofVNNIEncoding checks the BYTE lines of roof_amd64.s against the
// VEX VPDPBUSD encoder (itself checked against llvm-mc) and their
// comments.
func TestRoofVNNIEncoding(t *testing.T) {
	checkVPDPBUSDLines(t, "roof_amd64.s", 24)
}

// TestRoof512 runs the 512-bit loops avx512vnni's roof times, whether or
// not that implementation is dispatched: any iteration count (none for
// n ≤ 0), the names and operation counts RoofLoop reports, and a logged
// figure beside the 256-bit loop's (measured, never asserted).
func TestRoof512(t *testing.T) {
	if !hasAVX512() {
		t.Skip("no AVX-512 F/BW/VL/VNNI")
	}
	for _, c := range []struct {
		dtype string
		ops   float64
		name  string
	}{{"int8", 3072, "512-bit"}, {"f32", 768, "512-bit"}} {
		r := roofLoopFor("avx512vnni", c.dtype)
		if r.ops != c.ops || !strings.Contains(r.name, c.name) || r.loop == nil {
			t.Fatalf("%s: roof %q, %v ops", c.dtype, r.name, r.ops)
		}
		for _, n := range []int{-1, 0, 1, 1000} {
			r.loop(n)
		}
		g512 := roofBest(r, 20*time.Millisecond)
		r256 := roofLoopFor("avxvnni", c.dtype)
		g256 := roofBest(r256, 20*time.Millisecond)
		t.Logf("%s: %.1f GOPS %s, %.1f GOPS %s (ratio %.2f)", c.dtype, g512, r.name, g256, r256.name, g512/g256)
	}
}

// roofBest is RoofGOPS for one given loop on the calling thread.
func roofBest(r roof, d time.Duration) float64 {
	n, el := roofCalibrate(r.loop, d)
	best := float64(n) / el.Seconds()
	for t := time.Now(); time.Since(t) < d; {
		t0 := time.Now()
		r.loop(n)
		if el := time.Since(t0); el > 0 {
			best = max(best, float64(n)/el.Seconds())
		}
	}
	return best * r.ops / 1e9
}
