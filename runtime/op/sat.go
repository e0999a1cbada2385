package op

import (
	"math"

	"github.com/edgerun/edgerun/runtime/tensor"
)

// satMul is the product of non-negative factors, saturated at math.MaxInt
// (a negative factor also gives math.MaxInt). Plan computes scratch sizes
// with it: a product of dimensions the engine bounded one by one can
// still overflow an int on 32-bit ARM, and a wrapped size would be small
// and plausible, while math.MaxInt is refused by the engine's limits.
func satMul(f ...int) int {
	n := 1
	for _, v := range f {
		var ok bool
		if n, ok = tensor.MulInt(n, v); !ok {
			return math.MaxInt
		}
	}
	return n
}

// satAdd is the sum of non-negative terms, saturated at math.MaxInt.
func satAdd(t ...int) int {
	n := 0
	for _, v := range t {
		var ok bool
		if n, ok = tensor.AddInt(n, v); !ok {
			return math.MaxInt
		}
	}
	return n
}
