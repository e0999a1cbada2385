package recommend_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/plugins/builtin/internal/plugintest"
	"github.com/edgerun/edgerun/plugins/builtin/recommend"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdktest"
)

var moviesCSV = filepath.Join(plugintest.Root(), "data/recommendation/movielens_small/movies.csv")

// TestTitles: with the bundled movies.csv as titles file, both kinds of
// request answer the titles of the ids they return ("Title (year)" as in
// the file), the description lists the output, and conformance passes.
func TestTitles(t *testing.T) {
	m, err := recommend.NewModel(recommend.WithTitles(moviesCSV))
	if err != nil {
		t.Fatal(err)
	}
	tab := plugintest.ReadCSV(t, "data/recommendation/movielens_small/movies.csv")
	want := map[int64]string{}
	for _, r := range tab.Rows {
		id, err := strconv.ParseInt(r[tab.Col("movieId")], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		want[id] = r[tab.Col("title")] + " (" + r[tab.Col("year")] + ")"
	}
	for _, in := range []sdk.Tensor{
		{Name: recommend.InUser, Datatype: sdk.INT64, Shape: []int64{2}, INT64: []int64{1, 2}},
		{Name: recommend.InItem, Datatype: sdk.INT64, Shape: []int64{1}, INT64: []int64{1}},
	} {
		resp := plugintest.Infer(t, m, &sdk.InferRequest{Inputs: []sdk.Tensor{in}, Parameters: map[string]string{"k": "5"}})
		ids := plugintest.Output(t, resp, recommend.OutItemIDs)
		titles := plugintest.Output(t, resp, recommend.OutTitles)
		if len(titles.BYTES) != len(ids.INT64) || titles.Shape[0] != ids.Shape[0] || titles.Shape[1] != ids.Shape[1] {
			t.Fatalf("%s: titles %v %d, ids %v", in.Name, titles.Shape, len(titles.BYTES), ids.Shape)
		}
		for i, id := range ids.INT64 {
			if got := string(titles.BYTES[i]); got != want[id] || got == "" {
				t.Errorf("%s: movie %d titled %q, want %q", in.Name, id, got, want[id])
			}
		}
	}
	d := plugintest.Description(t, m)
	var listed bool
	for _, o := range d.Outputs {
		listed = listed || o.Name == recommend.OutTitles
	}
	if !listed {
		t.Errorf("description outputs %v lack %q", d.Outputs, recommend.OutTitles)
	}
	sdktest.Run(t, m, sdktest.WithRequests(
		&sdk.InferRequest{Inputs: []sdk.Tensor{plugintest.INT64(recommend.InUser, 1)}},
		&sdk.InferRequest{Inputs: []sdk.Tensor{plugintest.INT64(recommend.InItem, 1)}}))
}

// TestTitlesEnv: New (what the plugin binary calls) takes the titles file
// from EDGERUN_RECOMMEND_TITLES; without it there is no titles output and
// the description says how to get one.
func TestTitlesEnv(t *testing.T) {
	t.Setenv(recommend.TitlesEnv, "")
	m := newModel(t)
	d := plugintest.Description(t, m)
	for _, o := range d.Outputs {
		if o.Name == recommend.OutTitles {
			t.Errorf("titles output without a titles file")
		}
	}
	if !strings.Contains(d.Summary, recommend.TitlesEnv) {
		t.Errorf("summary does not say how to get titles: %s", d.Summary)
	}
	t.Setenv(recommend.TitlesEnv, moviesCSV)
	resp := plugintest.Infer(t, newModel(t), &sdk.InferRequest{Inputs: []sdk.Tensor{
		{Name: recommend.InItem, Datatype: sdk.INT64, Shape: []int64{1}, INT64: []int64{1}}}})
	if got := plugintest.Output(t, resp, recommend.OutTitles).BYTES; len(got) != recommend.DefaultK || len(got[0]) == 0 {
		t.Errorf("titles %q", got)
	}
}

// TestTitlesBadFile: a titles file that is missing, lacks a title column,
// has a short row or no rows stops the model at start with the reason.
func TestTitlesBadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "none.csv"), "no such file"},
		{write("notitle.csv", "movieId,name\n1,x\n"), `no "title" column`},
		{write("short.csv", "movieId,title,year\n1,Toy Story,1995\n2\n"), "short.csv:3"},
		{write("empty.csv", "movieId,title\n"), "no rows"},
	} {
		_, err := recommend.NewModel(recommend.WithTitles(c.path))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.path, err, c.want)
		}
	}
}
