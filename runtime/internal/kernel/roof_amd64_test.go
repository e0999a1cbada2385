//go:build amd64 && gc && !noasm && !purego

package kernel

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"testing"
)

// TestRoofVNNIEncoding checks the BYTE lines of roof_amd64.s against the
// VEX VPDPBUSD encoder (itself checked against llvm-mc) and their
// comments.
func TestRoofVNNIEncoding(t *testing.T) {
	src, err := os.ReadFile("roof_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^\s*((?:BYTE \$0x[0-9A-F]{2}; ){4}BYTE \$0x[0-9A-F]{2}) // \{vex\} vpdpbusd ymm(\d+), ymm(\d+), ymm(\d+)$`)
	byteRe := regexp.MustCompile(`\$0x([0-9A-F]{2})`)
	lines := line.FindAllStringSubmatch(string(src), -1)
	if len(lines) != 24 {
		t.Fatalf("found %d vpdpbusd lines, want 24", len(lines))
	}
	for _, l := range lines {
		var got []byte
		for _, b := range byteRe.FindAllStringSubmatch(l[1], -1) {
			v, _ := strconv.ParseUint(b[1], 16, 8)
			got = append(got, byte(v))
		}
		d, _ := strconv.Atoi(l[2])
		s1, _ := strconv.Atoi(l[3])
		s2, _ := strconv.Atoi(l[4])
		if want := vexVPDPBUSD(d, s1, s2); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: bytes % x, encoder says % x", l[0], got, want)
		}
	}
}
