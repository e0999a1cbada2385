package serve

import (
	"cmp"
	"context"
	"net"
	"slices"
	"sync"
	"testing"

	"github.com/edgerun/edgerun/sdk"
	pb "github.com/edgerun/edgerun/tools/edgerun/internal/serve/kservepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
)

// fakeRegistry is a Registry of made-up models for the gRPC tests: "echo"
// answers each input as the output of the same name (every input
// optional), "loading" has no description yet, "fail" returns err, "bad"
// returns a malformed output, "panic" panics. Infer checks requests with
// sdk.ValidateRequest, as the real registry's models do.
type fakeRegistry struct {
	mu     sync.Mutex
	ready  bool
	err    error // what "fail" returns
	models map[string]ModelInfo
}

// echoSpecs are the inputs and outputs of "echo".
var echoSpecs = []sdk.TensorSpec{
	{Name: "x", Datatype: sdk.FP32, Shape: []int64{-1, 2}, Optional: true},
	{Name: "i", Datatype: sdk.INT64, Shape: []int64{-1}, Optional: true},
	{Name: "j", Datatype: sdk.INT32, Shape: []int64{-1}, Optional: true},
	{Name: "b", Datatype: sdk.BOOL, Shape: []int64{-1}, Optional: true},
	{Name: "s", Datatype: sdk.BYTES, Shape: []int64{-1}, Optional: true},
}

func newFakeRegistry() *fakeRegistry {
	desc := &sdk.Description{Name: "echo", Version: "v2", Inputs: echoSpecs, Outputs: echoSpecs}
	ready := func(name string, platform string) ModelInfo {
		return ModelInfo{Name: name, Version: "v2", Versions: []string{"v2"}, Platform: platform, Desc: desc, State: StateReady}
	}
	m := map[string]ModelInfo{
		"echo":    ready("echo", PlatformERM),
		"fail":    ready("fail", PlatformPlugin),
		"bad":     ready("bad", PlatformERM),
		"panic":   ready("panic", PlatformERM),
		"loading": {Name: "loading", Platform: PlatformERM, State: StateLoading},
	}
	return &fakeRegistry{ready: true, models: m}
}

func (f *fakeRegistry) Models() []ModelInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []ModelInfo
	for _, m := range f.models {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b ModelInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func (f *fakeRegistry) Model(name, version string) (ModelInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.models[name]
	if !ok || (version != "" && version != m.Version) {
		return ModelInfo{}, ErrNotFound
	}
	return m, nil
}

func (f *fakeRegistry) Infer(ctx context.Context, name, version string, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	m, err := f.Model(name, version)
	if err != nil {
		return nil, err
	}
	if m.State != StateReady {
		return nil, ErrUnavailable
	}
	switch name {
	case "fail":
		f.mu.Lock()
		defer f.mu.Unlock()
		return nil, f.err
	case "panic":
		panic("fake model panics")
	}
	if err := sdk.ValidateRequest(m.Desc, req); err != nil {
		return nil, err
	}
	resp := &sdk.InferResponse{ModelName: name, ModelVersion: m.Version, Parameters: req.Parameters}
	resp.Outputs = append(resp.Outputs, req.Inputs...)
	if name == "bad" {
		resp.Outputs = append(resp.Outputs, sdk.Tensor{Name: "x", Datatype: sdk.FP32, Shape: []int64{2, 2}, FP32: []float32{1}})
	}
	return resp, nil
}

func (f *fakeRegistry) Live() bool { return true }

func (f *fakeRegistry) Ready() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready
}

// startGRPC serves reg with opt on an in-memory listener and returns a
// client of the generated code over a real gRPC connection.
func startGRPC(t testing.TB, reg Registry, opt GRPCOptions) pb.GRPCInferenceServiceClient {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	s := NewGRPCServer(reg, opt)
	done := make(chan error, 1)
	go func() { done <- s.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		s.Stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return pb.NewGRPCInferenceServiceClient(conn)
}
