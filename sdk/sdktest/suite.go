package sdktest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/edgerun/edgerun/sdk"
)

// Option changes what Run does.
type Option func(*config)

type config struct {
	requests      []*sdk.InferRequest
	deterministic bool
	concurrency   int
	timeout       time.Duration
}

// WithRequests gives Run valid requests to use instead of the one it builds
// from the description (RequestFor: numbers are small values, categorical
// inputs their first category, other text an English sentence): a model
// whose valid inputs are narrower, such as known user ids, passes requests
// it answers. The bad-input cases and the concurrency check are derived
// from the first one.
func WithRequests(reqs ...*sdk.InferRequest) Option {
	return func(c *config) { c.requests = append(c.requests, reqs...) }
}

// Nondeterministic tells Run the model may answer the same request
// differently, so concurrent answers are not compared with the first one.
func Nondeterministic() Option {
	return func(c *config) { c.deterministic = false }
}

// WithConcurrency sets how many goroutines call Infer at once (default 8).
func WithConcurrency(n int) Option {
	return func(c *config) { c.concurrency = n }
}

// WithTimeout bounds each call Run makes (default 30 s).
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// Run is the conformance suite of the plugin contract: it checks that m
//   - describes itself completely and consistently (name, version, domain,
//     inputs and outputs with valid datatypes and shapes, unique names and
//     labels; the same answer twice),
//   - is healthy,
//   - answers valid requests (the one built from its input specs, or those
//     of WithRequests) with the request's id, its own name, and only
//     described outputs whose data matches their datatype and shape, and
//     honours a request for one output,
//   - answers bad input (no inputs, a missing, unknown or repeated input, a
//     wrong datatype, a wrong rank, data that does not match the shape, an
//     empty tensor, an empty string, a value outside an input's
//     Categories, an unknown output) with an error matching
//     sdk.ErrInvalidInput, never a panic and never an answer,
//   - serves concurrent Infer calls, with the same answers as one at a time.
//
// m can be the model itself or the host's view of it (Serve, sdk.Open).
func Run(t *testing.T, m sdk.Model, opts ...Option) {
	t.Helper()
	cfg := config{deterministic: true, concurrency: 8, timeout: 30 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	s := &suite{m: m, cfg: cfg}

	ok := t.Run("Describe", s.testDescribe)
	if !ok || s.desc == nil {
		t.Fatal("sdktest: Describe failed; the other checks need the description")
	}
	t.Run("Health", s.testHealth)
	reqs := cfg.requests
	if len(reqs) == 0 {
		reqs = []*sdk.InferRequest{RequestFor(s.desc)}
	}
	s.reqs = reqs
	t.Run("Infer", s.testInfer)
	t.Run("BadInput", s.testBadInput)
	t.Run("Concurrent", s.testConcurrent)
}

type suite struct {
	m    sdk.Model
	cfg  config
	desc *sdk.Description
	reqs []*sdk.InferRequest
}

func (s *suite) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.timeout)
	t.Cleanup(cancel)
	return ctx
}

// call runs f and turns a panic into a test failure.
func call[T any](t *testing.T, what string, f func() (T, error)) (v T, err error, panicked bool) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", what, r)
			panicked = true
		}
	}()
	v, err = f()
	return v, err, false
}

func (s *suite) testDescribe(t *testing.T) {
	ctx := s.ctx(t)
	d, err, p := call(t, "Describe", func() (*sdk.Description, error) { return s.m.Describe(ctx) })
	if p {
		return
	}
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	if d == nil {
		t.Fatal("Describe returned nil and no error")
	}
	for _, f := range []struct{ name, v string }{{"Name", d.Name}, {"Version", d.Version}, {"Domain", d.Domain}} {
		if f.v == "" {
			t.Errorf("Description.%s is empty", f.name)
		}
	}
	checkSpecs(t, "input", d.Inputs)
	checkSpecs(t, "output", d.Outputs)
	seen := map[string]bool{}
	for i, l := range d.Labels {
		if l == "" {
			t.Errorf("label %d is empty", i)
		}
		if seen[l] {
			t.Errorf("label %q appears twice", l)
		}
		seen[l] = true
	}
	for k, v := range d.Parameters {
		if k == "" || v == "" {
			t.Errorf("parameter %q: name and meaning must both be given (%q)", k, v)
		}
	}
	d2, err := s.m.Describe(ctx)
	if err != nil {
		t.Fatalf("second Describe: %v", err)
	}
	if !reflect.DeepEqual(normDesc(d), normDesc(d2)) {
		t.Errorf("Describe is not consistent:\n first %+v\nsecond %+v", d, d2)
	}
	if !t.Failed() {
		s.desc = d
	}
}

