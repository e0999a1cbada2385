package pipeline

import "slices"

// Rule turns a model's output, window after window, into an alarm state:
// a label rule wants the alarm while the output is one of its labels, a
// threshold rule from a value at or above Above until one below
// ClearBelow (hysteresis). The state changes only after Raise (Clear)
// consecutive windows wanted the change (debounce counts windows, not
// time). A Rule is used from one goroutine.
type Rule struct {
	spec   RuleSpec
	on     bool
	streak int
}

// NewRule returns a rule in the off state.
func NewRule(spec RuleSpec) *Rule {
	spec.Raise, spec.Clear = max(spec.Raise, 1), max(spec.Clear, 1)
	return &Rule{spec: spec}
}

// wants is the state one window asks for.
func (r *Rule) wants(value float64, label string) bool {
	if !r.spec.Threshold {
		return slices.Contains(r.spec.Labels, label)
	}
	if r.on {
		return value >= r.spec.ClearBelow
	}
	return value >= r.spec.Above
}

// Step takes one window's output (value for a threshold rule, label for
// a label rule) and returns the alarm state and whether it changed.
func (r *Rule) Step(value float64, label string) (on, changed bool) {
	if r.wants(value, label) == r.on {
		r.streak = 0
		return r.on, false
	}
	r.streak++
	need := r.spec.Raise
	if r.on {
		need = r.spec.Clear
	}
	if r.streak < need {
		return r.on, false
	}
	r.on, r.streak = !r.on, 0
	return r.on, true
}

// On is the alarm state.
func (r *Rule) On() bool { return r.on }
