package kernel

import "fmt"

// DotsI8 computes, for each i < len(acc), the int32 dot product of row
// ra[i] of a with row rb[i] of b, both tables of rows of d int8 values:
//
//	acc[i] = Σ_{k<d} int32(a[ra[i]·d+k]) · int32(b[rb[i]·d+k])
//
// in wrapping int32 arithmetic, which makes the sum independent of its
// order: every implementation returns the same values. It is the pair
// scoring of int8 embedding tables (a user row against many item rows).
// ra and rb must be at least len(acc) long and every row index in range
// (0 ≤ ra[i] < len(a)/d, likewise for b); it panics otherwise, before
// writing anything.
func DotsI8(acc []int32, a []int8, ra []int32, b []int8, rb []int32, d int) {
	checkDotsI8(acc, a, ra, b, rb, d)
	impl.DotsI8(acc, a, ra, b, rb, d)
}

// checkDotsI8 panics unless DotsI8's arguments are consistent, so the
// vector kernels (which do not check) only ever see rows inside a and b.
func checkDotsI8(acc []int32, a []int8, ra []int32, b []int8, rb []int32, d int) {
	n := len(acc)
	if d < 0 || len(ra) < n || len(rb) < n {
		panic(fmt.Sprintf("kernel: DotsI8 with d=%d, %d results, %d and %d rows", d, n, len(ra), len(rb)))
	}
	if d == 0 {
		return
	}
	va, vb := len(a)/d, len(b)/d
	for i := range n {
		if uint(int(ra[i])) >= uint(va) || uint(int(rb[i])) >= uint(vb) {
			panic(fmt.Sprintf("kernel: DotsI8 pair %d: rows %d and %d outside tables of %d and %d rows", i, ra[i], rb[i], va, vb))
		}
	}
}

// dotsI8Generic is DotsI8's portable reference (arguments already
// checked): four interleaved accumulators over the row, which wrapping
// int32 addition makes equal to the plain sum.
func dotsI8Generic(acc []int32, a []int8, ra []int32, b []int8, rb []int32, d int) {
	for i := range acc {
		x := a[int(ra[i])*d : int(ra[i])*d+d]
		y := b[int(rb[i])*d : int(rb[i])*d+d]
		acc[i] = dotI8Row(x, y)
	}
}

// dotI8Row returns Σ int32(x[k])·int32(y[k]) over len(x) (y at least as
// long), in wrapping int32 arithmetic.
func dotI8Row(x, y []int8) int32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 int32
	k := 0
	for ; k+4 <= len(x); k += 4 {
		xs, ys := x[k:k+4:k+4], y[k:k+4:k+4]
		s0 += int32(xs[0]) * int32(ys[0])
		s1 += int32(xs[1]) * int32(ys[1])
		s2 += int32(xs[2]) * int32(ys[2])
		s3 += int32(xs[3]) * int32(ys[3])
	}
	for ; k < len(x); k++ {
		s0 += int32(x[k]) * int32(y[k])
	}
	return (s0 + s1) + (s2 + s3)
}

// dotsI8Tail runs a vector kernel that handles rows of a multiple of w
// values (w a power of two) on the prefix of every row, then adds each
// row's remaining d%w products in Go. Arguments are already checked.
func dotsI8Tail(acc []int32, a []int8, ra []int32, b []int8, rb []int32, d, w int,
	vec func(acc []int32, a []int8, ra []int32, b []int8, rb []int32, d, stride int)) {
	if len(acc) == 0 {
		return
	}
	p := d &^ (w - 1)
	if p == 0 {
		dotsI8Generic(acc, a, ra, b, rb, d)
		return
	}
	vec(acc, a, ra, b, rb, p, d)
	if p == d {
		return
	}
	for i := range acc {
		x := a[int(ra[i])*d+p : int(ra[i])*d+d]
		y := b[int(rb[i])*d+p : int(rb[i])*d+d]
		acc[i] += dotI8Row(x, y)
	}
}
