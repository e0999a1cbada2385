package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/edgerun/edgerun/boards"
)

// mergeKind is the source kind "merge": several sources read together as
// one, a reading of each making one sample of all their channels (in the
// order listed), stamped with the first's time. It is how a pipeline
// reads sensors on separate devices, e.g. an accelerometer and an ADC:
//
//	source:
//	  kind: merge
//	  sources:
//	    - {kind: adxl345, channels: [vib_x, vib_y, vib_z]}
//	    - {kind: i2c, address: 0x48, channels: [{name: current, register: 0, size: 2, signed: true, big_endian: true}]}
//
// A failed read of any of them is a failed read of the sample (the
// pipeline counts and retries it); the end of any ends the merge.
func mergeKind(k *Kinds) SourceKind {
	return func(n *Node) (OpenSource, error) {
		subs, err := n.Maps("sources")
		if err != nil {
			return nil, err
		}
		if len(subs) < 2 {
			return nil, n.Errorf("sources", "lists %d source(s): a merge takes two or more", len(subs))
		}
		var opens []OpenSource
		for _, s := range subs {
			kind, err := s.RequiredString("kind")
			if err != nil {
				return nil, err
			}
			sk, ok := k.Sources[kind]
			if !ok || kind == "merge" {
				return nil, s.Errorf("kind", "unknown source kind %q inside a merge (known: %s)", kind, k.sourceNames())
			}
			open, err := sk(s)
			if err != nil {
				return nil, err
			}
			if err := s.Done(); err != nil {
				return nil, err
			}
			opens = append(opens, open)
		}
		return func() (boards.Source, error) {
			m := &mergeSource{}
			for _, open := range opens {
				src, err := open()
				if err != nil {
					m.Close()
					return nil, err
				}
				m.srcs = append(m.srcs, src)
				for _, ch := range src.Channels() {
					if slices.Contains(m.chans, ch) {
						m.Close()
						return nil, fmt.Errorf("merge: two sources have a channel %q: name them apart (their channels field)", ch)
					}
					m.chans = append(m.chans, ch)
				}
			}
			return m, nil
		}, nil
	}
}

type mergeSource struct {
	srcs  []boards.Source
	chans []string
}

func (m *mergeSource) Channels() []string { return m.chans }

func (m *mergeSource) Read(ctx context.Context) (boards.Reading, error) {
	out := boards.Reading{Values: make([]float64, 0, len(m.chans))}
	for i, s := range m.srcs {
		r, err := s.Read(ctx)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return boards.Reading{}, io.EOF
			}
			return boards.Reading{}, fmt.Errorf("merge: source %d: %w", i+1, err)
		}
		if len(r.Values) != len(s.Channels()) {
			return boards.Reading{}, fmt.Errorf("merge: source %d gave %d values for %d channels", i+1, len(r.Values), len(s.Channels()))
		}
		if i == 0 {
			out.Time = r.Time
		}
		out.Values = append(out.Values, r.Values...)
	}
	return out, nil
}

func (m *mergeSource) Close() error {
	var errs []error
	for _, s := range m.srcs {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// Realtime: a merge is paced unless every source it reads is a recording
// read as fast as possible.
func (m *mergeSource) Realtime() bool {
	for _, s := range m.srcs {
		rt, ok := s.(interface{ Realtime() bool })
		if !ok || rt.Realtime() {
			return true
		}
	}
	return false
}
