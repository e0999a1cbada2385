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
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// modes runs f with the unnamed temporary file (where the system has it)
// and with the named one.
func modes(t *testing.T, f func(t *testing.T)) {
	for _, named := range []bool{false, true} {
		t.Run(map[bool]string{false: "unnamed", true: "named"}[named], func(t *testing.T) {
			if !named && !tmpfileWorks(t.TempDir()) {
				t.Skip("no O_TMPFILE here")
			}
			defer func(v bool) { noTmpfile = v }(noTmpfile)
			noTmpfile = named
			f(t)
		})
	}
}

// tmpfileWorks says whether dir supports unnamed files that can be linked.
func tmpfileWorks(dir string) bool {
	f, err := openUnnamed(dir, 0o600)
	if err != nil {
		return false
	}
	defer f.Close()
	name := filepath.Join(dir, "probe")
	if linkUnnamed(f, name) != nil {
		return false
	}
	return os.Remove(name) == nil
}

// names lists the entries of dir.
func names(t *testing.T, dir string) []string {
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

func wantFile(t *testing.T, path, content string, perm fs.FileMode) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || string(b) != content {
		t.Fatalf("%s holds %.40q (%v), want %.40q", path, b, err, content)
	}
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != perm {
		t.Fatalf("%s: mode %v (%v), want a regular file of mode %v", path, fi.Mode(), err, perm)
	}
}

func TestWriteNewAndReplace(t *testing.T) {
	modes(t, func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "f.csv")
		if err := Write(path, 0o640, Bytes([]byte("one"))); err != nil {
			t.Fatal(err)
		}
		wantFile(t, path, "one", 0o640) // exactly the mode asked, whatever the umask
		if err := os.Chmod(path, 0o604); err != nil {
			t.Fatal(err)
		}
		if err := Write(path, 0o644, Bytes([]byte("two"))); err != nil {
			t.Fatal(err)
		}
		wantFile(t, path, "two", 0o604) // a replaced file keeps its mode
		if got := names(t, dir); !slices.Equal(got, []string{"f.csv"}) {
			t.Errorf("directory holds %v", got)
		}
		// WriteAt works (format.WriteFile patches its preamble last).
		if err := Write(path, 0o644, func(f *os.File) error {
			if _, err := f.Write([]byte("..cd")); err != nil {
				return err
			}
			_, err := f.WriteAt([]byte("ab"), 0)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		wantFile(t, path, "abcd", 0o604)
	})
}

// TestFailedWriteKeepsOld: a fill that fails (after writing) leaves the
// old file as it was and nothing else; so does a target that is a
// directory.
func TestFailedWriteKeepsOld(t *testing.T) {
	modes(t, func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "m.erm")
		if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err := Write(path, 0o644, func(f *os.File) error {
			if _, err := f.Write(bytes.Repeat([]byte("x"), 1<<20)); err != nil {
				return err
			}
			return boom
		})
		if err != boom {
			t.Fatalf("Write = %v, want the fill's error", err)
		}
		wantFile(t, path, "old", 0o600)
		if got := names(t, dir); !slices.Equal(got, []string{"m.erm"}) {
			t.Errorf("directory holds %v", got)
		}
		// A new file that fails leaves nothing.
		if err := Write(filepath.Join(dir, "new"), 0o644, func(*os.File) error { return boom }); err != boom {
			t.Fatal(err)
		}
		if got := names(t, dir); !slices.Equal(got, []string{"m.erm"}) {
			t.Errorf("directory holds %v", got)
		}
		sub := filepath.Join(dir, "sub")
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := Write(sub, 0o644, Bytes(nil)); !errors.Is(err, ErrNotRegular) {
			t.Errorf("Write(directory) = %v, want ErrNotRegular", err)
		}
		if err := Write(filepath.Join(dir, "missing", "f"), 0o644, Bytes(nil)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Write(missing directory) = %v", err)
		}
	})
}

// TestSymlinkNotFollowed: a symbolic link at the target is replaced, never
// written through; Create refuses one, even dangling.
func TestSymlinkNotFollowed(t *testing.T) {
	modes(t, func(t *testing.T) {
		dir := t.TempDir()
		victim := filepath.Join(dir, "victim")
		if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(dir, "plot.png")
		if err := os.Symlink(victim, link); err != nil {
			t.Fatal(err)
		}
		if err := Write(link, 0o644, Bytes([]byte("png"))); err != nil {
			t.Fatal(err)
		}
		wantFile(t, link, "png", 0o644)
		wantFile(t, victim, "precious", 0o600)

		dangling := filepath.Join(dir, "k.key")
		if err := os.Symlink(filepath.Join(dir, "created-through-link"), dangling); err != nil {
			t.Fatal(err)
		}
		if err := Create(dangling, 0o600, Bytes([]byte("secret"))); !errors.Is(err, fs.ErrExist) {
			t.Errorf("Create(dangling link) = %v, want ErrExist", err)
		}
		if _, err := os.Lstat(filepath.Join(dir, "created-through-link")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Create wrote through a symbolic link")
		}
	})
}

func TestCreate(t *testing.T) {
	modes(t, func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "k.key")
		if err := Create(path, 0o600, Bytes([]byte("one"))); err != nil {
			t.Fatal(err)
		}
		wantFile(t, path, "one", 0o600)
		err := Create(path, 0o600, Bytes([]byte("two")))
		if !errors.Is(err, fs.ErrExist) {
			t.Fatalf("Create over a file = %v, want ErrExist", err)
		}
		wantFile(t, path, "one", 0o600)
		if got := names(t, dir); !slices.Equal(got, []string{"k.key"}) {
			t.Errorf("directory holds %v", got)
		}
	})
}

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
	if runtime.GOOS == "windows" {
		t.Skip("no signals")
	}
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
			if !tc.named && !tmpfileWorks(dir) {
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
	if runtime.GOOS == "windows" {
		t.Skip("no signals")
	}
	newContent := strings.Repeat("new ", 2<<20)
	for _, named := range []bool{false, true} {
		for _, existing := range []bool{false, true} {
			for _, st := range []string{"created", "filled", "synced", "linked", "renamed", "done"} {
				t.Run(fmt.Sprintf("named=%v/existing=%v/%s", named, existing, st), func(t *testing.T) {
					dir := t.TempDir()
					if !named && !tmpfileWorks(dir) {
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
