package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// MaxConfigBytes bounds a pipeline file.
const MaxConfigBytes = 1 << 20

// MaxNameBytes bounds a pipeline's name key.
const MaxNameBytes = 64

// Bounds of the sizes a pipeline file may ask for, so a typo cannot ask
// for unbounded memory.
const (
	MaxWindow        = 1 << 16 // samples in a window
	MaxChannels      = 1024
	MaxQueue         = 4096
	DefaultQueue     = 4
	DefaultSinkQueue = 16
)

// Config is a parsed and checked pipeline file.
type Config struct {
	File       string  // the file's name, as errors show it
	Name       string  // the name key: what edgerun serve calls the pipeline ("" : none)
	SampleRate float64 // Hz
	Source     SourceSpec
	Window     WindowSpec
	Normalise  *NormaliseSpec // nil: none
	Model      ModelSpec
	Rule       RuleSpec
	Sinks      []SinkSpec
	// Queue is the capacity of the queue of windows waiting for the model.
	Queue int
	// Retry is the back-off after a failed source read: Initial, doubled
	// after each further failure up to Max.
	Retry struct{ Initial, Max time.Duration }
	// Drain bounds the time spent, after a stop, on the windows and
	// decisions still queued.
	Drain time.Duration
}

// SourceSpec is the source section: its kind and how to open it.
type SourceSpec struct {
	Kind string
	Line int
	Open OpenSource
}

// WindowSpec is the window section.
type WindowSpec struct {
	Size, Hop int
	// Channels are the source channels a window holds, in order (empty:
	// every channel of the source, in its order).
	Channels []string
	Line     int // of the channels field, for errors found at open
}

// Normalisation modes.
const (
	NormStandard = "standard" // (x − mean) / std
	NormMinMax   = "minmax"   // (x − min) / (max − min)
)

// NormaliseSpec scales each window channel: per channel mean and std, or
// min and max (one value per window channel).
type NormaliseSpec struct {
	Mode      string
	Mean, Std []float64
	Min, Max  []float64
}

// Window layouts of a model input.
const (
	StepsChannels = "steps_channels" // [1, steps, channels]
	ChannelsSteps = "channels_steps" // [1, channels, steps]
	Flat          = "flat"           // [steps]: one channel's samples (an audio model)
)

// ModelSpec is the model section: exactly one of ERM, Plugin and Serve.
type ModelSpec struct {
	ERM, Plugin, Serve string
	// Domain is the plugin's domain, passed as its first argument (for a
	// binary serving several).
	Domain string
	// Input is the model input the window goes to (empty: the model's
	// only input); Layout is StepsChannels, ChannelsSteps or Flat (empty: from
	// the model's description).
	Input, Layout string
	Parameters    map[string]string
	Threads       int
	Line          int
}

// RuleSpec is the rule section: a label rule (Labels) or a threshold
// rule (Above, ClearBelow).
type RuleSpec struct {
	Output string
	// Column picks one value of a multi-valued output: a label of the
	// model or an index.
	Column string
	// Labels: alarm while the output (a text) is one of them.
	Labels []string
	// Threshold: alarm raised at a value at or above Above, cleared
	// below ClearBelow (≤ Above; hysteresis).
	Threshold         bool
	Above, ClearBelow float64
	// Raise and Clear are the consecutive windows that must agree before
	// the alarm is raised or cleared (debounce).
	Raise, Clear int
	Line         int
}

// When a sink is sent decisions.
const (
	OnEvery  = "every"  // every decision
	OnChange = "change" // only decisions that change the alarm
)

// SinkSpec is one entry of the sinks list.
type SinkSpec struct {
	Kind  string
	Name  string // kind, or kind#index when several share it
	On    string
	Queue int
	Line  int
	Open  OpenSink
}

// Load reads and checks the pipeline file at path; kinds are the source
// and sink kinds it may use.
func Load(path string, kinds *Kinds) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxConfigBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, MaxConfigBytes)
	}
	return Parse(path, filepath.Dir(path), data, kinds)
}

