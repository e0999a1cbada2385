package pipeline

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/boards"
)

// TestMergeSource: two sources read as one (channels in order, the
// first's time), a failed read of either is a failed read that the next
// Read recovers from, the end of either ends the merge, and Close closes
// both.
func TestMergeSource(t *testing.T) {
	a := &sliceSource{channels: []string{"x", "y"}, readings: ramp(3), fail: map[int]bool{1: true}}
	b := &sliceSource{channels: []string{"current"}, readings: []boards.Reading{{Values: []float64{7}}, {Values: []float64{8}}}}
	k := NewKinds(Deps{Stdout: io.Discard})
	k.Sources["a"] = func(*Node) (OpenSource, error) { return func() (boards.Source, error) { return a, nil }, nil }
	k.Sources["b"] = func(*Node) (OpenSource, error) { return func() (boards.Source, error) { return b, nil }, nil }
	cfg, err := Parse("p.yaml", ".", []byte(strings.Join([]string{
		"sample_rate: 10",
		"source: {kind: merge, sources: [{kind: a}, {kind: b}]}",
		"window: {size: 2, hop: 1}",
		"model: {erm: m.erm}",
		"rule: {output: score, threshold: {above: 1}}",
		"sinks: [{kind: stdout}]",
	}, "\n")), k)
	if err != nil {
		t.Fatal(err)
	}
	src, err := cfg.Source.Open()
	if err != nil {
		t.Fatal(err)
	}
	if got := src.Channels(); !slices.Equal(got, []string{"x", "y", "current"}) {
		t.Fatalf("channels %q", got)
	}
	ctx := context.Background()
	r, err := src.Read(ctx)
	if err != nil || !slices.Equal(r.Values, []float64{0, 100, 7}) {
		t.Fatalf("first read %v, %v", r.Values, err)
	}
	if _, err := src.Read(ctx); err == nil || !strings.Contains(err.Error(), "source 1") {
		t.Fatalf("the failing read: %v", err)
	}
	r, err = src.Read(ctx)
	if err != nil || !slices.Equal(r.Values, []float64{1, 101, 8}) {
		t.Fatalf("after the failure %v, %v", r.Values, err)
	}
	if _, err := src.Read(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("b has ended: %v, want io.EOF", err)
	}
	if err := src.Close(); err != nil || !a.closed || !b.closed {
		t.Fatalf("close: %v, a closed %v, b closed %v", err, a.closed, b.closed)
	}
}

// TestMergeConfigErrors: a merge of fewer than two, of an unknown kind or
// of itself, and two sources with a channel of one name, are refused.
func TestMergeConfigErrors(t *testing.T) {
	same := func(*Node) (OpenSource, error) {
		return func() (boards.Source, error) { return &sliceSource{channels: []string{"x"}}, nil }, nil
	}
	k := NewKinds(Deps{Stdout: io.Discard})
	k.Sources["a"] = same
	rest := "\nwindow: {size: 2, hop: 1}\nmodel: {erm: m.erm}\nrule: {output: score, threshold: {above: 1}}\nsinks: [{kind: stdout}]\n"
	for src, want := range map[string]string{
		"source: {kind: merge, sources: [{kind: a}]}":                    "p.yaml:2: source.sources: lists 1 source(s)",
		"source: {kind: merge, sources: [{kind: a}, {kind: nope}]}":      `unknown source kind "nope" inside a merge`,
		"source: {kind: merge, sources: [{kind: a}, {kind: merge}]}":     `unknown source kind "merge" inside a merge`,
		"source: {kind: merge, sources: [{kind: a}, {kind: a, bad: 1}]}": "bad",
	} {
		_, err := Parse("p.yaml", ".", []byte("sample_rate: 10\n"+src+rest), k)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", src, err, want)
		}
	}
	cfg, err := Parse("p.yaml", ".", []byte("sample_rate: 10\nsource: {kind: merge, sources: [{kind: a}, {kind: a}]}"+rest), k)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Source.Open(); err == nil || !strings.Contains(err.Error(), `two sources have a channel "x"`) {
		t.Fatalf("same channel twice: %v", err)
	}
}
