package kservepb

import (
	"fmt"
	"os"
	"sort"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// wireDesc is the FileDescriptorProto our generator produced for
// grpc_predict_v2.proto before the file's text was rewritten in our own
// words, serialized deterministically. It pins the wire interface: every
// name, number, type and label a KServe or Triton client depends on.
const wireDesc = "testdata/grpc_predict_v2.desc.binpb"

// wireFacts lists, for every element of fd that is part of the wire or the
// generated Go API, one line keyed by the element's full name: the file's
// name, package, syntax and go_package; each message (nested ones too) and
// whether it is a map entry; each field's number, kind, cardinality, JSON
// name, message type, oneof and map-ness; each oneof; each RPC's types and
// streaming.
func wireFacts(fd protoreflect.FileDescriptor) map[string]string {
	facts := map[string]string{}
	goPkg := ""
	if o, ok := fd.Options().(*descriptorpb.FileOptions); ok {
		goPkg = o.GetGoPackage()
	}
	facts["file"] = fmt.Sprintf("path=%s package=%s syntax=%s go_package=%s",
		fd.Path(), fd.Package(), fd.Syntax(), goPkg)
	var messages func(protoreflect.MessageDescriptors)
	messages = func(ms protoreflect.MessageDescriptors) {
		for i := range ms.Len() {
			m := ms.Get(i)
			facts[string(m.FullName())] = fmt.Sprintf("message index=%d map_entry=%t fields=%d oneofs=%d",
				m.Index(), m.IsMapEntry(), m.Fields().Len(), m.Oneofs().Len())
			for j := range m.Fields().Len() {
				f := m.Fields().Get(j)
				typ, oneof := "", ""
				if f.Message() != nil {
					typ = string(f.Message().FullName())
				}
				if f.Enum() != nil {
					typ = string(f.Enum().FullName())
				}
				if o := f.ContainingOneof(); o != nil {
					oneof = string(o.Name())
				}
				facts[string(f.FullName())] = fmt.Sprintf("field index=%d number=%d kind=%s cardinality=%s json=%s type=%q oneof=%q map=%t packed=%t",
					f.Index(), f.Number(), f.Kind(), f.Cardinality(), f.JSONName(), typ, oneof, f.IsMap(), f.IsPacked())
			}
			for j := range m.Oneofs().Len() {
				o := m.Oneofs().Get(j)
				facts[string(o.FullName())] = fmt.Sprintf("oneof index=%d fields=%d synthetic=%t",
					o.Index(), o.Fields().Len(), o.IsSynthetic())
			}
			if m.Enums().Len() != 0 || m.Extensions().Len() != 0 {
				facts[string(m.FullName())] += " has enums or extensions"
			}
			messages(m.Messages())
		}
	}
	messages(fd.Messages())
	for i := range fd.Services().Len() {
		s := fd.Services().Get(i)
		facts[string(s.FullName())] = fmt.Sprintf("service index=%d methods=%d", s.Index(), s.Methods().Len())
		for j := range s.Methods().Len() {
			m := s.Methods().Get(j)
			facts[string(m.FullName())] = fmt.Sprintf("rpc index=%d in=%s out=%s client_streaming=%t server_streaming=%t",
				m.Index(), m.Input().FullName(), m.Output().FullName(), m.IsStreamingClient(), m.IsStreamingServer())
		}
	}
	facts["file"] += fmt.Sprintf(" enums=%d extensions=%d imports=%d",
		fd.Enums().Len(), fd.Extensions().Len(), fd.Imports().Len())
	return facts
}

// TestWire checks the descriptor generated from grpc_predict_v2.proto
// against the one saved in testdata, element by element, so that an edit of
// the .proto (a typo in a name, a renumbered field, a changed type) can
// never change the wire or the generated Go API unnoticed.
func TestWire(t *testing.T) {
	b, err := os.ReadFile(wireDesc)
	if err != nil {
		t.Fatal(err)
	}
	var want descriptorpb.FileDescriptorProto
	if err := proto.Unmarshal(b, &want); err != nil {
		t.Fatalf("%s: %v", wireDesc, err)
	}
	wantFD, err := protodesc.NewFile(&want, nil)
	if err != nil {
		t.Fatalf("%s: %v", wireDesc, err)
	}
	wantFacts, gotFacts := wireFacts(wantFD), wireFacts(File_grpc_predict_v2_proto)
	if len(wantFacts) < 60 {
		t.Fatalf("%s describes only %d elements", wireDesc, len(wantFacts))
	}
	keys := map[string]bool{}
	for k := range wantFacts {
		keys[k] = true
	}
	for k := range gotFacts {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		if g, w := gotFacts[k], wantFacts[k]; g != w {
			t.Errorf("%s:\n got: %s\nwant: %s", k, g, w)
		}
	}

	// Anything wireFacts does not list (an option, a default) still has
	// to match: the whole descriptor, without source info, is the same.
	got := protodesc.ToFileDescriptorProto(File_grpc_predict_v2_proto)
	got.SourceCodeInfo = nil
	if !proto.Equal(got, &want) {
		t.Errorf("the descriptor of grpc_predict_v2.proto differs from %s", wireDesc)
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
