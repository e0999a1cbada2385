package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/format/formattest"
)

// TestSignKeepsMode: `edgerun sign` rewrites the model in place through a
// temporary file; the file keeps its mode (it used to become 0644) and
// nothing else is left in the directory.
func TestSignKeepsMode(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.erm")
	if err := format.WriteFile(model, formattest.Tiny()); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "k")
	runArgs("keygen", key).wantOK(t)
	for _, mode := range []os.FileMode{0o640, 0o600, 0o664} {
		if err := os.Chmod(model, mode); err != nil {
			t.Fatal(err)
		}
		runArgs("sign", model, "--key", key+".key").wantOK(t)
		fi, err := os.Stat(model)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != mode {
			t.Errorf("a %v model is %v after sign", mode, fi.Mode())
		}
	}
	if es, _ := os.ReadDir(dir); len(es) != 3 {
		t.Errorf("the directory holds %d files, want the model and the two keys", len(es))
	}
}
