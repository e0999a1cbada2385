package lexicon_test

import (
	"context"
	"testing"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/example/lexicon"
	"github.com/edgerun/edgerun/sdk/sdktest"
)

// TestConformance runs the SDK's conformance suite on the example, in
// process and through the wire (the in-process harness).
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
	bin, man := sdktest.Build(t, "./cmd/lexicon")
	// sdktest.Emulated: under qemu-user (make test-arm) the arm64 binary
	// starts through the emulator.
	opts := append(sdktest.Emulated(), sdk.WithManifest(man))
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
