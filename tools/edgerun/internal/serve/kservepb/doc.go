// Package kservepb is the Open Inference Protocol's gRPC API, KServe's
// GRPCInferenceService (package inference), as Go code generated from
// grpc_predict_v2.proto: KServe's docs/predict-api/v2/grpc_predict_v2.proto
// (github.com/kserve/kserve, last changed in commit 3dc5bfb4a5d8),
// unchanged but for its go_package option, Apache-2.0 licensed as its
// header says. Message and service names are the upstream ones, so a
// KServe or Triton gRPC client talks to it unchanged.
//
// Never edit the generated files (grpc_predict_v2.pb.go,
// grpc_predict_v2_grpc.pb.go): they come from `make generate`, which runs
// sdk/proto/_gen (protocompile, protoc-gen-go and protoc-gen-go-grpc at
// pinned versions; no protoc needed). The file is compiled and registered
// under its upstream name, "grpc_predict_v2.proto".
package kservepb

//go:generate go -C ../../../../../sdk/proto/_gen run . -proto ../../../tools/edgerun/internal/serve/kservepb/grpc_predict_v2.proto -name grpc_predict_v2.proto -out ../../../tools/edgerun/internal/serve/kservepb
