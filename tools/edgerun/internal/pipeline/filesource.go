package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/edgerun/edgerun/boards"
)

// MaxLineBytes bounds one line of a csv or jsonl source.
const MaxLineBytes = 64 << 10

// TimeColumn is the optional column (csv) or key (jsonl) of a reading's
// time: seconds (since the Unix epoch, or since the recording's start)
// or an RFC 3339 time.
const TimeColumn = "time"

const (
	formatCSV   = "csv"
	formatJSONL = "jsonl"
)

// fileKind is the csv or jsonl source kind: fields path (a file, or "-"
// for standard input) and realtime (default true: read at the sample
// rate; false: as fast as the pipeline takes them).
func fileKind(stdin io.Reader, format string) SourceKind {
	return func(n *Node) (OpenSource, error) {
		path, err := n.Path("path")
		if err != nil {
			return nil, err
		}
		realtime, err := n.Bool("realtime", true)
		if err != nil {
			return nil, err
		}
		return func() (boards.Source, error) {
			var rc io.ReadCloser
			name := path
			if path == "-" {
				if stdin == nil {
					stdin = os.Stdin
				}
				rc, name = io.NopCloser(stdin), "standard input"
			} else {
				f, err := os.Open(path)
				if err != nil {
					return nil, err
				}
				rc = f
			}
			s, err := NewFileSource(rc, name, format, realtime)
			if err != nil {
				_ = rc.Close()
				return nil, err
			}
			return s, nil
		}, nil
	}
}

// FileSource is a recording read a line at a time: CSV whose header line
// names the channels, or JSON lines, one object per reading whose keys
// name the channels (in the order of the first line's, or of a first
// line that is a JSON array of the names). A TimeColumn is optional. A
// line that does not parse is a failed read naming the line; the next
// Read goes on with the next line. The end of the file is io.EOF.
type FileSource struct {
	name     string
	format   string
	rc       io.ReadCloser
	br       *bufio.Reader
	line     int
	channels []string
	timeCol  int // index in a CSV line, -1: none
	keys     map[string]int
	realtime bool
	pending  []byte // a first JSON line that was a reading, not a header
}

// NewFileSource reads the header of a csv or jsonl recording from rc
// (named name in errors). realtime says whether a pipeline paces its
// reads at the sample rate.
func NewFileSource(rc io.ReadCloser, name, format string, realtime bool) (*FileSource, error) {
	s := &FileSource{name: name, format: format, rc: rc, br: bufio.NewReaderSize(rc, MaxLineBytes), timeCol: -1, realtime: realtime}
	var head []byte
	for {
		b, err := s.next()
		if err == io.EOF {
			return nil, fmt.Errorf("%s: no header line", name)
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(b)) > 0 {
			head = b
			break
		}
	}
	var err error
	if format == formatCSV {
		err = s.csvHeader(head)
	} else {
		err = s.jsonHeader(head)
	}
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, s.line, err)
	}
	if len(s.channels) == 0 {
		return nil, fmt.Errorf("%s:%d: no channels besides %q", name, s.line, TimeColumn)
	}
	if len(s.channels) > MaxChannels {
		return nil, fmt.Errorf("%s:%d: %d channels, at most %d", name, s.line, len(s.channels), MaxChannels)
	}
	return s, nil
}

// next returns the next line (without its end), at most MaxLineBytes.
func (s *FileSource) next() ([]byte, error) {
	s.line++
	b, err := s.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) { // skip the rest of the line
			_, err = s.br.ReadSlice('\n')
		}
		return nil, fmt.Errorf("%s:%d: line longer than %d bytes", s.name, s.line, MaxLineBytes)
	}
	if err == io.EOF && len(b) > 0 {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	return bytes.TrimRight(b, "\r\n"), nil
}

func (s *FileSource) csvHeader(b []byte) error {
	for i, f := range strings.Split(string(b), ",") {
		f = strings.TrimSpace(f)
		switch {
		case f == "":
			return fmt.Errorf("header column %d has no name", i+1)
		case f == TimeColumn && s.timeCol < 0:
			s.timeCol = i
		default:
			if s.index(f) >= 0 || f == TimeColumn {
				return fmt.Errorf("header names column %q twice", f)
			}
			s.channels = append(s.channels, f)
		}
	}
	return nil
}

func (s *FileSource) index(name string) int {
	for i, c := range s.channels {
		if c == name {
			return i
		}
	}
	return -1
}

