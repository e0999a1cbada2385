//go:build amd64 && gc && !noasm && !purego

package kernel

// avx512Int8 sets the int8 kernels of the avx512vnni implementation.
func avx512Int8(im *Impl) {}