func checkSpecs(t *testing.T, what string, specs []sdk.TensorSpec) {
	t.Helper()
	if len(specs) == 0 {
		t.Errorf("no %ss described", what)
	}
	seen := map[string]bool{}
	for _, sp := range specs {
		if sp.Name == "" {
			t.Errorf("%s with no name: %+v", what, sp)
		}
		if seen[sp.Name] {
			t.Errorf("%s %q described twice", what, sp.Name)
		}
		seen[sp.Name] = true
		if !sdk.ValidDatatype(sp.Datatype) {
			t.Errorf("%s %q: datatype %q is not FP32, INT64, INT32, BYTES or BOOL", what, sp.Name, sp.Datatype)
		}
		if len(sp.Shape) == 0 {
			t.Errorf("%s %q: no shape", what, sp.Name)
		}
		for _, d := range sp.Shape {
			if d == 0 || d < -1 {
				t.Errorf("%s %q: shape %v: each dimension is positive or -1", what, sp.Name, sp.Shape)
				break
			}
		}
		if len(sp.Categories) > 0 && sp.Datatype != sdk.BYTES {
			t.Errorf("%s %q: categories are for BYTES tensors, not %s", what, sp.Name, sp.Datatype)
		}
		cats := map[string]bool{}
		for _, c := range sp.Categories {
			if c == "" {
				t.Errorf("%s %q: an empty category", what, sp.Name)
			}
			if cats[c] {
				t.Errorf("%s %q: category %q appears twice", what, sp.Name, c)
			}
			cats[c] = true
		}
	}
}

// normDesc makes empty and nil slices and maps compare equal.
func normDesc(d *sdk.Description) sdk.Description {
	c := *d
	if len(c.Labels) == 0 {
		c.Labels = nil
	}
	if len(c.Parameters) == 0 {
		c.Parameters = nil
	}
	norm := func(specs []sdk.TensorSpec) []sdk.TensorSpec {
		if len(specs) == 0 {
			return nil
		}
		specs = slices.Clone(specs)
		for i := range specs {
			if len(specs[i].Categories) == 0 {
				specs[i].Categories = nil
			}
		}
		return specs
	}
	c.Inputs, c.Outputs = norm(c.Inputs), norm(c.Outputs)
	return c
}

func (s *suite) testHealth(t *testing.T) {
	ctx := s.ctx(t)
	_, err, _ := call(t, "Health", func() (struct{}, error) { return struct{}{}, s.m.Health(ctx) })
	if err != nil {
		t.Errorf("Health: %v", err)
	}
}

func (s *suite) infer(t *testing.T, req *sdk.InferRequest) (*sdk.InferResponse, error, bool) {
	t.Helper()
	ctx := s.ctx(t)
	return call(t, "Infer", func() (*sdk.InferResponse, error) { return s.m.Infer(ctx, req) })
}

func (s *suite) testInfer(t *testing.T) {
	for i, req := range s.reqs {
		t.Run(fmt.Sprintf("request%d", i), func(t *testing.T) {
			req := clone(req)
			req.ID = fmt.Sprintf("sdktest-%d", i)
			resp, err, p := s.infer(t, req)
			if p {
				return
			}
			if err != nil {
				t.Fatalf("Infer(%s): %v", describeReq(req), err)
			}
			s.checkResponse(t, req, resp)
			if len(s.desc.Outputs) > 1 {
				one := clone(req)
				one.Outputs = []string{resp.Outputs[0].Name}
				resp, err := s.m.Infer(s.ctx(t), one)
				if err != nil {
					t.Fatalf("Infer asking only for output %q: %v", one.Outputs[0], err)
				}
				s.checkResponse(t, one, resp)
			}
		})
	}
}

func (s *suite) checkResponse(t *testing.T, req *sdk.InferRequest, resp *sdk.InferResponse) {
	t.Helper()
	if resp == nil {
		t.Fatal("Infer returned nil and no error")
	}
	if resp.ID != req.ID {
		t.Errorf("response id %q, want the request's %q", resp.ID, req.ID)
	}
	if resp.ModelName != s.desc.Name {
		t.Errorf("response model name %q, want %q", resp.ModelName, s.desc.Name)
	}
	if len(resp.Outputs) == 0 {
		t.Fatal("response has no outputs")
	}
	seen := map[string]bool{}
	for i := range resp.Outputs {
		o := &resp.Outputs[i]
		if seen[o.Name] {
			t.Errorf("output %q appears twice", o.Name)
		}
		seen[o.Name] = true
		spec, ok := findSpec(s.desc.Outputs, o.Name)
		if !ok {
			t.Errorf("output %q is not described", o.Name)
			continue
		}
		if len(req.Outputs) > 0 && !slices.Contains(req.Outputs, o.Name) {
			t.Errorf("output %q was not asked for (asked: %v)", o.Name, req.Outputs)
		}
		if err := sdk.CheckTensor(o, spec); err != nil {
			t.Errorf("output does not match its description: %v", err)
		}
	}
}

