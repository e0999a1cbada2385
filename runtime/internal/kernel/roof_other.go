//go:build !(amd64 || arm64) || !gc || noasm || purego

package kernel

// roofLoop returns the loop RoofGOPS times for dtype: without assembly
// for this architecture or build, the portable estimate.
func roofLoop(dtype string) roof { return roofGo(dtype) }
