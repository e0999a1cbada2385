package format

import (
	"bufio"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/cespare/xxhash/v2"

	"github.com/edgerun/edgerun/format/atomicfile"
)

// WriteFile writes m to path atomically (format/atomicfile): it streams
// the file into a temporary file in the same directory, syncs it, renames
// it over path and syncs the directory. If it fails, or the process or
// the machine dies at any point, path holds either its old content or the
// complete new model, never a partial one; on Linux a killed write leaves
// nothing behind. A new file gets mode 0644; a replaced one keeps its
// mode (and, as far as permitted, its owner and group). A symbolic link
// at path is replaced, not followed.
func WriteFile(path string, m *Model, opts ...Option) error {
	o := collect(opts)
	if err := prepare(m, &o); err != nil {
		return err
	}
	return writeAtomic(path, func(f io.Writer) (bodyResult, error) {
		return writeBody(f, m, &o)
	}, &o)
}

// writeAtomic writes preamble, payload (from body) and trailer into a
// temporary file and moves it to path.
func writeAtomic(path string, body func(io.Writer) (bodyResult, error), o *options) error {
	err := atomicfile.Write(path, 0o644, func(f *os.File) error {
		// A placeholder preamble; the real one is written once the
		// payload's size and checksum are known.
		if _, err := f.Write(make([]byte, preambleLen)); err != nil {
			return err
		}
		bw := bufio.NewWriterSize(f, 256<<10)
		pw := newPayloadWriter(bw, o.signingKey != nil)
		res, err := body(pw)
		if err != nil {
			return err
		}
		pre, trailer, err := finish(pw, res, o)
		if err != nil {
			return err
		}
		if _, err := bw.Write(trailer); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		_, err = f.WriteAt(pre, 0)
		return err
	})
	var pe *fs.PathError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pe) && err == error(pe) && pe.Path == path:
		return fmt.Errorf("format: %w", err) // "format: write PATH: step: cause"
	}
	return fmt.Errorf("format: write %s: %w", path, err)
}

// SignFile signs the model file at path with key, in place and atomically.
// The file is read and fully verified first (with opts as limits); its
// compressed payload is kept byte for byte, and any earlier signature is
// replaced.
func SignFile(path string, key ed25519.PrivateKey, opts ...Option) error {
	if len(key) != ed25519.PrivateKeySize {
		return fmt.Errorf("format: signing key is %d bytes, want %d", len(key), ed25519.PrivateKeySize)
	}
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	// Verify and copy from the same open file, so a concurrent
	// replacement of path cannot mix two files. Read verifies the
	// checksum before it decodes anything, and the copy below checks
	// the payload's length.
	m, err := Read(src, opts...)
	if err != nil {
		return err
	}
	c := m.Container
	if c.Minor > Minor {
		return fmt.Errorf("format: %s is format %d.%d; this version of edgerun writes %d.%d and cannot re-sign it", path, c.Major, c.Minor, Major, Minor)
	}
	o := collect(opts)
	o.signingKey = key
	hlen := c.FileBytes - c.StoredBytes
	if c.Signed {
		hlen -= trailerLen
	}
	signedHook()
	return writeAtomic(path, func(w io.Writer) (bodyResult, error) {
		// The bytes copied are hashed again with the preamble they were
		// verified with, so a file rewritten between Read and this copy
		// is refused rather than signed.
		xx := xxhash.New()
		n, err := io.Copy(io.MultiWriter(w, xx), io.NewSectionReader(src, hlen, c.StoredBytes))
		if err == nil && n == c.StoredBytes {
			pre := make([]byte, hlen)
			if _, err = src.ReadAt(pre, 0); err == nil {
				_, _ = xx.Write(pre[:len(pre)-8])
			}
		}
		if err == nil && (n != c.StoredBytes || xx.Sum64() != c.Checksum) {
			err = errors.New("model file changed while signing")
		}
		return bodyResult{codec: c.Codec, decoded: c.DecodedBytes}, err
	}, &o)
}

// signedHook runs between SignFile's verifying read and its copy; tests
// change the file there.
var signedHook = func() {}
