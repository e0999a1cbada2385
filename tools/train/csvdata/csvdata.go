// Package csvdata reads CSV tables with a header and prepares their
// columns as model features: numeric columns standardised with the mean
// and standard deviation of the training split, non-numeric columns
// one-hot over the categories seen in training, and missing values
// imputed by a stated rule. The fitted preparation is written to the
// model's metadata (format.Feature) so the device, and `edgetrain eval`,
// apply exactly the same steps.
//
// # Rules
//
// Missing values are "", "NA", "N/A", "?", "NaN" and "null" (any case,
// surrounding spaces ignored).
//
//   - A column is numeric when every non-missing value of the training
//     rows parses as a finite number; otherwise it is categorical.
//   - Numeric: missing values (and, in data seen later, values that do
//     not parse) become the training median (Feature.Impute); the
//     standardisation x' = (x − Mean) / Std uses the training mean and
//     standard deviation (Std 1 for a constant column).
//   - Categorical: one input per category seen in training, in sorted
//     order. When the training rows have missing values in the column,
//     the category "<missing>" stands for them; otherwise a missing value,
//     like a category never seen in training, is all zeros.
//
// The model's input (Prep.Width values per row) is the row after
// imputation and one-hot encoding, numeric values still in their raw
// units: the graph starts with a Normalize node holding the
// standardisation (one-hot inputs pass through with mean 0, std 1).
//
// Rows with the wrong number of fields, or that the CSV reader cannot
// parse, are an error naming the file and line, or are skipped and
// counted when skipping is asked for.
package csvdata

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/features"
)

// MissingCategory is the category that stands for missing values of a
// categorical column whose training rows have some.
const MissingCategory = features.MissingCategory

// Kinds of features, as format.Feature.Kind.
const (
	Numeric     = "numeric"
	Categorical = "categorical"
)

// IsMissing reports whether a field is a missing value (runtime/features,
// which the device uses too).
func IsMissing(s string) bool { return features.IsMissing(s) }

// ParseNumber parses a finite number (surrounding spaces ignored).
func ParseNumber(s string) (float64, bool) { return features.ParseNumber(s) }

// Table is a CSV file's header and rows.
type Table struct {
	Path   string
	Header []string
	Rows   [][]string
	// Lines is the file line each row starts on (1-based; the header is
	// line 1), Index its 0-based data-row index counting skipped rows
	// (the numbering of test_rows.txt).
	Lines, Index []int
	// Skipped counts the rows skipped as bad.
	Skipped int
}

// maxErrors caps the reader errors tolerated when skipping (a file that is
// not CSV at all would otherwise be read as a million bad rows).
const maxErrors = 1 << 20

// Read reads a CSV file with a header row. A row with a different number
// of fields than the header, or one the CSV reader cannot parse, is an
// error naming the line, unless skipBad: then it is skipped and counted
// in Skipped.
func Read(path string, skipBad bool) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadFrom(f, path, skipBad)
}

// ReadFrom is Read from r; name is used in errors.
func ReadFrom(r io.Reader, name string, skipBad bool) (*Table, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	t := &Table{Path: name}
	hdr, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file (want a header row)", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", name, err)
	}
	t.Header = make([]string, len(hdr))
	for i, h := range hdr {
		t.Header[i] = strings.TrimSpace(h)
	}
	seen := map[string]bool{}
	for _, h := range t.Header {
		if seen[h] {
			return nil, fmt.Errorf("%s: line 1: column %q appears twice in the header", name, h)
		}
		seen[h] = true
	}
	errs := 0
	for idx := 0; ; idx++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if !skipBad {
				return nil, fmt.Errorf("%s: line %d: %v (or skip bad rows)", name, pe.Line, pe.Err)
			}
			if errs++; errs > maxErrors {
				return nil, fmt.Errorf("%s: line %d: too many unreadable rows", name, pe.Line)
			}
			t.Skipped++
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" && len(t.Header) > 1 {
			idx-- // a blank line is not a row
			continue
		}
		if len(rec) != len(t.Header) {
			if !skipBad {
				return nil, fmt.Errorf("%s: line %d: %d fields, the header has %d (or skip bad rows)", name, line, len(rec), len(t.Header))
			}
			t.Skipped++
			continue
		}
		t.Rows = append(t.Rows, rec)
		t.Lines = append(t.Lines, line)
		t.Index = append(t.Index, idx)
	}
	return t, nil
}

// AllRows returns the positions of every row: 0 … len(Rows)−1.
func (t *Table) AllRows() []int {
	rows := make([]int, len(t.Rows))
	for i := range rows {
		rows[i] = i
	}
	return rows
}

