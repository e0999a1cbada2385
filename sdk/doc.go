// Package sdk is the plugin contract of edgerun: what a domain-model plugin
// (the built-in sentiment, intent, recommendation, diagnosis, credit-risk
// and predictive-maintenance plugins, or one of your own; keyword spotting
// is planned, not present) and the host that runs it agree on.
//
// It owns the Go interfaces a plugin implements, the go-plugin handshake
// (cookie EDGERUN_PLUGIN), the versioned plugin sets (a new protocol
// version is added, an existing one is never changed), Serve for the plugin
// side, Open and the supervisor for the host side (SHA-256 check of the
// plugin binary against a manifest, executing exactly the bytes checked;
// each plugin in its own process group, killed with it; bounded reads of
// its output; AutoMTLS; restart on crash), and the
// wire types: named tensors with Open Inference Protocol datatypes, BYTES
// for text ([][]byte data, one element per string; BytesTensor builds one),
// the values of a categorical input listed in its TensorSpec.Categories. Plugins run out of process over gRPC through
// hashicorp/go-plugin; from protocol version 2 Infer takes a direct local
// socket the plugin opens for its host, under half gRPC's round trip (see
// service Channel in sdk/proto/model.proto).
//
// Subpackages: sdk/proto (the .proto file and its generated code),
// sdk/sdktest (a conformance suite any plugin can run on itself) and
// sdk/sdkrt (the one bridge to the engine: serve an .erm model with pre-
// and post-processing in a few lines).
//
// Import rules (enforced by make deps-check): this root package imports
// only sdk/proto of edgerun, never runtime/..., format or boards (the
// board profiles and periph.io I/O are planned; boards holds only their
// documentation today), so the contract stays small and a host can run
// plugins without linking the engine; only sdk/sdkrt meets the runtime.
// Nothing under sdk/ imports boards, tools or plugins, gonum, avo or
// periph.
package sdk
