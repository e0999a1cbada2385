package sdk

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// wideDescription has n FP32 [?] inputs f0..f(n-1), like a tabular model
// of n features, and a request of one row for it.
func wideDescription(n int) (*Description, *InferRequest) {
	d := &Description{Outputs: []TensorSpec{{Name: "y", Datatype: FP32, Shape: []int64{-1}}}}
	req := &InferRequest{}
	for i := range n {
		name := fmt.Sprintf("f%d", i)
		d.Inputs = append(d.Inputs, TensorSpec{Name: name, Datatype: FP32, Shape: []int64{-1}})
		req.Inputs = append(req.Inputs, Tensor{Name: name, Datatype: FP32, Shape: []int64{1}, FP32: []float32{float32(i)}})
	}
	return d, req
}

// TestValidateRequestOrder: the inputs in the description's order (the
// fast path) or shuffled are both valid; a duplicate, an unknown, a
// missing or a bad input is found wherever it is.
func TestValidateRequestOrder(t *testing.T) {
	d, req := wideDescription(64)
	if err := ValidateRequest(d, req); err != nil {
		t.Fatalf("in order: %v", err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	shuffled := &InferRequest{Inputs: append([]Tensor(nil), req.Inputs...)}
	rng.Shuffle(len(shuffled.Inputs), func(i, j int) { shuffled.Inputs[i], shuffled.Inputs[j] = shuffled.Inputs[j], shuffled.Inputs[i] })
	if err := ValidateRequest(d, shuffled); err != nil {
		t.Fatalf("shuffled: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(in []Tensor) []Tensor
		want string
	}{
		{"duplicate", func(in []Tensor) []Tensor { in[40] = in[3]; return in }, `input "f3" is given twice`},
		{"unknown", func(in []Tensor) []Tensor { in[10].Name = "g"; return in }, `unknown input "g"`},
		{"missing", func(in []Tensor) []Tensor { return append(in[:20], in[21:]...) }, `missing input "f20"`},
		{"missing last", func(in []Tensor) []Tensor { return in[:63] }, `missing input "f63"`},
		{"datatype", func(in []Tensor) []Tensor { in[30].Datatype = INT64; return in }, `input "f30": datatype "INT64"`},
		{"other data", func(in []Tensor) []Tensor { in[5].BOOL = []bool{true}; return in }, `input "f5": datatype FP32 but BOOL data is set`},
	} {
		in := c.edit(append([]Tensor(nil), req.Inputs...))
		err := ValidateRequest(d, &InferRequest{Inputs: in})
		if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// TestValidateRequestAllocs: validating a 64-input request allocates only
// the set of names seen, not a map per tensor.
func TestValidateRequestAllocs(t *testing.T) {
	d, req := wideDescription(64)
	allocs := testing.AllocsPerRun(100, func() {
		if err := ValidateRequest(d, req); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 4 {
		t.Errorf("ValidateRequest of 64 inputs: %.0f allocations, want at most 4", allocs)
	}
}

func BenchmarkValidateRequest64(b *testing.B) {
	d, req := wideDescription(64)
	b.ReportAllocs()
	for b.Loop() {
		_ = ValidateRequest(d, req)
	}
}
