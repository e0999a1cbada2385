package sdk

// The gRPC transport of protocol version 1: grpcServer serves a Model in the
// plugin process, grpcClient is the Model the host calls, and the functions
// below translate between the Go types of model.go and the messages of
// sdk/proto, and between Go errors and gRPC status.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/edgerun/edgerun/sdk/proto"
)

// grpcServer serves impl. The context of each call carries the host's
// deadline (gRPC passes it through), so impl sees it as it is.
type grpcServer struct {
	pb.UnimplementedModelServer
	impl Model
}

func (s *grpcServer) Describe(ctx context.Context, _ *pb.DescribeRequest) (_ *pb.DescribeResponse, err error) {
	defer recoverTo(&err, "Describe")
	d, err := s.impl.Describe(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	if d == nil {
		return nil, status.Error(codes.Internal, "sdk: plugin's Describe returned no description")
	}
	return &pb.DescribeResponse{Description: descriptionToProto(d)}, nil
}

func (s *grpcServer) Infer(ctx context.Context, req *pb.InferRequest) (_ *pb.InferResponse, err error) {
	defer recoverTo(&err, "Infer")
	resp, err := s.impl.Infer(ctx, inferRequestFromProto(req))
	if err != nil {
		return nil, toStatus(err)
	}
	if resp == nil {
		return nil, status.Error(codes.Internal, "sdk: plugin's Infer returned no response and no error")
	}
	return inferResponseToProto(resp), nil
}

func (s *grpcServer) Health(ctx context.Context, _ *pb.HealthRequest) (_ *pb.HealthResponse, err error) {
	defer recoverTo(&err, "Health")
	if err := s.impl.Health(ctx); err != nil {
		return nil, toStatus(err)
	}
	return &pb.HealthResponse{}, nil
}

// recoverTo turns a panic in the model into an INTERNAL error for the
// caller (the plugin keeps serving) and prints the stack to stderr, which the
// host logs.
func recoverTo(err *error, method string) {
	if r := recover(); r != nil {
		fmt.Fprintf(os.Stderr, "sdk: panic in %s: %v\n%s", method, r, debug.Stack())
		*err = status.Errorf(codes.Internal, "sdk: plugin panicked in %s: %v", method, r)
	}
}

// grpcClient is the host's Model: each method is one gRPC call.
type grpcClient struct {
	client pb.ModelClient
}

var _ Model = (*grpcClient)(nil)

func (c *grpcClient) Describe(ctx context.Context) (*Description, error) {
	resp, err := c.client.Describe(ctx, &pb.DescribeRequest{})
	if err != nil {
		return nil, fromStatus(err)
	}
	return descriptionFromProto(resp.GetDescription()), nil
}

func (c *grpcClient) Infer(ctx context.Context, req *InferRequest) (*InferResponse, error) {
	if req == nil {
		return nil, InvalidInputf("sdk: nil InferRequest")
	}
	resp, err := c.client.Infer(ctx, inferRequestToProto(req))
	if err != nil {
		return nil, fromStatus(err)
	}
	return inferResponseFromProto(resp), nil
}

func (c *grpcClient) Health(ctx context.Context) error {
	_, err := c.client.Health(ctx, &pb.HealthRequest{})
	return fromStatus(err)
}

// toStatus turns a model's error into the gRPC status the host receives.
// The message is err.Error() unchanged; the code says what kind of error it
// is: INVALID_ARGUMENT for ErrInvalidInput, DEADLINE_EXCEEDED and CANCELED
// for the context's errors, UNKNOWN otherwise. An error that already carries
// a status keeps it.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	var st interface{ GRPCStatus() *status.Status }
	if errors.As(err, &st) {
		return err
	}
	code := codes.Unknown
	switch {
	case errors.Is(err, ErrInvalidInput):
		code = codes.InvalidArgument
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, ErrUnavailable):
		// A plugin that says it is unavailable (e.g. its own backend is
		// gone) is reported as failing, not as a transport failure, so the
		// host does not take it for a crash.
		code = codes.FailedPrecondition
	}
	return status.Error(code, err.Error())
}

// fromStatus turns a gRPC error into the host's error: its message is the
// plugin's message unchanged, errors.Is matches ErrInvalidInput,
// context.DeadlineExceeded, context.Canceled or ErrUnavailable according to
// the code, and status.FromError still gives the status.
func fromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	var kind error
	switch st.Code() {
	case codes.InvalidArgument:
		kind = ErrInvalidInput
	case codes.DeadlineExceeded:
		kind = context.DeadlineExceeded
	case codes.Canceled:
		kind = context.Canceled
	case codes.Unavailable:
		kind = ErrUnavailable
	}
	return &wireError{st: st, kind: kind}
}

