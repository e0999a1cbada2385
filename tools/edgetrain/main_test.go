package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/format/formattest"
)

func runArgs(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestHelpListsEveryCommand(t *testing.T) {
	code, stdout, stderr := runArgs("--help")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, cmd := range []string{"fit", "eval", "quantize", "export", "init", "keygen", "sign", "version"} {
		if !strings.Contains(stdout, "\n  "+cmd+" ") {
			t.Errorf("--help does not list %q:\n%s", cmd, stdout)
		}
	}
	if code, _, stderr := runArgs(); code != 2 || !strings.Contains(stderr, "Usage: edgetrain") {
		t.Errorf("no arguments: exit %d, stderr %q", code, stderr)
	}
}

func TestVersionJSON(t *testing.T) {
	code, stdout, stderr := runArgs("version", "--json")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(stdout), &v); err != nil {
		t.Fatal(err)
	}
	if v["program"] != "edgetrain" || v["format_version"] != "1.0" || v["go_version"] == "" || v["kernel"] == "" {
		t.Errorf("version --json = %v", v)
	}
}

func TestKeygenSign(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.erm")
	if err := format.WriteFile(model, formattest.Tiny()); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "host")
	if code, _, stderr := runArgs("keygen", key); code != 0 {
		t.Fatalf("keygen: exit %d: %s", code, stderr)
	}
	pub, err := format.ReadPublicKeyFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runArgs("sign", model, "--key", key+".key")
	if code != 0 || stdout != model+": signed by "+format.KeyFingerprint(pub)+"\n" {
		t.Fatalf("sign: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, err := format.ReadFile(model, format.WithTrustedKeys(pub)); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runArgs("sign", filepath.Join(dir, "missing.erm"), "--key", key+".key")
	if code != 1 || stdout != "" || !strings.HasPrefix(stderr, "edgetrain: sign ") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("sign missing model: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
