package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/sdk/sdktest"
)

// TestPlugins builds the SDK's example plugin and drives it through
// `edgerun plugins`: lock, list, describe, infer (text, JSON request,
// parameters), bad input, and a tampered binary refused before it starts.
func TestPlugins(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a plugin binary")
	}
	bin, _ := sdktest.Build(t, "github.com/edgerun/edgerun/sdk/example/lexicon/cmd/lexicon")
	dir := filepath.Dir(bin)
	r := runArgs("plugins", "infer", bin, "--text", "great")
	if r.code != 1 || !strings.Contains(r.stderr, "manifest") || !strings.Contains(r.stderr, "pin it first: edgerun plugins lock "+bin) {
		t.Fatalf("no manifest: exit %d, %q", r.code, r.stderr)
	}
	runArgs("plugins", "lock", bin).wantOK(t)
	// `plugins lock DIR/*` as a shell expands it: the manifest itself and
	// the folders of other targets' builds are skipped.
	if err := os.Mkdir(filepath.Join(dir, "linux-arm64"), 0o755); err != nil {
		t.Fatal(err)
	}
	all, _ := filepath.Glob(filepath.Join(dir, "*"))
	r = runArgs(append([]string{"plugins", "lock"}, all...)...)
	r.wantOK(t)
	if !strings.Contains(r.stdout, "linux-arm64 (a directory: skipped)") || !strings.Contains(r.stdout, "  lexicon\n") {
		t.Errorf("lock DIR/*:\n%s", r.stdout)
	}
	// Through a launcher, as an arm64 plugin runs under qemu on a PC.
	r = runArgs("plugins", "infer", bin, "--launcher", "nice -n 1", "--text", "great")
	r.wantOK(t)
	if !strings.Contains(r.stdout, `"good"`) {
		t.Errorf("infer --launcher:\n%s", r.stdout)
	}
	r = runArgs("plugins", "list", dir, "--describe")
	r.wantOK(t)
	if !strings.Contains(r.stdout, "verified  lexicon 1.0.0 (sentiment)") {
		t.Errorf("list:\n%s", r.stdout)
	}
	r = runArgs("plugins", "describe", bin, "--json")
	r.wantOK(t)
	var d descJSON
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || d.Domain != "sentiment" || len(d.Inputs) != 1 {
		t.Errorf("describe --json: %v %+v", err, d)
	}
	r = runArgs("plugins", "infer", bin, "--text", "Terrible, a waste of money", "--json")
	r.wantOK(t)
	type response struct {
		ModelName string `json:"model_name"`
		ID        string `json:"id"`
		Outputs   []struct {
			Name  string  `json:"name"`
			Shape []int64 `json:"shape"`
			Data  []any   `json:"data"`
		} `json:"outputs"`
	}
	var res response
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || len(res.Outputs) != 2 || res.Outputs[1].Data[0] != "bad" || res.ModelName != "lexicon" {
		t.Errorf("infer --json: %v\n%s", err, r.stdout)
	}
	// The id and the outputs asked for reach the plugin.
	asked := filepath.Join(dir, "asked.json")
	os.WriteFile(asked, []byte(`{"id":"q1","inputs":[{"name":"text","datatype":"BYTES","data":["great","awful"]}],"outputs":[{"name":"label"}]}`), 0o644)
	r = runArgs("plugins", "infer", bin, "--input", asked, "--json")
	r.wantOK(t)
	res = response{}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.ID != "q1" || len(res.Outputs) != 1 || res.Outputs[0].Name != "label" || len(res.Outputs[0].Data) != 2 {
		t.Errorf("infer --input with outputs: %v\n%s", err, r.stdout)
	}
	req := filepath.Join(dir, "req.json")
	os.WriteFile(req, []byte(`{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["nothing here"]}]}`), 0o644)
	r = runArgs("plugins", "infer", bin, "--input", req, "--param", "neutral=bad")
	r.wantOK(t)
	if !strings.Contains(r.stdout, `"bad"`) {
		t.Errorf("parameter not applied:\n%s", r.stdout)
	}
	r = runArgs("plugins", "infer", bin, "--text", " ")
	if r.code != 1 || !strings.Contains(r.stderr, "empty") {
		t.Errorf("empty text: exit %d, %q", r.code, r.stderr)
	}
	f, _ := os.OpenFile(bin, os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte("tampered"))
	f.Close()
	r = runArgs("plugins", "infer", bin, "--text", "great")
	if r.code != 1 || !strings.Contains(r.stderr, "does not match its manifest checksum") || !strings.Contains(r.stderr, "pin the new binary: edgerun plugins lock "+bin) {
		t.Errorf("tampered binary: exit %d, %q", r.code, r.stderr)
	}
}

// TestPluginsOptionalInputs: the recommend plugin takes "user" or "item"
// (both Optional), so `plugins infer --set user=1` is a whole request, and
// with a titles file the titles come back beside the ids.
func TestPluginsOptionalInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a plugin binary")
	}
	bin, _ := sdktest.Build(t, "github.com/edgerun/edgerun/plugins/builtin/cmd/recommend")
	runArgs("plugins", "lock", bin).wantOK(t)
	r := runArgs("plugins", "infer", bin, "--set", "user=1", "--param", "k=3", "--json")
	r.wantOK(t)
	if !strings.Contains(r.stdout, `"item_ids"`) || strings.Contains(r.stdout, `"titles"`) {
		t.Errorf("infer --set user=1:\n%s", r.stdout)
	}
	r = runArgs("plugins", "infer", bin, "--param", "k=3")
	if r.code == 0 || !strings.Contains(r.stderr, "no input") {
		t.Errorf("no input: exit %d, %q", r.code, r.stderr)
	}
	titles, err := filepath.Abs("../../data/recommendation/movielens_small/movies.csv")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("EDGERUN_RECOMMEND_TITLES", titles)
	r = runArgs("plugins", "infer", bin, "--set", "item=1", "--param", "k=3", "--json")
	r.wantOK(t)
	if !strings.Contains(r.stdout, `"titles"`) || !strings.Contains(r.stdout, "(19") {
		t.Errorf("infer --set item=1 with titles:\n%s", r.stdout)
	}
}
