package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdkrt"
	"github.com/edgerun/edgerun/tools/edgerun/internal/serve"
)

// OutAnomalyScore is the output an .erm classifier answers besides label
// and probabilities when its metadata names a normal_label: 1 − p(normal).
const OutAnomalyScore = sdkrt.OutAnomalyScore

// ErrServeOnly is the error of a model section that names a model of
// edgerun serve when the pipeline runs on its own.
var ErrServeOnly = errors.New("only inside edgerun serve (where the daemon's models are); use erm: or plugin: to run on its own")

// ModelLookup finds a model of edgerun serve by name.
type ModelLookup func(name string) (sdk.Model, error)

// openModel opens the model a spec names: an .erm file served in
// process, a plugin binary (checked against plugins.lock beside it), or
// a model of edgerun serve through lookup.
func openModel(c *Config, lookup ModelLookup, pluginOpts []sdk.Option) (sdk.Model, func() error, error) {
	spec := c.Model
	switch {
	case spec.Serve != "":
		if lookup == nil {
			return nil, nil, &ConfigError{File: c.File, Line: spec.Line, Field: "model.serve", Msg: ErrServeOnly.Error()}
		}
		m, err := lookup(spec.Serve)
		if err != nil {
			return nil, nil, fmt.Errorf("model %s: %w", spec.Serve, err)
		}
		return m, func() error { return nil }, nil
	case spec.Plugin != "":
		opts := []sdk.Option{sdk.WithName(filepath.Base(spec.Plugin)), sdk.WithManifestFile(filepath.Join(filepath.Dir(spec.Plugin), sdk.ManifestName))}
		if spec.Domain != "" {
			opts = append(opts, sdk.WithArgs(spec.Domain))
		}
		p, err := sdk.Open(spec.Plugin, append(opts, pluginOpts...)...)
		if err != nil {
			return nil, nil, err
		}
		return p, p.Close, nil
	}
	m, closeModel, err := serve.OpenERM(spec.ERM, spec.Threads)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", spec.ERM, err)
	}
	return m, closeModel, nil
}

// stage is the model and rule of a running pipeline: how a window
// becomes a request and a response a decision.
type stage struct {
	model           sdk.Model
	input, layout   string
	steps, channels int
	params          map[string]string
	output          string
	optional        bool // the output may be left out of a response (sdk.TensorSpec.Optional)
	column          int  // -1: the output has one value
	rule            *Rule
}

