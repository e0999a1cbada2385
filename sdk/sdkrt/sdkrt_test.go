package sdkrt_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdkrt"
	"github.com/edgerun/edgerun/sdk/sdktest"
)

func load(t testing.TB, fm *format.Model) *engine.Model {
	t.Helper()
	em, err := engine.Load(fm)
	if err != nil {
		t.Fatal(err)
	}
	return em
}

func attr(name string, v any) format.Attr {
	switch v := v.(type) {
	case int:
		return format.Attr{Name: name, Kind: format.AttrInt, Int: int64(v)}
	case string:
		return format.Attr{Name: name, Kind: format.AttrString, String: v}
	}
	panic("attr kind")
}

// textModel: mean of per-word scores (good +4, bad -4) → sigmoid, labels
// bad, good.
func textModel() *format.Model {
	return &format.Model{
		Graph: format.Graph{
			Inputs:  []format.ValueInfo{{Name: "ids", DType: format.I64, Shape: []int64{-1, 8}}},
			Outputs: []format.ValueInfo{{Name: "p", DType: format.F32, Shape: []int64{-1, 1}}},
			Nodes: []format.Node{
				{Name: "emb", Op: "Embedding", Inputs: []string{"ids", "table"}, Outputs: []string{"e"}},
				{Name: "mask", Op: "PadMask", Inputs: []string{"ids"}, Outputs: []string{"m"}, Attrs: []format.Attr{attr("pad", 0)}},
				{Name: "pool", Op: "SeqPool", Inputs: []string{"e", "m"}, Outputs: []string{"pooled"}, Attrs: []format.Attr{attr("mode", "mean")}},
				{Name: "sig", Op: "Sigmoid", Inputs: []string{"pooled"}, Outputs: []string{"p"}},
			},
		},
		Tensors: []format.Tensor{format.NewF32("table", []int64{5, 1}, []float32{0, 0, 4, -4, 0})},
		Metadata: format.Metadata{
			Task: "text-classification", Labels: []string{"bad", "good"},
			Tokenizer: &format.Tokenizer{Kind: "word", Lowercase: true, MaxLen: 8,
				Vocab: []string{"<pad>", "<unk>", "good", "bad", "phone"}, Unknown: "<unk>", Padding: "<pad>"},
			Metrics: []format.Metric{
				{Name: "accuracy", Split: "test", Variant: "f32", Value: 0.5},
				{Name: "accuracy", Split: "test", Variant: "int8", Value: 0.25},
			},
			Producer:        format.Producer{Name: "sdkrt-test", Version: "1"},
			DataFingerprint: "sha256:0123456789abcdef0123456789abcdef",
		},
	}
}

// tabularModel: features a (numeric, impute 2) and c (categorical x, y,
// <missing>); logit = a + 2·[c=x] − 2·[c=y]; labels no, yes.
func tabularModel() *format.Model {
	return &format.Model{
		Graph: format.Graph{
			Inputs:  []format.ValueInfo{{Name: "features", DType: format.F32, Shape: []int64{-1, 4}}},
			Outputs: []format.ValueInfo{{Name: "p", DType: format.F32, Shape: []int64{-1, 1}}},
			Nodes: []format.Node{
				{Name: "dense", Op: "Dense", Inputs: []string{"features", "w", "b"}, Outputs: []string{"z"}},
				{Name: "sig", Op: "Sigmoid", Inputs: []string{"z"}, Outputs: []string{"p"}},
			},
		},
		Tensors: []format.Tensor{
			format.NewF32("w", []int64{1, 4}, []float32{1, 2, -2, 0}),
			format.NewF32("b", []int64{1}, []float32{0}),
		},
		Metadata: format.Metadata{
			Task: "tabular-classification", Labels: []string{"no", "yes"},
			Features: []format.Feature{
				{Name: "a", Kind: "numeric", Impute: 2},
				{Name: "c", Kind: "categorical", Categories: []string{"x", "y", "<missing>"}},
			},
		},
	}
}

