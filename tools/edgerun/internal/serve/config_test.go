package serve

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig(strings.NewReader(`
[defaults]
threads = 2
concurrency = 3
queue = 5
timeout = "2s"

[models.sentiment]
queue = 0
max_batch = 8
max_queue_delay = "1ms"
`))
	if err != nil {
		t.Fatal(err)
	}
	d := c.Limits("other")
	if d.Threads != 2 || d.Concurrency != 3 || d.Queue != 5 || d.Timeout != 2*time.Second || d.Sessions != DefaultLimits().Sessions {
		t.Errorf("defaults %+v", d)
	}
	s := c.Limits("sentiment")
	if s.Threads != 2 || s.Queue != 0 || s.MaxBatch != 8 || s.MaxQueueDelay != time.Millisecond || s.Timeout != 2*time.Second {
		t.Errorf("sentiment %+v: want its table over the defaults", s)
	}
	if got := (*Config)(nil).Limits("x"); got != DefaultLimits() {
		t.Errorf("nil config: %+v", got)
	}
}

func TestParseConfigRefuses(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"[defaults]\nthreds = 1\n", `unknown key "defaults.threds"`},
		{"[models.x]\nqueue = -1\n", "[models.x] queue = -1"},
		{"[defaults]\nconcurrency = 0\n", "concurrency = 0"},
		{"[defaults]\ntimeout = \"soon\"\n", "timeout"},
		{"[defaults]\ntimeout = \"0s\"\n", "timeout = 0s"},
		{"[defaults\n", "toml"},
	} {
		_, err := ParseConfig(strings.NewReader(tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.text, err, tc.want)
		}
	}
}

// TestConfigBatchSessions: a model that batches gets half the cores as
// sessions unless its table or [defaults] sets them.
func TestConfigBatchSessions(t *testing.T) {
	c, err := ParseConfig(strings.NewReader("[models.a]\nmax_batch = 8\n[models.b]\nmax_batch = 8\nsessions = 3\n[models.c]\nthreads = 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Limits("a").Sessions; got != BatchSessions() {
		t.Errorf("a: %d sessions, want BatchSessions() = %d", got, BatchSessions())
	}
	if got := c.Limits("b").Sessions; got != 3 {
		t.Errorf("b: %d sessions, want 3 (set)", got)
	}
	if got := c.Limits("c").Sessions; got != DefaultLimits().Sessions {
		t.Errorf("c: %d sessions, want the default %d (no batching)", got, DefaultLimits().Sessions)
	}
	c, err = ParseConfig(strings.NewReader("[defaults]\nsessions = 5\n[models.a]\nmax_batch = 8\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Limits("a").Sessions; got != 5 {
		t.Errorf("a under [defaults] sessions = 5: %d", got)
	}
	if BatchSessions() < 1 || BatchSessions() > max(1, runtime.GOMAXPROCS(0)) {
		t.Errorf("BatchSessions() = %d", BatchSessions())
	}
}

// TestConfigPipelines: the top-level pipelines key lists pipeline files,
// relative to the config file's folder; an empty path is refused.
func TestConfigPipelines(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "serve.toml")
	if err := os.WriteFile(path, []byte("pipelines = [\"line3.yaml\", \"/etc/edgerun/p.yaml\"]\n[defaults]\nthreads = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := ReadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(dir, "line3.yaml"), "/etc/edgerun/p.yaml"}; !slices.Equal(c.Pipelines, want) {
		t.Errorf("pipelines %q, want %q", c.Pipelines, want)
	}
	if _, err := ParseConfig(strings.NewReader("pipelines = [\" \"]\n")); err == nil || !strings.Contains(err.Error(), "pipelines[0]: an empty path") {
		t.Errorf("an empty path: %v", err)
	}
	if _, err := ParseConfig(strings.NewReader("pipeline = [\"a.yaml\"]\n")); err == nil || !strings.Contains(err.Error(), "known: pipelines") {
		t.Errorf("a misspelt key: %v", err)
	}
}
