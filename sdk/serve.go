package sdk

import (
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Serve serves m as an edgerun plugin over gRPC and never returns; it is all
// a plugin's main needs:
//
//	func main() { sdk.Serve(mymodel.New()) }
//
// It speaks every protocol version in PluginSets, with AutoMTLS (the host
// sends a one-time client certificate; the plugin answers only that host)
// and MaxMessageBytes limits; version 2's direct channel for Infer accepts
// only connections that open with the token it gave that host. Run by hand rather than by a host, the binary
// says it is a plugin and exits with status 1. The plugin's own log lines
// (os.Stderr, the log package) reach the host's log, prefixed with the
// plugin's name. If the host dies without stopping it, the plugin exits
// within about a second.
func Serve(m Model) {
	go exitWithParent()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: PluginSets(m),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, serverOptions()...)...)
		},
		// go-plugin's own messages: only warnings and errors, as JSON the
		// host's go-plugin client understands.
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:       "go-plugin",
			Level:      hclog.Warn,
			Output:     os.Stderr,
			JSONFormat: true,
		}),
	})
}

// exitWithParent ends the plugin when its host is gone (the plugin has been
// re-parented), a second line of defence after the host's own cleanup and,
// on Linux, the parent-death signal the host asks for.
func exitWithParent() {
	parent := os.Getppid()
	if parent <= 1 {
		return
	}
	for range time.Tick(time.Second) {
		if os.Getppid() != parent {
			os.Exit(3)
		}
	}
}
