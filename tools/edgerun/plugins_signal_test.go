//go:build unix

package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPluginsClosedOnSignal: SIGINT while a plugin starts (a script whose
// child holds its pipes and that never completes the handshake) kills the
// plugin's process group before the command exits with 130.
func TestPluginsClosedOnSignal(t *testing.T) {
	dir := t.TempDir()
	plug := filepath.Join(dir, "plug")
	pidfile := filepath.Join(dir, "pids")
	script := "#!/bin/sh\necho $$ > \"$PIDFILE.tmp\"\nsleep 1000 &\necho $! >> \"$PIDFILE.tmp\"\nmv \"$PIDFILE.tmp\" \"$PIDFILE\"\nwait\n"
	if err := os.WriteFile(plug, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	runArgs("plugins", "lock", plug).wantOK(t)
	t.Setenv("PIDFILE", pidfile) // the plugin inherits the host's environment

	exited := make(chan int, 1)
	stop := closePlugins(func(code int) { exited <- code })
	defer stop()
	f := pluginFlags{Timeout: 10 * time.Minute}
	go func() { _, _ = f.open(plug, io.Discard) }()
	var pids []int
	deadline := time.Now().Add(time.Minute)
	for len(pids) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the plugin did not start within a minute")
		}
		time.Sleep(10 * time.Millisecond)
		b, err := os.ReadFile(pidfile)
		if err != nil {
			continue
		}
		for _, s := range strings.Fields(string(b)) {
			pid, _ := strconv.Atoi(s)
			pids = append(pids, pid)
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-exited:
		if code != 130 {
			t.Errorf("exit %d, want 130", code)
		}
	case <-time.After(time.Minute):
		t.Fatal("no exit within a minute of SIGINT")
	}
	for _, pid := range pids {
		for i := 0; syscall.Kill(pid, 0) == nil && !zombie(pid); i++ {
			if i == 1000 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				t.Fatalf("pid %d of the plugin's group outlived SIGINT to its host", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// zombie reports whether pid has exited and awaits its parent's wait.
func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	return len(f) > 0 && (f[0] == "Z" || f[0] == "X")
}