// RowsIn returns the positions in Rows of the data rows whose 0-based
// index in the file (Index, which counts skipped rows too) is in set, and
// the positions of the others: a test_rows.txt split.
func (t *Table) RowsIn(set map[int]bool) (in, out []int) {
	for i, idx := range t.Index {
		if set[idx] {
			in = append(in, i)
		} else {
			out = append(out, i)
		}
	}
	return in, out
}

// Col is the index of the column named name.
func (t *Table) Col(name string) (int, error) {
	for i, h := range t.Header {
		if h == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%s: no column %q (columns: %s)", t.Path, name, strings.Join(t.Header, ", "))
}

// Prep is a fitted feature preparation: the features in input order and
// where to find each in a table.
type Prep struct {
	Features []format.Feature
	Cols     []int // column of each feature in the table
	Width    int   // model inputs per row
	enc      *features.Encoder
}

// FitPrep fits the features in columns cols of t on the rows train.
func FitPrep(t *Table, cols []int, train []int) *Prep {
	p := &Prep{Cols: cols}
	for _, c := range cols {
		f := format.Feature{Name: t.Header[c], Kind: Numeric}
		var vals []float64
		missing := false
		for _, r := range train {
			s := t.Rows[r][c]
			if IsMissing(s) {
				missing = true
				continue
			}
			v, ok := ParseNumber(s)
			if !ok {
				f.Kind = Categorical
				break
			}
			vals = append(vals, v)
		}
		if f.Kind == Numeric {
			f.Mean, f.Std, f.Impute = meanStdMedian(vals)
		} else {
			set := map[string]bool{}
			missing = false
			for _, r := range train {
				s := t.Rows[r][c]
				if IsMissing(s) {
					missing = true
					continue
				}
				set[strings.TrimSpace(s)] = true
			}
			for k := range set {
				f.Categories = append(f.Categories, k)
			}
			sort.Strings(f.Categories)
			if missing {
				f.Categories = append(f.Categories, MissingCategory)
			}
		}
		p.Features = append(p.Features, f)
	}
	p.index()
	return p
}

// meanStdMedian gives the mean, the (population) standard deviation — 1
// when it is 0 or there are no values — and the median.
func meanStdMedian(v []float64) (mean, std, median float64) {
	if len(v) == 0 {
		return 0, 1, 0
	}
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (x - mean) * (x - mean)
	}
	std = math.Sqrt(std / float64(len(v)))
	if !(std > 1e-12) {
		std = 1
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	n := len(s)
	median = s[n/2]
	if n%2 == 0 {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	return mean, std, median
}

// PrepFor rebuilds a saved preparation for table t, finding each feature's
// column by name.
func PrepFor(feats []format.Feature, t *Table) (*Prep, error) {
	p := &Prep{Features: feats}
	for _, f := range feats {
		c, err := t.Col(f.Name)
		if err != nil {
			return nil, fmt.Errorf("the model's feature %q: %w", f.Name, err)
		}
		if f.Kind != Numeric && f.Kind != Categorical {
			return nil, fmt.Errorf("the model's feature %q has kind %q (want %s or %s)", f.Name, f.Kind, Numeric, Categorical)
		}
		p.Cols = append(p.Cols, c)
	}
	p.index()
	return p, nil
}

func (p *Prep) index() {
	fs := make([]features.Feature, len(p.Features))
	for i, f := range p.Features {
		fs[i] = features.Feature{Name: f.Name, Kind: f.Kind, Impute: f.Impute, Categories: f.Categories}
	}
	p.enc = features.NewEncoder(fs)
	p.Width = p.enc.Width
}

// Encode writes the model input of one row into dst (len Width): numeric
// values raw (missing or unparsable: the imputed median), categorical
// ones one-hot (missing: the "<missing>" category if the feature has one,
// else zeros; unknown: zeros). It is runtime/features' encoding, the one
// the device applies.
func (p *Prep) Encode(row []string, dst []float64) { _ = p.enc.Encode(dst, row, p.Cols) } // not Strict: never fails

// Norm gives the standardisation of each model input: the features'
// mean and std for numeric inputs, 0 and 1 for one-hot ones.
func (p *Prep) Norm() (mean, std []float64) {
	for _, f := range p.Features {
		if f.Kind != Categorical {
			s := f.Std
			if !(s > 0) || math.IsInf(s, 0) {
				s = 1
			}
			mean, std = append(mean, f.Mean), append(std, s)
			continue
		}
		for range f.Categories {
			mean, std = append(mean, 0), append(std, 1)
		}
	}
	return mean, std
}
