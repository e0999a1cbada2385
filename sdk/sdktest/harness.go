package sdktest

import (
	"testing"

	"github.com/hashicorp/go-plugin"

	"github.com/edgerun/edgerun/sdk"
)

// Serve serves m over real gRPC inside the test process (go-plugin's
// TestPluginGRPCConn: a gRPC server and client on a Unix socket, through the
// same adapters a plugin binary uses) and returns the host's view of it. It
// is stopped when the test ends.
//
//	sdktest.Run(t, sdktest.Serve(t, mymodel.New()))   // the suite, through the wire
func Serve(t testing.TB, m sdk.Model) sdk.Model {
	t.Helper()
	client, server := plugin.TestPluginGRPCConn(t, false, sdk.PluginSets(m)[sdk.ProtocolVersion])
	// Closing the client shuts the server down too (go-plugin's controller
	// service); stopping the server as well would race with that.
	_ = server
	t.Cleanup(func() { _ = client.Close() })
	raw, err := client.Dispense(sdk.PluginName)
	if err != nil {
		t.Fatalf("sdktest: dispense %q: %v", sdk.PluginName, err)
	}
	model, ok := raw.(sdk.Model)
	if !ok {
		t.Fatalf("sdktest: dispensed %T, not an sdk.Model", raw)
	}
	return model
}
