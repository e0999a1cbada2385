package pipeline

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/edgerun/edgerun/boards"
)

// OpenSource opens a source a pipeline file describes.
type OpenSource func() (boards.Source, error)

// OpenSink opens a sink a pipeline file describes.
type OpenSink func() (Sink, error)

// SourceKind reads the fields of a source section (kind aside) and
// returns how to open it; it opens nothing yet, so that a file can be
// checked without its hardware.
type SourceKind func(n *Node) (OpenSource, error)

// SinkKind reads the fields of one entry of the sinks list (kind, on and
// queue aside) and returns how to open it.
type SinkKind func(n *Node) (OpenSink, error)

// Kinds are the source and sink kinds a pipeline file may name. A kind
// that needs hardware (an I²C sensor, a GPIO input) is added by the
// program that links its driver.
type Kinds struct {
	Sources map[string]SourceKind
	Sinks   map[string]SinkKind
}

func (k *Kinds) sourceNames() string { return strings.Join(slices.Sorted(maps.Keys(k.Sources)), ", ") }
func (k *Kinds) sinkNames() string   { return strings.Join(slices.Sorted(maps.Keys(k.Sinks)), ", ") }

// Sink is where decisions go. Send is called from one goroutine, in
// order; Close is called once, after the last Send, and must leave an
// output in its safe state (a GPIO alarm off).
type Sink interface {
	Send(d Decision) error
	Close(ctx context.Context) error
}

// GPIOSpec is a gpio sink's pin: the name the board's GPIO driver knows
// (e.g. "GPIO17"); ActiveLow means the output is on at a low level, which
// the actuator handles.
type GPIOSpec struct {
	Pin       string
	ActiveLow bool
	Log       *slog.Logger // the pipeline's (Deps.Log)
}

// MQTTSpec is an mqtt sink: where decisions are published, as JSON.
type MQTTSpec struct {
	Broker   string // e.g. tcp://127.0.0.1:1883
	Topic    string
	QoS      int // 0, 1 or 2
	ClientID string
	Username string
	// PasswordEnv names the environment variable holding the password
	// (never in the file).
	PasswordEnv string
	Retain      bool
	// Outbox bounds the messages kept while the broker is away (0: the
	// client's default).
	Outbox int
	Log    *slog.Logger // the pipeline's (Deps.Log)
}

// Publisher is an MQTT client: Publish never blocks (the client queues,
// bounded); Close flushes what it can until ctx ends.
type Publisher interface {
	Publish(topic string, payload []byte)
	Close(ctx context.Context) error
}

// Deps are what the built-in kinds need from the program: the standard
// streams and the drivers of GPIO outputs and MQTT (nil: a file naming
// that kind checks, but the pipeline does not start).
type Deps struct {
	Stdin  io.Reader
	Stdout io.Writer
	GPIO   func(GPIOSpec) (boards.Actuator, error)
	MQTT   func(MQTTSpec) (Publisher, error)
	// Log is handed to the GPIO and MQTT drivers (nil: slog.Default()).
	Log *slog.Logger
}

