package serve

import (
	"bytes"
	"errors"
	"testing"

	"github.com/edgerun/edgerun/sdk"
	pb "github.com/edgerun/edgerun/tools/edgerun/internal/serve/kservepb"
	"google.golang.org/protobuf/proto"
)

// FuzzGRPCRaw checks raw_input_contents decoding on any bytes: it never
// panics, refuses with ErrInvalidInput, and what it accepts encodes back
// (raw_output_contents) to the very same bytes.
//
// fuzz:budget 200000x
func FuzzGRPCRaw(f *testing.F) {
	for _, s := range samples() {
		f.Add(s.in.Datatype, int64(len(s.raw)), s.raw)
		f.Add(s.in.Datatype, int64(3), s.raw)
	}
	f.Add("BYTES", int64(2), le32(0xffffffff))
	f.Fuzz(func(t *testing.T, datatype string, n int64, raw []byte) {
		in := &pb.ModelInferRequest_InferInputTensor{Name: "t", Datatype: datatype, Shape: []int64{n}}
		r := &pb.ModelInferRequest{ModelName: "m", Inputs: []*pb.ModelInferRequest_InferInputTensor{in}, RawInputContents: [][]byte{raw}}
		req, err := inferRequestFromPB(r, 1<<20)
		if err != nil {
			if !errors.Is(err, sdk.ErrInvalidInput) {
				t.Fatalf("error %v is not ErrInvalidInput", err)
			}
			return
		}
		tn := &req.Inputs[0]
		if int64(tn.Len()) != n {
			t.Fatalf("%d elements decoded for shape [%d]", tn.Len(), n)
		}
		if back := appendRaw(nil, tn); !bytes.Equal(back, raw) {
			t.Fatalf("%s %q decodes to %v, which encodes to %q", datatype, raw, tn, back)
		}
	})
}

// FuzzGRPCRequest checks the mapping of any ModelInferRequest (from any
// protobuf bytes) never panics, refuses with ErrInvalidInput, and gives
// only tensors whose data matches their shape.
//
// fuzz:budget 100000x
func FuzzGRPCRequest(f *testing.F) {
	for _, raw := range []bool{false, true} {
		b, err := proto.Marshal(request(raw, samples()...))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, r := range malformed() {
		b, err := proto.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r pb.ModelInferRequest
		if proto.Unmarshal(b, &r) != nil {
			return
		}
		req, err := inferRequestFromPB(&r, 1<<20)
		if err != nil {
			if !errors.Is(err, sdk.ErrInvalidInput) {
				t.Fatalf("error %v is not ErrInvalidInput", err)
			}
			return
		}
		for i := range req.Inputs {
			tn := &req.Inputs[i]
			n := int64(1)
			for _, d := range tn.Shape {
				n *= d
			}
			if int64(tn.Len()) != n {
				t.Fatalf("input %q: %d elements for shape %v", tn.Name, tn.Len(), tn.Shape)
			}
		}
	})
}
