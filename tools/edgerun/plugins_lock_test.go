package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPluginsInsecureLock: a plugins.lock its group could have written is
// refused by every plugins command until --insecure-lock; a plugin that is
// a script exiting with status 3 is reported as such.
func TestPluginsInsecureLock(t *testing.T) {
	dir := t.TempDir()
	plug := filepath.Join(dir, "plug")
	if err := os.WriteFile(plug, []byte("#!/bin/sh\necho 'no model here' >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	runArgs("plugins", "lock", plug).wantOK(t)
	lock := filepath.Join(dir, "plugins.lock")
	if err := os.Chmod(lock, 0o664); err != nil {
		t.Fatal(err)
	}
	const refused = "is writable by its group or by others (mode -rw-rw-r--)"
	for _, args := range [][]string{
		{"plugins", "infer", plug, "--text", "x"},
		{"plugins", "describe", plug},
		{"plugins", "lock", plug},
	} {
		if r := runArgs(args...); r.code != 1 || !strings.Contains(r.stderr, refused) || !strings.Contains(r.stderr, "--insecure-lock") {
			t.Errorf("%v: %v", args, r)
		}
	}
	if r := runArgs("plugins", "list", dir); !strings.Contains(r.stdout, refused) {
		t.Errorf("list: %v", r)
	}
	r := runArgs("plugins", "infer", plug, "--text", "x", "--insecure-lock")
	if r.code != 1 || !strings.Contains(r.stderr, "exited with status 3 before the go-plugin handshake; its last stderr line: no model here") || strings.Contains(r.stderr, "architecture") {
		t.Errorf("infer --insecure-lock: %v", r)
	}
	runArgs("plugins", "lock", plug, "--insecure-lock").wantOK(t)
	if fi, err := os.Stat(lock); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("lock rewrote the manifest with mode %v (%v), want 0644", fi.Mode(), err)
	}
}

// A call cut short by --timeout says so, and how to change it; other
// errors pass unchanged.
func TestTimeoutHint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	cause := errors.New("rpc error: code = DeadlineExceeded")
	err := timeoutHint(ctx, cause, 2*time.Second)
	if !errors.Is(err, cause) || !strings.Contains(err.Error(), "no answer within --timeout 2s") || !strings.Contains(err.Error(), "--timeout 6s") {
		t.Errorf("expired: %v", err)
	}
	if err := timeoutHint(context.Background(), cause, time.Second); err != cause {
		t.Errorf("not expired: %v", err)
	}
}