// Parse checks a pipeline file's contents. file names it in errors; dir
// is where its relative paths start.
func Parse(file, dir string, data []byte, kinds *Kinds) (*Config, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ConfigError{File: file, Msg: "empty file"}
		}
		return nil, yamlError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &ConfigError{File: file, Line: extra.Line, Msg: "a second YAML document: a pipeline file holds one"}
	}
	if len(doc.Content) != 1 {
		return nil, &ConfigError{File: file, Msg: "empty file"}
	}
	top, err := newNode(file, dir, "", doc.Content[0])
	if err != nil {
		return nil, err
	}
	c := &Config{File: file}
	if err := c.parse(top, kinds); err != nil {
		return nil, err
	}
	return c, nil
}

// yamlError turns a YAML syntax error ("yaml: line 3: ...") into a
// ConfigError.
func yamlError(file string, err error) error {
	msg := err.Error()
	var line int
	if n, _ := fmt.Sscanf(msg, "yaml: line %d:", &line); n == 1 {
		if i := bytes.IndexByte([]byte(msg), ':'); i >= 0 {
			rest := msg[i+1:]
			if j := bytes.IndexByte([]byte(rest), ':'); j >= 0 {
				msg = rest[j+1:]
			}
		}
		return &ConfigError{File: file, Line: line, Msg: "YAML: " + trimSpace(msg)}
	}
	return &ConfigError{File: file, Msg: msg}
}

func trimSpace(s string) string { return string(bytes.TrimSpace([]byte(s))) }

func (c *Config) parse(top *Node, kinds *Kinds) error {
	var err error
	if c.Name, err = top.String("name", ""); err != nil {
		return err
	}
	if len(c.Name) > MaxNameBytes || strings.ContainsAny(c.Name, "\x00\n\r\"\\") {
		return top.Errorf("name", "want at most %d bytes, no quotes, backslashes or line breaks", MaxNameBytes)
	}
	if !top.Has("sample_rate") {
		return top.Errorf("sample_rate", "is required (samples per second)")
	}
	if c.SampleRate, err = top.Positive("sample_rate", 0); err != nil {
		return err
	}
	if c.SampleRate > 1e6 {
		return top.Errorf("sample_rate", "%v is above 1000000 Hz", c.SampleRate)
	}
	if c.Queue, err = top.Int("queue", DefaultQueue, 1, MaxQueue); err != nil {
		return err
	}
	drain, err := top.Positive("drain_seconds", 5)
	if err != nil {
		return err
	}
	c.Drain = seconds(drain)

	if err := c.parseRetry(top); err != nil {
		return err
	}
	if err := c.parseSource(top, kinds); err != nil {
		return err
	}
	if err := c.parseWindow(top); err != nil {
		return err
	}
	if err := c.parseNormalise(top); err != nil {
		return err
	}
	if err := c.parseModel(top); err != nil {
		return err
	}
	if err := c.parseRule(top); err != nil {
		return err
	}
	if err := c.parseSinks(top, kinds); err != nil {
		return err
	}
	return top.Done()
}

func seconds(s float64) time.Duration {
	if s > math.MaxInt64/float64(time.Second) {
		return math.MaxInt64
	}
	return time.Duration(s * float64(time.Second))
}

func section(top *Node, key string, required bool) (*Node, error) {
	n, err := top.Map(key)
	if err == nil && n == nil && required {
		err = top.Errorf(key, "is required")
	}
	return n, err
}

func (c *Config) parseRetry(top *Node) error {
	c.Retry.Initial, c.Retry.Max = 100*time.Millisecond, 10*time.Second
	n, err := section(top, "retry", false)
	if err != nil || n == nil {
		return err
	}
	ini, err := n.Positive("initial_seconds", 0.1)
	if err != nil {
		return err
	}
	mx, err := n.Positive("max_seconds", 10)
	if err != nil {
		return err
	}
	if mx < ini {
		return n.Errorf("max_seconds", "%v is below initial_seconds %v", mx, ini)
	}
	c.Retry.Initial, c.Retry.Max = seconds(ini), seconds(mx)
	return n.Done()
}