// NewKinds returns the built-in kinds: sources csv and jsonl (a file or
// "-" for standard input), wav (an audio file) and pcm (raw audio, e.g.
// arecord on standard input), sinks stdout (JSON lines), gpio and mqtt.
func NewKinds(d Deps) *Kinds {
	k := &Kinds{Sources: map[string]SourceKind{}, Sinks: map[string]SinkKind{}}
	k.Sources["csv"] = fileKind(d.Stdin, formatCSV)
	k.Sources["jsonl"] = fileKind(d.Stdin, formatJSONL)
	k.Sources["merge"] = mergeKind(k)
	k.Sources["wav"] = wavKind
	k.Sources["pcm"] = pcmKind(d.Stdin)
	k.Sinks["stdout"] = func(n *Node) (OpenSink, error) {
		w := d.Stdout
		return func() (Sink, error) { return &jsonSink{w: w}, nil }, nil
	}
	k.Sinks["gpio"] = func(n *Node) (OpenSink, error) {
		var s GPIOSpec
		var err error
		if s.Pin, err = n.RequiredString("pin"); err != nil {
			return nil, err
		}
		if s.ActiveLow, err = n.Bool("active_low", false); err != nil {
			return nil, err
		}
		line := n.Line()
		return func() (Sink, error) {
			if d.GPIO == nil {
				return nil, &ConfigError{File: n.File(), Line: line, Field: "sinks", Msg: "gpio: this program has no GPIO driver"}
			}
			s.Log = cmp.Or(d.Log, slog.Default())
			a, err := d.GPIO(s)
			if err != nil {
				return nil, fmt.Errorf("gpio %s: %w", s.Pin, err)
			}
			return &gpioSink{a: a}, nil
		}, nil
	}
	k.Sinks["mqtt"] = func(n *Node) (OpenSink, error) {
		s, err := mqttSpec(n)
		if err != nil {
			return nil, err
		}
		line := n.Line()
		return func() (Sink, error) {
			if d.MQTT == nil {
				return nil, &ConfigError{File: n.File(), Line: line, Field: "sinks", Msg: "mqtt: this program has no MQTT client"}
			}
			s.Log = cmp.Or(d.Log, slog.Default())
			p, err := d.MQTT(s)
			if err != nil {
				return nil, fmt.Errorf("mqtt %s: %w", s.Broker, err)
			}
			return &mqttSink{p: p, topic: s.Topic}, nil
		}, nil
	}
	return k
}

func mqttSpec(n *Node) (MQTTSpec, error) {
	var s MQTTSpec
	var err error
	if s.Broker, err = n.RequiredString("broker"); err != nil {
		return s, err
	}
	if !strings.Contains(s.Broker, "://") {
		return s, n.Errorf("broker", "%q has no scheme: write tcp://HOST:1883 (or ssl://, ws://)", s.Broker)
	}
	if s.Topic, err = n.RequiredString("topic"); err != nil {
		return s, err
	}
	if strings.ContainsAny(s.Topic, "+#") {
		return s, n.Errorf("topic", "%q has a wildcard (+ or #): a topic to publish to has none", s.Topic)
	}
	if s.QoS, err = n.Int("qos", 1, 0, 2); err != nil {
		return s, err
	}
	if s.ClientID, err = n.String("client_id", ""); err != nil {
		return s, err
	}
	if s.Username, err = n.String("username", ""); err != nil {
		return s, err
	}
	if n.Has("password") {
		return s, n.Errorf("password", "is not read from the file: name an environment variable with password_env")
	}
	if s.PasswordEnv, err = n.String("password_env", ""); err != nil {
		return s, err
	}
	if s.Retain, err = n.Bool("retain", false); err != nil {
		return s, err
	}
	if s.Outbox, err = n.Int("outbox", 0, 0, 1<<20); err != nil {
		return s, err
	}
	return s, nil
}

// jsonSink writes each decision as one JSON line.
type jsonSink struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *jsonSink) Send(d Decision) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err = s.w.Write(append(b, '\n'))
	return err
}

func (s *jsonSink) Close(context.Context) error { return nil }

// gpioSink sets an actuator to the alarm state.
type gpioSink struct {
	a   boards.Actuator
	set bool // a state was written
	on  bool
}

func (s *gpioSink) Send(d Decision) error {
	if s.set && s.on == d.Alarm {
		return nil
	}
	if err := s.a.Set(d.Alarm); err != nil {
		return err
	}
	s.set, s.on = true, d.Alarm
	return nil
}

// Close turns the output off and releases it.
func (s *gpioSink) Close(context.Context) error {
	return errors.Join(s.a.Set(false), s.a.Close())
}

// mqttSink publishes each decision as JSON.
type mqttSink struct {
	p     Publisher
	topic string
}

func (s *mqttSink) Send(d Decision) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	s.p.Publish(s.topic, b)
	return nil
}

func (s *mqttSink) Close(ctx context.Context) error { return s.p.Close(ctx) }
