package csvdata

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/edgerun/edgerun/tools/train"
)

// Target is the column a model predicts.
//
// It is a regression target when at least 95 % of its non-missing values
// are numbers and those numbers are not all integers or take more than
// 50 distinct values; the other values are then bad rows. Otherwise it is
// a classification target whose classes are its distinct values
// (surrounding spaces ignored), sorted (by value when all are numbers).
// With two classes, Labels is [negative, positive]: the positive class is
// "1", "true" or "yes" when the other is "0", "false" or "no", else the
// rarer class (the later in sorted order on a tie). A missing target is
// always a bad row.
type Target struct {
	Name       string
	Col        int
	Regression bool
	Labels     []string // classes in output order
	// Counts are the rows of each class in the rows fitted on.
	Counts []int
	index  map[string]int
}

// Kind is the task the target makes: Regression for a numeric target,
// Binary for two classes, Multiclass otherwise.
func (g *Target) Kind() train.Kind {
	switch {
	case g.Regression:
		return train.Regression
	case len(g.Labels) == 2:
		return train.Binary
	}
	return train.Multiclass
}

// maxIntClasses is the most distinct integer values a numeric target
// can have and still be taken as classes.
const maxIntClasses = 50

// FitTarget decides the kind and classes of column col over rows.
func FitTarget(t *Table, col int, rows []int) (*Target, error) {
	g := &Target{Name: t.Header[col], Col: col}
	count := map[string]int{}
	var nonMissing, numbers int
	integers := true
	distinct := map[float64]bool{}
	for _, r := range rows {
		s := strings.TrimSpace(t.Rows[r][col])
		if IsMissing(s) {
			continue
		}
		nonMissing++
		count[s]++
		if v, ok := ParseNumber(s); ok {
			numbers++
			distinct[v] = true
			if v != math.Trunc(v) {
				integers = false
			}
		}
	}
	if nonMissing == 0 {
		return nil, fmt.Errorf("%s: the target column %q has no values", t.Path, g.Name)
	}
	if float64(numbers) >= 0.95*float64(nonMissing) && (!integers || len(distinct) > maxIntClasses) {
		g.Regression = true
		return g, nil
	}
	for k := range count {
		g.Labels = append(g.Labels, k)
	}
	allNum := numbers == nonMissing
	sort.Slice(g.Labels, func(i, j int) bool {
		a, b := g.Labels[i], g.Labels[j]
		if allNum {
			x, _ := ParseNumber(a)
			y, _ := ParseNumber(b)
			if x != y {
				return x < y
			}
		}
		return a < b
	})
	if len(g.Labels) < 2 {
		return nil, fmt.Errorf("%s: the target column %q has one class (%q): nothing to learn", t.Path, g.Name, g.Labels[0])
	}
	if len(g.Labels) == 2 && !positiveSecond(g.Labels[0], g.Labels[1]) {
		a, b := g.Labels[0], g.Labels[1]
		if positiveSecond(b, a) || count[a] < count[b] {
			g.Labels[0], g.Labels[1] = b, a
		}
	}
	g.index = map[string]int{}
	for i, l := range g.Labels {
		g.index[l] = i
	}
	g.Counts = make([]int, len(g.Labels))
	for k, n := range count {
		g.Counts[g.index[k]] = n
	}
	return g, nil
}

// positiveSecond reports whether (neg, pos) is a conventional
// negative/positive pair.
func positiveSecond(neg, pos string) bool {
	n, p := strings.ToLower(neg), strings.ToLower(pos)
	return (n == "0" && p == "1") || (n == "false" && p == "true") || (n == "no" && p == "yes")
}

// NewTarget rebuilds a saved target for table t: regression, or the
// classes labels in output order.
func NewTarget(t *Table, name string, regression bool, labels []string) (*Target, error) {
	col, err := t.Col(name)
	if err != nil {
		return nil, fmt.Errorf("the target: %w", err)
	}
	g := &Target{Name: name, Col: col, Regression: regression, Labels: labels, index: map[string]int{}}
	for i, l := range labels {
		g.index[l] = i
	}
	return g, nil
}

// Value is the target of a field: its class index, or its number.
func (g *Target) Value(s string) (float64, error) {
	if IsMissing(s) {
		return 0, fmt.Errorf("the target %q is missing", g.Name)
	}
	s = strings.TrimSpace(s)
	if g.Regression {
		v, ok := ParseNumber(s)
		if !ok {
			return 0, fmt.Errorf("the target %q is %q, not a number", g.Name, s)
		}
		return v, nil
	}
	k, ok := g.index[s]
	if !ok {
		return 0, fmt.Errorf("the target %q is %q, not one of the classes the model knows (%s)", g.Name, s, strings.Join(g.Labels, ", "))
	}
	return float64(k), nil
}

// EvalRows picks the rows of t to evaluate — those listed in the
// test-rows file (0-based data-row indices, as test_rows.txt) when
// testRows is set, else all — and parses their targets as Values does.
func (g *Target) EvalRows(t *Table, testRows string, skipBad bool) (rows []int, y []float64, skipped int, err error) {
	if testRows != "" {
		set, err := train.ReadTestRows(testRows)
		if err != nil {
			return nil, nil, 0, err
		}
		rows, _ = t.RowsIn(set)
	} else {
		rows = t.AllRows()
	}
	return g.Values(t, rows, skipBad)
}

// Values parses the target of the rows of t: it returns the rows whose
// target is good with their values. A bad target is an error naming the
// file and line, or, when skipBad, the row is dropped and counted.
func (g *Target) Values(t *Table, rows []int, skipBad bool) (keep []int, y []float64, skipped int, err error) {
	for _, r := range rows {
		v, err := g.Value(t.Rows[r][g.Col])
		if err != nil {
			if !skipBad {
				return nil, nil, 0, fmt.Errorf("%s: line %d: %v (or skip bad rows)", t.Path, t.Lines[r], err)
			}
			skipped++
			continue
		}
		keep = append(keep, r)
		y = append(y, v)
	}
	return keep, y, skipped, nil
}
