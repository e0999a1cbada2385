package serve

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgerun/edgerun/sdk"
	pb "github.com/edgerun/edgerun/tools/edgerun/internal/serve/kservepb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

// testCtx is a context with a generous safety deadline.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// wantCode fails unless err is a gRPC status of code want.
func wantCode(t *testing.T, what string, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Errorf("%s: code %v (%v), want %v", what, got, err, want)
	}
}

func TestGRPCHealth(t *testing.T) {
	reg := newFakeRegistry()
	c := startGRPC(t, reg, GRPCOptions{Version: "1.2.3", Extensions: []string{"x"}})
	ctx := testCtx(t)

	live, err := c.ServerLive(ctx, &pb.ServerLiveRequest{})
	if err != nil || !live.GetLive() {
		t.Errorf("ServerLive = %v, %v; want live", live, err)
	}
	for _, ready := range []bool{true, false} {
		reg.mu.Lock()
		reg.ready = ready
		reg.mu.Unlock()
		r, err := c.ServerReady(ctx, &pb.ServerReadyRequest{})
		if err != nil || r.GetReady() != ready {
			t.Errorf("ServerReady = %v, %v; want %v", r, err, ready)
		}
	}
	md, err := c.ServerMetadata(ctx, &pb.ServerMetadataRequest{})
	want := &pb.ServerMetadataResponse{Name: "edgerun", Version: "1.2.3", Extensions: []string{"x"}}
	if err != nil || !proto.Equal(md, want) {
		t.Errorf("ServerMetadata = %v, %v; want %v", md, err, want)
	}

	for _, tc := range []struct {
		name, version string
		ready         bool
		code          codes.Code
	}{
		{"echo", "", true, codes.OK},
		{"echo", "v2", true, codes.OK},
		{"loading", "", false, codes.OK},
		{"echo", "v1", false, codes.NotFound},
		{"nope", "", false, codes.NotFound},
		{"", "", false, codes.InvalidArgument},
	} {
		r, err := c.ModelReady(ctx, &pb.ModelReadyRequest{Name: tc.name, Version: tc.version})
		wantCode(t, fmt.Sprintf("ModelReady(%q, %q)", tc.name, tc.version), err, tc.code)
		if r.GetReady() != tc.ready {
			t.Errorf("ModelReady(%q, %q) = %v, want %v", tc.name, tc.version, r.GetReady(), tc.ready)
		}
	}
}

