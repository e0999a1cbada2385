package sdkrt

import (
	"strings"
	"testing"
)

// TestSkillRule: the next skill is the unmastered one closest to the
// target, prerequisites respected, with the documented fall-backs, and
// bad rules are clear errors.
func TestSkillRule(t *testing.T) {
	r, err := NewSkillRule(6, 0.7, 0.95, "3:0,1; 5:3")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		m    []float32
		want int
	}{
		{nil, 0},
		{[]float32{0.5, 0.6, 0.2, 0.69, 0.9, 0.71}, 1},      // 3 and 5 blocked: 1 (0.6) is closest among 0, 1, 2, 4
		{[]float32{0.96, 0.97, 0.2, 0.69, 0.9, 0.71}, 3},    // 3 unblocked; 5 still needs 3
		{[]float32{0.96, 0.97, 0.7, 0.69, 0.9, 0.71}, 2},    // a tie at |0.0|: exact target first
		{[]float32{0.96, 0.97, 0.99, 0.98, 0.99, 0.96}, 0},  // all mastered: the least mastered ready skill, ties to the lowest id
		{[]float32{0.96, 0.97, 0.99, 0.5, 0.99, 0.96}, 3},   // 5 blocked by 3; 3 is the only unmastered
		{[]float32{0.97, 0.97, 0.99, 0.98, 0.96, 0.965}, 4}, // all mastered: the least mastered
	} {
		if got := r.Next(c.m); got != c.want {
			t.Errorf("Next(%v) = %d, want %d", c.m, got, c.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { r.Next([]float32{0.5, 0.6, 0.2, 0.69, 0.9, 0.71}) }); n != 0 {
		t.Errorf("Next allocates %v times", n)
	}
	for _, c := range []struct{ rule, want string }{
		{"3", "want SKILL:NEEDED"},
		{"6:1", "want an id from 0 to 5"},
		{"1:x", `skill "x"`},
		{"2:2", "needs itself"},
		{"2:1;2:0", "listed twice"},
	} {
		if _, err := NewSkillRule(6, 0.7, 0.95, c.rule); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.rule, err, c.want)
		}
	}
	if _, err := NewSkillRule(6, 1, 0.95, ""); err == nil {
		t.Error("target 1 accepted")
	}
}
