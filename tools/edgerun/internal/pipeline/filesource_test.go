package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readAll(t *testing.T, s *FileSource) (values [][]float64, times []time.Time, errs []string) {
	t.Helper()
	for range 1000 {
		r, err := s.Read(context.Background())
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		values, times = append(values, r.Values), append(times, r.Time)
	}
	t.Fatal("no io.EOF")
	return
}

func TestCSVSource(t *testing.T) {
	in := "vib_x,time,vib_y\n0.5, 1.25 ,-1\n\n0.25,1.5,2\n1,x,2\nNaN,1.75,1\n1,2\n" + strings.Repeat("9", MaxLineBytes+10) + "\n3,2.0,4\n"
	s, err := NewFileSource(io.NopCloser(strings.NewReader(in)), "v.csv", formatCSV, false)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(s.Channels()) != "[vib_x vib_y]" || s.Realtime() {
		t.Fatalf("channels %v realtime %v", s.Channels(), s.Realtime())
	}
	values, times, errs := readAll(t, s)
	if fmt.Sprint(values) != "[[0.5 -1] [0.25 2] [3 4]]" {
		t.Errorf("values %v", values)
	}
	if len(times) != 3 || times[0] != time.Unix(1, 250e6).UTC() || times[2] != time.Unix(2, 0).UTC() {
		t.Errorf("times %v", times)
	}
	want := []string{
		`v.csv:5: column "time": "x" is neither seconds nor an RFC 3339 time`,
		`v.csv:6: column "vib_x": "NaN" is not a finite number`,
		`v.csv:7: 2 fields, the header has 3`,
		`v.csv:8: line longer than 65536 bytes`,
	}
	if strings.Join(errs, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors\n%s\nwant\n%s", strings.Join(errs, "\n"), strings.Join(want, "\n"))
	}
	for _, bad := range []string{"", "\n\n", "a,,b\n", "time\n", "a,a\n"} {
		if _, err := NewFileSource(io.NopCloser(strings.NewReader(bad)), "b.csv", formatCSV, true); err == nil {
			t.Errorf("header %q accepted", bad)
		}
	}
}

func TestJSONLSource(t *testing.T) {
	in := `{"time": "2026-01-02T03:04:05.5Z", "b": 2, "a": 1}
{"a": 3, "b": 4}
{"a": 3}
{"a": "x", "b": 1}
{"a": 1, "b": 2, "c": 3}
[1, 2]
{"b": 6, "a": 5, "time": 12.5}
`
	s, err := NewFileSource(io.NopCloser(strings.NewReader(in)), "v.jsonl", formatJSONL, true)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(s.Channels()) != "[b a]" {
		t.Fatalf("channels %v", s.Channels())
	}
	values, times, errs := readAll(t, s)
	if fmt.Sprint(values) != "[[2 1] [4 3] [6 5]]" || times[0] != time.Date(2026, 1, 2, 3, 4, 5, 5e8, time.UTC) || !times[1].IsZero() ||
		times[2] != time.Unix(12, 5e8).UTC() {
		t.Errorf("values %v times %v", values, times)
	}
	if len(errs) != 4 || !strings.HasPrefix(errs[0], `v.jsonl:3: channel "b" is missing`) || !strings.HasPrefix(errs[3], "v.jsonl:6: not a JSON object") {
		t.Errorf("errors %q", errs)
	}
	// A header line: a JSON array of the names.
	s, err = NewFileSource(io.NopCloser(strings.NewReader("[\"time\", \"x\", \"y\"]\n{\"x\": 1, \"y\": "+fmt.Sprint(math.Pi)+"}\n")), "h.jsonl", formatJSONL, true)
	if err != nil {
		t.Fatal(err)
	}
	if values, _, errs := readAll(t, s); fmt.Sprint(s.Channels()) != "[x y]" || len(values) != 1 || values[0][1] != math.Pi || errs != nil {
		t.Errorf("channels %v values %v errs %v", s.Channels(), values, errs)
	}
}

// TestFileKind: the csv kind opens its file relative to the pipeline file.
func TestFileKind(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "v.csv"), []byte("a\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Parse(filepath.Join(dir, "p.yaml"), dir, []byte(strings.Replace(goodYAML, "kind: csv", "kind: csv\n  realtime: false", 1)), NewKinds(Deps{}))
	if err != nil {
		t.Fatal(err)
	}
	src, err := c.Source.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if r, err := src.Read(context.Background()); err != nil || r.Values[0] != 1 {
		t.Errorf("read %v %v", r, err)
	}
	c.Source.Open = nil
	bad, _ := Parse("p.yaml", dir, []byte(strings.Replace(goodYAML, "v.csv", "missing.csv", 1)), NewKinds(Deps{}))
	if _, err := bad.Source.Open(); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
