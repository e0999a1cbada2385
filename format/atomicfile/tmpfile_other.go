//go:build !linux

package atomicfile

import (
	"errors"
	"io/fs"
	"os"
)

var errCannotLink = errors.New("cannot link an unnamed file")

// openUnnamed fails: only Linux has O_TMPFILE.
func openUnnamed(string, fs.FileMode) (*os.File, error) {
	return nil, errors.ErrUnsupported
}

func linkUnnamed(*os.File, string) error { return errCannotLink }
