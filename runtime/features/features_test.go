package features

import (
	"reflect"
	"testing"
)

func TestEncode(t *testing.T) {
	e := NewEncoder([]Feature{
		{Name: "age", Kind: Numeric, Impute: 40},
		{Name: "grade", Kind: Categorical, Categories: []string{MissingCategory, "A", "B"}},
		{Name: "state", Kind: Categorical, Categories: []string{"CA", "NY"}},
	})
	if e.Width != 6 {
		t.Fatalf("width %d", e.Width)
	}
	cols, err := e.Columns([]string{"id", " state", "grade ", "age"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		row  []string
		want []float64
	}{
		{[]string{"1", "NY", "B", "31.5"}, []float64{31.5, 0, 0, 1, 0, 1}},
		{[]string{"2", "TX", "NA", "?"}, []float64{40, 1, 0, 0, 0, 0}},    // unknown state, missing grade and age
		{[]string{"3", "", " A ", "inf"}, []float64{40, 0, 1, 0, 0, 0}},   // missing state without <missing>; inf is not a number
		{[]string{"4", "CA", "Z", "1e3"}, []float64{1000, 0, 0, 0, 1, 0}}, // unseen grade
	} {
		got := make([]float64, e.Width)
		if err := e.Encode(got, c.row, cols); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v → %v, want %v", c.row, got, c.want)
		}
	}
	e.Strict = true
	if err := e.Encode(make([]float64, 6), []string{"5", "CA", "A", "abc"}, cols); err == nil || err.Error() != `field 4 (age): "abc" is not a number` {
		t.Errorf("strict: %v", err)
	}
	if err := e.Encode(make([]float64, 6), []string{"5", "CA", "A", "NA"}, cols); err != nil {
		t.Errorf("strict, missing value: %v", err)
	}
	if _, err := e.Columns([]string{"age", "grade"}); err == nil {
		t.Error("a missing column was accepted")
	}
}
