package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/edgerun/edgerun/runtime/features"
	"github.com/edgerun/edgerun/tools/internal/oip"
)

// The CSV tables of `run --csv` and `plugins infer --csv`: one reader
// (readCSV) checks a table against the raw columns the model or plugin
// takes, and hands each data row's fields, in the columns' order, to the
// caller, which encodes them for the model or builds the plugin's
// request. Errors name the data row (1-based, header excluded), the file
// line and the column.

// csvKind is what a column's fields may hold.
type csvKind int

const (
	csvNumber   csvKind = iota // a finite number
	csvInteger                 // an integer (an id)
	csvCategory                // one of Categories
	csvText                    // any text
)

// csvColumn is one raw column a table must give: a model feature, a
// sensor channel's step, a plugin input.
type csvColumn struct {
	Name       string // "" for a model without feature names: columns by position only
	Kind       csvKind
	Categories []string // csvCategory: the values allowed
	MissingOK  bool     // a missing value ("", NA, NaN, ...) is passed on, to be imputed
}

// csvTable is a table's layout: where each column is.
type csvTable struct {
	who    string // what takes the columns, for errors: "the model", a plugin's name
	cols   []csvColumn
	at     []int             // file column of each column
	cats   []map[string]bool // csvCategory columns: the values allowed
	header bool
}

// utf8BOM is the byte order mark some editors write at the start of a
// UTF-8 file.
const utf8BOM = "\xef\xbb\xbf"

// maxCSVLine bounds one line of a CSV table: the CSV reader holds a
// line, and its fields, several times over.
const maxCSVLine = 1 << 20

// lineCapReader fails when a line is longer than max bytes.
type lineCapReader struct {
	r    io.Reader
	max  int
	run  int // bytes since the last newline
	line int // 1-based number of the current line
	err  error
}

func (l *lineCapReader) Read(b []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	k, err := l.r.Read(b)
	for i, c := range b[:k] {
		if c == '\n' {
			l.run = 0
			l.line++
			continue
		}
		if l.run++; l.run > l.max {
			l.err = fmt.Errorf("line %d is longer than %d bytes", l.line, l.max)
			return i, l.err
		}
	}
	return k, err
}

// readCSV reads a table of the columns cols (which who takes), at most lim.Bytes bytes and
// lim.Elements fields, and calls each with every data row's fields in
// the order of cols (the slice is reused). A UTF-8 byte order mark is
// skipped. It returns the number of data rows, an error for none.
//
// The first row is a header when it names a column of cols (names
// matched exactly, surrounding spaces aside) and is not a valid data
// row; the header must then name every column (any order; other columns
// are ignored), and a missing one is named. A first row that names every
// column and is also valid data is refused as ambiguous. Without a
// header, a row has exactly the columns of cols, in their order.
//
// Every field is checked against its column: a number must be finite, a
// category one of the column's, and a missing value is refused where
// the column does not take one. Errors name the data row, the line and
// the column; none is a guess.
func readCSV(r io.Reader, who string, cols []csvColumn, lim requestLimits, each func(fields []string) error) (int, error) {
	br := bufio.NewReader(&lineCapReader{r: oip.NewCapReader(r, lim.Bytes, maxRequestFlag), max: maxCSVLine, line: 1})
	if b, _ := br.Peek(len(utf8BOM)); string(b) == utf8BOM {
		br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(br)
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	tab := &csvTable{who: who, cols: cols, cats: make([]map[string]bool, len(cols))}
	for i, c := range cols {
		if c.Kind == csvCategory {
			tab.cats[i] = make(map[string]bool, len(c.Categories))
			for _, v := range c.Categories {
				tab.cats[i][v] = true
			}
		}
	}
	fields := make([]string, len(cols))
	rows, width := 0, -1
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return 0, fmt.Errorf("invalid CSV at line %d: %v", pe.Line, pe.Err)
			}
			return 0, err
		}
		line, _ := cr.FieldPos(0)
		if width < 0 {
			isHeader, err := tab.first(rec)
			if err != nil {
				return 0, fmt.Errorf("line %d: %w", line, err)
			}
			width = len(rec)
			if isHeader {
				continue
			}
		}
		if len(rec) != width {
			return 0, fmt.Errorf("invalid CSV at line %d: %d fields, the first row has %d", line, len(rec), width)
		}
		if (rows+1)*len(cols) > lim.Elements {
			return 0, fmt.Errorf("the table has more than %d values", lim.Elements)
		}
		rows++
		for i, c := range tab.at {
			if err := tab.check(i, rec[c]); err != nil {
				return 0, fmt.Errorf("row %d (line %d), %s: %w", rows, line, tab.colName(i), err)
			}
			fields[i] = rec[c]
		}
		if err := each(fields); err != nil {
			return 0, fmt.Errorf("row %d (line %d): %w", rows, line, err)
		}
	}
	if rows == 0 {
		return 0, errors.New("the table has no data rows")
	}
	return rows, nil
}

