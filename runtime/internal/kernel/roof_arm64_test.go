//go:build arm64 && gc && !noasm && !purego

package kernel

import (
	"strings"
	"testing"
)

// TestRoofLoopsARM64: each arm64 implementation's roof measures its own
// instructions (roof_arm64.s), never the portable Go loop.
func TestRoofLoopsARM64(t *testing.T) {
	want := map[string][2]string{
		"neon": {"smull+smlal2+sadalp", "fmla"},
		"sdot": {"sdot", "fmla"},
	}
	seen := 0
	for _, im := range Impls() {
		w, ok := want[im.Name]
		if !ok {
			continue
		}
		seen++
		restore, err := Use(im.Name)
		if err != nil {
			t.Fatal(err)
		}
		if i8, f32 := RoofLoop("int8"), RoofLoop("f32"); !strings.HasPrefix(i8, w[0]+" ") || !strings.HasPrefix(f32, w[1]+" ") {
			t.Errorf("%s: loops %q and %q, want %s… and %s…", im.Name, i8, f32, w[0], w[1])
		}
		restore()
	}
	if seen == 0 {
		t.Error("no arm64 implementation (neon is baseline)")
	}
}
