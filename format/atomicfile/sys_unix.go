//go:build unix

package atomicfile

import (
	"io/fs"
	"os"
	"syscall"
)

const dirSyncSupported = true

// raise delivers sig to the process again, now that the handler is gone:
// its default action (termination) takes place, or the program's own
// handler sees it.
func raise(sig os.Signal) {
	if s, ok := sig.(syscall.Signal); ok {
		_ = syscall.Kill(os.Getpid(), s)
		return
	}
	os.Exit(1)
}

// keepOwner gives f the owner and group of old, as far as the process may
// (an ordinary user can keep a group it belongs to; only root can keep
// another owner).
func keepOwner(f *os.File, old fs.FileInfo) {
	st, ok := old.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	uid, gid := int(st.Uid), int(st.Gid)
	if cur, err := f.Stat(); err == nil {
		if cst, ok := cur.Sys().(*syscall.Stat_t); ok && int(cst.Uid) == uid && int(cst.Gid) == gid {
			return
		}
	}
	if f.Chown(uid, gid) != nil {
		_ = f.Chown(-1, gid)
	}
}