func (s *FileSource) jsonHeader(b []byte) error {
	var names []string
	if json.Unmarshal(b, &names) == nil {
		for _, n := range names {
			if n == "" || s.index(n) >= 0 {
				return fmt.Errorf("header name %q is empty or repeated", n)
			}
			if n != TimeColumn {
				s.channels = append(s.channels, n)
			}
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(b))
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			return errors.New("the first line is neither a JSON array of channel names nor a JSON object")
		}
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return fmt.Errorf("the first line: %v", err)
			}
			k, _ := t.(string)
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fmt.Errorf("the first line: %v", err)
			}
			if k != TimeColumn && s.index(k) < 0 {
				s.channels = append(s.channels, k)
			}
		}
		s.pending = bytes.Clone(b)
	}
	s.keys = make(map[string]int, len(s.channels))
	for i, c := range s.channels {
		s.keys[c] = i
	}
	return nil
}

// Channels names the recording's channels, in order.
func (s *FileSource) Channels() []string { return s.channels }

// Realtime says whether the pipeline paces reads at its sample rate.
func (s *FileSource) Realtime() bool { return s.realtime }

// Read returns the next reading; a Reading with a zero Time has no time
// column (the pipeline gives it one from the sample rate).
func (s *FileSource) Read(ctx context.Context) (boards.Reading, error) {
	if err := ctx.Err(); err != nil {
		return boards.Reading{}, err
	}
	var b []byte
	line := s.line
	if s.pending != nil {
		b, s.pending = s.pending, nil
	} else {
		for {
			var err error
			if b, err = s.next(); err != nil {
				return boards.Reading{}, err
			}
			if len(bytes.TrimSpace(b)) > 0 {
				break
			}
		}
		line = s.line
	}
	var r boards.Reading
	var err error
	if s.format == formatCSV {
		r, err = s.csvLine(b)
	} else {
		r, err = s.jsonLine(b)
	}
	if err != nil {
		return boards.Reading{}, fmt.Errorf("%s:%d: %w", s.name, line, err)
	}
	return r, nil
}

func (s *FileSource) csvLine(b []byte) (boards.Reading, error) {
	fields := strings.Split(string(b), ",")
	want := len(s.channels)
	if s.timeCol >= 0 {
		want++
	}
	if len(fields) != want {
		return boards.Reading{}, fmt.Errorf("%d fields, the header has %d", len(fields), want)
	}
	r := boards.Reading{Values: make([]float64, 0, len(s.channels))}
	for i, f := range fields {
		f = strings.TrimSpace(f)
		if i == s.timeCol {
			t, err := parseTime(f)
			if err != nil {
				return boards.Reading{}, fmt.Errorf("column %q: %v", TimeColumn, err)
			}
			r.Time = t
			continue
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return boards.Reading{}, fmt.Errorf("column %q: %q is not a finite number", s.channels[len(r.Values)], f)
		}
		r.Values = append(r.Values, v)
	}
	return r, nil
}

func (s *FileSource) jsonLine(b []byte) (boards.Reading, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return boards.Reading{}, fmt.Errorf("not a JSON object: %v", err)
	}
	r := boards.Reading{Values: make([]float64, len(s.channels))}
	seen := 0
	for k, raw := range obj {
		if k == TimeColumn {
			var str string
			if json.Unmarshal(raw, &str) != nil {
				str = string(raw)
			}
			t, err := parseTime(str)
			if err != nil {
				return boards.Reading{}, fmt.Errorf("key %q: %v", TimeColumn, err)
			}
			r.Time = t
			continue
		}
		i, ok := s.keys[k]
		if !ok {
			return boards.Reading{}, fmt.Errorf("key %q is not a channel (channels: %s)", k, strings.Join(s.channels, ", "))
		}
		var v float64
		if err := json.Unmarshal(raw, &v); err != nil {
			return boards.Reading{}, fmt.Errorf("key %q: %s is not a number", k, raw)
		}
		r.Values[i] = v
		seen++
	}
	if seen != len(s.channels) {
		for _, c := range s.channels {
			if _, ok := obj[c]; !ok {
				return boards.Reading{}, fmt.Errorf("channel %q is missing", c)
			}
		}
	}
	return r, nil
}

// parseTime reads seconds (a number) or an RFC 3339 time.
func parseTime(s string) (time.Time, error) {
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		d, err := time.ParseDuration(s + "s") // exact: 7.67 is 7.67 s, not 7.669999999
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not a time in seconds", s)
		}
		return time.Unix(0, 0).UTC().Add(d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither seconds nor an RFC 3339 time", s)
	}
	return t, nil
}

// Close closes the file (not standard input).
func (s *FileSource) Close() error { return s.rc.Close() }
