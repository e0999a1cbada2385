//go:build !(amd64 || arm64 || (arm && arm.7)) || !gc || noasm || purego

package kernel

// archImpls: no assembly for this architecture or build; the portable
// kernels run.
func archImpls() []Impl { return nil }
