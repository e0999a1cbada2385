// Package atomicfile writes files so that no reader, failure or kill ever
// leaves a partial one under the final name, and nothing is left behind
// when a write does not complete. Every file edgerun's tools write goes
// through it: model files (format.WriteFile, SignFile), keys, CSVs, plots.
//
// Write replaces a file: the new content is written to a temporary file
// in the target's directory, synced, and renamed over the target, and the
// directory is synced. Create is the same for a file that must not exist
// yet (keys): the final step is a link, which fails if the name is taken.
//
// On Linux the temporary file is an unnamed inode (open with O_TMPFILE):
// if the process is killed while writing, nothing remains. It gets a name
// only once complete, just before the rename (linkat through
// /proc/self/fd); a new file is linked straight to its final name, with no
// temporary name at all. Where O_TMPFILE is not available (other systems,
// file systems without it, no /proc and no CAP_DAC_READ_SEARCH), the
// temporary file is created exclusively under a random name (.NAME.tmp-*,
// never following a symbolic link) and removed on error; while such a
// named temporary file exists, SIGINT and SIGTERM remove it before the
// signal takes its usual effect (it is raised again). Only SIGKILL or a
// crash of the machine can then leave one behind.
//
// A replaced file keeps its permission bits and, where the process may
// set them, its owner and group; a new file gets exactly the mode given
// (not reduced by the umask). A symbolic link at the target's name is
// replaced, not followed; a directory, device, FIFO or socket there is
// refused with ErrNotRegular.
//
// Package atomicfile lives under format because format, which imports
// nothing else of this module, writes model files with it.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrNotRegular is returned (inside an *fs.PathError) when the target
// exists and is neither a regular file nor a symbolic link.
var ErrNotRegular = errors.New("not a regular file")

// Fill writes the content of a new file. It may write anywhere in f
// (f.WriteAt), but must not close it.
type Fill func(f *os.File) error

// Write replaces the file at path with what fill writes, atomically: path
// holds its old content or the complete new one, never anything else. A
// new file gets mode perm; a replaced one keeps its mode. An error from
// fill is returned as is, after the temporary file is gone.
func Write(path string, perm fs.FileMode, fill Fill) error {
	return write(path, perm, fill, false)
}

// Create writes a new file at path with mode perm, atomically, and fails
// with an error matching fs.ErrExist if path exists (as anything,
// including a dangling symbolic link).
func Create(path string, perm fs.FileMode, fill Fill) error {
	return write(path, perm, fill, true)
}

// Bytes is a Fill that writes b.
func Bytes(b []byte) Fill {
	return func(f *os.File) error {
		_, err := f.Write(b)
		return err
	}
}

// Unnamed reports whether writes in dir use an unnamed temporary file,
// so that a write killed even with SIGKILL leaves nothing behind: Linux
// with O_TMPFILE support in dir's file system, and a way to link it.
func Unnamed(dir string) bool {
	if noTmpfile {
		return false
	}
	f, err := openUnnamed(dir, 0o600)
	if err != nil {
		return false
	}
	defer f.Close()
	name := tempName(dir, "probe")
	if linkUnnamed(f, name) != nil {
		return false
	}
	return os.Remove(name) == nil
}

// Test hooks: step is called after each step of a write ("created",
// "filled", "synced", "linked", "renamed", "done"); noTmpfile forces the
// named temporary file.
var (
	step      func(name string)
	noTmpfile bool
)

func hook(name string) {
	if step != nil {
		step(name)
	}
}

// temp is the file being written: unnamed (name == "") or named.
type temp struct {
	f    *os.File
	dir  string
	base string // target's base name, for temporary names
	name string // path of the named temporary file, "" while unnamed
	op   string // "write" or "create", for errors
}

