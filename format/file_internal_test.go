package format

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// faultFS wraps the real file system and, at the failAt-th operation,
// either returns an error (the writer then cleans up) or "crashes": that
// operation and every later one, clean-up included, does nothing at all,
// as if the process had died there.
type faultFS struct {
	ops    []string
	failAt int
	crash  bool
	dead   bool
}

var errInjected = errors.New("injected failure")

func (f *faultFS) step(op string) error {
	if f.dead {
		return errInjected
	}
	f.ops = append(f.ops, op)
	if len(f.ops)-1 == f.failAt {
		f.dead = f.crash
		return errInjected
	}
	return nil
}

func (f *faultFS) CreateTemp(dir, pattern string) (tempFile, error) {
	if err := f.step("create"); err != nil {
		return nil, err
	}
	t, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: t, fs: f}, nil
}

func (f *faultFS) Rename(o, n string) error {
	if err := f.step("rename"); err != nil {
		return err
	}
	return os.Rename(o, n)
}

func (f *faultFS) Remove(name string) error {
	if f.dead {
		return errInjected
	}
	return os.Remove(name)
}

func (f *faultFS) SyncDir(dir string) error {
	if err := f.step("syncdir"); err != nil {
		return err
	}
	return osFS{}.SyncDir(dir)
}

type faultFile struct {
	*os.File
	fs *faultFS
}

func (f *faultFile) Write(b []byte) (int, error) {
	if err := f.fs.step("write"); err != nil {
		// A crash may leave part of the write on disk.
		if f.fs.dead {
			n, _ := f.File.Write(b[:len(b)/2])
			return n, err
		}
		return 0, err
	}
	return f.File.Write(b)
}

func (f *faultFile) WriteAt(b []byte, off int64) (int, error) {
	if err := f.fs.step("writeat"); err != nil {
		return 0, err
	}
	return f.File.WriteAt(b, off)
}

func (f *faultFile) Chmod(m os.FileMode) error {
	if err := f.fs.step("chmod"); err != nil {
		return err
	}
	return f.File.Chmod(m)
}

func (f *faultFile) Sync() error {
	if err := f.fs.step("sync"); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *faultFile) Close() error {
	if f.fs.dead {
		return errInjected
	}
	if err := f.fs.step("close"); err != nil {
		_ = f.File.Close()
		return err
	}
	return f.File.Close()
}

func smallModel(version string) *Model {
	m := &Model{
		Graph: Graph{
			Inputs:  []ValueInfo{{Name: "x", DType: F32, Shape: []int64{-1, 2}}},
			Outputs: []ValueInfo{{Name: "y", DType: F32, Shape: []int64{-1, 2}}},
			Nodes:   []Node{{Name: "n", Op: "Add", Inputs: []string{"x", "b"}, Outputs: []string{"y"}}},
		},
		Tensors:  []Tensor{NewF32("b", []int64{2}, []float32{1, 2})},
		Metadata: Metadata{Producer: Producer{Name: "test", Version: version}},
	}
	// Make the payload big enough for several buffered writes.
	m.Metadata.Extra = []KeyValue{{Key: "pad", Value: strings.Repeat(version, 300<<10)}}
	return m
}

// TestWriteFileAtomic injects a failure, and separately a crash, at every
// step of WriteFile, with and without an existing file: afterwards the
// final name holds the old model or the new one, complete, never anything
// else; after an ordinary failure no temporary file is left behind.
func TestWriteFileAtomic(t *testing.T) {
	// Count the steps of a successful write.
	probe := &faultFS{failAt: -1}
	dir := t.TempDir()
	o := defaultOptions()
	if err := writeAtomic(probe, filepath.Join(dir, "m.erm"), func(w io.Writer) (bodyResult, error) {
		return writeBody(w, smallModel("new"), &o)
	}, &o); err != nil {
		t.Fatal(err)
	}
	steps := len(probe.ops)
	t.Logf("a write takes %d steps: %v", steps, probe.ops)
	if steps < 8 {
		t.Fatalf("only %d steps", steps)
	}
	for _, crash := range []bool{false, true} {
		for _, existing := range []bool{false, true} {
			for k := 0; k < steps; k++ {
				dir := t.TempDir()
				path := filepath.Join(dir, "m.erm")
				if existing {
					if err := WriteFile(path, smallModel("old")); err != nil {
						t.Fatal(err)
					}
				}
				fsys := &faultFS{failAt: k, crash: crash}
				o := defaultOptions()
				err := writeAtomic(fsys, path, func(w io.Writer) (bodyResult, error) {
					return writeBody(w, smallModel("new"), &o)
				}, &o)
				step := probe.ops[k]
				if err == nil {
					t.Fatalf("crash=%v existing=%v: failure at step %d (%s) not reported", crash, existing, k, step)
				}
				m, rerr := ReadFile(path)
				switch {
				case rerr == nil && m.Metadata.Producer.Version == "new":
					if step != "syncdir" {
						t.Errorf("crash=%v existing=%v: step %d (%s) failed but the new file is in place", crash, existing, k, step)
					}
				case rerr == nil && m.Metadata.Producer.Version == "old":
				case errors.Is(rerr, os.ErrNotExist) && !existing:
				default:
					t.Fatalf("crash=%v existing=%v: after a failure at step %d (%s) the file is %v", crash, existing, k, step, rerr)
				}
				entries, _ := os.ReadDir(dir)
				if !crash && len(entries) > 1 {
					t.Errorf("failure at step %d (%s) left %d files behind", k, step, len(entries))
				}
			}
		}
	}
}

func TestWriteFileReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.erm")
	for _, v := range []string{"a", "b"} {
		if err := WriteFile(path, smallModel(v)); err != nil {
			t.Fatal(err)
		}
	}
	m, err := ReadFile(path)
	if err != nil || m.Metadata.Producer.Version != "b" {
		t.Fatalf("got %v, %v", m, err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
	var buf bytes.Buffer
	if err := Write(&buf, smallModel("b")); err != nil {
		t.Fatal(err)
	}
	disk, _ := os.ReadFile(path)
	if !bytes.Equal(disk, buf.Bytes()) {
		t.Error("WriteFile and Write give different bytes")
	}
}
