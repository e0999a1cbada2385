// Package sdktest checks that an sdk.Model keeps the plugin contract, and
// runs a model over the real wire (gRPC and the direct channel) in the test
// process.
//
// Run needs no valid request from the plugin: RequestFor builds one from
// the description (a categorical input's first category, an English
// sentence for other text, small numbers); WithRequests replaces it for a
// model whose valid inputs are narrower. A plugin tests itself with both,
// directly and through the wire:
//
//	func TestConformance(t *testing.T) {
//		m := mymodel.New()
//		t.Run("direct", func(t *testing.T) { sdktest.Run(t, m) })
//		t.Run("wire", func(t *testing.T) { sdktest.Run(t, sdktest.Serve(t, m)) })
//	}
//
// Build compiles a plugin binary and pins it in a manifest, for tests that
// start it through sdk.Open (with Emulated's options under qemu-user).
//
// It imports only sdk of edgerun (and go-plugin and gRPC for the harness).
package sdktest
