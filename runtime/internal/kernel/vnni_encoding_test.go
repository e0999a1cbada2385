//go:build amd64 && gc && !noasm && !purego

package kernel

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"testing"
)

// vexVPDPBUSD encodes {vex} vpdpbusd ymm(dst), ymm(src1), ymm(src2):
// VEX.256.66.0F38.W0 50 /r, register operands only.
func vexVPDPBUSD(dst, src1, src2 int) []byte {
	inv := func(r int) byte { return byte((r>>3)&1) ^ 1 }
	return []byte{
		0xC4,
		inv(dst)<<7 | 1<<6 | inv(src2)<<5 | 0x02,
		byte(^src1&15)<<3 | 1<<2 | 1,
		0x50,
		0xC0 | byte(dst&7)<<3 | byte(src2&7),
	}
}

// TestVNNIEncoding checks the encoder against llvm-mc 14
// (`llvm-mc -triple=x86_64 -mattr=+avxvnni -show-encoding`), then every
// BYTE-spelled VPDPBUSD of the generated gemm_vnni_amd64.s against the
// encoder and the mnemonic comment that follows it.
func TestVNNIEncoding(t *testing.T) {
	known := map[[3]int][]byte{
		{0, 1, 2}:  {0xc4, 0xe2, 0x75, 0x50, 0xc2},
		{0, 8, 10}: {0xc4, 0xc2, 0x3d, 0x50, 0xc2},
		{3, 8, 13}: {0xc4, 0xc2, 0x3d, 0x50, 0xdd},
		{4, 9, 10}: {0xc4, 0xc2, 0x35, 0x50, 0xe2},
		{7, 9, 13}: {0xc4, 0xc2, 0x35, 0x50, 0xfd},
		{5, 9, 11}: {0xc4, 0xc2, 0x35, 0x50, 0xeb},
		{2, 8, 12}: {0xc4, 0xc2, 0x3d, 0x50, 0xd4},
		{6, 9, 12}: {0xc4, 0xc2, 0x35, 0x50, 0xf4},
		{1, 8, 11}: {0xc4, 0xc2, 0x3d, 0x50, 0xcb},
		{0, 8, 9}:  {0xc4, 0xc2, 0x3d, 0x50, 0xc1},
		{4, 8, 13}: {0xc4, 0xc2, 0x3d, 0x50, 0xe5},
		{6, 8, 15}: {0xc4, 0xc2, 0x3d, 0x50, 0xf7},
		{7, 8, 9}:  {0xc4, 0xc2, 0x3d, 0x50, 0xf9},
	}
	for r, want := range known {
		if got := vexVPDPBUSD(r[0], r[1], r[2]); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("vpdpbusd ymm%d, ymm%d, ymm%d = % x, llvm-mc says % x", r[0], r[1], r[2], got, want)
		}
	}
	checkVPDPBUSDLines(t, "gemm_vnni_amd64.s", 20)
}

// vexLine matches one VEX VPDPBUSD as _genx86's vexVPDPBUSD prints it:
// five BYTE lines, then (after the blank line avo puts before a comment)
// the comment "VPDPBUSD s, u, acc (VEX)" in Go operand order, that is
// acc += u8(u)·s8(s), Intel's vpdpbusd acc, u, s.
var vexLine = regexp.MustCompile(`(?m)((?:^\tBYTE +\$0x[0-9a-fA-F]{2}\n){5})\n?^\t// VPDPBUSD Y(\d+), Y(\d+), Y(\d+) \(VEX\)$`)

// checkVPDPBUSDLines checks every BYTE-spelled VPDPBUSD of an assembly
// file against the encoder and its own comment, that there are want of
// them, and that no BYTE line stands outside one.
func checkVPDPBUSDLines(t *testing.T, file string, want int) {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	byteRe := regexp.MustCompile(`\$0x([0-9a-fA-F]{2})`)
	found := vexLine.FindAllStringSubmatch(string(src), -1)
	if len(found) != want {
		t.Fatalf("%s: found %d VPDPBUSD, want %d", file, len(found), want)
	}
	if n := len(regexp.MustCompile(`(?m)^\tBYTE\b`).FindAllString(string(src), -1)); n != 5*len(found) {
		t.Errorf("%s: %d BYTE lines, %d of them outside a commented VPDPBUSD", file, n, n-5*len(found))
	}
	for _, l := range found {
		var got []byte
		for _, b := range byteRe.FindAllStringSubmatch(l[1], -1) {
			v, _ := strconv.ParseUint(b[1], 16, 8)
			got = append(got, byte(v))
		}
		s, _ := strconv.Atoi(l[2])
		u, _ := strconv.Atoi(l[3])
		acc, _ := strconv.Atoi(l[4])
		if want := vexVPDPBUSD(acc, u, s); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %q: bytes % x, encoder says % x", file, l[0], got, want)
		}
	}
}
