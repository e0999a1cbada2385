package serve

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Config is the daemon's config file (TOML): the limits of every model,
// and those of single models by name.
//
//	[defaults]
//	threads = 1            # engine threads per session (.erm)
//	sessions = 2           # session pool (.erm): concurrent runs
//	concurrency = 2        # requests in flight at once
//	queue = 64             # requests waiting beyond those; more: 429
//	timeout = "30s"        # a request's deadline, queueing included
//	max_batch = 0          # > 1: dynamic batching (.erm)
//	max_queue_delay = "1ms"
//
//	[models.sentiment]     # a model by name (its file name without .erm)
//	concurrency = 1
//
// A key the file does not define is an error, so is a negative value.
type Config struct {
	Defaults ModelLimits
	Models   map[string]ModelLimits
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
}

type configTOML struct {
	Defaults limitsTOML            `toml:"defaults"`
	Models   map[string]limitsTOML `toml:"models"`
}

// Bounds of the config file's values.
const (
	MaxThreads     = 256
	MaxSessions    = 1024
	MaxConcurrency = 4096
	MaxQueue       = 1 << 16
	MaxBatchRows   = 4096
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
		return nil, fmt.Errorf("unknown key %s (known: [defaults] and [models.NAME] with threads, sessions, concurrency, queue, timeout, max_batch, max_queue_delay)", strings.Join(keys, ", "))
	}
	c := &Config{Defaults: DefaultLimits(), Models: map[string]ModelLimits{}}
	if err := raw.Defaults.apply(&c.Defaults, "[defaults]"); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(raw.Models))
	for name := range raw.Models {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		l := c.Defaults
		if err := raw.Models[name].apply(&l, fmt.Sprintf("[models.%s]", name)); err != nil {
			return nil, err
		}
		c.Models[name] = l
	}
	return c, nil
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