func TestGRPCModelMetadata(t *testing.T) {
	c := startGRPC(t, newFakeRegistry(), GRPCOptions{})
	ctx := testCtx(t)
	md, err := c.ModelMetadata(ctx, &pb.ModelMetadataRequest{Name: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	var specs []*pb.ModelMetadataResponse_TensorMetadata
	for _, s := range echoSpecs {
		specs = append(specs, &pb.ModelMetadataResponse_TensorMetadata{Name: s.Name, Datatype: s.Datatype, Shape: s.Shape})
	}
	want := &pb.ModelMetadataResponse{Name: "echo", Versions: []string{"v2"}, Platform: PlatformERM, Inputs: specs, Outputs: specs}
	if d := cmp.Diff(want, md, protocmp.Transform()); d != "" {
		t.Errorf("ModelMetadata (-want +got):\n%s", d)
	}
	if md, err := c.ModelMetadata(ctx, &pb.ModelMetadataRequest{Name: "fail", Version: "v2"}); err != nil || md.GetPlatform() != PlatformPlugin {
		t.Errorf("ModelMetadata(fail, v2) = %v, %v; want platform %s", md, err, PlatformPlugin)
	}
	for _, tc := range []struct {
		name, version string
		code          codes.Code
	}{
		{"loading", "", codes.Unavailable},
		{"nope", "", codes.NotFound},
		{"echo", "v9", codes.NotFound},
		{"", "", codes.InvalidArgument},
	} {
		_, err := c.ModelMetadata(ctx, &pb.ModelMetadataRequest{Name: tc.name, Version: tc.version})
		wantCode(t, fmt.Sprintf("ModelMetadata(%q, %q)", tc.name, tc.version), err, tc.code)
	}
}

// sample is one input of every datatype, its typed contents and its raw
// bytes as a client encodes them.
type sample struct {
	in  *pb.ModelInferRequest_InferInputTensor
	raw []byte
}

func le32(v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	return b
}

func samples() []sample {
	var i64 []byte
	for _, v := range []int64{-1, math.MaxInt64, 7} {
		i64 = binary.LittleEndian.AppendUint64(i64, uint64(v))
	}
	var f32 []byte
	fp := []float32{1.5, -2, float32(math.Inf(1)), 3e-38}
	for _, v := range fp {
		f32 = binary.LittleEndian.AppendUint32(f32, math.Float32bits(v))
	}
	var str []byte
	for _, s := range []string{"great phone", "", "ünïcode"} {
		str = append(str, le32(uint32(len(s)))...)
		str = append(str, s...)
	}
	tensor := func(name, dt string, shape []int64, c *pb.InferTensorContents) *pb.ModelInferRequest_InferInputTensor {
		return &pb.ModelInferRequest_InferInputTensor{Name: name, Datatype: dt, Shape: shape, Contents: c}
	}
	return []sample{
		{tensor("x", "FP32", []int64{2, 2}, &pb.InferTensorContents{Fp32Contents: fp}), f32},
		{tensor("i", "INT64", []int64{3}, &pb.InferTensorContents{Int64Contents: []int64{-1, math.MaxInt64, 7}}), i64},
		{tensor("j", "INT32", []int64{3}, &pb.InferTensorContents{IntContents: []int32{-5, math.MaxInt32, 0}}), le32(uint32(0xfffffffb), math.MaxInt32, 0)},
		{tensor("b", "BOOL", []int64{3}, &pb.InferTensorContents{BoolContents: []bool{true, false, true}}), []byte{1, 0, 1}},
		{tensor("s", "BYTES", []int64{3}, &pb.InferTensorContents{BytesContents: [][]byte{[]byte("great phone"), {}, []byte("ünïcode")}}), str},
	}
}

// request is a ModelInferRequest for "echo" of the samples, typed or raw.
func request(raw bool, ss ...sample) *pb.ModelInferRequest {
	r := &pb.ModelInferRequest{ModelName: "echo", Id: "req-1",
		Parameters: map[string]*pb.InferParameter{
			"top_k": {ParameterChoice: &pb.InferParameter_Int64Param{Int64Param: 3}},
			"flag":  {ParameterChoice: &pb.InferParameter_BoolParam{BoolParam: true}},
			"lang":  {ParameterChoice: &pb.InferParameter_StringParam{StringParam: "en"}},
		}}
	for _, s := range ss {
		in := proto.Clone(s.in).(*pb.ModelInferRequest_InferInputTensor)
		if raw {
			in.Contents = nil
			r.RawInputContents = append(r.RawInputContents, s.raw)
		}
		r.Inputs = append(r.Inputs, in)
	}
	return r
}

func TestGRPCInfer(t *testing.T) {
	c := startGRPC(t, newFakeRegistry(), GRPCOptions{})
	ctx := testCtx(t)
	ss := samples()
	wantParams := map[string]*pb.InferParameter{
		"top_k": {ParameterChoice: &pb.InferParameter_StringParam{StringParam: "3"}},
		"flag":  {ParameterChoice: &pb.InferParameter_StringParam{StringParam: "true"}},
		"lang":  {ParameterChoice: &pb.InferParameter_StringParam{StringParam: "en"}},
	}
	for _, raw := range []bool{false, true} {
		for _, s := range ss {
			t.Run(fmt.Sprintf("%s/raw=%v", s.in.Datatype, raw), func(t *testing.T) {
				resp, err := c.ModelInfer(ctx, request(raw, s))
				if err != nil {
					t.Fatal(err)
				}
				want := &pb.ModelInferResponse{ModelName: "echo", ModelVersion: "v2", Id: "req-1", Parameters: wantParams,
					Outputs: []*pb.ModelInferResponse_InferOutputTensor{{Name: s.in.Name, Datatype: s.in.Datatype, Shape: s.in.Shape, Contents: s.in.Contents}}}
				if raw {
					want.Outputs[0].Contents = nil
					want.RawOutputContents = [][]byte{s.raw}
				}
				if d := cmp.Diff(want, resp, protocmp.Transform()); d != "" {
					t.Errorf("ModelInfer (-want +got):\n%s", d)
				}
			})
		}
		// Every datatype at once, and only the outputs asked for, in the
		// model's order.
		r := request(raw, ss...)
		r.Outputs = []*pb.ModelInferRequest_InferRequestedOutputTensor{{Name: "s"}, {Name: "i"}}
		resp, err := c.ModelInfer(ctx, r)
		if err != nil {
			t.Fatalf("raw=%v: %v", raw, err)
		}
		var names []string
		for _, o := range resp.GetOutputs() {
			names = append(names, o.GetName())
		}
		if !slices.Equal(names, []string{"i", "s"}) {
			t.Errorf("raw=%v: outputs %v, want [i s]", raw, names)
		}
		if raw && (len(resp.GetRawOutputContents()) != 2 || !bytes.Equal(resp.GetRawOutputContents()[1], ss[4].raw)) {
			t.Errorf("raw outputs %q, want the INT64 and BYTES samples", resp.GetRawOutputContents())
		}
	}
	// A version asked for is served; another is not found.
	r := request(false, ss[0])
	r.ModelVersion = "v2"
	if _, err := c.ModelInfer(ctx, r); err != nil {
		t.Errorf("version v2: %v", err)
	}
	r.ModelVersion = "v1"
	_, err := c.ModelInfer(ctx, r)
	wantCode(t, "version v1", err, codes.NotFound)
}

// TestGRPCErrorCodes checks every error of the registry and of a model
// reaches the client with the code Status gives it, its message intact.
func TestGRPCErrorCodes(t *testing.T) {
	reg := newFakeRegistry()
	var log lockedBuffer
	c := startGRPC(t, reg, GRPCOptions{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	ctx := testCtx(t)
	for _, tc := range []struct {
		err  error
		code codes.Code
	}{
		{sdk.InvalidInputf("text is empty"), codes.InvalidArgument},
		{fmt.Errorf("plugin: %w", sdk.ErrInvalidInput), codes.InvalidArgument},
		{ErrNotFound, codes.NotFound},
		{ErrUnavailable, codes.Unavailable},
		{fmt.Errorf("restarting: %w", ErrUnavailable), codes.Unavailable},
		{ErrShuttingDown, codes.Unavailable},
		{ErrQueueFull, codes.ResourceExhausted},
		{ErrTooLarge, codes.ResourceExhausted},
		{context.DeadlineExceeded, codes.DeadlineExceeded},
		{context.Canceled, codes.Canceled},
		{errors.New("the model broke"), codes.Internal},
	} {
		reg.mu.Lock()
		reg.err = tc.err
		reg.mu.Unlock()
		r := request(false, samples()[0])
		r.ModelName = "fail"
		_, err := c.ModelInfer(ctx, r)
		wantCode(t, tc.err.Error(), err, tc.code)
		if msg := status.Convert(err).Message(); msg != tc.err.Error() {
			t.Errorf("%v: message %q, want %q", tc.err, msg, tc.err.Error())
		}
	}
	// The registry's own: unknown model, a model still loading, a
	// request the model refuses, a malformed answer, a panic.
	for _, tc := range []struct {
		model string
		code  codes.Code
	}{
		{"nope", codes.NotFound},
		{"loading", codes.Unavailable},
		{"bad", codes.Internal},
		{"panic", codes.Internal},
	} {
		r := request(false, samples()[0])
		r.ModelName = tc.model
		_, err := c.ModelInfer(ctx, r)
		wantCode(t, tc.model, err, tc.code)
	}
	r := request(false, samples()[0])
	r.Inputs[0].Name = "y"
	_, err := c.ModelInfer(ctx, r)
	wantCode(t, "unknown input", err, codes.InvalidArgument)
	r = request(false, samples()[0])
	r.Outputs = []*pb.ModelInferRequest_InferRequestedOutputTensor{{Name: "z"}}
	_, err = c.ModelInfer(ctx, r)
	wantCode(t, "unknown output", err, codes.InvalidArgument)
	// The server survived the panic, and logged it.
	if _, err := c.ModelInfer(ctx, request(true, samples()...)); err != nil {
		t.Errorf("after the panic: %v", err)
	}
	if l := log.String(); !strings.Contains(l, "fake model panics") || !strings.Contains(l, "ModelInfer") {
		t.Errorf("log %q does not tell of the panic", l)
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestGRPCBadRaw checks raw_input_contents that do not match the shape,
// or are not what the datatype holds, are INVALID_ARGUMENT.
func TestGRPCBadRaw(t *testing.T) {
	c := startGRPC(t, newFakeRegistry(), GRPCOptions{})
	ctx := testCtx(t)
	ss := samples()
	for _, tc := range []struct {
		name  string
		input int // of samples
		raw   []byte
		want  string
	}{
		{"FP32 short", 0, ss[0].raw[:15], "15 bytes, but shape [2,2] of FP32 needs 16"},
		{"FP32 long", 0, append(bytes.Clone(ss[0].raw), 0), "17 bytes"},
		{"FP32 empty", 0, []byte{}, "0 bytes"},
		{"INT64 short", 1, ss[1].raw[:20], "needs 24"},
		{"INT32 long", 2, append(bytes.Clone(ss[2].raw), 1, 2, 3, 4), "needs 12"},
		{"BOOL long", 3, []byte{1, 0, 1, 0}, "needs 3"},
		{"BOOL not 0 or 1", 3, []byte{1, 2, 0}, "element 1 is byte 2"},
		{"BYTES no length", 4, []byte{1, 0, 0}, "cannot hold the 3 BYTES elements"},
		{"BYTES length past the end", 4, le32(0, 100, 0), "element 1: length 100, only 4 bytes left"},
		{"BYTES length past the end 2", 4, append(le32(0, 0, 5), 'a'), "element 2: length 5, only 1 bytes left"},
		{"BYTES huge length", 4, le32(0xffffffff, 0, 0), "element 0: length 4294967295"},
		{"BYTES trailing bytes", 4, append(bytes.Clone(ss[4].raw), 'x'), "1 bytes left after the 3 BYTES elements"},
		{"BYTES too few elements", 4, le32(0, 0), "8 bytes cannot hold the 3 BYTES elements"},
	} {
		r := request(true, ss[tc.input])
		r.RawInputContents[0] = tc.raw
		_, err := c.ModelInfer(ctx, r)
		wantCode(t, tc.name, err, codes.InvalidArgument)
		if msg := status.Convert(err).Message(); !strings.Contains(msg, tc.want) || !strings.Contains(msg, "raw_input_contents[0]") {
			t.Errorf("%s: message %q, want it to say %q", tc.name, msg, tc.want)
		}
	}
	// One raw entry per input, and no typed contents beside them.
	r := request(true, ss[0], ss[1])
	r.RawInputContents = r.RawInputContents[:1]
	_, err := c.ModelInfer(ctx, r)
	wantCode(t, "one raw entry for two inputs", err, codes.InvalidArgument)
	r = request(true, ss[0])
	r.Inputs[0].Contents = ss[0].in.Contents
	_, err = c.ModelInfer(ctx, r)
	wantCode(t, "contents and raw", err, codes.InvalidArgument)
}

// malformed are requests that must be refused with a clear
// INVALID_ARGUMENT (or NOT_FOUND), never a panic.
func malformed() map[string]*pb.ModelInferRequest {
	ss := samples()
	m := map[string]*pb.ModelInferRequest{}
	edit := func(name string, raw bool, f func(r *pb.ModelInferRequest)) {
		r := request(raw, ss...)
		f(r)
		m[name] = r
	}
	edit("no model name", false, func(r *pb.ModelInferRequest) { r.ModelName = "" })
	edit("no inputs", false, func(r *pb.ModelInferRequest) { r.Inputs = nil })
	edit("input without name", false, func(r *pb.ModelInferRequest) { r.Inputs[1].Name = "" })
	edit("input twice", false, func(r *pb.ModelInferRequest) { r.Inputs[1] = r.Inputs[0] })
	edit("FP16", false, func(r *pb.ModelInferRequest) { r.Inputs[0].Datatype = "FP16" })
	edit("lower-case datatype", false, func(r *pb.ModelInferRequest) { r.Inputs[0].Datatype = "fp32" })
	edit("no datatype", true, func(r *pb.ModelInferRequest) { r.Inputs[2].Datatype = "" })
	edit("wrong datatype for the model", false, func(r *pb.ModelInferRequest) {
		r.Inputs[1].Datatype = "INT32"
		r.Inputs[1].Contents = &pb.InferTensorContents{IntContents: []int32{1, 2, 3}}
	})
	edit("contents of another datatype", false, func(r *pb.ModelInferRequest) {
		r.Inputs[0].Contents = &pb.InferTensorContents{Fp64Contents: []float64{1, 2, 3, 4}}
	})
	edit("two content fields", false, func(r *pb.ModelInferRequest) { r.Inputs[0].Contents.IntContents = []int32{1} })
	edit("no data", false, func(r *pb.ModelInferRequest) { r.Inputs[0].Contents = nil })
	edit("too few values", false, func(r *pb.ModelInferRequest) { r.Inputs[1].Contents.Int64Contents = []int64{1} })
	edit("negative dimension", false, func(r *pb.ModelInferRequest) { r.Inputs[1].Shape = []int64{-3} })
	edit("huge shape", true, func(r *pb.ModelInferRequest) { r.Inputs[4].Shape = []int64{1 << 40, 1 << 40} })
	edit("huge BYTES shape", true, func(r *pb.ModelInferRequest) { r.Inputs[4].Shape = []int64{1 << 25} })
	edit("overflowing shape", false, func(r *pb.ModelInferRequest) {
		r.Inputs[0].Shape = []int64{math.MaxInt64, math.MaxInt64, 0}
	})
	edit("nine dimensions", false, func(r *pb.ModelInferRequest) { r.Inputs[1].Shape = []int64{3, 1, 1, 1, 1, 1, 1, 1, 1} })
	edit("wrong rank for the model", false, func(r *pb.ModelInferRequest) { r.Inputs[1].Shape = []int64{3, 1} })
	edit("empty tensor", false, func(r *pb.ModelInferRequest) {
		r.Inputs[1].Shape = []int64{0}
		r.Inputs[1].Contents = nil
	})
	edit("input parameters", false, func(r *pb.ModelInferRequest) {
		r.Inputs[0].Parameters = map[string]*pb.InferParameter{"binary_data_size": {ParameterChoice: &pb.InferParameter_Int64Param{Int64Param: 16}}}
	})
	edit("output parameters", false, func(r *pb.ModelInferRequest) {
		r.Outputs = []*pb.ModelInferRequest_InferRequestedOutputTensor{{Name: "x", Parameters: map[string]*pb.InferParameter{"classification": {}}}}
	})
	edit("output without name", false, func(r *pb.ModelInferRequest) {
		r.Outputs = []*pb.ModelInferRequest_InferRequestedOutputTensor{{}}
	})
	edit("parameter without value", false, func(r *pb.ModelInferRequest) { r.Parameters["empty"] = &pb.InferParameter{} })
	edit("nil parameter", false, func(r *pb.ModelInferRequest) { r.Parameters["nil"] = nil })
	edit("more raw entries than inputs", true, func(r *pb.ModelInferRequest) {
		r.RawInputContents = append(r.RawInputContents, []byte{1})
	})
	return m
}

func TestGRPCMalformed(t *testing.T) {
	c := startGRPC(t, newFakeRegistry(), GRPCOptions{})
	ctx := testCtx(t)
	for name, r := range malformed() {
		_, err := c.ModelInfer(ctx, r)
		wantCode(t, name, err, codes.InvalidArgument)
		if msg := status.Convert(err).Message(); msg == "" {
			t.Errorf("%s: no message", name)
		} else {
			t.Logf("%s: %s", name, msg)
		}
	}
	// Random damage to valid requests (a fixed seed): every answer is OK,
	// INVALID_ARGUMENT or NOT_FOUND, never INTERNAL or a dead server.
	rng := rand.New(rand.NewPCG(13, 2))
	datatypes := []string{"FP32", "INT64", "INT32", "BOOL", "BYTES", "FP16", "UINT8", ""}
	ss := samples()
	for k := range 400 {
		r := request(rng.IntN(2) == 0, ss...)
		for range 1 + rng.IntN(3) {
			i := rng.IntN(len(r.Inputs))
			in := r.Inputs[i]
			switch rng.IntN(6) {
			case 0:
				in.Datatype = datatypes[rng.IntN(len(datatypes))]
			case 1:
				in.Shape = append(in.Shape, int64(rng.IntN(5))-1)
			case 2:
				if len(in.Shape) > 0 {
					in.Shape[rng.IntN(len(in.Shape))] = rng.Int64N(1<<33) - 4
				}
			case 3:
				if len(r.RawInputContents) > 0 {
					b := r.RawInputContents[i]
					if len(b) > 0 {
						b = bytes.Clone(b)
						b[rng.IntN(len(b))] = byte(rng.Uint32())
						r.RawInputContents[i] = b[:rng.IntN(len(b)+1)]
					}
				}
			case 4:
				r.Inputs[i] = r.Inputs[rng.IntN(len(r.Inputs))]
			case 5:
				r.ModelName = []string{"echo", "nope", "loading", ""}[rng.IntN(4)]
			}
		}
		_, err := c.ModelInfer(ctx, r)
		switch status.Code(err) {
		case codes.OK, codes.InvalidArgument, codes.NotFound, codes.Unavailable:
		default:
			t.Fatalf("case %d: %v (request %v)", k, err, r)
		}
	}
}

func TestGRPCMaxRecvMsgSize(t *testing.T) {
	c := startGRPC(t, newFakeRegistry(), GRPCOptions{MaxRecvMsgSize: 4096})
	ctx := testCtx(t)
	small := request(true, samples()[0])
	if _, err := c.ModelInfer(ctx, small); err != nil {
		t.Fatalf("small request: %v", err)
	}
	big := request(true, samples()[0])
	big.Inputs[0].Shape = []int64{1024, 2}
	big.RawInputContents[0] = make([]byte, 1024*2*4)
	_, err := c.ModelInfer(ctx, big)
	wantCode(t, "8 KiB request, 4 KiB limit", err, codes.ResourceExhausted)
}

func TestGRPCToken(t *testing.T) {
	c := startGRPC(t, newFakeRegistry(), GRPCOptions{Token: "s3cret"})
	ctx := testCtx(t)
	with := func(v string) context.Context { return metadata.AppendToOutgoingContext(ctx, "authorization", v) }
	calls := map[string]func(ctx context.Context) error{
		"ServerMetadata": func(ctx context.Context) error {
			_, err := c.ServerMetadata(ctx, &pb.ServerMetadataRequest{})
			return err
		},
		"ModelReady": func(ctx context.Context) error {
			_, err := c.ModelReady(ctx, &pb.ModelReadyRequest{Name: "echo"})
			return err
		},
		"ModelMetadata": func(ctx context.Context) error {
			_, err := c.ModelMetadata(ctx, &pb.ModelMetadataRequest{Name: "echo"})
			return err
		},
		"ModelInfer": func(ctx context.Context) error {
			_, err := c.ModelInfer(ctx, request(false, samples()...))
			return err
		},
	}
	for name, call := range calls {
		wantCode(t, name+" without a token", call(ctx), codes.Unauthenticated)
		wantCode(t, name+" with a wrong token", call(with("Bearer s3cre")), codes.Unauthenticated)
		wantCode(t, name+" with a longer token", call(with("Bearer s3crett")), codes.Unauthenticated)
		wantCode(t, name+" with another scheme", call(with("Basic s3cret")), codes.Unauthenticated)
		wantCode(t, name+" with the token", call(with("Bearer s3cret")), codes.OK)
		wantCode(t, name+" with the token, bearer", call(with("bearer s3cret")), codes.OK)
	}
	// The health RPCs are open.
	if _, err := c.ServerLive(ctx, &pb.ServerLiveRequest{}); err != nil {
		t.Errorf("ServerLive without a token: %v", err)
	}
	if _, err := c.ServerReady(ctx, &pb.ServerReadyRequest{}); err != nil {
		t.Errorf("ServerReady without a token: %v", err)
	}
}

// TestGRPCConcurrent runs clients at once on one connection (for -race):
// every answer is its own request's.
func TestGRPCConcurrent(t *testing.T) {
	c := startGRPC(t, newFakeRegistry(), GRPCOptions{})
	ctx := testCtx(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for k := range 50 {
				id := fmt.Sprintf("%d-%d", g, k)
				r := request(k%2 == 0, samples()...)
				r.Id = id
				r.Inputs[1].Contents = &pb.InferTensorContents{Int64Contents: []int64{int64(g), int64(k), 0}}
				if k%2 == 0 {
					r.Inputs[1].Contents = nil
					r.RawInputContents[1] = binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(
						binary.LittleEndian.AppendUint64(nil, uint64(g)), uint64(k)), 0)
				}
				resp, err := c.ModelInfer(ctx, r)
				if err != nil {
					errs <- err
					return
				}
				var got []int64
				if k%2 == 0 {
					b := resp.GetRawOutputContents()[1]
					for i := 0; i+8 <= len(b); i += 8 {
						got = append(got, int64(binary.LittleEndian.Uint64(b[i:])))
					}
				} else {
					got = resp.GetOutputs()[1].GetContents().GetInt64Contents()
				}
				if resp.GetId() != id || len(got) != 3 || got[0] != int64(g) || got[1] != int64(k) {
					errs <- fmt.Errorf("request %s: answer %s with %v", id, resp.GetId(), got)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// BenchmarkGRPCModelInfer measures one one-row FP32 request to the fake
// "echo" over a real gRPC connection (in memory): the front end's cost
// with the transport, the model's none.
func BenchmarkGRPCModelInfer(b *testing.B) {
	c := startGRPC(b, newFakeRegistry(), GRPCOptions{})
	ctx := context.Background()
	x := sample{in: &pb.ModelInferRequest_InferInputTensor{Name: "x", Datatype: "FP32", Shape: []int64{1, 2},
		Contents: &pb.InferTensorContents{Fp32Contents: []float32{1, 2}}}, raw: le32(math.Float32bits(1), math.Float32bits(2))}
	for _, raw := range []bool{false, true} {
		b.Run(fmt.Sprintf("raw=%v", raw), func(b *testing.B) {
			r := request(raw, x)
			r.Parameters = nil
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.ModelInfer(ctx, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestGRPCLoopback serves on a TCP loopback port, as the daemon does,
// with clients in flight, and checks GracefulStop leaves no goroutine
// behind.
func TestGRPCLoopback(t *testing.T) {
	before := runtime.NumGoroutine()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewGRPCServer(newFakeRegistry(), GRPCOptions{Token: "t"})
	served := make(chan error, 1)
	go func() { served <- s.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	c := pb.NewGRPCInferenceServiceClient(conn)
	ctx := metadata.AppendToOutgoingContext(testCtx(t), "authorization", "Bearer t")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				if _, err := c.ModelInfer(ctx, request(true, samples()...)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	s.GracefulStop()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	conn.Close()
	// The goroutines of the connection end soon after; wait for them with
	// a generous safety deadline, not a speed requirement.
	deadline := time.Now().Add(30 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after GracefulStop, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
