package sdk_test

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/internal/fake"
	"github.com/edgerun/edgerun/sdk/sdktest"
)

// overEveryVersion runs test on m served through each plugin protocol
// version (1: gRPC; 2: Infer on the direct channel).
func overEveryVersion(t *testing.T, m sdk.Model, test func(t *testing.T, m sdk.Model)) {
	for v := 1; v <= sdk.ProtocolVersion; v++ {
		t.Run("v"+strconv.Itoa(v), func(t *testing.T) { test(t, sdktest.ServeVersion(t, m, v)) })
	}
}

func TestConformance(t *testing.T) {
	m := &fake.Model{}
	t.Run("direct", func(t *testing.T) { sdktest.Run(t, m) })
	overEveryVersion(t, m, func(t *testing.T, m sdk.Model) {
		sdktest.Run(t, m)
		sdktest.Run(t, m, sdktest.WithRequests(fake.Request("a", "bb", "ccc")))
	})
}

func TestErrorsCrossTheWire(t *testing.T) {
	overEveryVersion(t, &fake.Model{}, testErrorsCrossTheWire)
}

func testErrorsCrossTheWire(t *testing.T, m sdk.Model) {
	ctx := context.Background()

	// Bad input: the plugin's message, intact, and ErrInvalidInput.
	req := fake.Request("hello")
	req.Inputs[0].BYTES[0] = nil
	_, err := m.Infer(ctx, req)
	if want := `input "text": text 0 is empty`; err == nil || err.Error() != want {
		t.Fatalf("empty text: err = %v, want %q", err, want)
	}
	if !errors.Is(err, sdk.ErrInvalidInput) {
		t.Errorf("empty text: %v does not match ErrInvalidInput", err)
	}
	if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument {
		t.Errorf("empty text: code %v, want InvalidArgument", st.Code())
	}

	// Any other error: message intact, not invalid input.
	req = fake.Request("hello")
	req.Parameters = map[string]string{"fail": "fake: the model file is corrupt"}
	_, err = m.Infer(ctx, req)
	if err == nil || err.Error() != "fake: the model file is corrupt" {
		t.Fatalf("fail: err = %v", err)
	}
	if errors.Is(err, sdk.ErrInvalidInput) {
		t.Errorf("fail: %v matches ErrInvalidInput", err)
	}

	// A panic in the model is an error, and the plugin keeps serving.
	req = fake.Request("hello")
	req.Parameters = map[string]string{"panic": "1"}
	if _, err = m.Infer(ctx, req); err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("panic: err = %v", err)
	}
	if _, err := m.Infer(ctx, fake.Request("hello")); err != nil {
		t.Fatalf("after panic: %v", err)
	}
}

func TestHealthError(t *testing.T) {
	f := &fake.Model{}
	overEveryVersion(t, f, func(t *testing.T, m sdk.Model) {
		f.Unhealthy.Store(false)
		testHealthError(t, f, m)
	})
}

func testHealthError(t *testing.T, f *fake.Model, m sdk.Model) {
	if err := m.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.Unhealthy.Store(true)
	if err := m.Health(context.Background()); err == nil || err.Error() != "fake: unhealthy on purpose" {
		t.Fatalf("Health = %v", err)
	}
}

func TestDeadlinePassesThrough(t *testing.T) {
	overEveryVersion(t, &fake.Model{}, testDeadlinePassesThrough)
}

func testDeadlinePassesThrough(t *testing.T, m sdk.Model) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := m.Infer(ctx, fake.Request("hello"))
	if err != nil {
		t.Fatal(err)
	}
	left, _ := strconv.Atoi(resp.Parameters["deadline_ms"])
	if left <= 3000 || left > 5000 {
		t.Errorf("the plugin saw %d ms left of a 5 s deadline", left)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req := fake.Request("hello")
	req.Parameters = map[string]string{"sleep": "10s"}
	start := time.Now()
	_, err = m.Infer(ctx, req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("sleep past the deadline: err = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the call took %v past a 100 ms deadline", d)
	}
}

// mirror answers every input as an output of the same name: it checks that
// every datatype, shape, parameter and id crosses the wire unchanged.
type mirror struct{}

func (mirror) Describe(context.Context) (*sdk.Description, error) {
	return &sdk.Description{Name: "mirror", Version: "1", Domain: "test"}, nil
}
func (mirror) Health(context.Context) error { return nil }
func (mirror) Infer(_ context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	return &sdk.InferResponse{ID: req.ID, ModelName: "mirror", ModelVersion: "1", Outputs: req.Inputs, Parameters: req.Parameters}, nil
}