// windowModel: 2 channels × 4 steps, channels last; the mean of each
// channel into a 3-way softmax [c0, c1, 0].
func windowModel() *format.Model {
	return &format.Model{
		Graph: format.Graph{
			Inputs:  []format.ValueInfo{{Name: "x", DType: format.F32, Shape: []int64{-1, 4, 2}}},
			Outputs: []format.ValueInfo{{Name: "p", DType: format.F32, Shape: []int64{-1, 3}}},
			Nodes: []format.Node{
				{Name: "gap", Op: "GlobalAveragePool1D", Inputs: []string{"x"}, Outputs: []string{"g"}},
				{Name: "dense", Op: "Dense", Inputs: []string{"g", "w", ""}, Outputs: []string{"z"}},
				{Name: "softmax", Op: "Softmax", Inputs: []string{"z"}, Outputs: []string{"p"}, Attrs: []format.Attr{attr("axis", -1)}},
			},
		},
		Tensors: []format.Tensor{format.NewF32("w", []int64{3, 2}, []float32{1, 0, 0, 1, 0, 0})},
		Metadata: format.Metadata{
			Labels: []string{"first", "second", "neither"},
			Features: []format.Feature{
				{Name: "vib", Kind: "numeric"}, {Name: "current", Kind: "numeric"},
			},
		},
	}
}

func text(name string, s ...string) sdk.Tensor {
	b := make([][]byte, len(s))
	for i, x := range s {
		b[i] = []byte(x)
	}
	return sdk.Tensor{Name: name, Datatype: sdk.BYTES, Shape: []int64{int64(len(s))}, BYTES: b}
}

func fp32(name string, shape []int64, v ...float32) sdk.Tensor {
	return sdk.Tensor{Name: name, Datatype: sdk.FP32, Shape: shape, FP32: v}
}

func output(t testing.TB, resp *sdk.InferResponse, name string) *sdk.Tensor {
	t.Helper()
	for i := range resp.Outputs {
		if resp.Outputs[i].Name == name {
			return &resp.Outputs[i]
		}
	}
	t.Fatalf("no output %q in %+v", name, resp.Outputs)
	return nil
}

