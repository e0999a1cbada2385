//go:build arm.7

package boards

// goarm7 says this arm binary was built with GOARM=7, so it runs the ARMv7
// NEON kernels where the CPU has NEON.
const goarm7 = true
