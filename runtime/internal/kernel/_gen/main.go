// Command _gen writes the arm64 kernels of package kernel: the int8 GEMMs,
// the f32 GEMM, quantize/dequantize, dot/axpy, the activations and the
// RoofGOPS loops, as Go assembly with the instructions the Go assembler lacks (SDOT, SMULL,
// SMLAL2, SADALP, and the float vector arithmetic: FADD, FMUL, FADDP,
// FCVTNS, ...) as WORD lines from encode.go; and the 32-bit ARM (ARMv7
// NEON) int8 GEMM/GEMV and row quantizer (genarm.go), every NEON
// instruction a WORD from encodea32.go.
//
//	go run . -kernel sdot -out ../gemm_sdot_arm64.s
//
// `make generate` runs the directives below; gen_test.go checks that the
// committed files equal a fresh generation.
package main

//go:generate go run . -kernel neon -out ../gemm_neon_arm64.s
//go:generate go run . -kernel sdot -out ../gemm_sdot_arm64.s
//go:generate go run . -kernel gemmf32 -out ../gemmf32_neon_arm64.s
//go:generate go run . -kernel quant -out ../quant_neon_arm64.s
//go:generate go run . -kernel vec -out ../vec_neon_arm64.s
//go:generate go run . -kernel act -out ../act_neon_arm64.s
//go:generate go run . -kernel roof -out ../roof_arm64.s
//go:generate go run . -kernel neon32 -out ../gemm_neon_arm.s
//go:generate go run . -kernel quant32 -out ../quant_neon_arm.s

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	kernel := flag.String("kernel", "", "neon, sdot, gemmf32, quant, vec, act, roof, neon32 or quant32")
	out := flag.String("out", "", "output file")
	flag.Parse()
	src, err := generate(*kernel)
	if err == nil {
		err = os.WriteFile(*out, src, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "_gen:", err)
		os.Exit(1)
	}
}
