//go:build unix

package serve

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdktest"
)

// waitFor polls cond; the deadline is a safety net, not a measurement.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func lock(t *testing.T, dir string, bins ...string) {
	t.Helper()
	man := &sdk.Manifest{Dir: dir}
	for _, b := range bins {
		sum, err := sdk.HashFile(filepath.Join(dir, b))
		if err != nil {
			t.Fatal(err)
		}
		man.Add(b, sum)
	}
	f, err := os.Create(filepath.Join(dir, sdk.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := man.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestPlugin: a plugin binary of the plugins folder is a model through
// the SDK's supervisor; killed, it answers ErrUnavailable (503) until it
// is back; a replaced binary not in plugins.lock is refused and the old
// process keeps serving, until the lock pins it.
func TestPlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a plugin binary; skipped with -short")
	}
	built, _ := sdktest.Build(t, "github.com/edgerun/edgerun/sdk/example/lexicon/cmd/lexicon")
	dir := t.TempDir()
	b, err := os.ReadFile(built)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "lex"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	lock(t, dir, "lex")
	opts := append(sdktest.Emulated(), sdk.WithRestartPolicy(5, time.Second, time.Second))
	r := newReg(t, Options{Plugins: dir, PluginOptions: opts})
	r.Scan()
	info, err := r.Model("lex", "")
	if err != nil || info.State != StateReady || info.Platform != PlatformPlugin || info.Version != "1.0.0" {
		t.Fatalf("plugin: %+v %v", info, err)
	}
	req := textRequest("good")
	resp, err := r.Infer(context.Background(), "lex", "", req)
	if err != nil || resp.ModelName != "lex" || resp.ModelVersion != "1.0.0" {
		t.Fatalf("infer: %+v %v", resp, err)
	}

	// Killed: unavailable (503) while it restarts, then back.
	v := r.entry("lex").cur.Load()
	pid := v.plugin.Status().PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "unavailable after SIGKILL", func() bool { in, _ := r.Model("lex", ""); return in.State == StateUnavailable })
	if _, err := r.Infer(context.Background(), "lex", "", req); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("while restarting: %v, want unavailable", err)
	} else if st, _ := Status(err); st != 503 {
		t.Fatalf("while restarting: status %d", st)
	}
	waitFor(t, "ready again", func() bool { in, _ := r.Model("lex", ""); return in.State == StateReady })
	if in, _ := r.Model("lex", ""); in.Restarts != 1 {
		t.Errorf("restarts %d, want 1", in.Restarts)
	}
	if _, err := r.Infer(context.Background(), "lex", "", req); err != nil {
		t.Fatalf("after the restart: %v", err)
	}

	// Replaced by a binary plugins.lock does not pin: refused.
	tmp := filepath.Join(dir, ".lex.tmp")
	if err := os.WriteFile(tmp, append(b, 0), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "lex")); err != nil {
		t.Fatal(err)
	}
	r.Scan()
	in, _ := r.Model("lex", "")
	if in.State != StateReady || !strings.Contains(strings.ToLower(in.Err), "checksum") {
		t.Fatalf("unpinned replacement: %+v, want refused (checksum) and the old one ready", in)
	}
	if _, err := r.Infer(context.Background(), "lex", "", req); err != nil {
		t.Fatalf("old process after a refused binary: %v", err)
	}
	lock(t, dir, "lex")
	r.Scan()
	in, _ = r.Model("lex", "")
	if in.State != StateReady || in.Err != "" || in.Restarts != 0 {
		t.Fatalf("pinned replacement: %+v, want a new process ready", in)
	}
}
