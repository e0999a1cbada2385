package sdk

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fallback of systems without /proc/self/fd: the binary is copied into
// a private directory while hashed, the copy is executed, and removed once
// the process is gone.
func TestPinByCopy(t *testing.T) {
	saved := pinByDescriptor
	pinByDescriptor = func() bool { return false }
	t.Cleanup(func() { pinByDescriptor = saved })

	dir := t.TempDir()
	plug := filepath.Join(dir, "plug")
	script := []byte("#!/bin/sh\necho \"ran $0\" >&2\nexit 1\n")
	if err := os.WriteFile(plug, script, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := pinBinary(plug)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(script)
	if !bytes.Equal(b.sum, want[:]) || len(b.files) != 0 || b.dir == "" {
		t.Fatalf("pinned %+v", b)
	}
	fi, err := os.Stat(b.dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("private directory: %v, %v", fi.Mode(), err)
	}
	if err := os.WriteFile(plug, []byte("#!/bin/sh\necho swapped\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(b.exec); err != nil || !bytes.Equal(got, script) {
		t.Fatalf("the copy holds %q, %v", got, err)
	}
	b.exited()
	if _, err := os.Stat(b.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after exited: %v", err)
	}

	// Through Open: the copy runs, and is gone afterwards.
	if err := os.WriteFile(plug, script, 0o755); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	_, err = Open(plug, WithSHA256(want[:]), WithStderr(&stderr), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err == nil || !strings.Contains(err.Error(), "exited with status 1 before the go-plugin handshake; its last stderr line: ran "+os.TempDir()) {
		t.Fatalf("err = %v", err)
	}
	copied := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(stderr.String()), "plug: ran "))
	if _, err := os.Stat(filepath.Dir(copied)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the private copy %s is still there: %v", copied, err)
	}
}
