// Command edgerun-plugins is every built-in plugin in one binary (one
// go-plugin and gRPC runtime instead of eight): the domain is its first
// argument, else $EDGERUN_DOMAIN, else the name it is run by (so a
// symlink named "sentiment" is the sentiment plugin).
//
//	edgerun-plugins sentiment
//	EDGERUN_DOMAIN=risk edgerun-plugins
//	ln -s edgerun-plugins sentiment && ./sentiment
//
// Started by a host without a domain, it serves a description whose
// Domain is sdk.MultiDomain and whose Labels are the domains it serves
// (its Infer refuses every request, saying how to choose one), so that
// `edgerun plugins list --describe` and `plugins describe` can show what
// it holds and start each domain.
package main

import (
	"context"
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
		if !slices.Contains(builtin.Domains(), domain) && os.Getenv(sdk.Handshake.MagicCookieKey) == sdk.Handshake.MagicCookieValue {
			sdk.Serve(index{})
		}
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

// index is what the binary serves to a host that gave no domain: the
// domains it serves (sdk.MultiDomain).
type index struct{}

func (index) Describe(context.Context) (*sdk.Description, error) {
	return &sdk.Description{
		Name:    "edgerun-plugins",
		Version: "1",
		Domain:  sdk.MultiDomain,
		Summary: "every built-in plugin in one binary; start it with a domain as its first argument (edgerun plugins --plugin-arg DOMAIN)",
		Labels:  builtin.Domains(),
	}, nil
}

func (index) Infer(context.Context, *sdk.InferRequest) (*sdk.InferResponse, error) {
	return nil, fmt.Errorf("edgerun-plugins serves several domains (%s): start it with one as its first argument (edgerun plugins --plugin-arg DOMAIN)",
		strings.Join(builtin.Domains(), ", "))
}

func (index) Health(context.Context) error { return nil }
