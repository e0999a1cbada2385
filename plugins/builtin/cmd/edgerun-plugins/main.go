// Command edgerun-plugins is every built-in plugin in one binary (one
// go-plugin and gRPC runtime instead of six): the domain is its first
// argument, else $EDGERUN_DOMAIN, else the name it is run by (so a
// symlink named "sentiment" is the sentiment plugin).
//
//	edgerun-plugins sentiment
//	EDGERUN_DOMAIN=risk edgerun-plugins
//	ln -s edgerun-plugins sentiment && ./sentiment
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/edgerun/edgerun/plugins/builtin"
	"github.com/edgerun/edgerun/sdk"
)

func main() {
	domain := os.Getenv("EDGERUN_DOMAIN")
	if len(os.Args) > 1 {
		domain = os.Args[1]
	}
	if domain == "" {
		domain = strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe")
	}
	if !slices.Contains(builtin.Domains(), domain) {
		fmt.Fprintf(os.Stderr, "edgerun-plugins: say which plugin to serve: edgerun-plugins DOMAIN (or $EDGERUN_DOMAIN); domains: %s\n",
			strings.Join(builtin.Domains(), ", "))
		os.Exit(2)
	}
	m, err := builtin.New(domain)
	if err != nil {
		fmt.Fprintln(os.Stderr, "edgerun-plugins:", err)
		os.Exit(1)
	}
	sdk.Serve(m)
}
