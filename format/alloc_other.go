//go:build !linux

package format

// hugePage is 0: no huge pages to align to.
const hugePage = 0

// adviseHuge does nothing where there is no madvise(MADV_HUGEPAGE).
func adviseHuge([]byte) {}

// releasePages does nothing where there is no madvise(MADV_DONTNEED).
func releasePages([]byte) {}
