package atomicfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// modes runs f with the unnamed temporary file (where the system has it)
// and with the named one.
func modes(t *testing.T, f func(t *testing.T)) {
	for _, named := range []bool{false, true} {
		t.Run(map[bool]string{false: "unnamed", true: "named"}[named], func(t *testing.T) {
			if !named && !Unnamed(t.TempDir()) {
				t.Skip("no O_TMPFILE here")
			}
			defer func(v bool) { noTmpfile = v }(noTmpfile)
			noTmpfile = named
			f(t)
		})
	}
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
		missing := filepath.Join(dir, "missing", "f")
		if err := Write(missing, 0o644, Bytes(nil)); !errors.Is(err, fs.ErrNotExist) || err.Error() != "write "+missing+": create temporary file: no such file or directory" {
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

// TestTargetAppearsDuringWrite: a file that appears at the target while a
// new file is written (after the writer saw none) is replaced; Create
// fails instead and leaves it alone.
func TestTargetAppearsDuringWrite(t *testing.T) {
	modes(t, func(t *testing.T) {
		defer func() { step = nil }()
		dir := t.TempDir()
		path := filepath.Join(dir, "f")
		step = func(name string) {
			if name == "synced" {
				if err := os.WriteFile(path, []byte("theirs"), 0o644); err != nil {
					t.Error(err)
				}
			}
		}
		if err := Write(path, 0o644, Bytes([]byte("ours"))); err != nil {
			t.Fatal(err)
		}
		wantFile(t, path, "ours", 0o644)
		path = filepath.Join(dir, "g")
		if err := Create(path, 0o600, Bytes([]byte("ours"))); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("Create = %v, want ErrExist", err)
		}
		wantFile(t, path, "theirs", 0o644)
		if got := names(t, dir); !slices.Equal(got, []string{"f", "g"}) {
			t.Errorf("directory holds %v", got)
		}
	})
}
