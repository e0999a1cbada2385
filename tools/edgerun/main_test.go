package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/format/formattest"
)

// result is what one run of the program produced.
type result struct {
	code           int
	stdout, stderr string
}

func runArgs(args ...string) result {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// wantOK fails the test unless the run succeeded quietly on stderr.
func (r result) wantOK(t *testing.T) {
	t.Helper()
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("want success, got %v", r)
	}
}

// wantFail fails the test unless the run failed with exit code code and
// exactly one stderr line that starts with prefix, and printed nothing on
// stdout.
func (r result) wantFail(t *testing.T, code int, prefix string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d\n%v", r.code, code, r)
	}
	if r.stdout != "" {
		t.Errorf("stdout not empty:\n%s", r.stdout)
	}
	if !strings.HasPrefix(r.stderr, prefix) || !strings.HasSuffix(r.stderr, "\n") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr = %q, want exactly one line starting with %q", r.stderr, prefix)
	}
}

func writeModel(t *testing.T, name string, m *format.Model, opts ...format.Option) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := format.WriteFile(path, m, opts...); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestHelpListsEveryCommand(t *testing.T) {
	r := runArgs("--help")
	r.wantOK(t)
	for _, cmd := range []string{"inspect", "run", "bench", "verify", "sign", "keygen", "version"} {
		if !strings.Contains(r.stdout, "\n  "+cmd+" ") {
			t.Errorf("--help does not list %q:\n%s", cmd, r.stdout)
		}
	}
	for _, cmd := range []string{"inspect", "run", "bench", "verify", "sign", "keygen", "version"} {
		r := runArgs(cmd, "--help")
		r.wantOK(t)
		if !strings.Contains(r.stdout, "Usage: edgerun "+cmd) {
			t.Errorf("%s --help:\n%s", cmd, r.stdout)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	r := runArgs()
	if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "Usage: edgerun") {
		t.Errorf("no arguments: %v", r)
	}
	for _, args := range [][]string{
		{"bogus"},
		{"inspect"},
		{"inspect", "a.erm", "b.erm"},
		{"inspect", "--bogus", "a.erm"},
		{"sign", "a.erm"},
		{"verify", "a.erm"},
		{"keygen"},
	} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			runArgs(args...).wantFail(t, 2, "edgerun: ")
		})
	}
}

func TestVersion(t *testing.T) {
	r := runArgs("version")
	r.wantOK(t)
	for _, want := range []string{"edgerun", "go1.", "/", ".erm 1.0"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("version output lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runArgs("version", "--json")
	r.wantOK(t)
	var v map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	want := fmt.Sprintf("%d.%d", format.Major, format.Minor)
	if v["program"] != "edgerun" || v["version"] == "" || !strings.HasPrefix(fmt.Sprint(v["go_version"]), "go") ||
		v["goos"] == "" || v["goarch"] == "" || v["format_version"] != want || v["kernel"] == "" {
		t.Errorf("version --json = %v", v)
	}
}

func TestVersionFromLdflags(t *testing.T) {
	defer func(v string) { version = v }(version)
	version = "v9.8.7"
	r := runArgs("version")
	r.wantOK(t)
	if !strings.HasPrefix(r.stdout, "edgerun   v9.8.7\n") {
		t.Errorf("version output:\n%s", r.stdout)
	}
}

func TestKeygenSignVerify(t *testing.T) {
	dir := t.TempDir()
	model := writeModel(t, "model.erm", formattest.Tiny())
	alice, bob := filepath.Join(dir, "alice"), filepath.Join(dir, "bob")

	r := runArgs("keygen", alice)
	r.wantOK(t)
	pub, err := format.ReadPublicKeyFile(alice + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	fp := format.KeyFingerprint(pub)
	if !strings.Contains(r.stdout, fp) {
		t.Errorf("keygen does not print the fingerprint %s:\n%s", fp, r.stdout)
	}
	if fi, err := os.Stat(alice + ".key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("private key: %v, %v", fi, err)
	}
	runArgs("keygen", bob+".key").wantOK(t) // a trailing .key is ignored
	if _, err := os.Stat(bob + ".pub"); err != nil {
		t.Fatal(err)
	}
	runArgs("keygen", alice).wantFail(t, 1, "edgerun: keygen "+alice+": ")

	// Unsigned: verify refuses, and so do run and bench when told to
	// trust a key (the model is refused before any request is read).
	runArgs("verify", model, "--trusted-key", alice+".pub").wantFail(t, 1, "edgerun: verify "+model+": format: ")
	runArgs("run", model, "--trusted-key", alice+".pub", "--input", filepath.Join(dir, "nope.json")).wantFail(t, 1, "edgerun: run "+model+": format: ")
	runArgs("bench", model, "--trusted-key", alice+".pub", "--iters", "1").wantFail(t, 1, "edgerun: bench "+model+": format: ")

	r = runArgs("sign", model, "--key", alice+".key")
	r.wantOK(t)
	if r.stdout != model+": signed by "+fp+"\n" {
		t.Errorf("sign printed %q", r.stdout)
	}

	r = runArgs("verify", model, "--trusted-key", alice+".pub")
	r.wantOK(t)
	if r.stdout != model+": signed by "+fp+", trusted\n" {
		t.Errorf("verify printed %q", r.stdout)
	}
	runArgs("verify", model, "--trusted-key", bob+".pub", "--trusted-key", alice+".pub").wantOK(t)
	runArgs("verify", model, "--trusted-key", bob+".pub").wantFail(t, 1, "edgerun: verify "+model+": format: ")
	runArgs("inspect", model, "--trusted-key", bob+".pub").wantFail(t, 1, "edgerun: inspect "+model+": format: ")

	// Re-signing replaces the signature.
	runArgs("sign", model, "--key", bob+".key").wantOK(t)
	runArgs("verify", model, "--trusted-key", bob+".pub").wantOK(t)
	runArgs("verify", model, "--trusted-key", alice+".pub").wantFail(t, 1, "edgerun: verify ")
	runArgs("bench", model, "--trusted-key", bob+".pub", "--iters", "1", "--warmup", "0").wantOK(t)
	runArgs("bench", model, "--trusted-key", alice+".pub", "--iters", "1").wantFail(t, 1, "edgerun: bench "+model+": format: ")
	runArgs("run", model, "--trusted-key", alice+".pub", "--input", filepath.Join(dir, "nope.json")).wantFail(t, 1, "edgerun: run "+model+": format: ")

	// Bad key files and models.
	runArgs("sign", model, "--key", alice+".pub").wantFail(t, 1, "edgerun: sign "+model+": signing key ")
	runArgs("sign", model, "--key", filepath.Join(dir, "nope.key")).wantFail(t, 1, "edgerun: sign "+model+": signing key: ")
	runArgs("sign", filepath.Join(dir, "nope.erm"), "--key", alice+".key").wantFail(t, 1, "edgerun: sign ")
	runArgs("verify", model, "--trusted-key", alice+".key").wantFail(t, 1, "edgerun: verify "+model+": trusted key ")
	runArgs("verify", model, "--trusted-key", filepath.Join(dir, "nope.pub")).wantFail(t, 1, "edgerun: verify "+model+": trusted key: ")
	runArgs("verify", filepath.Join(dir, "nope.erm"), "--trusted-key", bob+".pub").wantFail(t, 1, "edgerun: verify ")
	runArgs("sign", alice+".pub", "--key", alice+".key").wantFail(t, 1, "edgerun: sign "+alice+".pub: format: ")
}
