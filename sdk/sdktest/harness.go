package sdktest

import (
	"context"
	"net"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/edgerun/edgerun/sdk"
)

// Serve serves m inside the test process through the newest plugin protocol
// (sdk.ProtocolVersion: gRPC for Describe and Health, the direct channel
// for Infer) and returns the host's view of it: the same adapters a plugin
// binary and a host use, over real sockets, without starting a process. It
// is stopped when the test ends.
//
//	sdktest.Run(t, sdktest.Serve(t, mymodel.New()))   // the suite, through the wire
func Serve(t testing.TB, m sdk.Model) sdk.Model {
	t.Helper()
	return ServeVersion(t, m, sdk.ProtocolVersion)
}

// ServeVersion is Serve through plugin protocol version v (1: everything
// over gRPC).
func ServeVersion(t testing.TB, m sdk.Model, v int) sdk.Model {
	t.Helper()
	p, ok := sdk.PluginSets(m)[v][sdk.PluginName].(plugin.GRPCPlugin)
	if !ok {
		t.Fatalf("sdktest: no plugin protocol version %d", v)
	}
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "plugin.sock"))
	if err != nil {
		t.Fatalf("sdktest: %v", err)
	}
	server := grpc.NewServer(grpc.MaxRecvMsgSize(sdk.MaxMessageBytes), grpc.MaxSendMsgSize(sdk.MaxMessageBytes))
	if err := p.GRPCServer(nil, server); err != nil {
		t.Fatalf("sdktest: %v", err)
	}
	go func() { _ = server.Serve(ln) }()
	conn, err := grpc.NewClient("unix://"+ln.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(sdk.MaxMessageBytes), grpc.MaxCallSendMsgSize(sdk.MaxMessageBytes)))
	if err != nil {
		server.Stop()
		t.Fatalf("sdktest: %v", err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		server.Stop()
	})
	raw, err := p.GRPCClient(context.Background(), nil, conn)
	if err != nil {
		t.Fatalf("sdktest: %v", err)
	}
	model, ok := raw.(sdk.Model)
	if !ok {
		t.Fatalf("sdktest: the client is %T, not an sdk.Model", raw)
	}
	return model
}
