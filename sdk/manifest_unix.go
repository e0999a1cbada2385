//go:build unix

package sdk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// openManifest opens a manifest file that only its owner could have
// written: not a symbolic link (O_NOFOLLOW), not writable by its group or
// others, and not in a world-writable directory without the sticky bit
// (where anyone could replace it). The checks are made on the open file,
// so the file checked is the file read.
func openManifest(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, insecureManifest(path, "is a symbolic link")
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	var why string
	switch mode := fi.Mode(); {
	case !mode.IsRegular():
		why = fmt.Sprintf("is not a regular file (%v)", mode.Type())
	case mode.Perm()&0o022 != 0:
		why = fmt.Sprintf("is writable by its group or by others (mode %v)", mode.Perm())
	default:
		dir := filepath.Dir(path)
		if di, err := os.Stat(dir); err != nil {
			why = fmt.Sprintf("is in a directory that cannot be checked (%v)", err)
		} else if di.Mode().Perm()&0o002 != 0 && di.Mode()&os.ModeSticky == 0 {
			why = fmt.Sprintf("is in %s, which anyone can write to and which lacks the sticky bit (mode %v)", dir, di.Mode())
		}
	}
	if why != "" {
		f.Close()
		return nil, insecureManifest(path, why)
	}
	return f, nil
}
