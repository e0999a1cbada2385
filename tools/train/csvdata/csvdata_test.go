package csvdata

import (
	"slices"
	"strings"
	"testing"
)

func read(t *testing.T, s string, skip bool) *Table {
	t.Helper()
	tb, err := ReadFrom(strings.NewReader(s), "x.csv", skip)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// TestMissingAndUnknown: numeric columns impute the training median,
// categorical ones get a "<missing>" category when training had missing
// values and zeros for unknown categories; standardisation uses the
// training rows only.
func TestMissingAndUnknown(t *testing.T) {
	tb := read(t, `a,color,size,y
1,red,s,0
NA,blue,,1
3,?,m,0
5,red,NaN,1
100,green,xl,0
`, false)
	p := FitPrep(tb, []int{0, 1, 2}, []int{0, 1, 2, 3}) // row 4 is "test"
	a, color, size := p.Features[0], p.Features[1], p.Features[2]
	if a.Kind != Numeric || a.Impute != 3 || a.Mean != 3 {
		t.Errorf("a: %+v, want numeric, impute (median) 3, mean 3", a)
	}
	if color.Kind != Categorical || !slices.Equal(color.Categories, []string{"blue", "red", MissingCategory}) {
		t.Errorf("color: %+v", color)
	}
	if !slices.Equal(size.Categories, []string{"m", "s", MissingCategory}) {
		t.Errorf("size: %+v", size)
	}
	if p.Width != 1+3+3 {
		t.Fatalf("width %d, want 7", p.Width)
	}
	for _, tc := range []struct {
		row  []string
		want []float64
	}{
		{[]string{"1", "red", "s", "0"}, []float64{1, 0, 1, 0, 0, 1, 0}},
		{[]string{"NA", "blue", "", "1"}, []float64{3, 1, 0, 0, 0, 0, 1}},
		{[]string{" 7 ", "?", "m", "0"}, []float64{7, 0, 0, 1, 1, 0, 0}},
		// unknown category and an unparsable number
		{[]string{"abc", "green", "xl", "0"}, []float64{3, 0, 0, 0, 0, 0, 0}},
	} {
		got := make([]float64, p.Width)
		p.Encode(tc.row, got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Encode(%q) = %v, want %v", tc.row, got, tc.want)
		}
	}
	mean, std := p.Norm()
	if len(mean) != 7 || mean[0] != 3 || std[1] != 1 || mean[1] != 0 {
		t.Errorf("Norm: %v %v", mean, std)
	}
	// A categorical column without missing training values: missing → zeros.
	p2 := FitPrep(tb, []int{1}, []int{0, 1})
	got := make([]float64, p2.Width)
	p2.Encode([]string{"", "", "", ""}, got)
	if !slices.Equal(p2.Features[0].Categories, []string{"blue", "red"}) || !slices.Equal(got, []float64{0, 0}) {
		t.Errorf("no missing in training: %v, %v", p2.Features[0].Categories, got)
	}
	// PrepFor finds the features by name in another table.
	tb2 := read(t, "size,y,color,a\nm,1,red,2\n", false)
	p3, err := PrepFor(p.Features, tb2)
	if err != nil {
		t.Fatal(err)
	}
	got = make([]float64, p3.Width)
	p3.Encode(tb2.Rows[0], got)
	if want := []float64{2, 0, 1, 0, 1, 0, 0}; !slices.Equal(got, want) {
		t.Errorf("PrepFor: %v, want %v", got, want)
	}
	if _, err := PrepFor(p.Features, read(t, "a,y\n1,2\n", false)); err == nil || !strings.Contains(err.Error(), `no column "color"`) {
		t.Errorf("PrepFor without a column: %v", err)
	}
}

// TestBadRows: a wrong field count or a broken quote is an error naming
// the line, or skipped and counted; blank lines are not rows; data-row
// indices count skipped rows.
func TestBadRows(t *testing.T) {
	const in = "a,b,y\n1,2,x\n1,2\n\n3,4,y\n\"5,6,x\n"
	for _, tc := range []struct{ in, want string }{
		{in, "x.csv: line 3: 2 fields, the header has 3"},
		{"a,b\n1,2\n3,\"4\"x\n", "x.csv: line 3: extraneous or missing \" in quoted-field"},
		{"", "x.csv: empty file"},
		{"a,a\n1,2\n", `column "a" appears twice`},
	} {
		_, err := ReadFrom(strings.NewReader(tc.in), "x.csv", false)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
	tb := read(t, in, true)
	if len(tb.Rows) != 2 || tb.Skipped != 2 {
		t.Fatalf("skipping: %d rows, %d skipped; want 2, 2", len(tb.Rows), tb.Skipped)
	}
	if !slices.Equal(tb.Lines, []int{2, 5}) || !slices.Equal(tb.Index, []int{0, 2}) {
		t.Errorf("lines %v, indices %v; want [2 5], [0 2]", tb.Lines, tb.Index)
	}
}

// TestTarget: classes, the positive class, regression and bad targets.
func TestTarget(t *testing.T) {
	tb := read(t, "f,y\n1,good\n2,bad\n3,good\n4,\n5,good\n", false)
	g, err := FitTarget(tb, 1, []int{0, 1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	if g.Regression || !slices.Equal(g.Labels, []string{"good", "bad"}) {
		t.Errorf("labels %v (regression %v), want [good bad]: the rarer class is positive", g.Labels, g.Regression)
	}
	if _, _, _, err := g.Values(tb, []int{0, 1, 2, 3, 4}, false); err == nil || !strings.Contains(err.Error(), `x.csv: line 5: the target "y" is missing`) {
		t.Errorf("missing target: %v", err)
	}
	keep, y, skipped, err := g.Values(tb, []int{0, 1, 2, 3, 4}, true)
	if err != nil || skipped != 1 || !slices.Equal(keep, []int{0, 1, 2, 4}) || !slices.Equal(y, []float64{0, 1, 0, 0}) {
		t.Errorf("skipping: %v %v %d %v", keep, y, skipped, err)
	}
	g2, _ := FitTarget(read(t, "y\n1\n0\n1\n1\n", false), 0, []int{0, 1, 2, 3})
	if !slices.Equal(g2.Labels, []string{"0", "1"}) {
		t.Errorf("0/1 labels %v, want [0 1] (1 positive although common)", g2.Labels)
	}
	var sb strings.Builder
	sb.WriteString("x,y\n")
	for i := range 60 {
		sb.WriteString("1," + strings.Repeat("1", 1+i%3) + "." + string(rune('0'+i%10)) + "\n")
	}
	sb.WriteString("1,oops\n")
	rt := read(t, sb.String(), false)
	g3, err := FitTarget(rt, 1, seq(len(rt.Rows)))
	if err != nil || !g3.Regression {
		t.Fatalf("numeric target: regression %v, %v", g3 != nil && g3.Regression, err)
	}
	if _, _, _, err := g3.Values(rt, seq(len(rt.Rows)), false); err == nil || !strings.Contains(err.Error(), `line 62: the target "y" is "oops", not a number`) {
		t.Errorf("unparsable regression target: %v", err)
	}
	if _, err := FitTarget(read(t, "y\na\na\n", false), 0, []int{0, 1}); err == nil {
		t.Error("one class: no error")
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
