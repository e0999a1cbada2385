//go:build arm64 && gc && !noasm && !purego

package kernel

import "golang.org/x/sys/cpu"

// wantKernel is the implementation arm64 dispatch must choose on this CPU:
// the dot product (FEAT_DotProd) → sdot, else neon (Advanced SIMD is
// baseline on arm64).
func wantKernel() (name, why string) {
	if cpu.ARM64.HasASIMDDP {
		return "sdot", "ASIMDDP"
	}
	return "neon", "no ASIMDDP"
}
