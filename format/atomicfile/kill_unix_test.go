//go:build unix

package atomicfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// child runs in a re-executed test binary (see runChild): it writes
// ATOMICFILE_PATH, killing itself with SIGKILL after step ATOMICFILE_KILL,
// or, with ATOMICFILE_KILL=block, printing "writing" after the first
// megabytes and waiting to be killed.
func TestChild(t *testing.T) {
	path := os.Getenv("ATOMICFILE_PATH")
	if path == "" {
		t.Skip("run by the crash tests")
	}
	noTmpfile = os.Getenv("ATOMICFILE_NAMED") == "1"
	kill := os.Getenv("ATOMICFILE_KILL")
	step = func(name string) {
		if name == kill {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
	err := Write(path, 0o644, func(f *os.File) error {
		chunk := bytes.Repeat([]byte("new "), 1<<20)
		if _, err := f.Write(chunk); err != nil {
			return err
		}
		if kill == "block" {
			fmt.Println("writing")
			select {} // until killed
		}
		_, err := f.Write(chunk)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// runChild starts the child writing path; the caller waits for it.
func runChild(t *testing.T, path, kill string, named bool) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ATOMICFILE_PATH="+path, "ATOMICFILE_KILL="+kill,
		"ATOMICFILE_NAMED="+map[bool]string{false: "0", true: "1"}[named])
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewReader(out)
}

// waitLine reads the child's output until want, failing if it ends first.
func waitLine(t *testing.T, r *bufio.Reader, want string) {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if strings.TrimSpace(line) == want {
			return
		}
		if err != nil {
			t.Fatalf("child ended without printing %q", want)
		}
	}
}

func signalName(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return ws.Signal().String()
		}
	}
	return fmt.Sprint(err)
}

// TestKillDuringWrite kills a process in the middle of writing a large
// file over an existing one: with SIGKILL (unnamed temporary file) and
// with SIGINT and SIGTERM (named temporary file, removed by the signal
// handler), the directory holds the untouched original and nothing else.
func TestKillDuringWrite(t *testing.T) {
	for _, tc := range []struct {
		named bool
		sig   syscall.Signal
	}{
		{false, syscall.SIGKILL},
		{true, syscall.SIGTERM},
		{true, syscall.SIGINT},
	} {
		t.Run(fmt.Sprintf("named=%v/%v", tc.named, tc.sig), func(t *testing.T) {
			dir := t.TempDir()
			if !tc.named && !Unnamed(dir) {
				t.Skip("no O_TMPFILE here")
			}
			path := filepath.Join(dir, "X.erm")
			if err := os.WriteFile(path, []byte("original"), 0o640); err != nil {
				t.Fatal(err)
			}
			cmd, out := runChild(t, path, "block", tc.named)
			waitLine(t, out, "writing")
			if tc.named && len(names(t, dir)) != 2 {
				t.Errorf("while writing, the directory holds %v, want the original and the temporary file", names(t, dir))
			}
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			if got := signalName(err); got != tc.sig.String() {
				t.Errorf("child ended with %q, want killed by %v", got, tc.sig)
			}
			wantFile(t, path, "original", 0o640)
			if got := names(t, dir); !slices.Equal(got, []string{"X.erm"}) {
				t.Errorf("after the kill the directory holds %v, want only X.erm", got)
			}
		})
	}
}

// TestCrashAtEveryStep kills the writer with SIGKILL right after each step
// of a write, over an existing file and to a new one: the target holds the
// old content or the complete new one, and a temporary file remains only
// where it must (named mode: a kill cannot be caught; unnamed mode: only
// between naming the file and renaming it).
func TestCrashAtEveryStep(t *testing.T) {
	newContent := strings.Repeat("new ", 2<<20)
	for _, named := range []bool{false, true} {
		for _, existing := range []bool{false, true} {
			for _, st := range []string{"created", "filled", "synced", "linked", "renamed", "done"} {
				t.Run(fmt.Sprintf("named=%v/existing=%v/%s", named, existing, st), func(t *testing.T) {
					dir := t.TempDir()
					if !named && !Unnamed(dir) {
						t.Skip("no O_TMPFILE here")
					}
					path := filepath.Join(dir, "m.erm")
					if existing {
						if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
							t.Fatal(err)
						}
					}
					cmd, _ := runChild(t, path, st, named)
					err := cmd.Wait()
					sig := signalName(err)
					reached := sig == syscall.SIGKILL.String()
					if !reached && err != nil {
						t.Fatalf("child: %v", err)
					}
					b, rerr := os.ReadFile(path)
					switch {
					case rerr == nil && string(b) == newContent:
					case rerr == nil && string(b) == "old" && existing:
					case errors.Is(rerr, fs.ErrNotExist) && !existing:
					default:
						t.Fatalf("after a kill at %s the target holds %.20q (%d bytes, %v)", st, b, len(b), rerr)
					}
					var temps []string
					for _, n := range names(t, dir) {
						if n != "m.erm" {
							temps = append(temps, n)
						}
					}
					mayLeave := named && reached && st != "renamed" && st != "done" ||
						!named && reached && st == "linked" && existing
					if len(temps) > 1 || len(temps) == 1 && (!mayLeave || !strings.HasPrefix(temps[0], ".m.erm.tmp-")) {
						t.Errorf("a kill at %s (reached: %v) left %v", st, reached, temps)
					}
				})
			}
		}
	}
}
