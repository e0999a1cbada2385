package engine

// SetSlices makes s run every batch in n slices (n > 0) or never in
// slices (n < 0), before its first Run.
func SetSlices(s *Session, n int) { s.opts.slices = n }

// Slices is how many slices the last Run of s with these input shapes
// was cut into, 0 when it ran at once or cannot be sliced.
func Slices(s *Session) int {
	if len(s.plans) == 0 || s.plans[0].slicer == nil {
		return 0
	}
	return s.plans[0].slicer.n
}
