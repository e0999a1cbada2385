// Package kservepb is the Open Inference Protocol's gRPC API (KServe v2:
// service GRPCInferenceService of package inference), as Go code generated
// from grpc_predict_v2.proto.
//
// grpc_predict_v2.proto is edgerun's own text. The interface in it, every
// name (package, service, RPCs, messages, fields, oneof), field number,
// type and label, is that of the public specification,
// https://github.com/kserve/open-inference-protocol, so a KServe or Triton
// gRPC client talks to edgerun unchanged. TestWire pins that interface:
// it compares the compiled descriptor, element by element, with
// testdata/grpc_predict_v2.desc.binpb (our generator's output, saved when
// the file was rewritten), so an edit of the .proto that would change the
// wire or the Go API fails the test.
//
// The file is compiled and registered under the name
// "grpc_predict_v2.proto", the name of KServe's definition and the one the
// package had from the start: gRPC server reflection (grpcurl and the like)
// lists and serves the file by that name, and the generated identifiers
// (File_grpc_predict_v2_proto) derive from it, so keeping it keeps both
// unchanged. The message full names (inference.*) are the protocol's, so a
// program that also links another generated copy of the protocol gets a
// protobuf registration conflict.
//
// Never edit the generated files (grpc_predict_v2.pb.go,
// grpc_predict_v2_grpc.pb.go): they come from `make generate`, which runs
// sdk/proto/_gen (protocompile, protoc-gen-go and protoc-gen-go-grpc at
// pinned versions; no protoc needed).
package kservepb

//go:generate go -C ../../../../../sdk/proto/_gen run . -proto ../../../tools/edgerun/internal/serve/kservepb/grpc_predict_v2.proto -name grpc_predict_v2.proto -out ../../../tools/edgerun/internal/serve/kservepb
