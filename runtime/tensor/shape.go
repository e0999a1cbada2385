package tensor

import (
	"errors"
	"fmt"
	"math"
)

// ErrShape is wrapped by every error of the checked shape arithmetic: a
// negative dimension, a dimension or element count over a bound, or a
// product that does not fit in an int.
var ErrShape = errors.New("tensor: shape out of range")

// MulInt returns a·b for a, b >= 0, and false when either is negative or
// the product does not fit in an int (31 bits of magnitude on 32-bit ARM,
// 63 on 64-bit targets).
func MulInt(a, b int) (int, bool) {
	if a < 0 || b < 0 {
		return 0, false
	}
	if a == 0 || b == 0 {
		return 0, true
	}
	if a > math.MaxInt/b {
		return 0, false
	}
	return a * b, true
}

// AddInt returns a+b for a, b >= 0, and false when either is negative or
// the sum does not fit in an int.
func AddInt(a, b int) (int, bool) {
	if a < 0 || b < 0 || a > math.MaxInt-b {
		return 0, false
	}
	return a + b, true
}

// Int converts v to an int, and reports false when it does not fit: on a
// 32-bit target any value outside ±2³¹ (a plain int(v) would keep the low
// 32 bits and turn 2³² into 0).
func Int(v int64) (int, bool) {
	if v < math.MinInt || v > math.MaxInt {
		return 0, false
	}
	return int(v), true
}

// Elements is the product of the dimensions (1 for a scalar), or an error
// wrapping ErrShape when a dimension is negative or the product does not
// fit in an int. Use it on any shape that did not come from a checked
// plan; NumElements assumes one that did.
func (s Shape) Elements() (int, error) {
	n := 1
	for _, d := range s {
		if d < 0 {
			return 0, fmt.Errorf("%w: negative dimension in %v", ErrShape, s)
		}
		var ok bool
		if n, ok = MulInt(n, d); !ok {
			return 0, fmt.Errorf("%w: the element count of %v overflows int", ErrShape, s)
		}
	}
	return n, nil
}

// Bounded checks s against bounds and returns its element count: every
// dimension in [0, maxDim], and the product of the dimensions, counting a
// zero dimension as 1, at most maxElements. Counting zeros as 1 keeps the
// loops over the other dimensions bounded too: [2²⁶, 2²⁶, 0] holds no
// element, but a pooling loop over its first two dimensions would run
// 2⁵² times. The check stops at the first dimension that exceeds a bound,
// so it cannot overflow. Errors wrap ErrShape.
func (s Shape) Bounded(maxDim, maxElements int) (int, error) {
	work, n := 1, 1
	for _, d := range s {
		if d < 0 {
			return 0, fmt.Errorf("%w: negative dimension in %v", ErrShape, s)
		}
		if d > maxDim {
			return 0, fmt.Errorf("%w: dimension %d of %v exceeds the limit of %d", ErrShape, d, s, maxDim)
		}
		w, ok := MulInt(work, max(d, 1))
		if !ok || w > maxElements {
			return 0, fmt.Errorf("%w: %v holds more than the limit of %d elements", ErrShape, s, maxElements)
		}
		work, n = w, n*d // n <= work: no overflow
	}
	return n, nil
}