func write(path string, perm fs.FileMode, fill Fill, excl bool) (err error) {
	perm &= fs.ModePerm
	var old fs.FileInfo
	fi, err := os.Lstat(path)
	switch {
	case err == nil && excl:
		return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
	case err == nil && fi.Mode().IsRegular():
		old, perm = fi, fi.Mode().Perm()
	case err == nil && fi.Mode()&fs.ModeSymlink != 0:
		// Replaced by the rename, never written through.
	case err == nil:
		return &fs.PathError{Op: "write", Path: path, Err: ErrNotRegular}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	t := &temp{dir: filepath.Dir(path), base: filepath.Base(path), op: "write"}
	if excl {
		t.op = "create"
	}
	if err := t.open(perm); err != nil {
		return pathErr(t.op, path, "create temporary file", err)
	}
	defer func() {
		if err != nil {
			t.discard()
		}
	}()
	hook("created")
	if err := fill(t.f); err != nil {
		return err
	}
	hook("filled")
	if old != nil {
		keepOwner(t.f, old) // best effort: a file we may not give away keeps ours
	}
	if err := t.f.Chmod(perm); err != nil {
		return pathErr(t.op, path, "chmod temporary file", err)
	}
	if err := t.f.Sync(); err != nil {
		return pathErr(t.op, path, "sync", err)
	}
	hook("synced")
	switch {
	case excl:
		err = t.linkTo(path)
	case old == nil && fi == nil:
		// A new file: link it straight to its name (no temporary name at
		// all); if something took the name meanwhile, replace that.
		if err = t.linkTo(path); errors.Is(err, fs.ErrExist) {
			err = t.renameTo(path)
		}
	default:
		err = t.renameTo(path)
	}
	if err != nil {
		return err
	}
	hook("renamed")
	// The name is durable once the directory entry is on disk. The new
	// file is complete under its final name either way: a failure here is
	// reported, nothing is removed.
	if serr := syncDir(t.dir); serr != nil {
		return pathErr(t.op, path, "sync directory", serr)
	}
	hook("done")
	return nil
}

// open creates the temporary file: unnamed when the system supports it,
// else named, exclusively, under a random name.
func (t *temp) open(perm fs.FileMode) error {
	if !noTmpfile {
		if f, err := openUnnamed(t.dir, perm); err == nil {
			t.f = f
			return nil
		}
	}
	return t.openNamed()
}

// openNamed creates a named temporary file, registered for removal on
// SIGINT and SIGTERM. Its mode is 0600 until the write completes.
func (t *temp) openNamed() error {
	for range 100 {
		name := tempName(t.dir, t.base)
		track(name)
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			t.f, t.name = f, name
			return nil
		}
		untrack(name)
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	return errors.New("no unused temporary name")
}

// toNamed gives the unnamed file a temporary name, linking it (or, where
// the system cannot link an unnamed file, copying it) to a fresh name.
func (t *temp) toNamed() error {
	if t.name != "" {
		return nil
	}
	for range 100 {
		name := tempName(t.dir, t.base)
		track(name)
		err := linkUnnamed(t.f, name)
		if err == nil {
			t.name = name
			hook("linked")
			return nil
		}
		untrack(name)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if !errors.Is(err, errCannotLink) {
			return err
		}
		// No way to name the inode: copy it into a named file.
		unnamed := t.f
		if err := t.openNamed(); err != nil {
			return err
		}
		_, err = io.Copy(t.f, io.NewSectionReader(unnamed, 0, 1<<62))
		if err == nil {
			err = t.f.Chmod(mustStat(unnamed).Mode().Perm())
		}
		if err == nil {
			err = t.f.Sync()
		}
		unnamed.Close()
		return err
	}
	return errors.New("no unused temporary name")
}

// renameTo names the file and renames it over path.
func (t *temp) renameTo(path string) error {
	if err := t.toNamed(); err != nil {
		return pathErr(t.op, path, "name temporary file", err)
	}
	if err := t.close(); err != nil {
		return pathErr(t.op, path, "close temporary file", err)
	}
	if err := os.Rename(t.name, path); err != nil {
		return pathErr("write", path, "rename temporary file", err)
	}
	untrack(t.name)
	t.name = ""
	return nil
}

// linkTo gives the file the name path, failing if path exists.
func (t *temp) linkTo(path string) error {
	if t.name == "" {
		err := linkUnnamed(t.f, path)
		if err == nil {
			hook("linked")
			if err := t.close(); err != nil {
				return pathErr(t.op, path, "close temporary file", err)
			}
			return nil
		}
		if !errors.Is(err, errCannotLink) {
			return pathErr(t.op, path, "link", err)
		}
		if err := t.toNamed(); err != nil {
			return pathErr(t.op, path, "name temporary file", err)
		}
	}
	if err := t.close(); err != nil {
		return pathErr(t.op, path, "close temporary file", err)
	}
	if err := os.Link(t.name, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return &fs.PathError{Op: t.op, Path: path, Err: fs.ErrExist}
		}
		// A file system without hard links: copy into an exclusively
		// created file (not atomic against a kill, but never replacing).
		if err := copyNew(t.name, path); err != nil {
			return pathErr(t.op, path, "copy", err)
		}
	}
	os.Remove(t.name)
	untrack(t.name)
	t.name = ""
	return nil
}

// close closes the file once (a named file may be closed before a link
// that fails and then renamed).
func (t *temp) close() error {
	if t.f == nil {
		return nil
	}
	err := t.f.Close()
	t.f = nil
	return err
}

// discard removes whatever the failed write left.
func (t *temp) discard() {
	if t.f != nil {
		t.f.Close()
		t.f = nil
	}
	if t.name != "" {
		os.Remove(t.name)
		untrack(t.name)
		t.name = ""
	}
}

// copyNew copies the file src to a new file dst (O_EXCL), removing dst
// if the copy fails.
func copyNew(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst)
	}
	return err
}

func mustStat(f *os.File) fs.FileInfo {
	fi, err := f.Stat()
	if err != nil {
		return fakeInfo{}
	}
	return fi
}

// fakeInfo stands for an unreadable mode: 0600.
type fakeInfo struct{ fs.FileInfo }

func (fakeInfo) Mode() fs.FileMode { return 0o600 }

// tempName is a fresh random name in dir for a temporary copy of base.
func tempName(dir, base string) string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails
	if len(base) > 128 {
		base = base[:128] // keep the name under NAME_MAX
	}
	return filepath.Join(dir, fmt.Sprintf(".%s.tmp-%s", base, hex.EncodeToString(b[:])))
}

// pathErr is the error of a step of writing path: "op path: what: err".
func pathErr(op, path, what string, err error) error {
	return &fs.PathError{Op: op, Path: path, Err: fmt.Errorf("%s: %w", what, unwrapPath(err))}
}

// unwrapPath drops an *fs.PathError's own operation and path, which the
// error that wraps it states.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && err == error(pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) && err == error(le) {
		return le.Err
	}
	return err
}

func syncDir(dir string) error {
	if !dirSyncSupported {
		return nil
	}
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
