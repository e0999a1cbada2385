//go:build amd64 && gc && !noasm && !purego

package kernel

import "testing"

// TestRoofVNNIEncoding checks the BYTE lines of roof_amd64.s against the
// VEX VPDPBUSD encoder (itself checked against llvm-mc) and their
// comments.
func TestRoofVNNIEncoding(t *testing.T) {
	checkVPDPBUSDLines(t, "roof_amd64.s", 24)
}
