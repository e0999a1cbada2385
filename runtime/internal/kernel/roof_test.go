package kernel

import (
	"math"
	"testing"
	"time"
)

// TestRoofGOPS measures every loop of every implementation briefly.
func TestRoofGOPS(t *testing.T) {
	for _, im := range Impls() {
		restore, err := Use(im.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, dt := range []string{"int8", "f32"} {
			g := RoofGOPS(dt, 10*time.Millisecond)
			// A measurement, not a speed test: any positive finite figure
			// (emulators and loaded machines can be very slow).
			if !(g > 0 && g < math.Inf(1)) || RoofLoop(dt) == "" {
				t.Errorf("%s: RoofGOPS(%q) = %v (%s)", im.Name, dt, g, RoofLoop(dt))
			}
			t.Logf("%s: %s roof %.1f GOPS (%s)", im.Name, dt, g, RoofLoop(dt))
		}
		if g := RoofGOPS("f32", 0); g <= 0 {
			t.Errorf("%s: RoofGOPS(f32, 0) = %v, want one calibrated window", im.Name, g)
		}
		restore()
	}
	if g, name := RoofGOPS("f16", time.Millisecond), RoofLoop("f16"); g != 0 || name != "" {
		t.Errorf("RoofGOPS(f16) = %v (%q), want 0", g, name)
	}
}

// TestRoofGOPSThreads checks the lockstep measurement over several
// threads: at least one window, and no more than the threads' total.
func TestRoofGOPSThreads(t *testing.T) {
	one := RoofGOPSThreads("f32", 10*time.Millisecond, 1)
	for _, threads := range []int{0, 2, 3} {
		g := RoofGOPSThreads("f32", 10*time.Millisecond, threads)
		if !(g > 0 && g < math.Inf(1)) {
			t.Errorf("%d threads: %v GOPS (1 thread: %v)", threads, g, one)
		}
		t.Logf("%d threads: %.1f GOPS", threads, g)
	}
	if g := RoofGOPSThreads("int8", 0, 2); !(g > 0) {
		t.Errorf("d=0: %v, want one window", g)
	}
	if g := RoofGOPSThreads("f16", time.Millisecond, 2); g != 0 {
		t.Errorf("f16: %v", g)
	}
}
