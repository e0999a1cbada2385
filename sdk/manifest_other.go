//go:build !unix

package sdk

import (
	"os"
)

// openManifest refuses a manifest that is a symbolic link; permissions are
// not Unix ones here, so they are not checked.
func openManifest(path string) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return nil, insecureManifest(path, "is a symbolic link")
	}
	return os.Open(path)
}
