package serve

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/sdk"
	pb "github.com/edgerun/edgerun/tools/edgerun/internal/serve/kservepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// DefaultGRPCMaxRecvMsgSize is the largest request message the gRPC
// front end reads when GRPCOptions.MaxRecvMsgSize is 0 (gRPC's own
// default, 4 MiB). A larger one fails with RESOURCE_EXHAUSTED.
const DefaultGRPCMaxRecvMsgSize = 4 << 20

// GRPCOptions are how NewGRPCServer serves.
type GRPCOptions struct {
	// MaxRecvMsgSize bounds one request message, in bytes (0:
	// DefaultGRPCMaxRecvMsgSize). Larger ones are refused with
	// RESOURCE_EXHAUSTED before they are decoded.
	MaxRecvMsgSize int
	// MaxElements bounds the elements one input's shape may claim (0:
	// format.DefaultMaxElements). The data must match the shape anyway;
	// this keeps the product of the dimensions in range.
	MaxElements int
	// Token, when set, is the bearer token every RPC but ServerLive and
	// ServerReady must carry as "authorization: Bearer TOKEN" metadata;
	// without it, or with another, the call fails with UNAUTHENTICATED.
	Token string
	// Name, Version and Extensions are what ServerMetadata answers (Name
	// "" is "edgerun").
	Name, Version string
	Extensions    []string
	// Logger logs a panic recovered in a handler (nil: slog.Default()).
	Logger *slog.Logger
	// ServerOptions are added to the server's (e.g. more interceptors with
	// grpc.ChainUnaryInterceptor; they run after the token check).
	ServerOptions []grpc.ServerOption
}

// NewGRPCServer returns a gRPC server that serves the Open Inference
// Protocol's gRPC API, KServe's GRPCInferenceService (package inference of
// grpc_predict_v2.proto, see kservepb), on reg; a KServe or Triton gRPC
// client talks to it unchanged. The caller calls Serve on a listener, and
// GracefulStop or Stop.
//
//   - ServerLive and ServerReady answer reg.Live and reg.Ready; they need
//     no token. ServerMetadata answers opt's Name, Version and Extensions.
//   - ModelReady (name, version "" for the served one) answers whether the
//     model serves (state ready): NOT_FOUND for an unknown model or
//     version, INVALID_ARGUMENT without a name.
//   - ModelMetadata answers the name, versions, platform (edgerun_erm or
//     edgerun_plugin) and the inputs and outputs with datatype and shape
//     (-1: any size); UNAVAILABLE while the model loads for the first time.
//   - ModelInfer takes the id, the parameters (bool, int64 and string
//     values, which models see as strings: "true", "42"), the outputs
//     asked for (none: all; no output parameters) and the inputs (FP32,
//     INT64, INT32, BOOL, BYTES; no input parameters), each with its data
//     either in the contents field of its datatype (fp32_contents,
//     int64_contents, int_contents, bool_contents, bytes_contents) or in
//     raw_input_contents, one entry per input in order: little-endian
//     values, BOOL one byte 0 or 1, BYTES each element a 4-byte
//     little-endian length and its bytes. The data must match the shape
//     exactly. The answer carries the model's name and version, the id,
//     the model's parameters (as string values) and the outputs asked for,
//     their data in raw_output_contents when the request used
//     raw_input_contents (as Triton does), else in typed contents.
//
// Errors are gRPC statuses with the code Status gives (INVALID_ARGUMENT for
// a malformed request or one the model refuses, NOT_FOUND, UNAVAILABLE
// while loading or restarting, RESOURCE_EXHAUSTED for a full queue or a
// message over MaxRecvMsgSize, DEADLINE_EXCEEDED, INTERNAL) and the error's
// text as the message. With a Token, every RPC but the two health ones
// fails with UNAUTHENTICATED unless its "authorization" metadata is
// "Bearer TOKEN". A panic in a handler is logged and answered INTERNAL.
func NewGRPCServer(reg Registry, opt GRPCOptions) *grpc.Server {
	if opt.MaxRecvMsgSize <= 0 {
		opt.MaxRecvMsgSize = DefaultGRPCMaxRecvMsgSize
	}
	if opt.MaxElements <= 0 {
		opt.MaxElements = int(format.DefaultMaxElements)
	}
	if opt.Name == "" {
		opt.Name = "edgerun"
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	g := &grpcService{reg: reg, opt: opt}
	sopts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(opt.MaxRecvMsgSize),
		grpc.ChainUnaryInterceptor(g.recoverPanic, g.auth),
	}
	s := grpc.NewServer(append(sopts, opt.ServerOptions...)...)
	pb.RegisterGRPCInferenceServiceServer(s, g)
	return s
}

// grpcService implements pb.GRPCInferenceServiceServer on a Registry.
type grpcService struct {
	pb.UnimplementedGRPCInferenceServiceServer
	reg Registry
	opt GRPCOptions
}

// grpcError is err as a gRPC status, with the code Status gives it.
func grpcError(err error) error {
	_, code := Status(err)
	return status.Error(code, err.Error())
}

