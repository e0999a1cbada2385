package format

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePage is the transparent huge page size of amd64 and arm64 (with 4
// KiB base pages).
const hugePage = 2 << 20

// adviseHuge marks the whole huge pages inside b MADV_HUGEPAGE. It is a
// hint: a kernel without transparent huge pages, or with them off, or
// without a free huge page, falls back to base pages, and the error is
// ignored. The advice stays on that range of the heap after b is freed,
// where it only lets later large objects use huge pages too.
func adviseHuge(b []byte) {
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := (p + hugePage - 1) &^ (hugePage - 1)
	hi := (p + uintptr(len(b))) &^ (hugePage - 1)
	if hi <= lo {
		return
	}
	_ = unix.Madvise(b[lo-p:hi-p], unix.MADV_HUGEPAGE)
}

// releasePages gives the whole base pages inside b back to the kernel
// (MADV_DONTNEED): they read as zeros again, and are resident only if
// written. b must be memory nothing reads or writes again but as zeros.
func releasePages(b []byte) {
	const page = 4096
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := (p + page - 1) &^ (page - 1)
	hi := (p + uintptr(len(b))) &^ (page - 1)
	if hi <= lo {
		return
	}
	_ = unix.Madvise(b[lo-p:hi-p], unix.MADV_DONTNEED)
}
