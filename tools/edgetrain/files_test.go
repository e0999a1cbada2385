package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/format/atomicfile"
	"github.com/edgerun/edgerun/format/formattest"
	"github.com/edgerun/edgerun/tools/train"
)

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// TestPlotIgnoresPlantedSymlink: --plot used to write PATH.tmp with
// os.Create, following a symbolic link planted there. A link at PATH.tmp
// (and one at PATH itself) must leave its target untouched.
func TestPlotIgnoresPlantedSymlink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "curves.png")
	if err := os.Symlink(victim, path+".tmp"); err != nil {
		t.Fatal(err)
	}
	h := []train.EpochStats{{Epoch: 1, Loss: 0.7, Metric: 0.5, MetricName: "acc"}, {Epoch: 2, Loss: 0.5, Metric: 0.7, MetricName: "acc"}}
	if err := plotHistory(path, h, "acc"); err != nil {
		t.Fatal(err)
	}
	png, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("%s is not a PNG (%v)", path, err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatalf("the planted link was followed: victim holds %.20q", b)
	}
	if fi, err := os.Lstat(path + ".tmp"); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the planted link was touched: %v", err)
	}
	// A link at the plot's own name is replaced, not written through.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	if err := plotHistory(path, h, "acc"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatalf("the link at the plot's name was followed: victim holds %.20q", b)
	}
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("%s is not a regular file after the plot: %v", path, err)
	}
}

// TestSensorCSVKilled runs `edgetrain datasets sensor --out` over an
// existing CSV in a child process and kills it with SIGKILL once it is
// writing (it holds an unnamed file in the directory): the old CSV stays
// as it was and nothing else is left. It used to leave a truncated CSV.
func TestSensorCSVKilled(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("watches /proc/PID/fd")
	}
	if os.Getenv("EDGETRAIN_CHILD_ARGS") != "" {
		os.Exit(run(strings.Split(os.Getenv("EDGETRAIN_CHILD_ARGS"), "\x1f"), os.Stdout, os.Stderr))
	}
	dir := t.TempDir()
	if !atomicfile.Unnamed(dir) {
		t.Skip("no unnamed temporary files here: a SIGKILL leaves the named one")
	}
	out := filepath.Join(dir, "sensor.csv")
	if err := os.WriteFile(out, []byte("old,csv\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSensorCSVKilled$", "-test.count=1")
	cmd.Env = append(os.Environ(), "EDGETRAIN_CHILD_ARGS="+strings.Join([]string{"datasets", "sensor", "--out", out, "--windows", "20000"}, "\x1f"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the child has a file open in dir (unnamed: /proc shows
	// "dir/#inode (deleted)"; named: a .sensor.csv.tmp-* file).
	fdDir := fmt.Sprintf("/proc/%d/fd", cmd.Process.Pid)
	deadline := time.Now().Add(2 * time.Minute) // a safety net, not a speed check
	writing := false
	for !writing && time.Now().Before(deadline) {
		fds, _ := os.ReadDir(fdDir)
		for _, fd := range fds {
			if target, err := os.Readlink(filepath.Join(fdDir, fd.Name())); err == nil && strings.HasPrefix(target, dir+"/") {
				writing = true
			}
		}
		if !writing {
			time.Sleep(time.Millisecond)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !writing || !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the child was not killed while writing (writing %v, %v, stderr %q)", writing, err, stderr.String())
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != "old,csv\n" {
		t.Fatalf("after the kill %s holds %.40q (%v)", out, b, err)
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{"sensor.csv"}) {
		t.Errorf("after the kill the directory holds %v", got)
	}
}

// TestSensorCSVReplace: a CSV written over an existing one keeps its
// mode; a write that cannot happen leaves nothing.
func TestSensorCSVReplace(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "sensor.csv")
	if err := os.WriteFile(out, []byte("old,csv\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runArgs("datasets", "sensor", "--out", out, "--windows", "3"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil || strings.Count(string(b), "\n") != 4 {
		t.Fatalf("%s: %d lines, %v", out, strings.Count(string(b), "\n"), err)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 kept", fi.Mode())
	}
	if code, _, stderr := runArgs("datasets", "sensor", "--out", filepath.Join(dir, "missing", "s.csv"), "--windows", "3"); code != 1 || !strings.Contains(stderr, "no such file") {
		t.Errorf("a missing directory: exit %d, %q", code, stderr)
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{"sensor.csv"}) {
		t.Errorf("the directory holds %v", got)
	}
}

// TestSignKeepsMode: signing in place keeps the model file's mode.
func TestSignKeepsMode(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.erm")
	if err := format.WriteFile(model, formattest.Tiny()); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(model, 0o640); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "k")
	if code, _, stderr := runArgs("keygen", key); code != 0 {
		t.Fatalf("keygen: %s", stderr)
	}
	if code, _, stderr := runArgs("sign", model, "--key", key+".key"); code != 0 {
		t.Fatalf("sign: %s", stderr)
	}
	if fi, _ := os.Stat(model); fi.Mode() != 0o640 {
		t.Errorf("after sign the model's mode is %v, want 0640", fi.Mode())
	}
	if code, _, stderr := runArgs("keygen", key); code != 1 || !strings.Contains(stderr, "exists") {
		t.Errorf("keygen over an existing key: exit %d, %q", code, stderr)
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{"k.key", "k.pub", "m.erm"}) {
		t.Errorf("the directory holds %v", got)
	}
}
