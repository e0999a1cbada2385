package sdk

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/edgerun/edgerun/sdk/proto"
)

// ProtocolVersion is the newest plugin protocol version this package speaks.
// A host offers every version in PluginSets; a plugin serves every version it
// has; go-plugin picks the highest both know.
//
// Version 1: the Model service over gRPC. Version 2: the same service, plus
// the Channel service, through which the host calls Infer on a direct
// socket (see channel.go); Describe and Health stay on gRPC.
const ProtocolVersion = 2

// PluginName is the name the model is dispensed under in every plugin set.
const PluginName = "model"

// MaxMessageBytes is the largest gRPC message either side sends or accepts:
// 64 MiB, raised from gRPC's 4 MiB default receive limit so that a batch of
// long texts or a large sensor window fits in one request. Both the plugin's
// server (Serve) and the host's client (Open) are configured with it.
const MaxMessageBytes = 64 << 20

// Handshake is the go-plugin handshake of every edgerun plugin. The cookie
// only keeps a plugin binary from being run by hand by mistake (go-plugin
// calls it "a UX feature, not a security feature"); the integrity check is
// the host's SHA-256 manifest. Never change it: that would break every
// plugin already built.
var Handshake = plugin.HandshakeConfig{
	// Only a host without versioned plugin sets goes by this; every edgerun
	// host and plugin negotiates through PluginSets instead.
	ProtocolVersion:  1,
	MagicCookieKey:   "EDGERUN_PLUGIN",
	MagicCookieValue: "edgerun-model-plugin-2f1c9a4e7b",
}

// PluginSets returns the versioned plugin sets, each serving impl under
// PluginName. The plugin side passes its model (Serve does); the host side
// passes nil.
//
// Add a version, never change one: a plugin built against version 1 must keep
// working with every later host. A new wire contract (a new proto package,
// say edgerun.sdk.v2) becomes a new key here, next to the old ones.
func PluginSets(impl Model) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		1: {PluginName: &ModelPlugin{Impl: impl}},
		2: {PluginName: &ModelPluginV2{Impl: impl}},
	}
}

// ModelPlugin is the go-plugin GRPCPlugin of protocol version 1: it serves
// Impl in the plugin process and hands the host a Model that calls it over
// gRPC (see grpc.go). Hosts normally use Open instead.
type ModelPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	// Impl is the model served; nil on the host side.
	Impl Model
}

var _ plugin.GRPCPlugin = (*ModelPlugin)(nil)

// GRPCServer registers Impl on the plugin's gRPC server.
func (p *ModelPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterModelServer(s, &grpcServer{impl: p.Impl})
	return nil
}

// GRPCClient returns a Model that calls the plugin over c.
func (p *ModelPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &grpcClient{client: pb.NewModelClient(c)}, nil
}

// ModelPluginV2 is the go-plugin GRPCPlugin of protocol version 2: version
// 1's Model service plus the Channel service; the host's Model calls Infer
// on the direct channel when the plugin can open one, and over gRPC when it
// cannot.
type ModelPluginV2 struct {
	plugin.NetRPCUnsupportedPlugin
	// Impl is the model served; nil on the host side.
	Impl Model
}

var _ plugin.GRPCPlugin = (*ModelPluginV2)(nil)

// GRPCServer registers Impl's Model service and its Channel service.
func (p *ModelPluginV2) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	srv := &grpcServer{impl: p.Impl}
	pb.RegisterModelServer(s, srv)
	pb.RegisterChannelServer(s, &channelServer{infer: srv})
	return nil
}

// GRPCClient opens the plugin's direct channel and returns a Model that
// calls Infer on it (or, if it cannot be opened, over c).
func (p *ModelPluginV2) GRPCClient(ctx context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return openChannel(ctx, &grpcClient{client: pb.NewModelClient(c)}, pb.NewChannelClient(c)), nil
}

// serverOptions are added to the options go-plugin gives the plugin's gRPC
// server (its TLS credentials among them).
func serverOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageBytes),
		grpc.MaxSendMsgSize(MaxMessageBytes),
	}
}

// dialOptions are the host's gRPC dial options (Open uses them).
func dialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(MaxMessageBytes),
			grpc.MaxCallSendMsgSize(MaxMessageBytes),
		),
	}
}
