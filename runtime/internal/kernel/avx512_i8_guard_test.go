//go:build linux && amd64 && gc && !noasm && !purego

package kernel

import (
	"math/rand/v2"
	"syscall"
	"testing"
)

// TestGemmI8TiledNoOverread places the activations so that they end where
// an inaccessible page begins: a kernel that read a byte past the last
// row (the K tail broadcast is the candidate) would fault.
func TestGemmI8TiledNoOverread(t *testing.T) {
	useAVX512(t)
	pg := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 2*pg, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skip("mmap:", err)
	}
	defer syscall.Munmap(mem)
	if err := syscall.Mprotect(mem[pg:], syscall.PROT_NONE); err != nil {
		t.Skip("mprotect:", err)
	}
	rng := rand.New(rand.NewPCG(57, 58))
	for _, s := range [][3]int{{1, 17, 1}, {1, 16, 3}, {3, 40, 7}, {6, 33, 130}, {7, 5, 201}, {1, 64, 1023}} {
		m, n, k := s[0], s[1], s[2]
		a0, wd := makeInputs(rng, m, n, k, fillRand)
		a := mem[pg-m*k : pg]
		copy(a, a0)
		w := PackI8(wd, n, k)
		want := make([]int32, m*n)
		gemmI8Generic(want, a0, m, w, 0, n)
		got := make([]int32, m*n)
		GemmI8(got, a, m, w, 0, n)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("m=%d n=%d k=%d: c[%d]=%d want %d", m, n, k, i, got[i], want[i])
			}
		}
	}
}
