package cliutil

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"text/tabwriter"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
)

// ResolveVersion returns the program version: v as set with
// -ldflags "-X main.version=...", or, while v is "dev" or empty, the
// module version the binary was built from (set by go install
// module@version), or "dev".
func ResolveVersion(v string) string {
	if v != "" && v != "dev" {
		return v
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// BuildInfo is what the version subcommand reports.
type BuildInfo struct {
	Program string `json:"program"`
	Version string `json:"version"`
	// Commit is the VCS revision the binary was built from, when the
	// toolchain recorded it.
	Commit    string `json:"commit,omitempty"`
	GoVersion string `json:"go_version"`
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	// FormatVersion is the .erm format version this program writes; it
	// reads every minor version of that major.
	FormatVersion string `json:"format_version"`
	// Kernel is the matrix kernel implementation this CPU runs (generic,
	// avx2, avxvnni, neon, sdot); CPUFeatures what it detected.
	Kernel      string   `json:"kernel"`
	CPUFeatures []string `json:"cpu_features"`
}

// Build describes the running binary.
func (env *Env) Build() BuildInfo {
	b := BuildInfo{
		Program:       env.Program,
		Version:       env.Version,
		GoVersion:     runtime.Version(),
		GOOS:          runtime.GOOS,
		GOARCH:        runtime.GOARCH,
		FormatVersion: fmt.Sprintf("%d.%d", format.Major, format.Minor),
		Kernel:        engine.Kernel(),
		CPUFeatures:   engine.Features()[1:],
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Commit = s.Value
			case "vcs.modified":
				if s.Value == "true" && b.Commit != "" {
					b.Commit += "+dirty"
				}
			}
		}
	}
	return b
}

// VersionCmd is the version subcommand.
type VersionCmd struct {
	JSON bool `name:"json" help:"Print one JSON object."`
}

// Run prints the program version, Go version, platform and .erm format
// version.
func (c *VersionCmd) Run(env *Env) error {
	b := env.Build()
	if c.JSON {
		return WriteJSON(env.Stdout, b)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\t%s\n", b.Program, b.Version)
	if b.Commit != "" {
		fmt.Fprintf(tw, "commit\t%s\n", b.Commit)
	}
	fmt.Fprintf(tw, "go\t%s\n", b.GoVersion)
	fmt.Fprintf(tw, "platform\t%s/%s\n", b.GOOS, b.GOARCH)
	fmt.Fprintf(tw, "format\t.erm %s (reads %d.x)\n", b.FormatVersion, format.Major)
	fmt.Fprintf(tw, "kernel\t%s (cpu: %s)\n", b.Kernel, strings.Join(b.CPUFeatures, " "))
	return tw.Flush()
}