// wireError is an error that came back from a plugin.
type wireError struct {
	st   *status.Status
	kind error
}

func (e *wireError) Error() string              { return e.st.Message() }
func (e *wireError) Unwrap() error              { return e.kind }
func (e *wireError) GRPCStatus() *status.Status { return e.st }

// Translation. Slices are shared, not copied: a message lives only for the
// duration of one call.

func descriptionToProto(d *Description) *pb.Description {
	return &pb.Description{
		Name:       d.Name,
		Version:    d.Version,
		Domain:     d.Domain,
		Summary:    d.Summary,
		Inputs:     specsToProto(d.Inputs),
		Outputs:    specsToProto(d.Outputs),
		Labels:     d.Labels,
		Parameters: d.Parameters,
		Provenance: d.Provenance,
	}
}

func descriptionFromProto(d *pb.Description) *Description {
	if d == nil {
		return &Description{}
	}
	return &Description{
		Name:       d.GetName(),
		Version:    d.GetVersion(),
		Domain:     d.GetDomain(),
		Summary:    d.GetSummary(),
		Inputs:     specsFromProto(d.GetInputs()),
		Outputs:    specsFromProto(d.GetOutputs()),
		Labels:     d.GetLabels(),
		Parameters: d.GetParameters(),
		Provenance: d.GetProvenance(),
	}
}

func specsToProto(specs []TensorSpec) []*pb.TensorSpec {
	if len(specs) == 0 {
		return nil
	}
	out := make([]*pb.TensorSpec, len(specs))
	for i, s := range specs {
		out[i] = &pb.TensorSpec{Name: s.Name, Datatype: s.Datatype, Shape: s.Shape, Categories: s.Categories, Optional: s.Optional}
	}
	return out
}

func specsFromProto(specs []*pb.TensorSpec) []TensorSpec {
	if len(specs) == 0 {
		return nil
	}
	out := make([]TensorSpec, len(specs))
	for i, s := range specs {
		out[i] = TensorSpec{Name: s.GetName(), Datatype: s.GetDatatype(), Shape: s.GetShape(), Categories: s.GetCategories(), Optional: s.GetOptional()}
	}
	return out
}

func tensorsToProto(ts []Tensor) []*pb.Tensor {
	if len(ts) == 0 {
		return nil
	}
	out := make([]*pb.Tensor, len(ts))
	for i := range ts {
		t := &ts[i]
		out[i] = &pb.Tensor{
			Name:          t.Name,
			Datatype:      t.Datatype,
			Shape:         t.Shape,
			Fp32Contents:  t.FP32,
			Int64Contents: t.INT64,
			Int32Contents: t.INT32,
			BytesContents: t.BYTES,
			BoolContents:  t.BOOL,
		}
	}
	return out
}

func tensorsFromProto(ts []*pb.Tensor) []Tensor {
	if len(ts) == 0 {
		return nil
	}
	out := make([]Tensor, len(ts))
	for i, t := range ts {
		out[i] = Tensor{
			Name:     t.GetName(),
			Datatype: t.GetDatatype(),
			Shape:    t.GetShape(),
			FP32:     t.GetFp32Contents(),
			INT64:    t.GetInt64Contents(),
			INT32:    t.GetInt32Contents(),
			BYTES:    t.GetBytesContents(),
			BOOL:     t.GetBoolContents(),
		}
	}
	return out
}

func inferRequestToProto(r *InferRequest) *pb.InferRequest {
	return &pb.InferRequest{
		Id:         r.ID,
		Inputs:     tensorsToProto(r.Inputs),
		Parameters: r.Parameters,
		Outputs:    r.Outputs,
	}
}

func inferRequestFromProto(r *pb.InferRequest) *InferRequest {
	return &InferRequest{
		ID:         r.GetId(),
		Inputs:     tensorsFromProto(r.GetInputs()),
		Parameters: r.GetParameters(),
		Outputs:    r.GetOutputs(),
	}
}

func inferResponseToProto(r *InferResponse) *pb.InferResponse {
	return &pb.InferResponse{
		Id:           r.ID,
		ModelName:    r.ModelName,
		ModelVersion: r.ModelVersion,
		Outputs:      tensorsToProto(r.Outputs),
		Parameters:   r.Parameters,
	}
}

func inferResponseFromProto(r *pb.InferResponse) *InferResponse {
	return &InferResponse{
		ID:           r.GetId(),
		ModelName:    r.GetModelName(),
		ModelVersion: r.GetModelVersion(),
		Outputs:      tensorsFromProto(r.GetOutputs()),
		Parameters:   r.GetParameters(),
	}
}
