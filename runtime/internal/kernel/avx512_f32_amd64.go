//go:build amd64 && gc && !noasm && !purego

package kernel

// avx512Float sets the f32 kernels of the avx512vnni implementation.
func avx512Float(im *Impl) {}
