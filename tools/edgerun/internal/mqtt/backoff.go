package mqtt

import "time"

// backoff returns how long to wait before the next connection attempt after
// failures consecutive failures (failures ≥ 1). The ceiling d is min·2^(failures−1),
// capped at max; the wait is drawn from [d/2, d) by r ∈ [0, 1) ("equal
// jitter": never less than half the ceiling, so attempts spread out without
// collapsing to zero).
func backoff(failures int, min, max time.Duration, r float64) time.Duration {
	d := min
	for i := 1; i < failures && d < max; i++ {
		if d > max/2 {
			d = max
			break
		}
		d *= 2
	}
	if d > max {
		d = max
	}
	if r < 0 {
		r = 0
	}
	if r >= 1 {
		r = 0.999999
	}
	half := d / 2
	return half + time.Duration(r*float64(d-half))
}