func newText(t testing.TB, topK int) *sdkrt.Model {
	t.Helper()
	em := load(t, textModel())
	txt, err := sdkrt.NewText(em, "text")
	if err != nil {
		t.Fatal(err)
	}
	cls, err := sdkrt.NewClassifier(em)
	if err != nil {
		t.Fatal(err)
	}
	cls.TopK = topK
	m, err := sdkrt.New(em, sdkrt.Config{Name: "t", Version: "1", Domain: "sentiment",
		Inputs: []sdk.TensorSpec{txt.Spec()}, Outputs: cls.Specs(), Parameters: cls.Parameters(),
		Pre: txt.Pre, Post: cls.Post})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestText(t *testing.T) {
	m := newText(t, 2)
	ctx := context.Background()
	resp, err := m.Infer(ctx, &sdk.InferRequest{ID: "r1", Inputs: []sdk.Tensor{text("text", "Good phone", "BAD bad phone", "zzz")}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.ID != "r1" || resp.ModelName != "t" || resp.ModelVersion != "1" {
		t.Errorf("id/name/version = %q %q %q", resp.ID, resp.ModelName, resp.ModelVersion)
	}
	labels := output(t, resp, sdkrt.OutLabel).BYTES
	if got := []string{string(labels[0]), string(labels[1])}; got[0] != "good" || got[1] != "bad" {
		t.Errorf("labels = %q, want good, bad", got)
	}
	p := output(t, resp, sdkrt.OutProbabilities)
	if len(p.FP32) != 6 || p.Shape[0] != 3 || p.Shape[1] != 2 {
		t.Fatalf("probabilities %v %v", p.Shape, p.FP32)
	}
	// "good phone": mean(4, 0) = 2 → sigmoid(2).
	if want := float32(1 / (1 + math.Exp(-2))); math.Abs(float64(p.FP32[1]-want)) > 1e-5 || math.Abs(float64(p.FP32[0]+p.FP32[1]-1)) > 1e-6 {
		t.Errorf("p(good phone) = %v, want [%v %v]", p.FP32[:2], 1-want, want)
	}
	if k := output(t, resp, sdkrt.OutTopKLabels); k.Shape[1] != 2 || string(k.BYTES[0]) != "good" || string(k.BYTES[1]) != "bad" {
		t.Errorf("top_k_labels = %v %q", k.Shape, k.BYTES)
	}
	// Outputs filter and top_k parameter.
	resp, err = m.Infer(ctx, &sdk.InferRequest{Inputs: []sdk.Tensor{text("text", "good")},
		Parameters: map[string]string{"top_k": "1"}, Outputs: []string{sdkrt.OutTopKScores}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Outputs) != 1 || len(resp.Outputs[0].FP32) != 1 {
		t.Errorf("filtered outputs = %+v", resp.Outputs)
	}
	d, err := m.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.Domain != "sentiment" || len(d.Labels) != 2 || d.Parameters["top_k"] == "" ||
		!strings.Contains(d.Provenance, "sdkrt-test 1") || !strings.Contains(d.Provenance, "accuracy 0.250") {
		t.Errorf("description = %+v", d)
	}
	if err := m.Health(ctx); err != nil {
		t.Error(err)
	}
}

func TestBadInput(t *testing.T) {
	txt := newText(t, 2)
	tab := newTabular(t)
	win := newWindow(t)
	for _, c := range []struct {
		name string
		m    *sdkrt.Model
		req  *sdk.InferRequest
		want string
	}{
		{"nil request", txt, nil, "no request"},
		{"no inputs", txt, &sdk.InferRequest{}, "no inputs"},
		{"unknown input", txt, &sdk.InferRequest{Inputs: []sdk.Tensor{text("txt", "good")}}, `unknown input "txt"`},
		{"twice", txt, &sdk.InferRequest{Inputs: []sdk.Tensor{text("text", "good"), text("text", "bad")}}, "given twice"},
		{"empty text", txt, &sdk.InferRequest{Inputs: []sdk.Tensor{text("text", "good", "  ")}}, "text 1 is empty"},
		{"no text", txt, &sdk.InferRequest{Inputs: []sdk.Tensor{text("text")}}, "is empty: shape [0]"},
		{"wrong datatype", txt, &sdk.InferRequest{Inputs: []sdk.Tensor{fp32("text", []int64{1}, 1)}}, `datatype "FP32", want BYTES`},
		{"short data", txt, &sdk.InferRequest{Inputs: []sdk.Tensor{{Name: "text", Datatype: sdk.BYTES, Shape: []int64{2}, BYTES: [][]byte{[]byte("a")}}}}, "holds 2 elements but 1 are given"},
		{"bad shape", txt, &sdk.InferRequest{Inputs: []sdk.Tensor{{Name: "text", Datatype: sdk.BYTES, Shape: []int64{1, 2}, BYTES: [][]byte{[]byte("a"), []byte("b")}}}}, "has 2 dimensions, want 1"},
		{"negative shape", txt, &sdk.InferRequest{Inputs: []sdk.Tensor{{Name: "text", Datatype: sdk.BYTES, Shape: []int64{-3}}}}, "is empty: shape [-3]"},
		{"huge shape", txt, &sdk.InferRequest{Inputs: []sdk.Tensor{{Name: "text", Datatype: sdk.BYTES, Shape: []int64{1 << 40, 1 << 40}}}}, "has 2 dimensions"},
		{"bad top_k", txt, &sdk.InferRequest{Inputs: []sdk.Tensor{text("text", "good")}, Parameters: map[string]string{"top_k": "9"}}, `"top_k"`},
		{"unknown output", txt, &sdk.InferRequest{Inputs: []sdk.Tensor{text("text", "good")}, Outputs: []string{"nope"}}, `unknown output "nope"`},
		{"missing feature", tab, &sdk.InferRequest{Inputs: []sdk.Tensor{fp32("a", []int64{1}, 1)}}, `missing input "c" (BYTES [?])`},
		{"number as text", tab, &sdk.InferRequest{Inputs: []sdk.Tensor{text("a", "one"), text("c", "x")}}, `input "a": datatype "BYTES", want FP32`},
		{"unknown category", tab, &sdk.InferRequest{Inputs: []sdk.Tensor{fp32("a", []int64{1}, 1), text("c", "z")}}, `"z", not a known category`},
		{"categorical as number", tab, &sdk.InferRequest{Inputs: []sdk.Tensor{fp32("a", []int64{1}, 1), fp32("c", []int64{1}, 1)}}, `input "c": datatype "FP32", want BYTES`},
		{"rows differ", tab, &sdk.InferRequest{Inputs: []sdk.Tensor{fp32("a", []int64{2}, 1, 2), text("c", "x")}}, "has 1 rows"},
		{"infinite", tab, &sdk.InferRequest{Inputs: []sdk.Tensor{fp32("a", []int64{1}, float32(math.Inf(1))), text("c", "x")}}, "not a finite number"},
		{"window shape", win, &sdk.InferRequest{Inputs: []sdk.Tensor{fp32("window", []int64{1, 4, 2}, make([]float32, 8)...)}}, "shape [1 4 2], want [?,2,4]"},
		{"window NaN", win, &sdk.InferRequest{Inputs: []sdk.Tensor{fp32("window", []int64{1, 2, 4}, 0, 0, 0, float32(math.NaN()), 0, 0, 0, 0)}}, "channel 0, step 3"},
		{"window datatype", win, &sdk.InferRequest{Inputs: []sdk.Tensor{text("window", "x")}}, "want FP32"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.m.Infer(context.Background(), c.req)
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !errors.Is(err, sdk.ErrInvalidInput) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q (invalid input: %v), want one containing %q", err, errors.Is(err, sdk.ErrInvalidInput), c.want)
			}
		})
	}
}

func newTabular(t testing.TB) *sdkrt.Model {
	t.Helper()
	em := load(t, tabularModel())
	tab, err := sdkrt.NewTabular(em)
	if err != nil {
		t.Fatal(err)
	}
	cls, err := sdkrt.NewClassifier(em)
	if err != nil {
		t.Fatal(err)
	}
	m, err := sdkrt.New(em, sdkrt.Config{Name: "tab", Inputs: tab.Specs(), Outputs: cls.Specs(), Pre: tab.Pre, Post: cls.Post})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestTabular(t *testing.T) {
	m := newTabular(t)
	resp, err := m.Infer(context.Background(), &sdk.InferRequest{Inputs: []sdk.Tensor{
		// a: 1, NaN (imputed 2), -1, "3" as text; c: x, y, missing, y.
		fp32("a", []int64{4}, 1, float32(math.NaN()), -1, 3),
		text("c", "x", "y", "NA", " y "),
	}})
	if err != nil {
		t.Fatal(err)
	}
	p := output(t, resp, sdkrt.OutProbabilities).FP32
	for i, logit := range []float64{3, 0, -1, 1} {
		if want := 1 / (1 + math.Exp(-logit)); math.Abs(float64(p[2*i+1])-want) > 1e-5 {
			t.Errorf("row %d: p(yes) = %v, want %v", i, p[2*i+1], want)
		}
	}
	d, _ := m.Describe(context.Background())
	if len(d.Inputs) != 2 || d.Inputs[0].Datatype != sdk.FP32 || d.Inputs[1].Datatype != sdk.BYTES {
		t.Errorf("inputs = %+v", d.Inputs)
	}
}

func newWindow(t testing.TB) *sdkrt.Model {
	t.Helper()
	em := load(t, windowModel())
	w, err := sdkrt.NewWindow(em, "window")
	if err != nil {
		t.Fatal(err)
	}
	cls, err := sdkrt.NewClassifier(em)
	if err != nil {
		t.Fatal(err)
	}
	m, err := sdkrt.New(em, sdkrt.Config{Name: "win", Inputs: []sdk.TensorSpec{w.Spec()}, Outputs: cls.Specs(), Pre: w.Pre, Post: cls.Post})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestWindow(t *testing.T) {
	m := newWindow(t)
	// Channel 0 high, then channel 1 high (channels first in the request).
	resp, err := m.Infer(context.Background(), &sdk.InferRequest{Inputs: []sdk.Tensor{fp32("window", []int64{2, 2, 4},
		5, 5, 5, 5, 0, 0, 0, 0,
		0, 0, 0, 0, 1, 2, 3, 4,
	)}})
	if err != nil {
		t.Fatal(err)
	}
	l := output(t, resp, sdkrt.OutLabel).BYTES
	if string(l[0]) != "first" || string(l[1]) != "second" {
		t.Errorf("labels = %q", l)
	}
}

func TestRaw(t *testing.T) {
	em := load(t, formatTiny())
	m, err := sdkrt.New(em, sdkrt.Config{Name: "raw"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	resp, err := m.Infer(context.Background(), &sdk.InferRequest{Inputs: []sdk.Tensor{fp32("x", []int64{2, 4}, 1, 2, 3, 4, 5, 6, 7, 8)}})
	if err != nil {
		t.Fatal(err)
	}
	if o := resp.Outputs[0]; o.Name != "probs" || len(o.FP32) != 6 || o.Shape[0] != 2 || o.Shape[1] != 3 {
		t.Errorf("output = %+v", o)
	}
	_, err = m.Infer(context.Background(), &sdk.InferRequest{Inputs: []sdk.Tensor{fp32("x", []int64{2, 3}, 1, 2, 3, 4, 5, 6)}})
	if !errors.Is(err, sdk.ErrInvalidInput) || !strings.Contains(err.Error(), "want [?,4]") {
		t.Errorf("bad shape: %v", err)
	}
	d, _ := m.Describe(context.Background())
	if len(d.Inputs) != 1 || d.Inputs[0].Shape[1] != 4 || d.Outputs[0].Name != "probs" || len(d.Labels) != 3 {
		t.Errorf("description = %+v", d)
	}
}

func formatTiny() *format.Model {
	w := make([]float32, 3*4)
	for i := range w {
		w[i] = float32(i%5) - 2
	}
	return &format.Model{
		Graph: format.Graph{
			Inputs:  []format.ValueInfo{{Name: "x", DType: format.F32, Shape: []int64{-1, 4}}},
			Outputs: []format.ValueInfo{{Name: "probs", DType: format.F32, Shape: []int64{-1, 3}}},
			Nodes: []format.Node{
				{Name: "dense", Op: "Dense", Inputs: []string{"x", "w", ""}, Outputs: []string{"z"}},
				{Name: "softmax", Op: "Softmax", Inputs: []string{"z"}, Outputs: []string{"probs"}, Attrs: []format.Attr{attr("axis", -1)}},
			},
		},
		Tensors:  []format.Tensor{format.NewF32("w", []int64{3, 4}, w)},
		Metadata: format.Metadata{Labels: []string{"a", "b", "c"}},
	}
}

// TestConcurrent runs many goroutines through a pool of 2 sessions
// (meaningful under -race).
func TestConcurrent(t *testing.T) {
	em := load(t, textModel())
	txt, _ := sdkrt.NewText(em, "text")
	cls, _ := sdkrt.NewClassifier(em)
	m, err := sdkrt.New(em, sdkrt.Config{Name: "t", Inputs: []sdk.TensorSpec{txt.Spec()}, Pre: txt.Pre, Post: cls.Post, Outputs: cls.Specs(), MaxSessions: 2})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, want := "good phone", "good"
			if g%2 == 1 {
				s, want = "bad phone", "bad"
			}
			for range 50 {
				resp, err := m.Infer(context.Background(), &sdk.InferRequest{Inputs: []sdk.Tensor{text("text", s)}})
				if err != nil {
					t.Error(err)
					return
				}
				if got := string(output(t, resp, sdkrt.OutLabel).BYTES[0]); got != want {
					t.Errorf("%q: %q, want %q", s, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	m.Close()
	if _, err := m.Infer(context.Background(), &sdk.InferRequest{Inputs: []sdk.Tensor{text("text", "good")}}); !errors.Is(err, sdkrt.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if err := m.Health(context.Background()); !errors.Is(err, sdkrt.ErrClosed) {
		t.Errorf("Health after Close: %v", err)
	}
}

// TestContext: a caller waiting for a session gives up with its context.
func TestContext(t *testing.T) {
	em := load(t, textModel())
	txt, _ := sdkrt.NewText(em, "text")
	block := make(chan struct{})
	entered := make(chan struct{})
	m, err := sdkrt.New(em, sdkrt.Config{Name: "t", Inputs: []sdk.TensorSpec{txt.Spec()}, Outputs: []sdk.TensorSpec{{Name: "x", Datatype: sdk.FP32, Shape: []int64{1}}}, Pre: txt.Pre, MaxSessions: 1,
		Post: func(outs []*tensor.Tensor, req *sdk.InferRequest) (*sdk.InferResponse, error) {
			if req.ID == "block" {
				close(entered)
				<-block
			}
			return &sdk.InferResponse{}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	done := make(chan error)
	go func() {
		_, err := m.Infer(context.Background(), &sdk.InferRequest{ID: "block", Inputs: []sdk.Tensor{text("text", "good")}})
		done <- err
	}()
	select {
	case <-entered:
	case err := <-done:
		t.Fatalf("the blocking request returned: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Infer(ctx, &sdk.InferRequest{Inputs: []sdk.Tensor{text("text", "good")}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	close(block)
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// TestPanic: a panic in post-processing is an error, and the model keeps
// serving.
func TestPanic(t *testing.T) {
	em := load(t, textModel())
	txt, _ := sdkrt.NewText(em, "text")
	m, err := sdkrt.New(em, sdkrt.Config{Name: "t", Inputs: []sdk.TensorSpec{txt.Spec()}, Outputs: []sdk.TensorSpec{{Name: "x", Datatype: sdk.FP32, Shape: []int64{1}}}, Pre: txt.Pre, MaxSessions: 1,
		Post: func(outs []*tensor.Tensor, req *sdk.InferRequest) (*sdk.InferResponse, error) {
			if req.ID == "panic" {
				var a []int
				_ = a[len(req.ID)]
			}
			return &sdk.InferResponse{}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, err = m.Infer(context.Background(), &sdk.InferRequest{ID: "panic", Inputs: []sdk.Tensor{text("text", "good")}})
	if err == nil || !strings.Contains(err.Error(), "internal error") {
		t.Fatalf("panic: %v", err)
	}
	if _, err := m.Infer(context.Background(), &sdk.InferRequest{Inputs: []sdk.Tensor{text("text", "good")}}); err != nil {
		t.Fatalf("after a panic: %v", err)
	}
}

func TestIDMap(t *testing.T) {
	em := &engine.Model{Meta: format.Metadata{Features: []format.Feature{
		{Name: "user", Kind: "categorical", Categories: []string{sdkrt.UnknownID, "7", "12", "40"}},
		{Name: "bad", Kind: "categorical", Categories: []string{"a"}},
	}}}
	m, err := sdkrt.NewIDMap(em, "user")
	if err != nil {
		t.Fatal(err)
	}
	if !m.Numeric || m.Len() != 4 || m.Raw(2) != "12" {
		t.Errorf("map: numeric %v len %d raw(2) %q", m.Numeric, m.Len(), m.Raw(2))
	}
	rows, raw, err := m.Rows(&sdk.Tensor{Name: "user", Datatype: sdk.INT64, Shape: []int64{2}, INT64: []int64{40, 7}}, 4)
	if err != nil || rows[0] != 3 || rows[1] != 1 || raw[0] != "40" {
		t.Errorf("rows %v raw %v err %v", rows, raw, err)
	}
	if rows, _, err := m.Rows(&sdk.Tensor{Name: "user", Datatype: sdk.BYTES, Shape: []int64{1}, BYTES: [][]byte{[]byte("12")}}, 4); err != nil || rows[0] != 2 {
		t.Errorf("BYTES id: %v %v", rows, err)
	}
	_, _, err = m.Rows(&sdk.Tensor{Name: "user", Datatype: sdk.INT64, Shape: []int64{1}, INT64: []int64{8}}, 4)
	if !errors.Is(err, sdk.ErrInvalidInput) || !strings.Contains(err.Error(), `unknown user "8"`) {
		t.Errorf("unknown user: %v", err)
	}
	if _, err := sdkrt.NewIDMap(em, "bad"); err == nil {
		t.Error("a feature without <unknown> is an id map")
	}
	if _, err := sdkrt.NewIDMap(em, "item"); err == nil {
		t.Error("no item feature, no error")
	}
}

func TestTopK(t *testing.T) {
	s := []float32{0.1, 0.5, 0.3, 0.5, 0.9, 0}
	for _, c := range []struct {
		k    int
		want []int
	}{{0, nil}, {1, []int{4}}, {3, []int{4, 1, 3}}, {6, []int{4, 1, 3, 2, 0, 5}}, {9, []int{4, 1, 3, 2, 0, 5}}} {
		got := sdkrt.TopK(s, c.k)
		if len(got) != len(c.want) {
			t.Errorf("k=%d: %v, want %v", c.k, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("k=%d: %v, want %v", c.k, got, c.want)
				break
			}
		}
	}
}

func TestParams(t *testing.T) {
	req := &sdk.InferRequest{Parameters: map[string]string{"k": " 5 ", "bad": "x", "t": "0.25"}}
	if v, err := sdkrt.IntParam(req, "k", 1, 1, 10); v != 5 || err != nil {
		t.Errorf("k: %v %v", v, err)
	}
	if v, err := sdkrt.IntParam(req, "absent", 3, 1, 10); v != 3 || err != nil {
		t.Errorf("absent: %v %v", v, err)
	}
	if _, err := sdkrt.IntParam(req, "bad", 1, 1, 10); !errors.Is(err, sdk.ErrInvalidInput) {
		t.Errorf("bad: %v", err)
	}
	if v, err := sdkrt.FloatParam(req, "t", 0.5, 0, 1); v != 0.25 || err != nil {
		t.Errorf("t: %v %v", v, err)
	}
	if _, err := sdkrt.FloatParam(req, "k", 0.5, 0, 1); err == nil {
		t.Error("5 is in [0, 1]")
	}
}

func TestConfigErrors(t *testing.T) {
	em := load(t, textModel())
	if _, err := sdkrt.New(em, sdkrt.Config{}); err == nil {
		t.Error("no name, no error")
	}
	if _, err := sdkrt.New(em, sdkrt.Config{Name: "x", Pre: sdkrt.Raw(em)}); err == nil {
		t.Error("Pre without Inputs, no error")
	}
	if _, err := sdkrt.New(nil, sdkrt.Config{Name: "x"}); err == nil {
		t.Error("nil model, no error")
	}
	if _, err := sdkrt.NewTabular(em); err == nil {
		t.Error("text model as tabular")
	}
	if _, err := sdkrt.NewWindow(em, "w"); err == nil {
		t.Error("text model as window")
	}
	if _, err := sdkrt.NewText(load(t, tabularModel()), "text"); err == nil {
		t.Error("tabular model as text")
	}
	if _, err := sdkrt.Load([]byte("not a model")); err == nil {
		t.Error("Load of junk")
	}
}

// TestConformance runs the plugin contract's suite on the helpers'
// models, in process and through the gRPC harness.
func TestConformance(t *testing.T) {
	for _, c := range []struct {
		name string
		m    func(testing.TB) *sdkrt.Model
		req  *sdk.InferRequest
	}{
		{"text", func(t testing.TB) *sdkrt.Model { return newText(t, 2) }, nil},
		{"tabular", newTabular, nil}, // its categorical input's request comes from the description's Categories
		{"tabular_requests", newTabular, &sdk.InferRequest{Inputs: []sdk.Tensor{fp32("a", []int64{1}, 1), text("c", "y")}}},
		{"window", newWindow, nil},
	} {
		var opts []sdktest.Option
		if c.req != nil {
			opts = append(opts, sdktest.WithRequests(c.req))
		}
		t.Run(c.name, func(t *testing.T) {
			m := c.m(t)
			sdktest.Run(t, m, opts...)
			t.Run("grpc", func(t *testing.T) { sdktest.Run(t, sdktest.Serve(t, m), opts...) })
		})
	}
}

// TestClassifierAnomalyScore: a classifier whose metadata names a
// normal_label answers anomaly_score, 1 − p(normal); one whose
// normal_label is not a label, or has none, does not.
func TestClassifierAnomalyScore(t *testing.T) {
	for _, tc := range []struct {
		normal string
		want   bool
	}{{"no", true}, {"maybe", false}, {"", false}} {
		fm := tabularModel()
		if tc.normal != "" {
			fm.Metadata.Extra = append(fm.Metadata.Extra, format.KeyValue{Key: "normal_label", Value: tc.normal})
		}
		em := load(t, fm)
		tab, err := sdkrt.NewTabular(em)
		if err != nil {
			t.Fatal(err)
		}
		cls, err := sdkrt.NewClassifier(em)
		if err != nil {
			t.Fatal(err)
		}
		specs := cls.Specs()
		if has := slices.ContainsFunc(specs, func(s sdk.TensorSpec) bool { return s.Name == sdkrt.OutAnomalyScore }); has != tc.want {
			t.Errorf("normal_label %q: anomaly_score in the specs %v, want %v", tc.normal, has, tc.want)
		}
		m, err := sdkrt.New(em, sdkrt.Config{Name: "tab", Inputs: tab.Specs(), Outputs: specs, Pre: tab.Pre, Post: cls.Post})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := m.Infer(context.Background(), &sdk.InferRequest{Inputs: []sdk.Tensor{fp32("a", []int64{2}, 1, -1), text("c", "x", "y")}})
		m.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !tc.want {
			if slices.ContainsFunc(resp.Outputs, func(o sdk.Tensor) bool { return o.Name == sdkrt.OutAnomalyScore }) {
				t.Errorf("normal_label %q: answered anomaly_score", tc.normal)
			}
			continue
		}
		p := output(t, resp, sdkrt.OutProbabilities).FP32
		s := output(t, resp, sdkrt.OutAnomalyScore)
		if len(s.FP32) != 2 || !slices.Equal(s.Shape, []int64{2}) {
			t.Fatalf("anomaly_score %+v", s)
		}
		for i := range 2 {
			if s.FP32[i] != 1-p[2*i] { // 1 − p(no)
				t.Errorf("row %d: anomaly_score %v, want 1 − %v", i, s.FP32[i], p[2*i])
			}
		}
	}
}
