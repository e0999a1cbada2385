package lexicon_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/example/lexicon/client"
	"github.com/edgerun/edgerun/sdk/sdktest"
)

// TestBinary builds the example plugin, pins its checksum in a manifest,
// and asks it through the host program of sdk/README.md (package client):
// what the README tells a developer to do.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a plugin binary")
	}
	bin, man := sdktest.Build(t, "./cmd/lexicon")
	// sdktest.Emulated: under qemu-user (make test-arm) the arm64 binary
	// starts through the emulator.
	opts := append(sdktest.Emulated(), sdk.WithManifest(man))
	got, err := client.Labels(context.Background(), bin, []string{"Great phone, I love it", "terrible, a waste"}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"good", "bad"}; !slices.Equal(got, want) {
		t.Errorf("labels %q, want %q", got, want)
	}
	_, err = client.Labels(context.Background(), bin, []string{"  "}, opts...)
	if !errors.Is(err, sdk.ErrInvalidInput) {
		t.Errorf("blank text: error %v, want one matching sdk.ErrInvalidInput", err)
	}
}