func TestTensorsRoundTrip(t *testing.T) {
	overEveryVersion(t, mirror{}, testTensorsRoundTrip)
}

func testTensorsRoundTrip(t *testing.T, m sdk.Model) {
	req := &sdk.InferRequest{
		ID: "req-7",
		Inputs: []sdk.Tensor{
			{Name: "f", Datatype: sdk.FP32, Shape: []int64{2, 2}, FP32: []float32{1.5, -2, 0, 3e-8}},
			{Name: "l", Datatype: sdk.INT64, Shape: []int64{3}, INT64: []int64{-1, 1 << 62, 0}},
			{Name: "i", Datatype: sdk.INT32, Shape: []int64{1}, INT32: []int32{-7}},
			{Name: "b", Datatype: sdk.BYTES, Shape: []int64{2}, BYTES: [][]byte{[]byte("héllo"), {0, 255}}},
			{Name: "o", Datatype: sdk.BOOL, Shape: []int64{2}, BOOL: []bool{true, false}},
		},
		Parameters: map[string]string{"top_k": "3"},
	}
	resp, err := m.Infer(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ID != "req-7" || resp.ModelName != "mirror" || resp.Parameters["top_k"] != "3" {
		t.Errorf("response header %+v", resp)
	}
	if !reflect.DeepEqual(resp.Outputs, req.Inputs) {
		t.Errorf("tensors changed on the wire:\n got %+v\nwant %+v", resp.Outputs, req.Inputs)
	}
}

func TestValidateRequest(t *testing.T) {
	d, _ := (&fake.Model{}).Describe(context.Background())
	if err := sdk.ValidateRequest(d, fake.Request("a", "b")); err != nil {
		t.Fatalf("valid request: %v", err)
	}
	for _, c := range sdktest.BadRequests(d, fake.Request("a", "b")) {
		if c.Name == "empty_string/text" {
			continue // the model's own rule, not the schema's
		}
		if err := sdk.ValidateRequest(d, c.Request); !errors.Is(err, sdk.ErrInvalidInput) {
			t.Errorf("%s: ValidateRequest = %v, want an ErrInvalidInput", c.Name, err)
		}
	}
}

// TestOptionalInputs: a request may leave out an Optional input but not a
// required one, the bad-request suite does not call leaving it out an
// error, and the flag and categories cross the wire.
func TestOptionalInputs(t *testing.T) {
	d := &sdk.Description{Name: "m", Inputs: []sdk.TensorSpec{
		{Name: "a", Datatype: sdk.INT64, Shape: []int64{-1}},
		{Name: "b", Datatype: sdk.INT64, Shape: []int64{-1}, Optional: true},
		{Name: "c", Datatype: sdk.BYTES, Shape: []int64{-1}, Categories: []string{"x", "y"}, Optional: true},
	}}
	a := sdk.Tensor{Name: "a", Datatype: sdk.INT64, Shape: []int64{1}, INT64: []int64{1}}
	b := sdk.Tensor{Name: "b", Datatype: sdk.INT64, Shape: []int64{1}, INT64: []int64{2}}
	if err := sdk.ValidateRequest(d, &sdk.InferRequest{Inputs: []sdk.Tensor{a}}); err != nil {
		t.Errorf("without the optional inputs: %v", err)
	}
	err := sdk.ValidateRequest(d, &sdk.InferRequest{Inputs: []sdk.Tensor{b}})
	if !errors.Is(err, sdk.ErrInvalidInput) || !strings.Contains(err.Error(), `missing input "a"`) {
		t.Errorf("without the required input: %v", err)
	}
	req := sdktest.RequestFor(d)
	if len(req.Inputs) != 1 || req.Inputs[0].Name != "a" {
		t.Errorf("RequestFor sends %+v, want only the required input", req.Inputs)
	}
	for _, c := range sdktest.BadRequests(d, req) {
		if strings.HasPrefix(c.Name, "missing/b") || strings.HasPrefix(c.Name, "missing/c") {
			t.Errorf("bad request %q leaves out an optional input", c.Name)
		}
	}
	got := sdk.DescriptionFromProtoForTest(sdk.DescriptionToProtoForTest(d))
	if !reflect.DeepEqual(got.Inputs, d.Inputs) {
		t.Errorf("over the wire: %+v, want %+v", got.Inputs, d.Inputs)
	}
}
