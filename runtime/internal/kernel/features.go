package kernel

import (
	"runtime"

	"golang.org/x/sys/cpu"
)

// Features lists the implementation in use and the CPU features this
// process detected that the kernels can use (what `edgerun version` and
// `edgerun bench` print, like ggml's CPU backend features).
func Features() []string {
	f := []string{"kernel=" + impl.Name}
	switch runtime.GOARCH {
	case "amd64":
		for _, c := range []struct {
			name string
			on   bool
		}{{"avx2", cpu.X86.HasAVX2}, {"fma", cpu.X86.HasFMA}, {"avxvnni", cpu.X86.HasAVXVNNI}, {"avx512f", cpu.X86.HasAVX512F}, {"avx512vnni", cpu.X86.HasAVX512VNNI}} {
			if c.on {
				f = append(f, c.name)
			}
		}
	case "arm64":
		f = append(f, "asimd")
		if cpu.ARM64.HasASIMDDP {
			f = append(f, "dotprod")
		}
		if cpu.ARM64.HasI8MM {
			f = append(f, "i8mm")
		}
	case "arm":
		if cpu.ARM.HasNEON {
			f = append(f, "neon")
		}
		if cpu.ARM.HasVFPv4 {
			f = append(f, "vfpv4")
		}
	}
	return f
}
