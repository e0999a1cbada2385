// Package sdktest checks that an sdk.Model keeps the plugin contract, and
// runs a model over real gRPC in the test process.
//
// A plugin tests itself with both, directly and through the wire:
//
//	func TestConformance(t *testing.T) {
//		m := mymodel.New()
//		t.Run("direct", func(t *testing.T) { sdktest.Run(t, m) })
//		t.Run("grpc", func(t *testing.T) { sdktest.Run(t, sdktest.Serve(t, m)) })
//	}
//
// It imports only sdk of edgerun (and go-plugin for the harness).
package sdktest
