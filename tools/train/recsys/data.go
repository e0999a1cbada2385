package recsys

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/edgerun/edgerun/tools/train"
)

// Default column names (MovieLens).
const (
	DefaultUserCol   = "userId"
	DefaultItemCol   = "movieId"
	DefaultRatingCol = "rating"
)

// PositiveThreshold: a rating at or above it is a positive (implicit
// feedback, and the label of the ROC AUC figure).
const PositiveThreshold = 4.0

// Files looked for beside FitOptions.Data for the leave-one-out protocol.
const (
	LOORowsFile      = "loo_rows.txt"
	LOONegativesFile = "loo_negatives.csv"
)

// Ratings is a ratings CSV: raw user and item ids (as written in the
// file) and ratings, in data-row order (row i is the i-th row after the
// header).
type Ratings struct {
	Users, Items []string
	Rating       []float64
	// Line is the 1-based file line of each row (for messages).
	Line []int
	// Skipped counts rows dropped with SkipBadRows.
	Skipped int
}

// Len is the number of rows.
func (r *Ratings) Len() int { return len(r.Users) }

func cols(o train.FitOptions) (user, item, rating string) {
	user, item, rating = o.UserCol, o.ItemCol, o.RatingCol
	if user == "" {
		user = DefaultUserCol
	}
	if item == "" {
		item = DefaultItemCol
	}
	if rating == "" {
		rating = DefaultRatingCol
	}
	return
}

// ReadRatings reads a ratings CSV with a header, picking the user, item
// and rating columns by name (o.UserCol, o.ItemCol, o.RatingCol; defaults
// userId, movieId, rating). needRating false allows a file without the
// rating column (ratings are then NaN). A bad row (missing field, empty
// id, rating that is not a finite number) is an error naming its line, or
// with o.SkipBadRows is skipped and counted. Skipped rows keep their
// place in the data-row numbering that test_rows.txt uses: the row index
// of every kept row is recorded in idx.
func ReadRatings(path string, o train.FitOptions, needRating bool) (r *Ratings, idx []int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: header: %w", path, err)
	}
	uc, ic, rc := cols(o)
	find := func(name string) int {
		for i, h := range head {
			if strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) == name {
				return i
			}
		}
		return -1
	}
	ui, ii, ri := find(uc), find(ic), find(rc)
	if ui < 0 || ii < 0 || (needRating && ri < 0) {
		return nil, nil, fmt.Errorf("%s: header %q lacks a column: user %q, item %q, rating %q (set them with --user-col, --item-col, --rating-col)", path, strings.Join(head, ","), uc, ic, rc)
	}
	r = &Ratings{}
	for row := 0; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		bad := func(msg string, args ...any) error {
			if o.SkipBadRows {
				r.Skipped++
				return nil
			}
			return fmt.Errorf("%s:%d: %s", path, line, fmt.Sprintf(msg, args...))
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				if e := bad("%v", pe.Err); e != nil {
					return nil, nil, e
				}
				continue
			}
			return nil, nil, err
		}
		if ui >= len(rec) || ii >= len(rec) || (ri >= 0 && ri >= len(rec)) {
			if e := bad("%d fields, the header has %d", len(rec), len(head)); e != nil {
				return nil, nil, e
			}
			continue
		}
		u, it := strings.TrimSpace(rec[ui]), strings.TrimSpace(rec[ii])
		if u == "" || it == "" {
			if e := bad("empty user or item id"); e != nil {
				return nil, nil, e
			}
			continue
		}
		rating := nan
		if ri >= 0 {
			v, err := strconv.ParseFloat(strings.TrimSpace(rec[ri]), 64)
			if err != nil || v != v || v > 1e300 || v < -1e300 {
				if needRating {
					if e := bad("rating %q is not a number", rec[ri]); e != nil {
						return nil, nil, e
					}
					continue
				}
			} else {
				rating = v
			}
		}
		r.Users = append(r.Users, u)
		r.Items = append(r.Items, it)
		r.Rating = append(r.Rating, rating)
		r.Line = append(r.Line, line)
		idx = append(idx, row)
	}
	if r.Len() == 0 {
		return nil, nil, fmt.Errorf("%s: no rating rows", path)
	}
	if r.Skipped > 0 {
		o.Log("%s: skipped %d bad rows", path, r.Skipped)
	}
	return r, idx, nil
}