// newStage checks the model's description against the window and the
// rule: the input and its layout, the output and its column.
func newStage(ctx context.Context, c *Config, m sdk.Model, channels int) (*stage, error) {
	s := &stage{model: m, input: c.Model.Input, layout: c.Model.Layout, steps: c.Window.Size, channels: channels,
		params: c.Model.Parameters, output: c.Rule.Output, column: -1, rule: NewRule(c.Rule)}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	d, err := m.Describe(dctx)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	merr := func(field, format string, args ...any) error {
		return &ConfigError{File: c.File, Line: c.Model.Line, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	rerr := func(field, format string, args ...any) error {
		return &ConfigError{File: c.File, Line: c.Rule.Line, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	var in *sdk.TensorSpec
	switch {
	case s.input == "" && len(d.Inputs) == 1:
		in = &d.Inputs[0]
		s.input = in.Name
	case s.input == "":
		return nil, merr("model.input", "is required: the model takes %d inputs (%s)", len(d.Inputs), specNames(d.Inputs))
	default:
		for i := range d.Inputs {
			if d.Inputs[i].Name == s.input {
				in = &d.Inputs[i]
			}
		}
		if in == nil && len(d.Inputs) > 0 {
			return nil, merr("model.input", "the model has no input %q (inputs: %s)", s.input, specNames(d.Inputs))
		}
	}
	switch {
	case in != nil && in.Datatype != sdk.FP32:
		return nil, merr("model.input", "input %q is %s, a window is FP32", in.Name, in.Datatype)
	case in != nil && len(in.Shape) == 1: // samples: one channel, flat (an audio model)
		if channels != 1 || (s.layout != "" && s.layout != Flat) || (in.Shape[0] >= 0 && in.Shape[0] != int64(s.steps)) {
			return nil, merr("model.input", "input %q has shape %s: it takes the samples of one channel, flat; the window is %d steps × %d channels", in.Name, sdk.ShapeString(in.Shape), s.steps, channels)
		}
		s.layout = Flat
	case in != nil && len(in.Shape) != 3:
		return nil, merr("model.input", "input %q has shape %s, a window is [1, steps, channels] or [1, channels, steps] (or [steps] for one channel)", in.Name, sdk.ShapeString(in.Shape))
	case in != nil:
		fits := func(a, b int) bool {
			return (in.Shape[1] < 0 || in.Shape[1] == int64(a)) && (in.Shape[2] < 0 || in.Shape[2] == int64(b))
		}
		sc, cs := fits(s.steps, channels), fits(channels, s.steps)
		switch {
		case s.layout == Flat, s.layout == StepsChannels && !sc, s.layout == ChannelsSteps && !cs, !sc && !cs:
			return nil, merr("model.input", "input %q has shape %s; the window is %d steps × %d channels", in.Name, sdk.ShapeString(in.Shape), s.steps, channels)
		case s.layout == "" && sc:
			s.layout = StepsChannels
		case s.layout == "":
			s.layout = ChannelsSteps
		}
	}
	if s.layout == Flat && channels != 1 {
		return nil, merr("model.layout", "flat takes one channel; the window has %d", channels)
	}
	if s.layout == "" {
		s.layout = StepsChannels
	}
	if len(d.Outputs) > 0 && !slices.ContainsFunc(d.Outputs, func(o sdk.TensorSpec) bool { return o.Name == s.output }) {
		return nil, rerr("rule.output", "the model has no output %q (outputs: %s)", s.output, specNames(d.Outputs))
	}
	s.optional = slices.ContainsFunc(d.Outputs, func(o sdk.TensorSpec) bool { return o.Name == s.output && o.Optional })
	if col := c.Rule.Column; col != "" {
		if i, err := strconv.Atoi(col); err == nil && i >= 0 {
			s.column = i
		} else if s.column = slices.Index(d.Labels, col); s.column < 0 {
			return nil, rerr("rule.column", "%q is neither an index nor one of the model's labels (%s)", col, strings.Join(d.Labels, ", "))
		}
	}
	return s, nil
}

func specNames(specs []sdk.TensorSpec) string {
	if len(specs) == 0 {
		return "none"
	}
	var b []string
	for _, s := range specs {
		b = append(b, s.Name+" "+s.Datatype+sdk.ShapeString(s.Shape))
	}
	return strings.Join(b, ", ")
}

// request is the window (steps × channels, step by step) as the model's
// input.
func (s *stage) request(w *Window) *sdk.InferRequest {
	data, shape := w.Data, []int64{1, int64(s.steps), int64(s.channels)}
	if s.layout == Flat {
		shape = []int64{int64(s.steps)}
	}
	if s.layout == ChannelsSteps {
		data = make([]float32, len(w.Data))
		for t := range s.steps {
			for c := range s.channels {
				data[c*s.steps+t] = w.Data[t*s.channels+c]
			}
		}
		shape = []int64{1, int64(s.channels), int64(s.steps)}
	}
	return &sdk.InferRequest{
		Inputs:     []sdk.Tensor{{Name: s.input, Datatype: sdk.FP32, Shape: shape, FP32: data}},
		Parameters: s.params,
	}
}

// value reads the rule's output from a response: a number (threshold
// rule) or a text (label rule).
func (s *stage) value(resp *sdk.InferResponse) (float64, string, error) {
	var t *sdk.Tensor
	for i := range resp.Outputs {
		if resp.Outputs[i].Name == s.output {
			t = &resp.Outputs[i]
		}
	}
	if t == nil && s.optional && !s.rule.spec.Threshold {
		return 0, "", nil // an optional output left out: no label (a keyword spotter heard nothing)
	}
	if t == nil {
		return 0, "", fmt.Errorf("the model answered no output %q", s.output)
	}
	var n int
	switch t.Datatype {
	case sdk.FP32:
		n = len(t.FP32)
	case sdk.INT64:
		n = len(t.INT64)
	case sdk.INT32:
		n = len(t.INT32)
	case sdk.BYTES:
		n = len(t.BYTES)
	case sdk.BOOL:
		n = len(t.BOOL)
	}
	i := 0
	switch {
	case s.column >= 0 && s.column >= n:
		return 0, "", fmt.Errorf("output %q has %d values, the rule reads column %d", s.output, n, s.column)
	case s.column >= 0:
		i = s.column
	case n != 1:
		return 0, "", fmt.Errorf("output %q has %d values: name one with rule.column", s.output, n)
	}
	if !s.rule.spec.Threshold {
		if t.Datatype != sdk.BYTES {
			return 0, "", fmt.Errorf("output %q is %s, a label rule reads a text (BYTES)", s.output, t.Datatype)
		}
		return 0, string(t.BYTES[i]), nil
	}
	switch t.Datatype {
	case sdk.FP32:
		return float64(t.FP32[i]), "", nil
	case sdk.INT64:
		return float64(t.INT64[i]), "", nil
	case sdk.INT32:
		return float64(t.INT32[i]), "", nil
	case sdk.BOOL:
		if t.BOOL[i] {
			return 1, "", nil
		}
		return 0, "", nil
	}
	return 0, "", fmt.Errorf("output %q is %s, a threshold rule reads a number", s.output, t.Datatype)
}
