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
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/engine/enginetest"
	"github.com/edgerun/edgerun/runtime/op"
)

// initSpecs are small models of every architecture enginetest builds.
var initSpecs = []string{
	"mlp:8-16-3",
	"mlp:8-16-1",
	"textcls:vocab=50,emb=8,lstm=8,classes=3,seq=12",
	"textcls:vocab=50,emb=8,gru=8,classes=1,seq=12,bidir=1",
	"transformer:vocab=50,d=16,heads=2,ffn=32,layers=1,seq=8,classes=2",
	"recommender:users=10,items=20,dim=4",
	"conv1d:window=16,channels=3,filters=4,kernel=3,classes=2",
}

func TestInit(t *testing.T) {
	dir := t.TempDir()
	for _, spec := range initSpecs {
		for _, q := range []string{"none", "int8"} {
			t.Run(spec+"/"+q, func(t *testing.T) {
				out := filepath.Join(dir, strings.NewReplacer(":", "_", ",", "_", "=", "").Replace(spec)+"-"+q+".erm")
				code, stdout, stderr := runArgs("init", "--arch", spec, "--out", out, "--quantize", q)
				if code != 0 || stderr != "" {
					t.Fatalf("exit %d, stderr %q", code, stderr)
				}
				m, err := format.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				fi, err := os.Stat(out)
				if err != nil {
					t.Fatal(err)
				}
				var params int64
				int8s := 0
				for i := range m.Tensors {
					params += m.Tensors[i].NumElements()
					if m.Tensors[i].DType == format.I8 {
						int8s++
					}
				}
				want := fmt.Sprintf("wrote %s: %s, %s, %d tensors, %d parameters (%s, zstd, seed 1)\n",
					out, spec, sizeText(fi.Size()), len(m.Tensors), params, q)
				if stdout != want {
					t.Errorf("stdout = %q, want %q", stdout, want)
				}
				if (q == "int8") != (int8s > 0) {
					t.Errorf("--quantize %s: %d int8 tensors", q, int8s)
				}
				if m.Metadata.Producer.Name != "edgetrain init" {
					t.Errorf("producer %+v", m.Metadata.Producer)
				}
				// The file is what enginetest.Build makes.
				bm, err := enginetest.Build(spec, enginetest.Options{Int8: q == "int8", Seed: 1})
				if err != nil {
					t.Fatal(err)
				}
				if len(bm.Tensors) != len(m.Tensors) || len(bm.Graph.Nodes) != len(m.Graph.Nodes) {
					t.Errorf("file differs from enginetest.Build")
				}
				for i := range m.Graph.Nodes {
					if op.Lookup(m.Graph.Nodes[i].Op) == nil {
						t.Errorf("operator %s is not in the runtime", m.Graph.Nodes[i].Op)
					}
				}
				if _, err := engine.Load(m); err != nil {
					t.Errorf("the runtime does not load the file: %v", err)
				}
			})
		}
	}
}

func TestInitOptions(t *testing.T) {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	mk := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := runArgs(append([]string{"init"}, args...)...)
		if code != 0 || stderr != "" {
			t.Fatalf("init %v: exit %d, stderr %q", args, code, stderr)
		}
		return stdout
	}
	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(path(name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	// Same spec and seed: same bytes; another seed: other weights.
	mk("--arch", "mlp:4-8-2", "--out", path("a.erm"), "--seed", "7")
	mk("--arch", "mlp:4-8-2", "--out", path("b.erm"), "--seed", "7")
	mk("--arch", "mlp:4-8-2", "--out", path("c.erm"), "--seed", "8")
	if !bytes.Equal(read("a.erm"), read("b.erm")) {
		t.Error("the same seed gave different files")
	}
	if bytes.Equal(read("a.erm"), read("c.erm")) {
		t.Error("different seeds gave the same file")
	}

	for _, codec := range []string{"zstd", "s2", "none"} {
		name := "codec-" + codec + ".erm"
		mk("--arch", "mlp:4-8-2", "--out", path(name), "--codec", codec)
		m, err := format.ReadFile(path(name))
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Container.Codec.String(); got != codec {
			t.Errorf("--codec %s wrote %s", codec, got)
		}
	}

	stdout := mk("--arch", "mlp:4-8-2", "--out", path("j.erm"), "--quantize", "int8", "--seed", "3", "--json")
	var r initReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	fi, _ := os.Stat(path("j.erm"))
	want := initReport{File: path("j.erm"), Arch: "mlp:4-8-2", Quantize: "int8", Seed: 3, Codec: "zstd",
		FileBytes: fi.Size(), Tensors: 4, Parameters: 4*8 + 8 + 8*2 + 2}
	if r != want {
		t.Errorf("--json = %+v, want %+v", r, want)
	}
}

func TestInitHelpShowsSpecGrammar(t *testing.T) {
	code, stdout, stderr := runArgs("init", "--help")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, line := range strings.Split(enginetest.SpecHelp, "\n") {
		if !strings.Contains(stdout, strings.TrimSpace(line)) {
			t.Errorf("init --help lacks %q:\n%s", line, stdout)
		}
	}
	for _, flag := range []string{"--arch=SPEC", "--out=FILE", "--quantize", "--seed", "--codec"} {
		if !strings.Contains(stdout, flag) {
			t.Errorf("init --help lacks %s", flag)
		}
	}
}

func TestInitErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.erm")
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string // prefix
	}{
		{[]string{"--arch", "bogus:1", "--out", out}, 1, "edgetrain: init " + out + `: enginetest: unknown architecture "bogus"`},
		{[]string{"--arch", "mlp:4", "--out", out}, 1, "edgetrain: init " + out + ": enginetest: mlp:4: "},
		{[]string{"--arch", "textcls:vocab=10", "--out", out}, 1, "edgetrain: init " + out + ": enginetest: "},
		{[]string{"--arch", "mlp:4-2", "--out", filepath.Join(dir, "no", "m.erm")}, 1, "edgetrain: init " + filepath.Join(dir, "no", "m.erm") + ": "},
		{[]string{"--arch", "mlp:4-2"}, 2, "edgetrain: missing flags: --out=FILE"},
		{[]string{"--out", out}, 2, "edgetrain: missing flags: --arch=SPEC"},
		{[]string{"--arch", "mlp:4-2", "--out", out, "--codec", "lz4"}, 2, "edgetrain: --codec must be one of"},
		{[]string{"--arch", "mlp:4-2", "--out", out, "--quantize", "int4"}, 2, "edgetrain: --quantize must be one of"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runArgs(append([]string{"init"}, tc.args...)...)
			if code != tc.code || stdout != "" || !strings.HasPrefix(stderr, tc.stderr) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and one line starting %q", code, stdout, stderr, tc.code, tc.stderr)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed init left %s: %v", out, err)
	}
}
