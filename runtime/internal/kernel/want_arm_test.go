//go:build arm && arm.7 && gc && !noasm && !purego

package kernel

import "golang.org/x/sys/cpu"

// wantKernel is the implementation 32-bit ARM dispatch must choose on this
// CPU in a GOARM=7 build: neon when the CPU has NEON, else generic.
func wantKernel() (name, why string) {
	if cpu.ARM.HasNEON {
		return "neon", "NEON"
	}
	return "generic", "no NEON"
}
