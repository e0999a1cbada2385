package kservepb

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"testing"
)

// goPackage is the one line grpc_predict_v2.proto adds to KServe's.
const goPackage = "option go_package = \"github.com/edgerun/edgerun/tools/edgerun/internal/serve/kservepb\";\n"

// upstreamSHA256 is the sha256 of KServe's docs/predict-api/v2/grpc_predict_v2.proto
// (github.com/kserve/kserve, as of commit 3dc5bfb4a5d8).
const upstreamSHA256 = "408092a3cfb737c1be17e47211fd6b072211839f61d133af6512e64d4efcca04"

// TestUpstream checks the .proto is KServe's byte for byte but for the
// go_package option, so that the wire API is the public one.
func TestUpstream(t *testing.T) {
	b, err := os.ReadFile("grpc_predict_v2.proto")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(b, []byte(goPackage)) != 1 {
		t.Fatalf("grpc_predict_v2.proto lacks the line %q", goPackage)
	}
	sum := sha256.Sum256(bytes.Replace(b, []byte(goPackage), nil, 1))
	if got := hex.EncodeToString(sum[:]); got != upstreamSHA256 {
		t.Errorf("grpc_predict_v2.proto without its go_package option has sha256 %s, KServe's %s", got, upstreamSHA256)
	}
}

// TestNames checks the names a KServe or Triton client calls.
func TestNames(t *testing.T) {
	for got, want := range map[string]string{
		GRPCInferenceService_ServiceDesc.ServiceName:                          "inference.GRPCInferenceService",
		GRPCInferenceService_ModelInfer_FullMethodName:                        "/inference.GRPCInferenceService/ModelInfer",
		string((&ModelInferRequest{}).ProtoReflect().Descriptor().FullName()): "inference.ModelInferRequest",
		File_grpc_predict_v2_proto.Path():                                     "grpc_predict_v2.proto",
	} {
		if got != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
}