// recoverPanic turns a panic in a handler into INTERNAL (and a log line) rather
// than a crash of the daemon.
func (g *grpcService) recoverPanic(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			g.opt.Logger.Error("grpc: panic in handler", "method", info.FullMethod, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp, err = nil, status.Errorf(codes.Internal, "serve: internal error in %s", info.FullMethod)
		}
	}()
	return h(ctx, req)
}

// auth checks the bearer token, when one is set, on every RPC but the
// health ones (as the REST front end does).
func (g *grpcService) auth(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if g.opt.Token == "" || info.FullMethod == pb.GRPCInferenceService_ServerLive_FullMethodName ||
		info.FullMethod == pb.GRPCInferenceService_ServerReady_FullMethodName {
		return h(ctx, req)
	}
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		scheme, tok, ok := strings.Cut(v, " ")
		if ok && strings.EqualFold(scheme, "Bearer") &&
			subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(g.opt.Token)) == 1 {
			return h(ctx, req)
		}
	}
	return nil, status.Error(codes.Unauthenticated, `serve: a bearer token is required ("authorization: Bearer TOKEN" metadata)`)
}

func (g *grpcService) ServerLive(context.Context, *pb.ServerLiveRequest) (*pb.ServerLiveResponse, error) {
	return &pb.ServerLiveResponse{Live: g.reg.Live()}, nil
}

func (g *grpcService) ServerReady(context.Context, *pb.ServerReadyRequest) (*pb.ServerReadyResponse, error) {
	return &pb.ServerReadyResponse{Ready: g.reg.Ready()}, nil
}

func (g *grpcService) ServerMetadata(context.Context, *pb.ServerMetadataRequest) (*pb.ServerMetadataResponse, error) {
	return &pb.ServerMetadataResponse{Name: g.opt.Name, Version: g.opt.Version, Extensions: g.opt.Extensions}, nil
}

// model looks a model up: INVALID_ARGUMENT without a name, NOT_FOUND for
// an unknown one.
func (g *grpcService) model(name, version string) (ModelInfo, error) {
	if name == "" {
		return ModelInfo{}, status.Error(codes.InvalidArgument, "serve: the model name is empty")
	}
	info, err := g.reg.Model(name, version)
	if err != nil {
		return ModelInfo{}, grpcError(err)
	}
	return info, nil
}

// ModelReady answers NOT_FOUND for an unknown model or version, else
// whether it serves.
func (g *grpcService) ModelReady(_ context.Context, r *pb.ModelReadyRequest) (*pb.ModelReadyResponse, error) {
	info, err := g.model(r.GetName(), r.GetVersion())
	if err != nil {
		return nil, err
	}
	return &pb.ModelReadyResponse{Ready: info.State == StateReady}, nil
}

// ModelMetadata describes a model: UNAVAILABLE while it loads for the
// first time (no description yet).
func (g *grpcService) ModelMetadata(_ context.Context, r *pb.ModelMetadataRequest) (*pb.ModelMetadataResponse, error) {
	info, err := g.model(r.GetName(), r.GetVersion())
	if err != nil {
		return nil, err
	}
	if info.Desc == nil {
		return nil, grpcError(fmt.Errorf("model %q (%s): %w", info.Name, info.State, ErrUnavailable))
	}
	versions := info.Versions
	if len(versions) == 0 && info.Version != "" {
		versions = []string{info.Version}
	}
	return &pb.ModelMetadataResponse{
		Name:     info.Name,
		Versions: versions,
		Platform: info.Platform,
		Inputs:   tensorMetadata(info.Desc.Inputs),
		Outputs:  tensorMetadata(info.Desc.Outputs),
	}, nil
}

func tensorMetadata(specs []sdk.TensorSpec) []*pb.ModelMetadataResponse_TensorMetadata {
	out := make([]*pb.ModelMetadataResponse_TensorMetadata, len(specs))
	for i, s := range specs {
		out[i] = &pb.ModelMetadataResponse_TensorMetadata{Name: s.Name, Datatype: s.Datatype, Shape: s.Shape}
	}
	return out
}

// ModelInfer runs a request: its inputs from typed contents or
// raw_input_contents, its answer in the same form (raw when the request
// was, as Triton does).
func (g *grpcService) ModelInfer(ctx context.Context, r *pb.ModelInferRequest) (*pb.ModelInferResponse, error) {
	if r.GetModelName() == "" {
		return nil, status.Error(codes.InvalidArgument, "serve: model_name is empty")
	}
	req, err := inferRequestFromPB(r, g.opt.MaxElements)
	if err != nil {
		return nil, grpcError(err)
	}
	resp, err := g.reg.Infer(ctx, r.GetModelName(), r.GetModelVersion(), req)
	if err != nil {
		return nil, grpcError(err)
	}
	out, err := inferResponseToPB(resp, req, len(r.GetRawInputContents()) > 0)
	if err != nil {
		return nil, grpcError(err)
	}
	return out, nil
}
