//go:build arm64 && gc && !noasm && !purego

package kernel

// The loops are generated with the other arm64 kernels (_gen: -kernel
// roof, roof_arm64.s).

// roofF32FMLA runs n iterations of 24 independent FMLA (4 lanes) on
// registers (192 FLOPs each). Measurement only: no inputs, no outputs.
//
//go:noescape
func roofF32FMLA(n int)

// roofI8NEON runs n iterations of 12 SMULL→SMLAL2→SADALP chains on
// registers, gemmI8NEON's multiply-accumulate (384 int8 ops each).
// Measurement only.
//
//go:noescape
func roofI8NEON(n int)

// roofI8SDOT runs n iterations of 24 independent SDOT on registers (768
// int8 ops each). Measurement only; needs FEAT_DotProd.
//
//go:noescape
func roofI8SDOT(n int)

// roofLoop returns the loop RoofGOPS times for dtype: the instructions of
// the implementation in use. Both arm64 implementations build their f32
// kernels from FMLA; "neon" multiplies int8 with SMULL/SMLAL2/SADALP,
// "sdot" with SDOT.
func roofLoop(dtype string) roof {
	switch {
	case impl.Name == "generic":
	case dtype == "int8" && impl.Name == "sdot":
		return roof{"sdot (dotprod, 128-bit)", roofI8SDOT, 24 * 16 * 2}
	case dtype == "int8":
		return roof{"smull+smlal2+sadalp (neon, 128-bit)", roofI8NEON, 12 * 16 * 2}
	case dtype == "f32":
		return roof{"fmla (neon, 128-bit)", roofF32FMLA, 24 * 4 * 2}
	}
	return roofGo(dtype)
}
