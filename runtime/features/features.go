// Package features turns the fields of a tabular row (CSV text) into a
// model's input vector, with the preparation the trainer fitted and stored
// in the model file's metadata: the same code runs in the trainer's
// evaluation and on the device, so both encode a row identically.
//
// Rules (tools/train/csvdata fits them):
//
//   - Missing values are "", "NA", "N/A", "?", "NaN" and "null" (any case,
//     surrounding spaces ignored).
//   - A numeric feature is one input: the value as a finite number, or,
//     when missing or not a number, the feature's Impute value (the
//     training median). Standardisation is not done here: the graph's
//     Normalize node holds it.
//   - A categorical feature is one input per category (one-hot, in the
//     stored order). A missing value is the "<missing>" category when the
//     feature has one; a missing value without it, or a category never
//     seen in training, is all zeros.
//
// The package imports nothing of ours: callers copy the metadata's
// feature list into Feature values.
package features

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MissingCategory is the category that stands for missing values of a
// categorical feature whose training rows had some.
const MissingCategory = "<missing>"

// Kinds of feature.
const (
	Numeric     = "numeric"
	Categorical = "categorical"
)

// Feature is one input column as the model's metadata describes it.
type Feature struct {
	Name       string
	Kind       string // Numeric (also when empty) or Categorical
	Impute     float64
	Categories []string
}

// IsMissing reports whether a field is a missing value.
func IsMissing(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "na", "n/a", "?", "nan", "null":
		return true
	}
	return false
}

// ParseNumber parses a finite number (surrounding spaces ignored).
func ParseNumber(s string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// Encoder encodes rows for one model.
type Encoder struct {
	feats []Feature
	cat   []map[string]int
	// Width is the number of model inputs a row becomes.
	Width int
	// Strict makes a numeric field that is neither missing nor a number
	// an error (the device: bad input is reported, not guessed); the
	// trainer's evaluation imputes it like a missing value.
	Strict bool
}

// FieldError is a numeric field that is not a number (Strict encoders).
type FieldError struct {
	Feature string
	Col     int
	Value   string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("field %d (%s): %q is not a number", e.Col+1, e.Feature, e.Value)
}

// NewEncoder prepares the encoding of feats.
func NewEncoder(feats []Feature) *Encoder {
	e := &Encoder{feats: feats, cat: make([]map[string]int, len(feats))}
	for i, f := range feats {
		if f.Kind != Categorical {
			e.Width++
			continue
		}
		m := make(map[string]int, len(f.Categories))
		for j, c := range f.Categories {
			if _, dup := m[c]; !dup {
				m[c] = j
			}
		}
		e.cat[i] = m
		e.Width += len(f.Categories)
	}
	return e
}

// Columns finds each feature's column in a header row (names compared
// after trimming spaces; other columns are ignored).
func (e *Encoder) Columns(header []string) ([]int, error) {
	pos := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.TrimSpace(h)
		if _, dup := pos[h]; !dup {
			pos[h] = i
		}
	}
	cols := make([]int, len(e.feats))
	for i, f := range e.feats {
		c, ok := pos[f.Name]
		if !ok {
			return nil, fmt.Errorf("no column %q (the model's feature %d)", f.Name, i)
		}
		cols[i] = c
	}
	return cols, nil
}

// Encode writes the model input of one row into dst (at least Width
// long): feature i is read from row[cols[i]]. Only a Strict encoder
// returns an error (a *FieldError).
func (e *Encoder) Encode(dst []float64, row []string, cols []int) error {
	k := 0
	for i, f := range e.feats {
		s := row[cols[i]]
		if f.Kind != Categorical {
			v, ok := 0.0, false
			if !IsMissing(s) {
				v, ok = ParseNumber(s)
				if !ok && e.Strict {
					return &FieldError{Feature: f.Name, Col: cols[i], Value: s}
				}
			}
			if !ok {
				v = f.Impute
			}
			dst[k] = v
			k++
			continue
		}
		n := len(f.Categories)
		clear(dst[k : k+n])
		key := strings.TrimSpace(s)
		if IsMissing(s) {
			key = MissingCategory
		}
		if j, ok := e.cat[i][key]; ok {
			dst[k+j] = 1
		}
		k += n
	}
	return nil
}