// colName is how errors name column i: its file column, and its name.
func (t *csvTable) colName(i int) string {
	if t.cols[i].Name == "" {
		return fmt.Sprintf("column %d", t.at[i]+1)
	}
	return fmt.Sprintf("column %d %q", t.at[i]+1, t.cols[i].Name)
}

// check checks field s of column i.
func (t *csvTable) check(i int, s string) error {
	c := t.cols[i]
	if c.MissingOK && c.Kind != csvText && features.IsMissing(s) {
		return nil
	}
	switch c.Kind {
	case csvNumber:
		if _, ok := features.ParseNumber(s); !ok {
			if isInf(s) || isNaN(s) {
				return fmt.Errorf("%q is not a finite number", s)
			}
			return fmt.Errorf("%q is not a number", s)
		}
	case csvInteger:
		if _, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
	case csvCategory:
		if !t.cats[i][strings.TrimSpace(s)] {
			return fmt.Errorf("%q is not one of the column's categories (%s)", s, oip.QuoteList(allowed(c.Categories), 8))
		}
	}
	return nil
}

// allowed are the categories a table may name: all but
// features.MissingCategory, which a missing value stands for.
func allowed(cats []string) []string {
	out := make([]string, 0, len(cats))
	for _, c := range cats {
		if c != features.MissingCategory {
			out = append(out, c)
		}
	}
	return out
}

// first decides what the first row is, and sets t.at: the header (true)
// or a data row (false); or an error when it is neither, or both.
func (t *csvTable) first(rec []string) (bool, error) {
	pos := make(map[string]int, len(rec))
	named := 0
	for i, h := range rec {
		h = strings.TrimSpace(h)
		if j, dup := pos[h]; dup && t.index(h) >= 0 {
			return false, fmt.Errorf("the header names %q twice (columns %d and %d)", h, j+1, i+1)
		}
		pos[h] = i
		if t.index(h) >= 0 {
			named++
		}
	}
	dataErr := t.dataRow(rec)
	switch {
	case named == 0 && dataErr == nil:
		t.at = inOrder(len(t.cols))
		return false, nil
	case named == 0:
		if !t.named() {
			return false, fmt.Errorf("the first row is not a row of %d numbers, and the model has no column names to match a header against: %w", len(t.cols), dataErr)
		}
		return false, fmt.Errorf("the first row is neither a header (it names none of the columns %s) nor a data row (%w)", t.takes(), dataErr)
	case named < len(t.cols) && dataErr == nil:
		t.at = inOrder(len(t.cols))
		return false, nil
	case named == len(t.cols) && dataErr == nil:
		return false, errors.New("the first row is ambiguous: it names every column and is also a row of data")
	}
	t.header = true
	t.at = make([]int, len(t.cols))
	var lacks []string
	for i, c := range t.cols {
		k, ok := pos[c.Name]
		if !ok {
			lacks = append(lacks, c.Name)
		}
		t.at[i] = k
	}
	if len(lacks) == 0 {
		return true, nil
	}
	var extra []string
	for _, h := range rec {
		if h = strings.TrimSpace(h); t.index(h) < 0 {
			extra = append(extra, h)
		}
	}
	msg := fmt.Sprintf("column %s is missing from the header", oip.QuoteList(lacks, 8))
	if len(lacks) > 1 {
		msg = fmt.Sprintf("columns %s are missing from the header", oip.QuoteList(lacks, 8))
	}
	if len(extra) > 0 {
		msg += fmt.Sprintf(" (it also has %s)", oip.QuoteList(extra, 8))
	}
	return false, fmt.Errorf("%s; %s takes %s", msg, t.who, t.takes())
}

// dataRow checks rec as a data row in the columns' order.
func (t *csvTable) dataRow(rec []string) error {
	if len(rec) != len(t.cols) {
		return fmt.Errorf("%d fields, not %d", len(rec), len(t.cols))
	}
	t.at = inOrder(len(t.cols))
	for i, s := range rec {
		if err := t.check(i, s); err != nil {
			return fmt.Errorf("%s: %w", t.colName(i), err)
		}
	}
	return nil
}

// named reports whether the columns have names.
func (t *csvTable) named() bool { return len(t.cols) > 0 && t.cols[0].Name != "" }

// index is the column named name, or -1.
func (t *csvTable) index(name string) int {
	if name == "" {
		return -1
	}
	for i, c := range t.cols {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// takes lists the columns' names, in order.
func (t *csvTable) takes() string {
	names := make([]string, len(t.cols))
	for i, c := range t.cols {
		names[i] = c.Name
	}
	return oip.QuoteList(names, 40)
}

// isNaN reports whether a field is the number NaN.
func isNaN(s string) bool {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return err == nil && math.IsNaN(v)
}

// isInf reports whether a field is an infinite number, or one too large
// for a float64.
func isInf(s string) bool {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return math.IsInf(v, 0) && (err == nil || errors.Is(err, strconv.ErrRange))
}

func inOrder(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
