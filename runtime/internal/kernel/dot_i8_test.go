package kernel

import (
	"math/rand/v2"
	"testing"
)

// TestDotsI8 checks every implementation's DotsI8 against dotsI8Generic and
// against a plain int64 sum (narrowed to int32), over row widths with and
// without a vector tail, extreme values included.
func TestDotsI8(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 8))
	for _, d := range []int{0, 1, 3, 15, 16, 17, 31, 32, 33, 48, 64, 100, 128, 1000} {
		va, vb, n := 7, 11, 37
		a, b := make([]int8, va*d), make([]int8, vb*d)
		for i := range a {
			a[i] = int8(r.IntN(256) - 128)
		}
		for i := range b {
			b[i] = int8(r.IntN(256) - 128)
		}
		if d > 0 { // row 0 of each: all -128, the largest products
			for k := range d {
				a[k], b[k] = -128, -128
			}
		}
		ra, rb := make([]int32, n), make([]int32, n)
		for i := range n {
			ra[i], rb[i] = int32(r.IntN(va)), int32(r.IntN(vb))
		}
		ra[0], rb[0] = 0, 0
		want := make([]int32, n)
		dotsI8Generic(want, a, ra, b, rb, d)
		for i := range n {
			var s int64
			for k := range d {
				s += int64(a[int(ra[i])*d+k]) * int64(b[int(rb[i])*d+k])
			}
			if int32(s) != want[i] {
				t.Fatalf("generic d=%d pair %d = %d, want %d", d, i, want[i], int32(s))
			}
		}
		for _, im := range Impls() {
			for _, m := range []int{0, 1, n} {
				got := make([]int32, m+1)
				got[m] = 12345 // past the end: untouched
				checkDotsI8(got[:m], a, ra, b, rb, d)
				im.DotsI8(got[:m], a, ra, b, rb, d)
				for i := range m {
					if got[i] != want[i] {
						t.Fatalf("%s: d=%d pair %d of %d = %d, want %d", im.Name, d, i, m, got[i], want[i])
					}
				}
				if got[m] != 12345 {
					t.Fatalf("%s: d=%d wrote past %d results", im.Name, d, m)
				}
			}
		}
	}
}

// TestDotsI8BadRows checks that DotsI8 panics on a row outside a table or
// on too few row indexes, instead of reading outside the tables.
func TestDotsI8BadRows(t *testing.T) {
	a, b := make([]int8, 4*8), make([]int8, 2*8)
	for _, c := range []struct {
		name   string
		ra, rb []int32
		n      int
	}{
		{"a row past the end", []int32{4}, []int32{0}, 1},
		{"b row past the end", []int32{0}, []int32{2}, 1},
		{"negative row", []int32{-1}, []int32{0}, 1},
		{"too few rows", []int32{0}, []int32{0}, 2},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: DotsI8 did not panic", c.name)
				}
			}()
			DotsI8(make([]int32, c.n), a, c.ra, b, c.rb, 8)
		}()
	}
}

// BenchmarkDotsI8 times 5000 pairs of 32-wide rows (one user row against
// 5000 item rows, the recommender's scoring) on every implementation.
func BenchmarkDotsI8(bm *testing.B) {
	const n, d, items = 5000, 32, 5000
	r := rand.New(rand.NewPCG(1, 2))
	a, b := make([]int8, 1000*d), make([]int8, items*d)
	for i := range a {
		a[i] = int8(r.IntN(256) - 128)
	}
	for i := range b {
		b[i] = int8(r.IntN(256) - 128)
	}
	ra, rb := make([]int32, n), make([]int32, n)
	for i := range n {
		ra[i], rb[i] = 7, int32(r.IntN(items))
	}
	acc := make([]int32, n)
	for _, im := range Impls() {
		bm.Run(im.Name, func(bm *testing.B) {
			for bm.Loop() {
				im.DotsI8(acc, a, ra, b, rb, d)
			}
		})
	}
}