// IDMap turns raw ids into dense embedding rows. Row 0 is reserved for
// ids the model has never seen; known ids are rows 1..len(IDs).
type IDMap struct {
	IDs []string // IDs[k] is the raw id of row k+1
	row map[string]int
}

// UnknownRow is the embedding row of an id the model does not know.
const UnknownRow = 0

// UnknownName is the category name written for the reserved row.
const UnknownName = "<unknown>"

// NewIDMap maps the distinct ids, sorted (numerically when every id is a
// number, else as strings), to rows 1..n.
func NewIDMap(raw []string) *IDMap {
	seen := map[string]bool{}
	var ids []string
	for _, s := range raw {
		if !seen[s] {
			seen[s] = true
			ids = append(ids, s)
		}
	}
	numeric := true
	nums := make(map[string]float64, len(ids))
	for _, s := range ids {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			numeric = false
			break
		}
		nums[s] = v
	}
	slices.SortFunc(ids, func(a, b string) int {
		if numeric {
			if x, y := nums[a], nums[b]; x != y {
				if x < y {
					return -1
				}
				return 1
			}
		}
		return strings.Compare(a, b)
	})
	return idMapOf(ids)
}

func idMapOf(ids []string) *IDMap {
	m := &IDMap{IDs: ids, row: make(map[string]int, len(ids))}
	for i, s := range ids {
		m.row[s] = i + 1
	}
	return m
}

// Rows is the number of embedding rows (the ids and the reserved row).
func (m *IDMap) Rows() int { return len(m.IDs) + 1 }

// Row returns the embedding row of a raw id, and false (with UnknownRow)
// when the id is unknown.
func (m *IDMap) Row(id string) (int, bool) {
	r, ok := m.row[strings.TrimSpace(id)]
	if !ok {
		return UnknownRow, false
	}
	return r, true
}

// LOO is the leave-one-out protocol: per user, the held-out positive's
// data row and the sampled negative items.
type LOO struct {
	Rows      []int               // data-row indices of the held-out positives, in file order
	Negatives map[string][]string // raw user id → raw item ids
}

// FindLOO looks for loo_rows.txt and loo_negatives.csv beside data; it
// returns nil (and no error) when either is missing.
func FindLOO(data string) (*LOO, error) {
	dir := filepath.Dir(data)
	rp, np := filepath.Join(dir, LOORowsFile), filepath.Join(dir, LOONegativesFile)
	if _, err := os.Stat(rp); err != nil {
		return nil, nil
	}
	if _, err := os.Stat(np); err != nil {
		return nil, nil
	}
	return ReadLOO(rp, np)
}

// ReadLOO reads a loo_rows.txt (0-based data-row indices, one a line) and
// a loo_negatives.csv (header, then user id and its negative item ids).
func ReadLOO(rowsPath, negPath string) (*LOO, error) {
	b, err := os.ReadFile(rowsPath)
	if err != nil {
		return nil, err
	}
	l := &LOO{Negatives: map[string][]string{}}
	for i, s := range strings.Split(string(b), "\n") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s:%d: %q is not a row index", rowsPath, i+1, s)
		}
		l.Rows = append(l.Rows, n)
	}
	f, err := os.Open(negPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	if _, err := cr.Read(); err != nil {
		return nil, fmt.Errorf("%s: header: %w", negPath, err)
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", negPath, err)
		}
		if len(rec) < 2 {
			line, _ := cr.FieldPos(0)
			return nil, fmt.Errorf("%s:%d: a user id and at least one negative item expected", negPath, line)
		}
		negs := make([]string, 0, len(rec)-1)
		for _, s := range rec[1:] {
			negs = append(negs, strings.TrimSpace(s))
		}
		l.Negatives[strings.TrimSpace(rec[0])] = negs
	}
	return l, nil
}
