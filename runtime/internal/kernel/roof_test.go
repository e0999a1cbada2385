package kernel

import (
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
			// Any core of this century does more than 0.1 and less than
			// 10,000 GOPS on one thread.
			if !(g > 0.1 && g < 1e4) || RoofLoop(dt) == "" {
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
