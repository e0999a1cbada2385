// Package fake is a tiny sdk.Model for the sdk's own tests: it takes a batch
// of texts and a matching batch of 3-feature rows and answers each text's
// byte length and each row's sum. Request parameters make it misbehave on
// purpose: "sleep" (a duration, honouring the context), "fail" (an error
// with that message), "panic".
package fake

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/edgerun/edgerun/sdk"
)

// Model is the fake model. The zero value is ready.
type Model struct {
	// Unhealthy makes Health fail.
	Unhealthy atomic.Bool
}

var _ sdk.Model = (*Model)(nil)

var desc = sdk.Description{
	Name:    "fake",
	Version: "1.0.0",
	Domain:  "test",
	Summary: "text lengths and feature-row sums, for the sdk's tests",
	Inputs: []sdk.TensorSpec{
		{Name: "text", Datatype: sdk.BYTES, Shape: []int64{-1}},
		{Name: "features", Datatype: sdk.FP32, Shape: []int64{-1, 3}},
	},
	Outputs: []sdk.TensorSpec{
		{Name: "length", Datatype: sdk.INT64, Shape: []int64{-1}},
		{Name: "sum", Datatype: sdk.FP32, Shape: []int64{-1}},
	},
	Labels: []string{"short", "long"},
	Parameters: map[string]string{
		"sleep": "wait this long (a Go duration) before answering, or until the deadline",
		"fail":  "fail with this message",
	},
	Provenance: "hand-written test fixture, no weights",
}

// Describe implements sdk.Model.
func (m *Model) Describe(context.Context) (*sdk.Description, error) {
	d := desc
	return &d, nil
}

// Infer implements sdk.Model. Besides the outputs it reports, in the
// response's parameters, the process id ("pid") and the time left to the
// context's deadline in milliseconds ("deadline_ms", -1 for none).
func (m *Model) Infer(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	if err := sdk.ValidateRequest(&desc, req); err != nil {
		return nil, err
	}
	if s := req.Parameters["sleep"]; s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, sdk.InvalidInputf("parameter sleep: %v", err)
		}
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, fmt.Errorf("fake: gave up sleeping: %w", ctx.Err())
		}
	}
	if msg := req.Parameters["fail"]; msg != "" {
		return nil, errors.New(msg)
	}
	if req.Parameters["panic"] != "" {
		panic("fake: asked to panic")
	}
	text, feats := req.Input("text"), req.Input("features")
	n := len(text.BYTES)
	if int(feats.Shape[0]) != n {
		return nil, sdk.InvalidInputf("input \"features\" has %d rows but \"text\" has %d texts", feats.Shape[0], n)
	}
	length := sdk.Tensor{Name: "length", Datatype: sdk.INT64, Shape: []int64{int64(n)}, INT64: make([]int64, n)}
	sum := sdk.Tensor{Name: "sum", Datatype: sdk.FP32, Shape: []int64{int64(n)}, FP32: make([]float32, n)}
	for i, s := range text.BYTES {
		if len(s) == 0 {
			return nil, sdk.InvalidInputf("input \"text\": text %d is empty", i)
		}
		length.INT64[i] = int64(len(s))
		sum.FP32[i] = feats.FP32[3*i] + feats.FP32[3*i+1] + feats.FP32[3*i+2]
	}
	left := int64(-1)
	if dl, ok := ctx.Deadline(); ok {
		left = time.Until(dl).Milliseconds()
	}
	resp := &sdk.InferResponse{
		ID: req.ID, ModelName: desc.Name, ModelVersion: desc.Version,
		Parameters: map[string]string{"pid": strconv.Itoa(os.Getpid()), "deadline_ms": strconv.FormatInt(left, 10)},
	}
	for _, o := range []sdk.Tensor{length, sum} {
		if len(req.Outputs) == 0 || contains(req.Outputs, o.Name) {
			resp.Outputs = append(resp.Outputs, o)
		}
	}
	return resp, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Health implements sdk.Model.
func (m *Model) Health(context.Context) error {
	if m.Unhealthy.Load() {
		return errors.New("fake: unhealthy on purpose")
	}
	return nil
}

// Request returns a valid request for n texts.
func Request(texts ...string) *sdk.InferRequest {
	req := &sdk.InferRequest{Inputs: []sdk.Tensor{
		{Name: "text", Datatype: sdk.BYTES, Shape: []int64{int64(len(texts))}},
		{Name: "features", Datatype: sdk.FP32, Shape: []int64{int64(len(texts)), 3}},
	}}
	for i, s := range texts {
		req.Inputs[0].BYTES = append(req.Inputs[0].BYTES, []byte(s))
		req.Inputs[1].FP32 = append(req.Inputs[1].FP32, float32(i), 1, 2)
	}
	return req
}
