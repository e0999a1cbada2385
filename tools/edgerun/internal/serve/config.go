package serve

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Config is the daemon's config file (TOML): the limits of every model,
// and those of single models by name.
//
//	pipelines = ["line3.yaml"] # pipeline files to run, as --pipeline (relative to this file)
//
//	[defaults]
//	threads = 1            # engine threads per session (.erm)
//	sessions = 2           # session pool (.erm): concurrent runs (default: a core each; with max_batch, half the cores)
//	concurrency = 2        # requests in flight at once (× max_batch when batching)
//	queue = 64             # requests waiting beyond those; more: 429
//	timeout = "30s"        # a request's deadline, queueing included
//	max_batch = 0          # > 1: dynamic batching (.erm)
//	max_queue_delay = "0s" # with a session free, how long a request waits for others (0: runs at once)
//
//	[models.sentiment]     # a model by name (its file name without .erm)
//	concurrency = 1
//	outputs = ["label"]    # the outputs of a request that names none (default: all)
//
//	[models.intent]
//	top_k = 2              # top_k of a request that gives none (a classifier of 3 labels or more)
//
// outputs and top_k are what a model returns (Returns); the other keys
// its limits (ModelLimits). A key the file does not define is an error,
// so is a negative value.
type Config struct {
	Defaults ModelLimits
	Models   map[string]ModelLimits
	// Pipelines are the pipeline files the daemon runs (the top-level
	// key pipelines, a list of paths, relative to the config file's
	// folder), besides those of --pipeline.
	Pipelines []string
	// DefaultReturns and ModelReturns are the outputs and top_k keys, of
	// [defaults] and of each [models.NAME] (over the defaults).
	DefaultReturns Returns
	ModelReturns   map[string]Returns
}

// Returns are what a model answers a request that does not say: the
// config file's outputs and top_k keys.
type Returns struct {
	// Outputs are the outputs of a request that names none (nil: all).
	Outputs []string
	// TopK is the "top_k" parameter of a request that gives none (0: the
	// model's own default), for models that take it (classifiers of three
	// labels or more, plugins that declare it).
	TopK int
}

// Returns are a model's returns: its table over the defaults.
func (c *Config) Returns(name string) Returns {
	if c == nil {
		return Returns{}
	}
	if r, ok := c.ModelReturns[name]; ok {
		return r
	}
	return c.DefaultReturns
}

// limitsTOML are the keys of a [defaults] or [models.NAME] table; unset
// keys keep the value underneath.
type limitsTOML struct {
	Threads       *int           `toml:"threads"`
	Sessions      *int           `toml:"sessions"`
	Concurrency   *int           `toml:"concurrency"`
	Queue         *int           `toml:"queue"`
	Timeout       *time.Duration `toml:"timeout"`
	MaxBatch      *int           `toml:"max_batch"`
	MaxQueueDelay *time.Duration `toml:"max_queue_delay"`
	Outputs       *[]string      `toml:"outputs"`
	TopK          *int           `toml:"top_k"`
}

type configTOML struct {
	Pipelines []string              `toml:"pipelines"`
	Defaults  limitsTOML            `toml:"defaults"`
	Models    map[string]limitsTOML `toml:"models"`
}

// Bounds of the config file's values.
const (
	MaxThreads     = 256
	MaxSessions    = 1024
	MaxConcurrency = 4096
	MaxQueue       = 1 << 16
	MaxBatchRows   = 4096
	MaxTopK        = 1 << 16
	MaxOutputs     = 256 // names in outputs
)

// DefaultLimits are the limits of a model the config file does not
// change: one thread per session, GOMAXPROCS sessions and requests in
// flight, 64 waiting, 30 s per request, no batching.
func DefaultLimits() ModelLimits {
	n := runtime.GOMAXPROCS(0)
	return ModelLimits{Threads: 1, Sessions: n, Concurrency: n, Queue: 64, Timeout: 30 * time.Second}
}

// DefaultConfig is the configuration without a file.
func DefaultConfig() *Config { return &Config{Defaults: DefaultLimits()} }

// Limits are a model's limits: its table over the defaults.
func (c *Config) Limits(name string) ModelLimits {
	if c == nil {
		return DefaultLimits()
	}
	if l, ok := c.Models[name]; ok {
		return l
	}
	return c.Defaults
}

// ReadConfig reads a config file.
func ReadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	c, err := ParseConfig(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	for i, p := range c.Pipelines {
		if !filepath.IsAbs(p) {
			c.Pipelines[i] = filepath.Join(filepath.Dir(path), p)
		}
	}
	return c, nil
}

