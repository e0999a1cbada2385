//go:build !(amd64 || arm64 || (arm && arm.7)) || !gc || noasm || purego

package kernel

// wantKernel: without assembly for this architecture or build, only the
// portable kernels exist.
func wantKernel() (name, why string) {
	return "generic", "no assembly in this build"
}
