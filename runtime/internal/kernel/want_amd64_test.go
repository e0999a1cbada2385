//go:build amd64 && gc && !noasm && !purego

package kernel

import "golang.org/x/sys/cpu"

// wantKernel is the implementation amd64 dispatch must choose on this CPU:
// AVX-512 F/BW/VL/VNNI → avx512vnni, AVX-VNNI (with AVX2) → avxvnni,
// AVX2 → avx2, else generic. (The avx2
// implementation's f32 GEMM also needs FMA and falls back without it.)
func wantKernel() (name, why string) {
	switch {
	case hasAVX512():
		return "avx512vnni", "AVX-512 F, BW, VL and VNNI"
	case cpu.X86.HasAVXVNNI && cpu.X86.HasAVX2:
		return "avxvnni", "AVX-VNNI and AVX2"
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return "avx2", "AVX2 and FMA, no AVX-VNNI"
	case cpu.X86.HasAVX2:
		return "avx2", "AVX2 without FMA, no AVX-VNNI"
	}
	return "generic", "no AVX2"
}
