package sdkrt

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/sdk"
)

// UnknownID is Categories[0] of an id map: the row of ids the model does
// not know.
const UnknownID = "<unknown>"

// IDMap maps raw ids (users, items) to the rows of a model's embedding
// tables, as stored by the recommender recipe (tools/train/recsys): a
// categorical feature named like the graph input, whose Categories[0] is
// "<unknown>" and Categories[k] the raw id of row k.
type IDMap struct {
	// Name is the feature's name, e.g. "user" or "item".
	Name string
	raw  []string
	rows map[string]int64
	// Numeric reports whether every raw id is an integer.
	Numeric bool
}

// NewIDMap reads the id map of em's feature name.
func NewIDMap(em *engine.Model, name string) (*IDMap, error) {
	for _, f := range em.Meta.Features {
		if f.Name != name {
			continue
		}
		if len(f.Categories) < 2 || f.Categories[0] != UnknownID {
			return nil, fmt.Errorf("sdkrt: feature %q is not an id map (categories must start with %q)", name, UnknownID)
		}
		m := &IDMap{Name: name, raw: f.Categories, rows: make(map[string]int64, len(f.Categories)), Numeric: true}
		for k, id := range f.Categories[1:] {
			if _, dup := m.rows[id]; !dup {
				m.rows[id] = int64(k + 1)
			}
			if _, err := strconv.ParseInt(id, 10, 64); err != nil {
				m.Numeric = false
			}
		}
		return m, nil
	}
	return nil, fmt.Errorf("sdkrt: the model's metadata has no feature %q", name)
}

// Len is the number of rows, the reserved unknown row included.
func (m *IDMap) Len() int { return len(m.raw) }

// Row returns the row of a raw id and whether the model knows it.
func (m *IDMap) Row(raw string) (int64, bool) {
	r, ok := m.rows[strings.TrimSpace(raw)]
	return r, ok
}

// Raw returns the raw id of row r ("<unknown>" for row 0).
func (m *IDMap) Raw(r int64) string { return m.raw[r] }

// Rows reads the request's input named like the map (INT64, INT32 or
// BYTES ids, shape [n], 1 ≤ n ≤ maxRows) and maps every id to its row. An
// id the model does not know is an InputError.
func (m *IDMap) Rows(in *sdk.Tensor, maxRows int) (rows []int64, raw []string, err error) {
	n, err := column(in)
	if err != nil {
		return nil, nil, err
	}
	if n == 0 || n > maxRows {
		return nil, nil, Invalid("input %q has %d ids, want 1 to %d", in.Name, n, maxRows)
	}
	switch in.Datatype {
	case sdk.BYTES:
		if raw, err = Strings(in); err != nil {
			return nil, nil, err
		}
	case sdk.INT64, sdk.INT32:
		v, err := Ints(in)
		if err != nil {
			return nil, nil, err
		}
		raw = make([]string, len(v))
		for i, x := range v {
			raw[i] = strconv.FormatInt(x, 10)
		}
	default:
		return nil, nil, Invalid("input %q is %s, want INT64 or BYTES ids", in.Name, datatypeText(in.Datatype))
	}
	rows = make([]int64, len(raw))
	for i, id := range raw {
		r, ok := m.Row(id)
		if !ok {
			return nil, nil, Invalid("unknown %s %q: the model knows %d %ss (%s)", m.Name, id, m.Len()-1, m.Name, m.example())
		}
		rows[i] = r
	}
	return rows, raw, nil
}

func (m *IDMap) example() string {
	if len(m.raw) <= 4 {
		return quoteList(m.raw[1:], 3)
	}
	return fmt.Sprintf("%q, %q, … %q", m.raw[1], m.raw[2], m.raw[len(m.raw)-1])
}
