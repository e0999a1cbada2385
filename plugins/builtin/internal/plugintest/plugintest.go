// Package plugintest holds what the built-in plugins' tests share: the
// bundled CSVs and their fixed test splits, request builders and output
// accessors.
package plugintest

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/sdk"
)

// Root is the repository's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..")
}

// Table is a CSV with a header.
type Table struct {
	Header []string
	Rows   [][]string
}

// Col is the index of a column, or -1.
func (t *Table) Col(name string) int {
	for i, h := range t.Header {
		if h == name {
			return i
		}
	}
	return -1
}

// ReadCSV reads a CSV with a header (path relative to the repository).
func ReadCSV(t testing.TB, path string) *Table {
	t.Helper()
	f, err := os.Open(filepath.Join(Root(), path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return &Table{Header: recs[0], Rows: recs[1:]}
}

// TestRows reads a dataset's test_rows.txt (0-based data rows).
func TestRows(t testing.TB, path string) []int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Root(), path))
	if err != nil {
		t.Fatal(err)
	}
	var rows []int
	for _, l := range strings.Fields(string(b)) {
		r, err := strconv.Atoi(l)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	return rows
}

// ReadLines reads a text file's non-blank lines, trimmed (path relative
// to the repository).
func ReadLines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Root(), path))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no lines", path)
	}
	return out
}

// Text is a BYTES [len(s)] tensor.
func Text(name string, s ...string) sdk.Tensor {
	b := make([][]byte, len(s))
	for i, x := range s {
		b[i] = []byte(x)
	}
	return sdk.Tensor{Name: name, Datatype: sdk.BYTES, Shape: []int64{int64(len(s))}, BYTES: b}
}

// FP32 is an FP32 tensor.
func FP32(name string, shape []int64, v ...float32) sdk.Tensor {
	return sdk.Tensor{Name: name, Datatype: sdk.FP32, Shape: shape, FP32: v}
}

// INT64 is an INT64 [len(v)] tensor.
func INT64(name string, v ...int64) sdk.Tensor {
	return sdk.Tensor{Name: name, Datatype: sdk.INT64, Shape: []int64{int64(len(v))}, INT64: v}
}

// Infer calls m and fails the test on an error.
func Infer(t testing.TB, m sdk.Model, req *sdk.InferRequest) *sdk.InferResponse {
	t.Helper()
	resp, err := m.Infer(context.Background(), req)
	if err != nil {
		t.Fatalf("Infer: %v", err)
	}
	return resp
}

// Output returns the response's output named name, failing the test when
// there is none.
func Output(t testing.TB, resp *sdk.InferResponse, name string) *sdk.Tensor {
	t.Helper()
	for i := range resp.Outputs {
		if resp.Outputs[i].Name == name {
			return &resp.Outputs[i]
		}
	}
	t.Fatalf("no output %q", name)
	return nil
}

// Strings returns a BYTES output's values.
func Strings(t testing.TB, resp *sdk.InferResponse, name string) []string {
	t.Helper()
	o := Output(t, resp, name)
	s := make([]string, len(o.BYTES))
	for i, b := range o.BYTES {
		s[i] = string(b)
	}
	return s
}

// Description returns m's description, failing the test on an error.
func Description(t testing.TB, m sdk.Model) *sdk.Description {
	t.Helper()
	d, err := m.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d
}
