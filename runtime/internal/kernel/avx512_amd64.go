//go:build amd64 && gc && !noasm && !purego

package kernel

import "golang.org/x/sys/cpu"

// hasAVX512 reports whether the CPU and OS run the avx512vnni
// implementation: AVX-512 F, BW and VL (the 512-bit float, byte/word and
// 256/128-bit EVEX forms) and AVX512-VNNI (512-bit VPDPBUSD). Each can be
// turned off with GODEBUG (cpu.avx512f=off, cpu.avx512vnni=off, ...), which
// pushes dispatch down to avxvnni or avx2.
func hasAVX512() bool {
	x := &cpu.X86
	return x.HasAVX512F && x.HasAVX512BW && x.HasAVX512VL && x.HasAVX512VNNI && x.HasAVX2 && x.HasFMA
}

// avx512Impl is the AVX-512 implementation, built on the strongest 256-bit
// one (base): the int8 kernels (avx512Int8) and the f32 kernels
// (avx512Float) replace what they have 512-bit versions of.
func avx512Impl(base Impl) []Impl {
	if !hasAVX512() {
		return nil
	}
	base.Name = "avx512vnni"
	avx512Int8(&base)
	avx512Float(&base)
	avx512Attn(&base)
	return []Impl{base}
}