func findSpec(specs []sdk.TensorSpec, name string) (sdk.TensorSpec, bool) {
	for _, sp := range specs {
		if sp.Name == name {
			return sp, true
		}
	}
	return sdk.TensorSpec{}, false
}

func (s *suite) testBadInput(t *testing.T) {
	for _, c := range BadRequests(s.desc, s.reqs[0]) {
		t.Run(c.Name, func(t *testing.T) {
			resp, err, p := s.infer(t, c.Request)
			if p {
				return
			}
			if err == nil {
				t.Fatalf("Infer(%s) = %+v, want an error", describeReq(c.Request), resp)
			}
			if !errors.Is(err, sdk.ErrInvalidInput) {
				t.Errorf("Infer(%s): error %q does not match sdk.ErrInvalidInput (return sdk.InvalidInputf or wrap sdk.ErrInvalidInput)", describeReq(c.Request), err)
			}
			if err.Error() == "" {
				t.Error("error has an empty message")
			}
		})
	}
}

func (s *suite) testConcurrent(t *testing.T) {
	req := clone(s.reqs[0])
	want, err := s.m.Infer(s.ctx(t), req)
	if err != nil {
		t.Fatalf("Infer: %v", err)
	}
	const perWorker = 16
	var wg sync.WaitGroup
	errs := make(chan error, s.cfg.concurrency*perWorker)
	for range s.cfg.concurrency {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.timeout)
			defer cancel()
			defer func() {
				if r := recover(); r != nil {
					errs <- fmt.Errorf("concurrent Infer panicked: %v", r)
				}
			}()
			for range perWorker {
				got, err := s.m.Infer(ctx, clone(req))
				if err != nil {
					errs <- fmt.Errorf("concurrent Infer: %w", err)
					return
				}
				if s.cfg.deterministic && !reflect.DeepEqual(got.Outputs, want.Outputs) {
					errs <- fmt.Errorf("concurrent Infer answered %+v, alone %+v", got.Outputs, want.Outputs)
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

// RequestFor builds a valid-looking request from d's input specs: dimensions
// of any size become 1, FP32 data 0.5, integers 1, BOOL false, BYTES the
// spec's first category when it has categories, else an English sentence.
// It sends the required inputs, or the first Optional one when every
// input is optional (give other combinations with WithRequests).
func RequestFor(d *sdk.Description) *sdk.InferRequest {
	req := &sdk.InferRequest{}
	specs := make([]sdk.TensorSpec, 0, len(d.Inputs))
	for _, sp := range d.Inputs {
		if !sp.Optional {
			specs = append(specs, sp)
		}
	}
	if len(specs) == 0 && len(d.Inputs) > 0 {
		specs = d.Inputs[:1]
	}
	for _, sp := range specs {
		shape := make([]int64, len(sp.Shape))
		n := 1
		for i, v := range sp.Shape {
			if v < 1 {
				v = 1
			}
			shape[i] = v
			n *= int(v)
		}
		t := sdk.Tensor{Name: sp.Name, Datatype: sp.Datatype, Shape: shape}
		fill(&t, n)
		if sp.Datatype == sdk.BYTES && len(sp.Categories) > 0 {
			for i := range t.BYTES {
				t.BYTES[i] = []byte(sp.Categories[0])
			}
		}
		req.Inputs = append(req.Inputs, t)
	}
	return req
}

func fill(t *sdk.Tensor, n int) {
	t.FP32, t.INT64, t.INT32, t.BYTES, t.BOOL = nil, nil, nil, nil, nil
	switch t.Datatype {
	case sdk.FP32:
		t.FP32 = make([]float32, n)
		for i := range t.FP32 {
			t.FP32[i] = 0.5
		}
	case sdk.INT64:
		t.INT64 = make([]int64, n)
		for i := range t.INT64 {
			t.INT64[i] = 1
		}
	case sdk.INT32:
		t.INT32 = make([]int32, n)
		for i := range t.INT32 {
			t.INT32[i] = 1
		}
	case sdk.BYTES:
		t.BYTES = make([][]byte, n)
		for i := range t.BYTES {
			t.BYTES[i] = []byte("the battery lasts all day and the screen is great")
		}
	case sdk.BOOL:
		t.BOOL = make([]bool, n)
	}
}

// BadRequest is one malformed request and what is wrong with it.
type BadRequest struct {
	Name    string
	Request *sdk.InferRequest
}

// BadRequests derives malformed requests from a valid one: every one must be
// refused with an error matching sdk.ErrInvalidInput.
func BadRequests(d *sdk.Description, valid *sdk.InferRequest) []BadRequest {
	var out []BadRequest
	add := func(name string, edit func(r *sdk.InferRequest)) {
		r := clone(valid)
		edit(r)
		out = append(out, BadRequest{Name: name, Request: r})
	}
	add("no_inputs", func(r *sdk.InferRequest) { r.Inputs = nil })
	add("unknown_input", func(r *sdk.InferRequest) {
		r.Inputs = append(r.Inputs, sdk.Tensor{Name: "sdktest_no_such_input", Datatype: sdk.FP32, Shape: []int64{1}, FP32: []float32{1}})
	})
	add("unknown_output", func(r *sdk.InferRequest) { r.Outputs = []string{"sdktest_no_such_output"} })
	for i, in := range valid.Inputs {
		spec, ok := findSpec(d.Inputs, in.Name)
		if !ok {
			continue
		}
		name := in.Name
		if !spec.Optional {
			add("missing/"+name, func(r *sdk.InferRequest) { r.Inputs = slices.Delete(r.Inputs, i, i+1) })
		}
		add("repeated/"+name, func(r *sdk.InferRequest) { r.Inputs = append(r.Inputs, cloneTensor(r.Inputs[i])) })
		add("wrong_datatype/"+name, func(r *sdk.InferRequest) {
			t := &r.Inputs[i]
			n := t.Len()
			if t.Datatype == sdk.BYTES {
				t.Datatype = sdk.FP32
			} else {
				t.Datatype = sdk.BYTES
			}
			fill(t, n)
		})
		add("wrong_rank/"+name, func(r *sdk.InferRequest) {
			t := &r.Inputs[i]
			t.Shape = append([]int64{1}, t.Shape...)
		})
		add("data_shorter_than_shape/"+name, func(r *sdk.InferRequest) {
			t := &r.Inputs[i]
			t.Shape = slices.Clone(t.Shape)
			t.Shape[len(t.Shape)-1]++
		})
		add("empty/"+name, func(r *sdk.InferRequest) {
			t := &r.Inputs[i]
			t.Shape = slices.Clone(t.Shape)
			t.Shape[0] = 0
			fill(t, 0)
		})
		if in.Datatype == sdk.BYTES {
			add("empty_string/"+name, func(r *sdk.InferRequest) {
				t := &r.Inputs[i]
				t.BYTES = slices.Clone(t.BYTES)
				t.BYTES[0] = []byte{}
			})
		}
		if in.Datatype == sdk.BYTES && len(spec.Categories) > 0 {
			add("unknown_category/"+name, func(r *sdk.InferRequest) {
				t := &r.Inputs[i]
				t.BYTES = slices.Clone(t.BYTES)
				t.BYTES[0] = []byte(unknownCategory(spec.Categories))
			})
		}
	}
	return out
}

// unknownCategory returns a value that is none of cats.
func unknownCategory(cats []string) string {
	v := "sdktest-no-such-category"
	for slices.Contains(cats, v) {
		v += "-"
	}
	return v
}

func clone(r *sdk.InferRequest) *sdk.InferRequest {
	c := *r
	c.Inputs = make([]sdk.Tensor, len(r.Inputs))
	for i, t := range r.Inputs {
		c.Inputs[i] = cloneTensor(t)
	}
	c.Outputs = slices.Clone(r.Outputs)
	if r.Parameters != nil {
		c.Parameters = make(map[string]string, len(r.Parameters))
		for k, v := range r.Parameters {
			c.Parameters[k] = v
		}
	}
	return &c
}

func cloneTensor(t sdk.Tensor) sdk.Tensor {
	t.Shape = slices.Clone(t.Shape)
	t.FP32 = slices.Clone(t.FP32)
	t.INT64 = slices.Clone(t.INT64)
	t.INT32 = slices.Clone(t.INT32)
	t.BOOL = slices.Clone(t.BOOL)
	if t.BYTES != nil {
		b := make([][]byte, len(t.BYTES))
		for i, s := range t.BYTES {
			b[i] = slices.Clone(s)
		}
		t.BYTES = b
	}
	return t
}

func describeReq(r *sdk.InferRequest) string {
	s := "{"
	for i, t := range r.Inputs {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s:%s%v(%d)", t.Name, t.Datatype, t.Shape, t.Len())
	}
	if len(r.Outputs) > 0 {
		s += fmt.Sprintf(" outputs:%v", r.Outputs)
	}
	return s + "}"
}
