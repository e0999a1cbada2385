package sdktest

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgerun/edgerun/sdk"
)

// Build compiles the plugin main package pkg (an import path or a ./
// path, as go build takes it) with CGO_ENABLED=0 into a temporary
// directory and returns the binary and a manifest that pins its SHA-256,
// as `edgerun plugins lock` would:
//
//	bin, man := sdktest.Build(t, "./cmd/myplugin")
//	p, err := sdk.Open(bin, append(sdktest.Emulated(), sdk.WithManifest(man))...)
//
// It builds for the GOOS/GOARCH of the go test run (so under
// `GOARCH=arm64 go test -exec qemu-…` the plugin is arm64 too).
func Build(t testing.TB, pkg string) (bin string, manifest *sdk.Manifest) {
	t.Helper()
	dir := t.TempDir()
	bin = filepath.Join(dir, path.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sdktest: go build %s: %v\n%s", pkg, err, out)
	}
	sum, err := sdk.HashFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	manifest = &sdk.Manifest{Dir: dir}
	manifest.Add(filepath.Base(bin), sum)
	return bin, manifest
}

// Emulated returns the sdk.Open options that start a plugin binary built
// for another architecture when the test itself runs under qemu-user:
// sdk.WithLauncher($QEMU_USER) when QEMU_USER names the emulator (the
// project's scripts/qemu-exec sets it), with a start timeout of a minute
// (an emulated Go binary on a busy machine can take longer than the
// default 10 s to start), else none. Options given after them override.
func Emulated() []sdk.Option {
	if q := os.Getenv("QEMU_USER"); q != "" {
		return []sdk.Option{sdk.WithLauncher(q), sdk.WithStartTimeout(time.Minute)}
	}
	return nil
}
