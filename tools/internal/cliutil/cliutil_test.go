package cliutil

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/format/formattest"
)

type failCmd struct {
	Msg string `arg:""`
	N   Int    `name:"n" default:"1"`
}

func (c *failCmd) Run(env *Env) error {
	fmt.Fprintln(env.Stdout, "running")
	if c.N != 1 {
		fmt.Fprintf(env.Stdout, "n=%d\n", c.N)
	}
	if c.Msg == "ok" {
		return nil
	}
	return OpError("fail", "x", errors.New(c.Msg))
}

type testCLI struct {
	Fail    failCmd    `cmd:"" help:"Fail with a message."`
	Version VersionCmd `cmd:"" help:"Print versions."`
}

func runTest(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	app := &App{Name: "prog", Description: "A test program.", Version: "v1.2.3", CLI: &testCLI{}}
	code := app.Run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestApp(t *testing.T) {
	for _, tc := range []struct {
		args           []string
		code           int
		stdout, stderr string // substrings; "" means must be empty
	}{
		{[]string{"--help"}, ExitOK, "Commands:", ""},
		{[]string{"fail", "--help"}, ExitOK, "Usage: prog fail <msg>", ""},
		{nil, ExitUsage, "", "Usage: prog <command>"},
		{[]string{"fail", "ok"}, ExitOK, "running", ""},
		{[]string{"fail", "line one\nline two\x1b[0m"}, ExitFailure, "running", "prog: fail x: line one line two [0m\n"},
		{[]string{"nope"}, ExitUsage, "", "prog: unexpected argument nope (see 'prog --help')\n"},
		{[]string{"fail"}, ExitUsage, "", "prog: expected \"<msg>\" (see 'prog fail --help')\n"},
		{[]string{"version"}, ExitOK, "prog      v1.2.3\n", ""},
		// Int: a negative value as its own argument, not a short flag.
		{[]string{"fail", "ok", "--n", "-3"}, ExitOK, "n=-3\n", ""},
		{[]string{"fail", "ok", "--n=-3"}, ExitOK, "n=-3\n", ""},
		{[]string{"fail", "ok", "--n", "7"}, ExitOK, "n=7\n", ""},
		{[]string{"fail", "ok", "--n", "x"}, ExitUsage, "", "prog: --n: expected an integer but got \"x\" (see 'prog fail --help')\n"},
		{[]string{"fail", "ok", "--n"}, ExitUsage, "", "prog: --n: expected an integer (see 'prog fail --help')\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runTest(tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			for _, c := range []struct{ name, got, want string }{{"stdout", stdout, tc.stdout}, {"stderr", stderr, tc.stderr}} {
				if c.want == "" && c.got != "" || !strings.Contains(c.got, c.want) {
					t.Errorf("%s = %q, want it to contain %q", c.name, c.got, c.want)
				}
			}
			if tc.code == ExitFailure && strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr is not one line: %q", stderr)
			}
		})
	}
}

func TestOneLine(t *testing.T) {
	in := "a\nb\r\nc\td\x1b[31me\u0085f\u2028g"
	if got, want := OneLine(in), "a b  c d [31me f g"; got != want {
		t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
	}
}

func TestOpError(t *testing.T) {
	_, err := os.Open("/does/not/exist")
	e := OpError("inspect", "/does/not/exist", err)
	if got, want := e.Error(), "inspect /does/not/exist: open: no such file or directory"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !errors.Is(e, os.ErrNotExist) {
		t.Error("OpError hides the cause")
	}
	e = OpError("inspect", "other", err)
	if got, want := e.Error(), "inspect other: open /does/not/exist: no such file or directory"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if OpError("x", "y", nil) != nil {
		t.Error("OpError(nil) != nil")
	}
}

func TestResolveVersion(t *testing.T) {
	if got := ResolveVersion("v1.0.0"); got != "v1.0.0" {
		t.Errorf("ResolveVersion(v1.0.0) = %q", got)
	}
	// A test binary has no module version: "dev" stays.
	if got := ResolveVersion("dev"); got == "" {
		t.Errorf("ResolveVersion(dev) = %q", got)
	}
}

func TestKeys(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "k")
	var stdout bytes.Buffer
	env := &Env{Program: "prog", Stdout: &stdout}
	if err := (&KeygenCmd{Name: base + ".pub"}).Run(env); err != nil {
		t.Fatal(err)
	}
	keys, err := ReadTrustedKeys([]string{base + ".pub"})
	if err != nil || len(keys) != 1 {
		t.Fatal(keys, err)
	}
	if !strings.Contains(stdout.String(), format.KeyFingerprint(keys[0])) {
		t.Errorf("keygen output %q lacks the fingerprint", stdout.String())
	}
	if err := (&KeygenCmd{Name: ".key"}).Run(env); err == nil {
		t.Error("keygen accepted an empty name")
	}

	model := filepath.Join(dir, "m.erm")
	if err := format.WriteFile(model, formattest.Tiny()); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if err := (&SignCmd{Model: model, Key: base + ".key"}).Run(env); err != nil {
		t.Fatal(err)
	}
	if want := model + ": signed by " + format.KeyFingerprint(keys[0]) + "\n"; stdout.String() != want {
		t.Errorf("sign printed %q, want %q", stdout.String(), want)
	}
	m, err := format.ReadFile(model, format.WithTrustedKeys(keys...))
	if err != nil || !m.Container.Trusted {
		t.Fatal(err)
	}
	if _, err := ReadPrivateKey(base + ".pub"); err == nil || !strings.HasPrefix(err.Error(), "signing key "+base+".pub: ") {
		t.Errorf("ReadPrivateKey(public key) = %v", err)
	}
	if _, err := ReadTrustedKeys([]string{base + ".key"}); err == nil || !strings.HasPrefix(err.Error(), "trusted key "+base+".key: ") {
		t.Errorf("ReadTrustedKeys(private key) = %v", err)
	}
}

// TestKeygenNeverOverwrites: keygen refuses an existing key and a symbolic
// link planted at the key's name (dangling or not), writing nothing
// through it and leaving nothing behind.
func TestKeygenNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	env := &Env{Program: "prog", Stdout: &bytes.Buffer{}}
	victim := filepath.Join(dir, "victim")
	if err := os.Symlink(victim, filepath.Join(dir, "a.key")); err != nil {
		t.Fatal(err)
	}
	if err := (&KeygenCmd{Name: filepath.Join(dir, "a")}).Run(env); !errors.Is(err, os.ErrExist) {
		t.Errorf("keygen over a planted link: %v, want ErrExist", err)
	}
	if _, err := os.Lstat(victim); !errors.Is(err, os.ErrNotExist) {
		t.Error("keygen wrote through the planted link")
	}
	if err := (&KeygenCmd{Name: filepath.Join(dir, "b")}).Run(env); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(filepath.Join(dir, "b.key"))
	if err := (&KeygenCmd{Name: filepath.Join(dir, "b")}).Run(env); !errors.Is(err, os.ErrExist) {
		t.Errorf("keygen over an existing key: %v, want ErrExist", err)
	}
	if now, _ := os.ReadFile(filepath.Join(dir, "b.key")); !bytes.Equal(old, now) {
		t.Error("keygen replaced an existing key")
	}
	fi, err := os.Stat(filepath.Join(dir, "b.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("b.key: %v, %v; want mode 0600", fi.Mode(), err)
	}
	es, _ := os.ReadDir(dir)
	if len(es) != 3 {
		t.Errorf("the directory holds %d entries, want a.key (the link), b.key, b.pub", len(es))
	}
}
