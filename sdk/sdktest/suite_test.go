package sdktest_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdktest"
)

// grade is a tabular model with one categorical input: it answers 1 for
// grade "A", 0 for the other known grades and refuses any other value.
type grade struct{}

func (grade) Describe(context.Context) (*sdk.Description, error) {
	return &sdk.Description{
		Name: "grade", Version: "1.0.0", Domain: "risk",
		Inputs: []sdk.TensorSpec{
			{Name: "grade", Datatype: sdk.BYTES, Shape: []int64{-1}, Categories: []string{"B", "A", "C"}},
			{Name: "amount", Datatype: sdk.FP32, Shape: []int64{-1}},
		},
		Outputs: []sdk.TensorSpec{{Name: "score", Datatype: sdk.FP32, Shape: []int64{-1}}},
	}, nil
}

func (g grade) Infer(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	d, _ := g.Describe(ctx)
	if err := sdk.ValidateRequest(d, req); err != nil {
		return nil, err
	}
	grades, amounts := req.Input("grade").BYTES, req.Input("amount").FP32
	if len(grades) != len(amounts) {
		return nil, sdk.InvalidInputf("%d grades, %d amounts", len(grades), len(amounts))
	}
	score := make([]float32, len(grades))
	for i, b := range grades {
		if !slices.Contains(d.Inputs[0].Categories, string(b)) {
			return nil, sdk.InvalidInputf("grade %d: %q is not one of %q", i, b, d.Inputs[0].Categories)
		}
		if string(b) == "A" {
			score[i] = 1
		}
	}
	return &sdk.InferResponse{ID: req.ID, ModelName: d.Name, Outputs: []sdk.Tensor{
		{Name: "score", Datatype: sdk.FP32, Shape: []int64{int64(len(score))}, FP32: score}}}, nil
}

func (grade) Health(context.Context) error { return nil }

// TestCategoricalOutOfTheBox: a model with a categorical input passes the
// suite without WithRequests, in process and through the wire, because
// RequestFor sends its first category; the categories cross the wire.
func TestCategoricalOutOfTheBox(t *testing.T) {
	sdktest.Run(t, grade{})
	wire := sdktest.Serve(t, grade{})
	sdktest.Run(t, wire)
	want, _ := grade{}.Describe(context.Background())
	got, err := wire.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Inputs, want.Inputs) {
		t.Errorf("inputs through the wire %+v, want %+v", got.Inputs, want.Inputs)
	}
}

// TestRequestForCategories: the built request takes the first category
// for every element of a categorical input and a sentence for free text;
// BadRequests adds a value outside the categories.
func TestRequestForCategories(t *testing.T) {
	d := &sdk.Description{Inputs: []sdk.TensorSpec{
		{Name: "grade", Datatype: sdk.BYTES, Shape: []int64{2, -1}, Categories: []string{"B", "A"}},
		{Name: "text", Datatype: sdk.BYTES, Shape: []int64{-1}},
	}}
	req := sdktest.RequestFor(d)
	if g := req.Input("grade"); g == nil || !reflect.DeepEqual(g.Shape, []int64{2, 1}) || !reflect.DeepEqual(g.BYTES, [][]byte{[]byte("B"), []byte("B")}) {
		t.Errorf("grade input %+v, want shape [2 1] of \"B\"", g)
	}
	if tx := req.Input("text"); tx == nil || len(tx.BYTES) != 1 || len(strings.Fields(string(tx.BYTES[0]))) < 2 {
		t.Errorf("text input %+v, want one sentence", tx)
	}
	var names []string
	for _, c := range sdktest.BadRequests(d, req) {
		names = append(names, c.Name)
		if c.Name == "unknown_category/grade" {
			v := string(c.Request.Input("grade").BYTES[0])
			if v == "" || slices.Contains(d.Inputs[0].Categories, v) {
				t.Errorf("unknown_category sends %q, a known or empty value", v)
			}
		}
	}
	if !slices.Contains(names, "unknown_category/grade") || slices.Contains(names, "unknown_category/text") {
		t.Errorf("bad requests %q: want unknown_category for grade only", names)
	}
}

// counting is grade that counts its Infer calls, records the longest
// deadline it was given, and (varying) answers the call's number.
type counting struct {
	grade
	vary  bool
	mu    sync.Mutex
	calls int
	ttl   time.Duration
}

func (c *counting) Infer(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	c.mu.Lock()
	c.calls++
	n := c.calls
	if dl, ok := ctx.Deadline(); ok {
		c.ttl = max(c.ttl, time.Until(dl))
	}
	c.mu.Unlock()
	res, err := c.grade.Infer(ctx, req)
	if err == nil && c.vary {
		res.Outputs[0].FP32[0] = float32(n)
	}
	return res, err
}

// TestOptions: WithConcurrency sets how many goroutines the concurrency
// check starts (16 calls each: 4 goroutines make 48 calls more than 1),
// WithTimeout the deadline of each call, and Nondeterministic lets a
// model answer each call differently.
func TestOptions(t *testing.T) {
	one, four := &counting{}, &counting{}
	sdktest.Run(t, one, sdktest.WithConcurrency(1))
	sdktest.Run(t, four, sdktest.WithConcurrency(4), sdktest.WithTimeout(time.Hour))
	if d := four.calls - one.calls; d != 3*16 {
		t.Errorf("WithConcurrency(4) made %d calls more than WithConcurrency(1), want 48", d)
	}
	if one.ttl > 31*time.Second || four.ttl < 59*time.Minute {
		t.Errorf("call deadlines up to %v (default) and %v (WithTimeout(time.Hour))", one.ttl, four.ttl)
	}
	sdktest.Run(t, &counting{vary: true}, sdktest.Nondeterministic())
}
