//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgerun/edgerun/tools/internal/cliutil"
)

// lockedBuffer is a bytes.Buffer safe for the daemon's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeCommand: edgerun serve binds loopback and says so in its first
// log line (JSON here), serves the folder's model with the bearer token,
// and on SIGTERM stops accepting, drains and returns nil (exit 0).
func TestServeCommand(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("..", "..", "plugins", "builtin", "sentiment", "model.erm"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sentiment.erm"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	tokfile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokfile, []byte("tok123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	addrs := make(chan string, 1)
	c := &serveCmd{Models: dir, Addr: "127.0.0.1:0", TokenFile: tokfile, LogFormat: "json", MaxBodyBytes: 1 << 20,
		Drain: time.Minute, Rescan: time.Minute, GRPCAddr: "", started: func(a, _ string) { addrs <- a }}
	done := make(chan error, 1)
	go func() {
		done <- c.Run(&cliutil.Env{Program: "edgerun", Version: "test", Stdout: &bytes.Buffer{}, Stderr: &stderr})
	}()
	var addr string
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("serve ended at once: %v\n%s", err, stderr.String())
	}
	first, _, _ := strings.Cut(stderr.String(), "\n")
	var line map[string]any
	if err := json.Unmarshal([]byte(first), &line); err != nil || line["loopback"] != true || !strings.Contains(line["msg"].(string), "loopback only") {
		t.Errorf("first log line %s (%v): want JSON saying loopback only", first, err)
	}
	base := "http://" + addr
	deadline := time.Now().Add(time.Minute) // a safety net only
	for {
		res, err := http.Get(base + "/v2/health/ready")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("never ready: %v\n%s", err, stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	infer := func(tok string) int {
		req, _ := http.NewRequest("POST", base+"/v2/models/sentiment/infer", strings.NewReader(`{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["great"]}]}`))
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if st := infer(""); st != 401 {
		t.Errorf("without the token: %d, want 401", st)
	}
	if st := infer("tok123"); st != 200 {
		t.Errorf("with the token: %d, want 200", st)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("after SIGTERM: %v, want nil (exit 0)", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop within a minute of SIGTERM")
	}
	if !strings.Contains(stderr.String(), "stopped") {
		t.Errorf("log: %s", stderr.String())
	}
	if _, err := http.Get(base + "/v2/health/live"); err == nil {
		t.Error("still accepting after shutdown")
	}
}

func TestServeRefuses(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badcfg := filepath.Join(t.TempDir(), "c.toml")
	if err := os.WriteFile(badcfg, []byte("[defaults]\nqueue = -1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	runArgs("serve", "--models", filepath.Join(dir, "missing")).wantFail(t, 1, "edgerun: serve: --models ")
	runArgs("serve", "--models", dir, "--token-file", empty).wantFail(t, 1, "edgerun: serve: --token-file ")
	runArgs("serve", "--models", dir, "--config", badcfg).wantFail(t, 1, "edgerun: serve: config ")
}
