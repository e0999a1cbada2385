package recommend_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/plugins/builtin/internal/plugintest"
	"github.com/edgerun/edgerun/plugins/builtin/recommend"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdktest"
)

func newModel(t *testing.T) sdk.Model {
	t.Helper()
	m, err := recommend.New()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func checkTop(t *testing.T, resp *sdk.InferResponse, n, k int) ([]int64, []float32) {
	t.Helper()
	ids := plugintest.Output(t, resp, recommend.OutItemIDs)
	scores := plugintest.Output(t, resp, recommend.OutScores).FP32
	if len(ids.INT64) != n*k || len(scores) != n*k || ids.Shape[0] != int64(n) || ids.Shape[1] != int64(k) {
		t.Fatalf("ids %v %v, scores %v, want [%d,%d]", ids.Shape, ids.INT64, scores, n, k)
	}
	for q := range n {
		row := scores[q*k : (q+1)*k]
		for i := 1; i < k; i++ {
			if row[i] > row[i-1] {
				t.Errorf("query %d: scores not descending: %v", q, row)
			}
		}
		if got := ids.INT64[q*k : (q+1)*k]; len(slices.Compact(slices.Sorted(slices.Values(got)))) != k {
			t.Errorf("query %d: repeated items %v", q, got)
		}
	}
	return ids.INT64, scores
}

func TestUser(t *testing.T) {
	m := newModel(t)
	resp := plugintest.Infer(t, m, &sdk.InferRequest{Inputs: []sdk.Tensor{plugintest.INT64(recommend.InUser, 1, 2)}})
	ids, scores := checkTop(t, resp, 2, recommend.DefaultK)
	t.Logf("user 1: %v %v", ids[:10], scores[:10])
	if scores[0] <= 0 || scores[0] > 1 {
		t.Errorf("score %v is not a probability", scores[0])
	}
	if slices.Equal(ids[:10], ids[10:]) {
		t.Error("users 1 and 2 get the same recommendations")
	}
	resp = plugintest.Infer(t, m, &sdk.InferRequest{Inputs: []sdk.Tensor{plugintest.INT64(recommend.InUser, 1)}, Parameters: map[string]string{"k": "3"}})
	top3, _ := checkTop(t, resp, 1, 3)
	if !slices.Equal(top3, ids[:3]) {
		t.Errorf("k=3: %v, want the first 3 of k=10 %v", top3, ids[:10])
	}
	d := plugintest.Description(t, m)
	if !strings.Contains(d.Summary, "non-commercial") || !strings.Contains(d.Provenance, "non-commercial") {
		t.Errorf("the description does not state the MovieLens licence: %q / %q", d.Summary, d.Provenance)
	}
}

func TestSimilarItems(t *testing.T) {
	m := newModel(t)
	// Toy Story (1) and The Matrix (2571).
	resp := plugintest.Infer(t, m, &sdk.InferRequest{Inputs: []sdk.Tensor{plugintest.INT64(recommend.InItem, 1, 2571)}, Parameters: map[string]string{"k": "5"}})
	ids, scores := checkTop(t, resp, 2, 5)
	t.Logf("similar to 1: %v %v; to 2571: %v %v", ids[:5], scores[:5], ids[5:], scores[5:])
	if slices.Contains(ids[:5], 1) || slices.Contains(ids[5:], 2571) {
		t.Error("an item is listed as similar to itself")
	}
	for _, s := range scores {
		if s < -1 || s > 1 {
			t.Errorf("cosine %v out of [-1, 1]", s)
		}
	}
}

func TestBadInput(t *testing.T) {
	m := newModel(t)
	for name, req := range map[string]*sdk.InferRequest{
		"unknown user":  {Inputs: []sdk.Tensor{plugintest.INT64(recommend.InUser, 999999)}},
		"unknown item":  {Inputs: []sdk.Tensor{plugintest.INT64(recommend.InItem, -5)}},
		"both":          {Inputs: []sdk.Tensor{plugintest.INT64(recommend.InUser, 1), plugintest.INT64(recommend.InItem, 1)}},
		"neither":       {Inputs: []sdk.Tensor{plugintest.INT64("movie", 1)}},
		"k":             {Inputs: []sdk.Tensor{plugintest.INT64(recommend.InUser, 1)}, Parameters: map[string]string{"k": "1000"}},
		"item k":        {Inputs: []sdk.Tensor{plugintest.INT64(recommend.InItem, 1)}, Parameters: map[string]string{"k": "0"}},
		"too many":      {Inputs: []sdk.Tensor{plugintest.INT64(recommend.InUser, make([]int64, recommend.MaxQueries+1)...)}},
		"text id":       {Inputs: []sdk.Tensor{plugintest.Text(recommend.InUser, "1")}},
		"bad output":    {Inputs: []sdk.Tensor{plugintest.INT64(recommend.InItem, 1)}, Outputs: []string{"titles"}},
		"empty request": {},
	} {
		_, err := m.Infer(context.Background(), req)
		if !errors.Is(err, sdk.ErrInvalidInput) {
			t.Errorf("%s: %v, want invalid input", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
}

func TestConformance(t *testing.T) {
	m := newModel(t)
	user := &sdk.InferRequest{Inputs: []sdk.Tensor{plugintest.INT64(recommend.InUser, 1)}}
	item := &sdk.InferRequest{Inputs: []sdk.Tensor{plugintest.INT64(recommend.InItem, 1)}}
	sdktest.Run(t, m, sdktest.WithRequests(user, item))
	t.Run("wire", func(t *testing.T) { sdktest.Run(t, sdktest.Serve(t, m), sdktest.WithRequests(user, item)) })
}