func (c *Config) parseSource(top *Node, kinds *Kinds) error {
	n, err := section(top, "source", true)
	if err != nil {
		return err
	}
	kind, err := n.RequiredString("kind")
	if err != nil {
		return err
	}
	k, ok := kinds.Sources[kind]
	if !ok {
		return n.Errorf("kind", "unknown source kind %q (known: %s)", kind, kinds.sourceNames())
	}
	open, err := k(n)
	if err != nil {
		return err
	}
	if err := n.Done(); err != nil {
		return err
	}
	c.Source = SourceSpec{Kind: kind, Line: n.Line(), Open: open}
	return nil
}

func (c *Config) parseWindow(top *Node) error {
	n, err := section(top, "window", true)
	if err != nil {
		return err
	}
	if !n.Has("size") {
		return n.Errorf("size", "is required (samples per window)")
	}
	if c.Window.Size, err = n.Int("size", 0, 1, MaxWindow); err != nil {
		return err
	}
	if c.Window.Hop, err = n.Int("hop", c.Window.Size, 1, MaxWindow); err != nil {
		return err
	}
	if c.Window.Channels, err = n.Strings("channels"); err != nil {
		return err
	}
	if len(c.Window.Channels) > MaxChannels {
		return n.Errorf("channels", "%d channels, at most %d", len(c.Window.Channels), MaxChannels)
	}
	for i, ch := range c.Window.Channels {
		for _, prev := range c.Window.Channels[:i] {
			if prev == ch {
				return n.Errorf("channels", "channel %q is listed twice", ch)
			}
		}
	}
	c.Window.Line = n.Line()
	if n.Has("channels") {
		c.Window.Line = n.value("channels").Line
	}
	return n.Done()
}

func (c *Config) parseNormalise(top *Node) error {
	n, err := section(top, "normalise", false)
	if err != nil || n == nil {
		return err
	}
	s := &NormaliseSpec{}
	if s.Mode, err = n.OneOf("mode", NormStandard, NormStandard, NormMinMax); err != nil {
		return err
	}
	want := len(c.Window.Channels)
	pair := func(a, b string) ([]float64, []float64, error) {
		x, err := n.Floats(a)
		if err != nil {
			return nil, nil, err
		}
		y, err := n.Floats(b)
		if err != nil {
			return nil, nil, err
		}
		for _, f := range []struct {
			k string
			v []float64
		}{{a, x}, {b, y}} {
			if len(f.v) == 0 {
				return nil, nil, n.Errorf(f.k, "is required with mode %s (one number per window channel)", s.Mode)
			}
			if want > 0 && len(f.v) != want {
				return nil, nil, n.Errorf(f.k, "has %d numbers for %d window channels", len(f.v), want)
			}
		}
		if len(x) != len(y) {
			return nil, nil, n.Errorf(b, "has %d numbers, %s has %d", len(y), a, len(x))
		}
		return x, y, nil
	}
	switch s.Mode {
	case NormStandard:
		if s.Mean, s.Std, err = pair("mean", "std"); err != nil {
			return err
		}
		for i, v := range s.Std {
			if v <= 0 {
				return n.Errorf("std", "std[%d] is %v, not a positive number", i, v)
			}
		}
	case NormMinMax:
		if s.Min, s.Max, err = pair("min", "max"); err != nil {
			return err
		}
		for i := range s.Min {
			if s.Max[i] <= s.Min[i] {
				return n.Errorf("max", "max[%d] %v is not above min[%d] %v", i, s.Max[i], i, s.Min[i])
			}
		}
	}
	c.Normalise = s
	return n.Done()
}

