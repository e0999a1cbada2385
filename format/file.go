package format

import (
	"bufio"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// fileSystem is the part of the OS that WriteFile uses, so tests can make
// any step fail or "crash" (stop without cleaning up).
type fileSystem interface {
	CreateTemp(dir, pattern string) (tempFile, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	SyncDir(dir string) error
}

type tempFile interface {
	io.Writer
	io.WriterAt
	Name() string
	Chmod(mode os.FileMode) error
	Sync() error
	Close() error
}

type osFS struct{}

func (osFS) CreateTemp(dir, pattern string) (tempFile, error) { return os.CreateTemp(dir, pattern) }
func (osFS) Rename(oldpath, newpath string) error             { return os.Rename(oldpath, newpath) }
func (osFS) Remove(name string) error                         { return os.Remove(name) }
func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// WriteFile writes m to path atomically: it streams the file into a
// temporary file in the same directory, syncs it, renames it over path
// and syncs the directory. If it fails or the machine crashes at any
// point, path holds either its old content or the complete new model,
// never a partial one. The file is created with mode 0644.
func WriteFile(path string, m *Model, opts ...Option) error {
	o := collect(opts)
	if err := prepare(m, &o); err != nil {
		return err
	}
	return writeAtomic(osFS{}, path, func(f io.Writer) (bodyResult, error) {
		return writeBody(f, m, &o)
	}, &o)
}

// writeAtomic writes preamble, payload (from body) and trailer into a
// temporary file and moves it to path.
func writeAtomic(fsys fileSystem, path string, body func(io.Writer) (bodyResult, error), o *options) (err error) {
	dir := filepath.Dir(path)
	f, err := fsys.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("format: write %s: %w", path, err)
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				_ = f.Close()
			}
			_ = fsys.Remove(tmp)
			err = fmt.Errorf("format: write %s: %w", path, err)
		}
	}()
	// A placeholder preamble; the real one is written once the payload's
	// size and checksum are known.
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
	if _, err := f.WriteAt(pre, 0); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	closed = true
	if err := f.Close(); err != nil {
		return err
	}
	if err := fsys.Rename(tmp, path); err != nil {
		return err
	}
	// The rename is durable only once the directory entry is on disk.
	// The new file is complete under its final name either way, so a
	// failure here is reported but nothing is removed.
	if serr := fsys.SyncDir(dir); serr != nil {
		return &renamedError{serr}
	}
	return nil
}

// renamedError marks a failure after the rename, when the temporary file
// no longer exists under its temporary name.
type renamedError struct{ err error }

func (e *renamedError) Error() string { return "sync directory: " + e.err.Error() }
func (e *renamedError) Unwrap() error { return e.err }

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
	return writeAtomic(osFS{}, path, func(w io.Writer) (bodyResult, error) {
		n, err := io.Copy(w, io.NewSectionReader(src, hlen, c.StoredBytes))
		if err == nil && n != c.StoredBytes {
			err = errors.New("model file changed while signing")
		}
		return bodyResult{codec: c.Codec, decoded: c.DecodedBytes}, err
	}, &o)
}