// ParseConfig reads a config file's text (at most what r gives).
func ParseConfig(r io.Reader) (*Config, error) {
	var raw configTOML
	md, err := toml.NewDecoder(r).Decode(&raw)
	if err != nil {
		return nil, err
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = quote(k.String())
		}
		return nil, fmt.Errorf("unknown key %s (known: pipelines, and [defaults] and [models.NAME] with threads, sessions, concurrency, queue, timeout, max_batch, max_queue_delay, outputs, top_k)", strings.Join(keys, ", "))
	}
	c := &Config{Defaults: DefaultLimits(), Models: map[string]ModelLimits{}, ModelReturns: map[string]Returns{}}
	for i, p := range raw.Pipelines {
		if strings.TrimSpace(p) == "" {
			return nil, fmt.Errorf("pipelines[%d]: an empty path", i)
		}
		c.Pipelines = append(c.Pipelines, p)
	}
	if err := raw.Defaults.apply(&c.Defaults, "[defaults]"); err != nil {
		return nil, err
	}
	if err := raw.Defaults.applyReturns(&c.DefaultReturns, "[defaults]"); err != nil {
		return nil, err
	}
	batchSessions(&c.Defaults, raw.Defaults.Sessions)
	names := make([]string, 0, len(raw.Models))
	for name := range raw.Models {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		l, ret, table := c.Defaults, c.DefaultReturns, fmt.Sprintf("[models.%s]", name)
		if err := raw.Models[name].apply(&l, table); err != nil {
			return nil, err
		}
		if err := raw.Models[name].applyReturns(&ret, table); err != nil {
			return nil, err
		}
		if raw.Models[name].Sessions == nil {
			batchSessions(&l, raw.Defaults.Sessions)
		}
		c.Models[name], c.ModelReturns[name] = l, ret
	}
	return c, nil
}

// BatchSessions is the session pool of a model that batches when the
// config file does not set one: half the cores (at least one), so that
// the others decode the requests that gather while the sessions run. With
// a session per core, every core is running the model whenever a request
// could come in, so none ever waits and no batch forms.
func BatchSessions() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// batchSessions gives l, if it batches, BatchSessions sessions, unless
// the [defaults] table set them (set).
func batchSessions(l *ModelLimits, set *int) {
	if l.MaxBatch > 1 && set == nil {
		l.Sessions = BatchSessions()
	}
}

func quote(s string) string { return `"` + s + `"` }

// apply sets the keys given over l, checking their ranges.
func (t limitsTOML) apply(l *ModelLimits, table string) error {
	var errs []error
	intKey := func(dst *int, v *int, key string, lo, hi int) {
		if v == nil {
			return
		}
		if *v < lo || *v > hi {
			errs = append(errs, fmt.Errorf("%s %s = %d: want %d to %d", table, key, *v, lo, hi))
			return
		}
		*dst = *v
	}
	durKey := func(dst *time.Duration, v *time.Duration, key string, lo time.Duration) {
		if v == nil {
			return
		}
		if *v < lo {
			errs = append(errs, fmt.Errorf("%s %s = %s: want at least %s", table, key, *v, lo))
			return
		}
		*dst = *v
	}
	intKey(&l.Threads, t.Threads, "threads", 1, MaxThreads)
	intKey(&l.Sessions, t.Sessions, "sessions", 1, MaxSessions)
	intKey(&l.Concurrency, t.Concurrency, "concurrency", 1, MaxConcurrency)
	intKey(&l.Queue, t.Queue, "queue", 0, MaxQueue)
	durKey(&l.Timeout, t.Timeout, "timeout", time.Millisecond)
	intKey(&l.MaxBatch, t.MaxBatch, "max_batch", 0, MaxBatchRows)
	durKey(&l.MaxQueueDelay, t.MaxQueueDelay, "max_queue_delay", 0)
	return errors.Join(errs...)
}

// applyReturns sets the outputs and top_k keys given over r: top_k 1 to
// MaxTopK, outputs distinct non-empty names (an empty list: all).
func (t limitsTOML) applyReturns(r *Returns, table string) error {
	if t.TopK != nil {
		if *t.TopK < 1 || *t.TopK > MaxTopK {
			return fmt.Errorf("%s top_k = %d: want 1 to %d", table, *t.TopK, MaxTopK)
		}
		r.TopK = *t.TopK
	}
	if t.Outputs != nil {
		names := *t.Outputs
		if len(names) > MaxOutputs {
			return fmt.Errorf("%s outputs: %d names, want at most %d", table, len(names), MaxOutputs)
		}
		for i, n := range names {
			if strings.TrimSpace(n) == "" {
				return fmt.Errorf("%s outputs: an empty name", table)
			}
			if slices.Contains(names[:i], n) {
				return fmt.Errorf("%s outputs: %q twice", table, n)
			}
		}
		r.Outputs = nil
		if len(names) > 0 {
			r.Outputs = slices.Clone(names)
		}
	}
	return nil
}
