package format

import "unsafe"

// DataAlign is the alignment of every tensor's Data that Read decodes:
// a cache line, and the widest vector load of the kernels.
const DataAlign = 64

// hugeMin is the size from which a tensor buffer asks the kernel for
// huge pages (see adviseHuge).
const hugeMin = 4 << 20

// tensorBuf returns a zeroed n-byte buffer, DataAlign-aligned, for one
// tensor's data. Read decodes straight into it: it is the tensor's final
// storage, which the engine then keeps as its weights without a copy.
//
// A large buffer is fresh memory the process has not touched yet; before
// anything writes to it, adviseHuge asks the kernel to back it with huge
// pages where it can, so that filling it costs one page fault per 2 MiB
// rather than one per 4 KiB (on Linux with transparent huge pages in
// "madvise" or "always" mode; elsewhere it does nothing).
func tensorBuf(n int) []byte {
	if n == 0 {
		return []byte{}
	}
	align := DataAlign
	if n >= hugeMin && hugePage > 0 {
		// Start on a huge page, so that every whole huge page of the
		// buffer can be one. The slack before it is never touched.
		align = hugePage
	}
	all := make([]byte, n+align-1)
	off := int(-uintptr(unsafe.Pointer(unsafe.SliceData(all))) & uintptr(align-1))
	b := all[off : off+n : off+n]
	if align > DataAlign {
		adviseHuge(b)
		// The slack around b is never used: give back any of its pages
		// the allocator touched (it zeroes reused memory).
		releasePages(all[:off])
		releasePages(all[off+n:])
	}
	return b
}

// scratchBuf returns an n-byte buffer for a decompressor's block, which
// is reused for every block that needs it and dropped after the read.
// From blockHugeMin bytes it takes whole huge pages (rounded up, where
// adviseHuge can get them), trading up to a huge page of resident memory
// for hundreds of base page faults.
func scratchBuf(n int) []byte {
	if n < blockHugeMin || hugePage == 0 {
		return make([]byte, n)
	}
	hp := hugePage // a variable: 0 on systems without huge pages
	size := (n + hp - 1) &^ (hp - 1)
	b := make([]byte, size+hp-1)
	off := int(-uintptr(unsafe.Pointer(unsafe.SliceData(b))) & uintptr(hp-1))
	b = b[off : off+size : off+size]
	adviseHuge(b)
	return b[:n]
}

// blockHugeMin is the size from which scratchBuf uses huge pages.
const blockHugeMin = 512 << 10
