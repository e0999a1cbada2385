package serve

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/sdk"
)

func outputNames(resp *sdk.InferResponse) []string {
	var out []string
	for _, o := range resp.Outputs {
		out = append(out, o.Name)
	}
	return out
}

// TestConfigReturns: the config's outputs are those of a request that
// names none, its top_k that of a request that gives none; a request that
// says otherwise wins, and the caller's request is left as it was.
// Settings a model cannot honour are logged at load.
func TestConfigReturns(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, "sentiment", "sentiment")
	put(t, dir, "intent", "intent")
	cfg, err := ParseConfig(strings.NewReader(`
[defaults]
top_k = 2
[models.sentiment]
outputs = ["label"]
[models.intent]
outputs = ["top_k_labels", "label"]
`))
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	r := New(Options{Models: dir, Config: cfg, NoNotify: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	r.Scan()
	defer r.Close(context.Background())
	ctx := context.Background()

	req := textRequest("great, I love it")
	resp, err := r.Infer(ctx, "sentiment", "", req)
	if err != nil {
		t.Fatal(err)
	}
	if got := outputNames(resp); !slices.Equal(got, []string{"label"}) {
		t.Errorf("sentiment answers %v, want the config's [label]", got)
	}
	if req.Outputs != nil || req.Parameters != nil {
		t.Errorf("the caller's request changed: %+v", req)
	}
	req.Outputs = []string{"probabilities"}
	if resp, err = r.Infer(ctx, "sentiment", "", req); err != nil || !slices.Equal(outputNames(resp), []string{"probabilities"}) {
		t.Errorf("a request naming its outputs: %v %v", resp, err)
	}
	// top_k = 2 from [defaults]: the sentiment model (two labels) takes no
	// top_k, which is logged and ignored; intent takes it.
	if !strings.Contains(logs.String(), "without a top_k parameter") || !strings.Contains(logs.String(), "model=sentiment") {
		t.Errorf("log: %s", logs.String())
	}
	resp, err = r.Infer(ctx, "intent", "", textRequest("book me a flight to Paris"))
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(resp.Outputs, func(o sdk.Tensor) bool { return o.Name == "top_k_labels" })
	if i < 0 || !slices.Equal(resp.Outputs[i].Shape, []int64{1, 2}) || len(resp.Outputs) != 2 {
		t.Fatalf("intent answers %+v, want label and top_k_labels [1 2]", resp.Outputs)
	}
	req = textRequest("book me a flight to Paris")
	req.Parameters = map[string]string{"top_k": "1"}
	resp, err = r.Infer(ctx, "intent", "", req)
	if err != nil || !slices.Equal(resp.Outputs[slices.IndexFunc(resp.Outputs, func(o sdk.Tensor) bool { return o.Name == "top_k_labels" })].Shape, []int64{1, 1}) {
		t.Errorf("top_k=1 in the request: %+v %v", resp, err)
	}
}

// TestConfigReturnsUnknownOutput: an output the model does not have is
// logged at load, and a request naming none fails as invalid (400).
func TestConfigReturnsUnknownOutput(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, "sentiment", "sentiment")
	cfg, err := ParseConfig(strings.NewReader("[models.sentiment]\noutputs = [\"labels\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	r := New(Options{Models: dir, Config: cfg, NoNotify: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	r.Scan()
	defer r.Close(context.Background())
	_, err = r.Infer(context.Background(), "sentiment", "", textRequest("fine"))
	if code, _ := Status(err); code != 400 || !strings.Contains(err.Error(), "labels") {
		t.Errorf("error %v (%d), want 400 naming the output", err, code)
	}
	if !strings.Contains(logs.String(), "output the model does not have") {
		t.Errorf("log: %s", logs.String())
	}
}

func TestParseConfigReturns(t *testing.T) {
	c, err := ParseConfig(strings.NewReader(`
[defaults]
outputs = ["label"]
top_k = 3
[models.a]
outputs = []
[models.b]
top_k = 1
[models.c]
queue = 1
`))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]Returns{
		"other": {Outputs: []string{"label"}, TopK: 3},
		"a":     {TopK: 3},
		"b":     {Outputs: []string{"label"}, TopK: 1},
		"c":     {Outputs: []string{"label"}, TopK: 3},
	} {
		if got := c.Returns(name); !slices.Equal(got.Outputs, want.Outputs) || got.TopK != want.TopK {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}
	if got := (*Config)(nil).Returns("x"); got.Outputs != nil || got.TopK != 0 {
		t.Errorf("nil config: %+v", got)
	}
	for _, tc := range []struct{ text, want string }{
		{"[defaults]\ntop_k = 0\n", "top_k = 0"},
		{"[models.x]\ntop_k = -2\n", "[models.x] top_k = -2"},
		{"[defaults]\noutputs = [\"a\", \"a\"]\n", `"a" twice`},
		{"[defaults]\noutputs = [\"\"]\n", "an empty name"},
		{"[defaults]\noutputs = \"label\"\n", "outputs"},
	} {
		if _, err := ParseConfig(strings.NewReader(tc.text)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.text, err, tc.want)
		}
	}
}
