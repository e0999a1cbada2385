package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
)

// TestQuantizeExport: an f32 model quantizes to int8 (every matmul weight
// and table, per row), still loads and runs in the engine, refuses a
// second quantization clearly, and exports signed with s2.
func TestQuantizeExport(t *testing.T) {
	dir := t.TempDir()
	f32 := filepath.Join(dir, "f32.erm")
	q := filepath.Join(dir, "q.erm")
	if code, _, stderr := runArgs("init", "--arch", "textcls:vocab=300,emb=8,gru=8,classes=3,seq=6", "--out", f32); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	code, stdout, stderr := runArgs("quantize", f32, "--out", q)
	if code != 0 || !strings.Contains(stdout, "3 nodes int8") {
		t.Fatalf("quantize: exit %d\n%s%s", code, stdout, stderr)
	}
	fm, err := format.ReadFile(q)
	if err != nil {
		t.Fatal(err)
	}
	var i8 int
	for i := range fm.Tensors {
		if fm.Tensors[i].DType == format.I8 {
			i8++
			if fm.Tensors[i].Quant == nil || len(fm.Tensors[i].Quant.Scales) != int(fm.Tensors[i].Shape[0]) {
				t.Errorf("tensor %s: int8 without one scale per row", fm.Tensors[i].Name)
			}
		}
	}
	if i8 != 4 { // table, w_ih, w_hh, head
		t.Errorf("%d int8 tensors, want 4", i8)
	}
	if _, err := engine.Load(fm); err != nil {
		t.Fatalf("engine refuses the int8 model: %v", err)
	}
	if code, _, stderr := runArgs("quantize", q, "--out", filepath.Join(dir, "qq.erm")); code != 1 || !strings.Contains(stderr, "no f32 weights") {
		t.Errorf("second quantization: exit %d, %q", code, stderr)
	}
	key := filepath.Join(dir, "k")
	if code, _, stderr := runArgs("keygen", key); code != 0 {
		t.Fatal(stderr)
	}
	dev := filepath.Join(dir, "dev.erm")
	if code, stdout, stderr := runArgs("export", q, "--out", dev, "--codec", "s2", "--key", key+".key", "--strip"); code != 0 || !strings.Contains(stdout, "signed") {
		t.Fatalf("export: exit %d %s %s", code, stdout, stderr)
	}
	pub, err := format.ReadPublicKeyFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := format.ReadFile(dev, format.WithTrustedKeys(pub)); err != nil {
		t.Fatalf("exported file does not verify: %v", err)
	}
}
