//go:build !unix

package atomicfile

import (
	"io/fs"
	"os"
)

// Directories cannot be opened for syncing here.
const dirSyncSupported = false

// raise ends the process as the signal would have.
func raise(os.Signal) { os.Exit(1) }

func keepOwner(*os.File, fs.FileInfo) {}
