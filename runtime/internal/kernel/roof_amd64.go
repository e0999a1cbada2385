//go:build amd64 && gc && !noasm && !purego

package kernel

import "golang.org/x/sys/cpu"

// roofF32FMA runs n iterations of 24 independent VFMADD231PS on
// registers (384 FLOPs each). Measurement only: no inputs, no outputs.
//
//go:noescape
func roofF32FMA(n int)

// roofI8MAC runs n iterations of 20 VPMADDUBSW→VPMADDWD→VPADDD chains on
// registers (1280 int8 ops each). Measurement only.
//
//go:noescape
func roofI8MAC(n int)

// roofI8VNNI runs n iterations of 24 independent VEX VPDPBUSD on
// registers (1536 int8 ops each). Measurement only; needs AVX-VNNI.
//
//go:noescape
func roofI8VNNI(n int)

// roofLoop returns the loop RoofGOPS times for dtype: the instructions of
// the implementation in use. Every amd64 implementation but the portable
// one has AVX2; f32 uses FMA where gemmF32FMA does.
func roofLoop(dtype string) roof {
	switch {
	case impl.Name == "generic":
	case dtype == "int8" && impl.Name == "avxvnni":
		return roof{"vpdpbusd (avx-vnni, 256-bit)", roofI8VNNI, 24 * 32 * 2}
	case dtype == "int8":
		return roof{"vpmaddubsw+vpmaddwd+vpaddd (avx2, 256-bit)", roofI8MAC, 20 * 32 * 2}
	case dtype == "f32" && cpu.X86.HasFMA:
		return roof{"vfmadd231ps (fma, 256-bit)", roofF32FMA, 24 * 8 * 2}
	}
	return roofGo(dtype)
}
