package datafile

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestOpen: plain, .gz and .zst files read back as written; a file that
// says .gz but is not gzip, and a missing file, are errors.
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	want := []byte("student,skill,correct\na,1,0\n")
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(want)
	gw.Close()
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(want)
	zw.Close()
	for name, body := range map[string][]byte{"a.csv": want, "a.csv.gz": gz.Bytes(), "a.csv.zst": zs.Bytes()} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, body, 0o644)
		r, err := Open(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %q, %v", name, got, err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("%s: close: %v", name, err)
		}
	}
	bad := filepath.Join(dir, "bad.gz")
	os.WriteFile(bad, want, 0o644)
	if _, err := Open(bad); err == nil {
		t.Error("a .gz that is not gzip opened")
	}
	if _, err := Open(filepath.Join(dir, "missing.csv")); err == nil {
		t.Error("a missing file opened")
	}
}
