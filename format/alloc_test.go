package format

import (
	"testing"
	"unsafe"
)

// TestTensorBuf: buffers are zeroed, exactly n long (len and cap), and
// DataAlign-aligned; from hugeMin on they start on a huge page (where
// the system has them), and writing all of them is safe after the slack
// around them was given back.
func TestTensorBuf(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 1000, 64 << 10, hugeMin - 1, hugeMin, hugeMin + 12345, 3 * hugeMin} {
		b := tensorBuf(n)
		if len(b) != n || cap(b) != n {
			t.Fatalf("n=%d: len %d cap %d", n, len(b), cap(b))
		}
		if n == 0 {
			continue
		}
		addr := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
		if addr%DataAlign != 0 {
			t.Errorf("n=%d: address %#x not %d-aligned", n, addr, DataAlign)
		}
		if hp := uintptr(hugePage); n >= hugeMin && hp > 0 && addr%hp != 0 {
			t.Errorf("n=%d: address %#x not on a huge page", n, addr)
		}
		for i, v := range b {
			if v != 0 {
				t.Fatalf("n=%d: byte %d is %d, not zero", n, i, v)
			}
		}
		for i := range b {
			b[i] = byte(i)
		}
		for i, v := range b {
			if v != byte(i) {
				t.Fatalf("n=%d: byte %d reads %d after writing %d", n, i, v, byte(i))
			}
		}
	}
	for _, n := range []int{1, blockHugeMin - 1, blockHugeMin, 1<<20 + 7} {
		b := scratchBuf(n)
		if len(b) != n {
			t.Fatalf("scratchBuf(%d): len %d", n, len(b))
		}
		for i := range b {
			b[i] = 1
		}
	}
}
