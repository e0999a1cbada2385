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
	r = runArgs("plugins", "describe", bin)
	r.wantOK(t)
	if !strings.Contains(r.stdout, "input       user  INT64  [-1]  (optional)") {
		t.Errorf("describe does not mark the optional inputs:\n%s", r.stdout)
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

// TestPluginsMultiBinary drives the real multi-plugin binary
// edgerun-plugins: `plugins lock DIR/*` pins it and a symbolic link named
// after a domain; `list --describe` shows each domain it serves (started
// one by one with the domain as argument) and the link as the domain it
// names; `describe` without a domain lists the domains and says how to
// choose one; infer without one is refused with the same advice; and
// `describe` shows a categorical input's allowed values (text and JSON).
func TestPluginsMultiBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the edgerun-plugins binary")
	}
	bin, _ := sdktest.Build(t, "github.com/edgerun/edgerun/plugins/builtin/cmd/edgerun-plugins")
	dir := filepath.Dir(bin)
	if err := os.Symlink(filepath.Base(bin), filepath.Join(dir, "risk")); err != nil {
		t.Fatal(err)
	}
	all, _ := filepath.Glob(filepath.Join(dir, "*"))
	runArgs(append([]string{"plugins", "lock"}, all...)...).wantOK(t)

	r := runArgs("plugins", "list", dir, "--describe")
	r.wantOK(t)
	for _, want := range []string{
		"verified  edgerun-plugins 1  serves 8 domains: diagnose, intent, kws, maintenance, recommend, risk, sentiment, tutor\n",
		"\n  sentiment       sentiment 1.0.0 (sentiment)  protocol 2/channel",
		"\n  risk            risk 1.0.0 (risk)  protocol 2/channel",
		"verified  (-> " + filepath.Base(bin) + ")  risk 1.0.0 (risk)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("list --describe lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "start failed") || strings.Count(r.stdout, "protocol 2/") != 9 {
		t.Errorf("list --describe: want 9 plugins started:\n%s", r.stdout)
	}

	r = runArgs("plugins", "describe", bin)
	r.wantOK(t)
	if !strings.Contains(r.stdout, "domains     diagnose, intent, kws, maintenance, recommend, risk, sentiment, tutor (one binary serving several: choose one with --plugin-arg DOMAIN)") {
		t.Errorf("describe:\n%s", r.stdout)
	}
	r = runArgs("plugins", "describe", bin, "--json")
	r.wantOK(t)
	var d descJSON
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || d.Domain != "*" || len(d.Domains) != 8 || d.Labels != nil {
		t.Errorf("describe --json: %v %+v", err, d)
	}
	r = runArgs("plugins", "infer", bin, "--text", "hi")
	if r.code != 1 || !strings.Contains(r.stderr, "serves several domains (diagnose, intent, kws, maintenance, recommend, risk, sentiment, tutor): choose one with --plugin-arg DOMAIN") {
		t.Errorf("infer without a domain: %v", r)
	}

	// Categories: the values a categorical input takes.
	r = runArgs("plugins", "describe", bin, "--plugin-arg", "risk")
	r.wantOK(t)
	if !strings.Contains(r.stdout, "input       term  BYTES  [-1]  one of: term_36, term_60\n") ||
		!strings.Contains(r.stdout, "input       funded_amnt  FP32  [-1]\n") {
		t.Errorf("describe risk:\n%s", r.stdout)
	}
	r = runArgs("plugins", "describe", filepath.Join(dir, "risk"), "--json")
	r.wantOK(t)
	d = descJSON{}
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || d.Domain != "risk" {
		t.Fatalf("describe risk --json: %v %+v", err, d)
	}
	cats := map[string][]string{}
	for _, in := range d.Inputs {
		cats[in.Name] = in.Categories
	}
	if got := cats["term"]; len(got) != 2 || got[0] != "term_36" || got[1] != "term_60" {
		t.Errorf("term categories: %q", got)
	}
	if got, ok := cats["funded_amnt"]; !ok || got != nil {
		t.Errorf("funded_amnt: categories %q (present %v), want none", got, ok)
	}
	if !strings.Contains(r.stdout, `"categories": [`) || strings.Count(r.stdout, `"categories"`) >= len(d.Inputs) {
		t.Errorf("describe --json: categories only on categorical inputs:\n%s", r.stdout)
	}
}
