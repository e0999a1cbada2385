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

// TestWriteFileFailureKeepsOld makes the payload fail at several points
// of a write over an existing model, and of a new one: the old model stays
// as it was (or no file appears) and nothing else is left in the
// directory. (format/atomicfile's tests kill a writer at every step.)
func TestWriteFileFailureKeepsOld(t *testing.T) {
	errInjected := errors.New("injected failure")
	for _, existing := range []bool{false, true} {
		for _, after := range []int64{0, 1, 64 << 10, 512 << 10} {
			dir := t.TempDir()
			path := filepath.Join(dir, "m.erm")
			if existing {
				if err := WriteFile(path, smallModel("old")); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, 0o640); err != nil {
					t.Fatal(err)
				}
			}
			o := defaultOptions()
			o.codec = CodecNone // a payload of about 900 KiB
			err := writeAtomic(path, func(w io.Writer) (bodyResult, error) {
				res, err := writeBody(&failingWriter{w: w, left: after, err: errInjected}, smallModel("new"), &o)
				if err == nil {
					err = errors.New("the body did not fail")
				}
				return res, err
			}, &o)
			if !errors.Is(err, errInjected) || !strings.HasPrefix(err.Error(), "format: write "+path+": ") {
				t.Fatalf("existing=%v, failing after %d bytes: err = %v", existing, after, err)
			}
			m, rerr := ReadFile(path)
			switch {
			case existing && rerr == nil && m.Metadata.Producer.Version == "old":
				if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
					t.Errorf("the old file's mode became %v", fi.Mode())
				}
			case !existing && errors.Is(rerr, os.ErrNotExist):
			default:
				t.Fatalf("existing=%v, failing after %d bytes: the file is now %v", existing, after, rerr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != map[bool]int{false: 0, true: 1}[existing] {
				t.Errorf("existing=%v, failing after %d bytes: %d files left", existing, after, len(entries))
			}
		}
	}
}

// failingWriter passes left bytes to w, then fails.
type failingWriter struct {
	w    io.Writer
	left int64
	err  error
}

func (f *failingWriter) Write(b []byte) (int, error) {
	if int64(len(b)) > f.left {
		n, _ := f.w.Write(b[:f.left])
		f.left = 0
		return n, f.err
	}
	f.left -= int64(len(b))
	return f.w.Write(b)
}

// TestWriteFileKeepsMode: rewriting or signing a model in place keeps its
// mode; a new model is 0644.
func TestWriteFileKeepsMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.erm")
	if err := WriteFile(path, smallModel("a")); err != nil {
		t.Fatal(err)
	}
	mode := func() os.FileMode {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode()
	}
	if m := mode(); m != 0o644 {
		t.Errorf("new model: mode %v, want 0644", m)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, smallModel("b")); err != nil {
		t.Fatal(err)
	}
	if m := mode(); m != 0o640 {
		t.Errorf("rewritten model: mode %v, want 0640", m)
	}
	_, key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := SignFile(path, key); err != nil {
		t.Fatal(err)
	}
	if m := mode(); m != 0o600 {
		t.Errorf("signed model: mode %v, want 0600", m)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the directory", len(entries))
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

// TestSignFileChangedAfterVerify rewrites the model's payload in place
// after SignFile has verified it and before it copies it: the copy no
// longer hashes to the verified checksum, so nothing is signed and the
// file is left as the writer left it.
func TestSignFileChangedAfterVerify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.erm")
	if err := WriteFile(path, smallModel("1"), WithCodec(CodecNone)); err != nil {
		t.Fatal(err)
	}
	_, key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	var changed []byte
	signedHook = func() {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)-100] ^= 0x20 // inside the padding string of the payload
		changed = b
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(b, 0); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	defer func() { signedHook = func() {} }()
	if err := SignFile(path, key); err == nil || !strings.Contains(err.Error(), "changed while signing") {
		t.Fatalf("SignFile of a file changed after its check: %v, want \"changed while signing\"", err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, changed) {
		t.Error("the file was replaced although signing failed")
	}
}
