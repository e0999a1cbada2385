package sdkrt

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// SkillRule picks a learner's next skill from a knowledge-tracing
// model's mastery (the predicted probability of answering each skill
// right next): among the skills not yet mastered (mastery below
// Mastered) whose prerequisites are all mastered, the one whose mastery
// is closest to Target (ties: the lowest id). Practice is most useful
// where success is likely but not certain. When no skill qualifies
// (every skill mastered, or every unmastered one blocked), it is the
// least mastered skill among those whose prerequisites are met, else the
// least mastered of all.
type SkillRule struct {
	Target, Mastered float32
	// Prereq[s] lists the skills s needs mastered first.
	Prereq map[int][]int
}

// DefaultTarget and DefaultMastered are the rule's defaults.
const (
	DefaultTarget   = 0.7
	DefaultMastered = 0.95
)

// NewSkillRule checks target ∈ (0, 1) and mastered ∈ (0, 1] and parses
// prerequisites for a model of skills skills: "5:1,2;7:5" (skill 5 needs
// 1 and 2 mastered; 7 needs 5); "" is none. A skill id outside 0..skills-1,
// a skill listed twice, or a skill needing itself is an error.
func NewSkillRule(skills int, target, mastered float32, prerequisites string) (SkillRule, error) {
	r := SkillRule{Target: target, Mastered: mastered}
	if !(target > 0 && target < 1) || !(mastered > 0 && mastered <= 1) {
		return r, fmt.Errorf("sdkrt: target %v and mastered %v: want (0, 1) and (0, 1]", target, mastered)
	}
	id := func(s string) (int, error) {
		k, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || k < 0 || k >= skills {
			return 0, fmt.Errorf("sdkrt: prerequisites: skill %q: want an id from 0 to %d", strings.TrimSpace(s), skills-1)
		}
		return k, nil
	}
	for _, rule := range strings.Split(prerequisites, ";") {
		if strings.TrimSpace(rule) == "" {
			continue
		}
		lhs, rhs, ok := strings.Cut(rule, ":")
		if !ok {
			return r, fmt.Errorf("sdkrt: prerequisites: %q: want SKILL:NEEDED,NEEDED", rule)
		}
		s, err := id(lhs)
		if err != nil {
			return r, err
		}
		if r.Prereq == nil {
			r.Prereq = map[int][]int{}
		}
		if _, dup := r.Prereq[s]; dup {
			return r, fmt.Errorf("sdkrt: prerequisites: skill %d listed twice", s)
		}
		var need []int
		for _, n := range strings.Split(rhs, ",") {
			k, err := id(n)
			if err != nil {
				return r, err
			}
			if k == s {
				return r, fmt.Errorf("sdkrt: prerequisites: skill %d needs itself", s)
			}
			need = append(need, k)
		}
		r.Prereq[s] = need
	}
	return r, nil
}

// Next is the recommended skill for mastery (one value per skill; nil,
// a learner with no answers yet, gives 0). It allocates nothing.
func (r SkillRule) Next(mastery []float32) int {
	n := len(mastery)
	if n == 0 {
		return 0
	}
	ready := func(s int) bool {
		for _, p := range r.Prereq[s] {
			if p >= n || mastery[p] < r.Mastered {
				return false
			}
		}
		return true
	}
	best, bestD := -1, float32(math.Inf(1))
	low, lowReady := 0, -1
	for s, m := range mastery {
		if m < mastery[low] {
			low = s
		}
		if !ready(s) {
			continue
		}
		if lowReady < 0 || m < mastery[lowReady] {
			lowReady = s
		}
		if m >= r.Mastered {
			continue
		}
		d := m - r.Target
		if d < 0 {
			d = -d
		}
		if d < bestD {
			best, bestD = s, d
		}
	}
	switch {
	case best >= 0:
		return best
	case lowReady >= 0:
		return lowReady
	}
	return low
}
