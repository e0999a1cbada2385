package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/sdk/sdktest"
)

// TestPipelinePlugin runs the maintenance model as a plugin (the
// edgerun-plugins binary, domain maintenance, checked against its
// plugins.lock): its input "window" is channels × steps, found from its
// description, and the alarm rises where the in-process .erm raises it.
func TestPipelinePlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the edgerun-plugins binary")
	}
	bin, _ := sdktest.Build(t, "github.com/edgerun/edgerun/plugins/builtin/cmd/edgerun-plugins")
	runArgs("plugins", "lock", bin).wantOK(t)
	dir := t.TempDir()
	writeVibration(t, dir, 1000, 600)
	y := maintenanceYAML(t)
	i := strings.Index(y, "  erm: ")
	j := i + strings.Index(y[i:], "\n")
	y = y[:i] + "  plugin: " + filepath.ToSlash(bin) + "\n  domain: maintenance" + y[j:]
	r := runArgs("pipeline", "--once", "--config", writePipeline(t, dir, y))
	if r.code != 0 {
		t.Fatal(r)
	}
	var out onceOutput
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if st := out.Stats; st.Windows != 14 || st.Inferences != 14 || st.ModelErrors != 0 || st.Alarms != 1 || len(out.Decisions) != 14 {
		t.Fatalf("stats %+v", st)
	}
	for i, d := range out.Decisions {
		if d.Alarm != (i >= 9) {
			t.Errorf("window %d (score %.3f): alarm %v", i, *d.Value, d.Alarm)
		}
	}
}
