package lexicon_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/example/lexicon"
	"github.com/edgerun/edgerun/sdk/sdktest"
)

// TestConformance runs the SDK's conformance suite on the example, in
// process and through real gRPC (the in-process harness).
func TestConformance(t *testing.T) {
	sdktest.Run(t, lexicon.New())
	sdktest.Run(t, sdktest.Serve(t, lexicon.New()))
}

// TestBinary builds the example plugin, pins its checksum in a manifest,
// starts it through the host supervisor and asks it something: what
// sdk/README.md tells a developer to do.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a plugin binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "lexicon")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/lexicon")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	sum, err := sdk.HashFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	man := &sdk.Manifest{Dir: dir}
	man.Add("lexicon", sum)
	opts := []sdk.Option{sdk.WithManifest(man)}
	if q := os.Getenv("QEMU_USER"); q != "" {
		// Under qemu-user (make test-arm) the arm64 binary starts through
		// the emulator.
		opts = append(opts, sdk.WithLauncher(q))
	}
	p, err := sdk.Open(bin, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	res, err := p.Infer(context.Background(), &sdk.InferRequest{Inputs: []sdk.Tensor{
		{Name: "text", Datatype: sdk.BYTES, Shape: []int64{2}, BYTES: [][]byte{[]byte("Great phone, I love it"), []byte("terrible, a waste")}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res.Outputs[1].BYTES[0]) + "," + string(res.Outputs[1].BYTES[1]); got != "good,bad" {
		t.Errorf("labels %s, want good,bad", got)
	}
	if _, err := p.Infer(context.Background(), &sdk.InferRequest{Inputs: []sdk.Tensor{{Name: "text", Datatype: sdk.BYTES, Shape: []int64{1}, BYTES: [][]byte{[]byte("  ")}}}}); err == nil {
		t.Error("empty text accepted")
	}
}
