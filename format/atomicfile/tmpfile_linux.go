package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// errCannotLink says that an unnamed file cannot be given a name here.
var errCannotLink = errors.New("cannot link an unnamed file")

// openUnnamed opens an unnamed file in dir (O_TMPFILE): it vanishes with
// the process unless linked. It fails on kernels and file systems without
// O_TMPFILE.
func openUnnamed(dir string, _ fs.FileMode) (*os.File, error) {
	return os.OpenFile(dir, os.O_RDWR|unix.O_TMPFILE, 0o600)
}

// linkUnnamed gives the unnamed file f the name name; the link fails with
// an error matching fs.ErrExist if name exists, and never follows a
// symbolic link there. It goes through /proc/self/fd, else AT_EMPTY_PATH
// (which needs CAP_DAC_READ_SEARCH); errCannotLink when neither works.
func linkUnnamed(f *os.File, name string) error {
	err := ignoringEINTR(func() error {
		return unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(f.Fd())), unix.AT_FDCWD, name, unix.AT_SYMLINK_FOLLOW)
	})
	if err != unix.ENOENT {
		return linkErr(err)
	}
	// No /proc: try the descriptor itself.
	err = ignoringEINTR(func() error {
		return unix.Linkat(int(f.Fd()), "", unix.AT_FDCWD, name, unix.AT_EMPTY_PATH)
	})
	switch err {
	case nil, unix.EEXIST:
		return linkErr(err)
	case unix.ENOENT, unix.EPERM, unix.EINVAL, unix.EACCES:
		return errCannotLink
	}
	return err
}

func linkErr(err error) error {
	if err == nil {
		return nil
	}
	return &os.LinkError{Op: "link", Old: "(unnamed)", New: "", Err: err}
}

func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); err != unix.EINTR {
			return err
		}
	}
}