func (c *Config) parseModel(top *Node) error {
	n, err := section(top, "model", true)
	if err != nil {
		return err
	}
	m := &c.Model
	m.Line = n.Line()
	given := 0
	for _, k := range []string{"erm", "plugin", "serve"} {
		if n.Has(k) {
			given++
		}
	}
	if given != 1 {
		return n.Errorf("", "give exactly one of erm (a model file), plugin (a plugin binary) or serve (a model of edgerun serve)")
	}
	switch {
	case n.Has("erm"):
		m.ERM, err = n.Path("erm")
	case n.Has("plugin"):
		m.Plugin, err = n.Path("plugin")
	default:
		m.Serve, err = n.RequiredString("serve")
	}
	if err != nil {
		return err
	}
	if m.Domain, err = n.String("domain", ""); err != nil {
		return err
	}
	if m.Domain != "" && m.Plugin == "" {
		return n.Errorf("domain", "is for a plugin model")
	}
	if m.Input, err = n.String("input", ""); err != nil {
		return err
	}
	if m.Layout, err = n.OneOf("layout", "", "", StepsChannels, ChannelsSteps, Flat); err != nil {
		return err
	}
	if m.Parameters, err = n.StringMap("parameters"); err != nil {
		return err
	}
	if m.Threads, err = n.Int("threads", 1, 1, 256); err != nil {
		return err
	}
	return n.Done()
}

func (c *Config) parseRule(top *Node) error {
	n, err := section(top, "rule", true)
	if err != nil {
		return err
	}
	r := &c.Rule
	r.Line = n.Line()
	if r.Output, err = n.RequiredString("output"); err != nil {
		return err
	}
	if r.Column, err = n.String("column", ""); err != nil {
		return err
	}
	hasLabels, hasTh := n.Has("labels"), n.Has("threshold")
	if hasLabels == hasTh {
		return n.Errorf("", "give exactly one of labels (alarm while the output is one of them) or threshold (above, clear_below)")
	}
	if hasLabels {
		if r.Labels, err = n.Strings("labels"); err != nil {
			return err
		}
		if len(r.Labels) == 0 {
			return n.Errorf("labels", "is empty")
		}
	} else {
		t, err := n.Map("threshold")
		if err != nil {
			return err
		}
		r.Threshold = true
		if !t.Has("above") {
			return t.Errorf("above", "is required (the value at or above which the alarm is raised)")
		}
		if r.Above, err = t.Float("above", 0); err != nil {
			return err
		}
		if r.ClearBelow, err = t.Float("clear_below", r.Above); err != nil {
			return err
		}
		if r.ClearBelow > r.Above {
			return t.Errorf("clear_below", "%v is above %v (above): the alarm would never hold", r.ClearBelow, r.Above)
		}
		if err := t.Done(); err != nil {
			return err
		}
	}
	if r.Raise, err = n.Int("debounce", 1, 1, 1<<20); err != nil {
		return err
	}
	if r.Clear, err = n.Int("debounce_clear", r.Raise, 1, 1<<20); err != nil {
		return err
	}
	return n.Done()
}

func (c *Config) parseSinks(top *Node, kinds *Kinds) error {
	if !top.Has("sinks") {
		return top.Errorf("sinks", "is required (a list: stdout, gpio, mqtt)")
	}
	list, err := top.Maps("sinks")
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return top.Errorf("sinks", "is empty")
	}
	count := map[string]int{}
	for _, n := range list {
		kind, err := n.RequiredString("kind")
		if err != nil {
			return err
		}
		k, ok := kinds.Sinks[kind]
		if !ok {
			return n.Errorf("kind", "unknown sink kind %q (known: %s)", kind, kinds.sinkNames())
		}
		s := SinkSpec{Kind: kind, Name: kind, Line: n.Line()}
		if count[kind] > 0 {
			s.Name = kind + "#" + strconv.Itoa(count[kind])
		}
		count[kind]++
		if s.On, err = n.OneOf("on", OnEvery, OnEvery, OnChange); err != nil {
			return err
		}
		if s.Queue, err = n.Int("queue", DefaultSinkQueue, 1, MaxQueue); err != nil {
			return err
		}
		if s.Open, err = k(n); err != nil {
			return err
		}
		if err := n.Done(); err != nil {
			return err
		}
		c.Sinks = append(c.Sinks, s)
	}
	return nil
}
