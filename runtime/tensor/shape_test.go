package tensor

import (
	"errors"
	"math"
	"strconv"
	"testing"
)

const is64 = strconv.IntSize == 64

// shape builds a Shape from int64 dimensions; ok is false when one does
// not fit in an int (a 32-bit target), so a case can be skipped there.
func shape(dims ...int64) (s Shape, ok bool) {
	for _, d := range dims {
		v, fits := Int(d)
		if !fits {
			return nil, false
		}
		s = append(s, v)
	}
	return s, true
}

func TestMulInt(t *testing.T) {
	cases := []struct {
		a, b int
		want int64
		ok   bool
	}{
		{0, 0, 0, true},
		{0, math.MaxInt, 0, true},
		{math.MaxInt, 0, 0, true},
		{1, math.MaxInt, math.MaxInt, true},
		{math.MaxInt, 1, math.MaxInt, true},
		{math.MaxInt32, 1, math.MaxInt32, true},
		{1 << 15, 1<<16 - 1, 1<<31 - 1<<15, true},
		{3, 5, 15, true},
		{1 << 15, 1 << 15, 1 << 30, true},
		{1 << 16, 1 << 15, 1 << 31, is64}, // 2³¹ does not fit a 32-bit int
		{1 << 16, 1 << 16, 1 << 32, is64}, // wraps to 0 on 32-bit without the check
		{math.MaxInt/2 + 1, 2, 0, false},
		{math.MaxInt, math.MaxInt, 0, false},
		{-1, 2, 0, false},
		{2, -1, 0, false},
		{-1, 0, 0, false},
	}
	for _, c := range cases {
		got, ok := MulInt(c.a, c.b)
		if ok != c.ok || (ok && int64(got) != c.want) {
			t.Errorf("MulInt(%d, %d) = %d, %v; want %d, %v", c.a, c.b, got, ok, c.want, c.ok)
		}
	}
}

func TestAddInt(t *testing.T) {
	cases := []struct {
		a, b int
		want int64
		ok   bool
	}{
		{0, 0, 0, true},
		{math.MaxInt - 1, 1, math.MaxInt, true},
		{math.MaxInt, 1, 0, false},
		{1 << 30, 1 << 30, 1 << 31, is64},
		{-1, 1, 0, false},
		{1, -1, 0, false},
	}
	for _, c := range cases {
		got, ok := AddInt(c.a, c.b)
		if ok != c.ok || (ok && int64(got) != c.want) {
			t.Errorf("AddInt(%d, %d) = %d, %v; want %d, %v", c.a, c.b, got, ok, c.want, c.ok)
		}
	}
}

func TestInt(t *testing.T) {
	cases := []struct {
		v  int64
		ok bool
	}{
		{0, true},
		{-1, true},
		{math.MaxInt32, true},
		{math.MinInt32, true},
		{math.MaxInt32 + 1, is64},
		{math.MinInt32 - 1, is64},
		{1 << 32, is64}, // int(1<<32) is 0 on 32-bit ARM
		{1 << 40, is64},
		{math.MaxInt64, is64},
		{math.MinInt64, is64},
	}
	for _, c := range cases {
		got, ok := Int(c.v)
		if ok != c.ok || (ok && int64(got) != c.v) {
			t.Errorf("Int(%d) = %d, %v; want ok %v", c.v, got, ok, c.ok)
		}
	}
}

func TestElements(t *testing.T) {
	cases := []struct {
		dims []int64
		want int64
		ok   bool
	}{
		{[]int64{}, 1, true},
		{nil, 1, true},
		{[]int64{0}, 0, true},
		{[]int64{2, 3, 4}, 24, true},
		{[]int64{5, 0, 7}, 0, true},
		{[]int64{1 << 15, 1 << 15}, 1 << 30, true},
		{[]int64{1 << 16, 1 << 15}, 1 << 31, is64}, // 2³¹ does not fit a 32-bit int
		{[]int64{1 << 16, 1 << 16}, 1 << 32, is64}, // unchecked, 0 on 32-bit
		{[]int64{1, 1 << 32, 1 << 32}, 0, false},   // 2⁶⁴ overflows every int; unchecked it is 0
		{[]int64{1 << 20, 1 << 20, 1 << 20, 1 << 20}, 0, false},
		{[]int64{-1, 4}, 0, false},
		{[]int64{4, -1}, 0, false},
		{[]int64{0, -1}, 0, false},
	}
	for _, c := range cases {
		s, fits := shape(c.dims...)
		if !fits {
			continue // a dimension above 2³¹ cannot be built on 32-bit
		}
		got, err := s.Elements()
		if (err == nil) != c.ok || (err == nil && int64(got) != c.want) {
			t.Errorf("%v.Elements() = %d, %v; want %d, ok %v", s, got, err, c.want, c.ok)
		}
		if err != nil && !errors.Is(err, ErrShape) {
			t.Errorf("%v.Elements() error %v does not wrap ErrShape", s, err)
		}
	}
}

func TestBounded(t *testing.T) {
	const maxDim, maxElems = 1 << 20, 1 << 24
	cases := []struct {
		s    Shape
		want int
		ok   bool
	}{
		{Shape{}, 1, true},
		{Shape{1 << 20}, 1 << 20, true},
		{Shape{1<<20 + 1}, 0, false},            // one dimension over maxDim
		{Shape{1 << 4, 1 << 20}, 1 << 24, true}, // exactly maxElems
		{Shape{1 << 5, 1 << 20}, 0, false},      // one over
		{Shape{0, 1 << 20, 1 << 20}, 0, false},  // no element, but 2⁴⁰ iterations of its outer loops
		{Shape{1 << 20, 1 << 4, 0}, 0, true},    // zero elements, bounded loops
		{Shape{3, 0, 5}, 0, true},
		{Shape{1 << 20, 1 << 20, 1 << 20, 1 << 20}, 0, false}, // would overflow unchecked
		{Shape{-1}, 0, false},
		{Shape{2, -1}, 0, false},
	}
	for _, c := range cases {
		got, err := c.s.Bounded(maxDim, maxElems)
		if (err == nil) != c.ok || (err == nil && got != c.want) {
			t.Errorf("%v.Bounded = %d, %v; want %d, ok %v", c.s, got, err, c.want, c.ok)
		}
		if err != nil && !errors.Is(err, ErrShape) {
			t.Errorf("%v.Bounded error %v does not wrap ErrShape", c.s, err)
		}
	}
	// The bound is math.MaxInt: no product can overflow on its way there.
	if _, err := (Shape{math.MaxInt, 2}).Bounded(math.MaxInt, math.MaxInt); err == nil {
		t.Errorf("[MaxInt, 2] is within MaxInt elements")
	}
}

func TestCheck(t *testing.T) {
	cases := []struct {
		t  Tensor
		ok bool
	}{
		{Tensor{DType: F32, Shape: Shape{2, 2}, F32: make([]float32, 4)}, true},
		{Tensor{DType: F32, Shape: Shape{2, 2}, F32: make([]float32, 3)}, false},
		{Tensor{DType: I64, Shape: Shape{}, I64: make([]int64, 1)}, true},
		{Tensor{DType: F32, Shape: Shape{0, 5}}, true},
		{Tensor{DType: F32, Shape: Shape{-1, 2}}, false},
		{Tensor{DType: 99, Shape: Shape{1}}, false},
		// (2^(IntSize/2))² wraps to 0 elements when unchecked, matching an
		// empty slice: 2³²·2³² on 64-bit, 2¹⁶·2¹⁶ on 32-bit.
		{Tensor{DType: F32, Shape: Shape{1, 1 << (strconv.IntSize / 2), 1 << (strconv.IntSize / 2)}}, false},
	}
	for i, c := range cases {
		if err := c.t.Check(); (err == nil) != c.ok {
			t.Errorf("case %d: %s%v with %d elements: Check() = %v, want ok %v", i, c.t.DType, c.t.Shape, c.t.Len(), err, c.ok)
		}
	}
}

func TestNumElementsAndString(t *testing.T) {
	if n := (Shape{2, 3, 4}).NumElements(); n != 24 {
		t.Errorf("NumElements = %d, want 24", n)
	}
	if s := (Shape{-1, 3}).String(); s != "[?,3]" {
		t.Errorf("String = %q", s)
	}
	if !(Shape{1, 2}).Equal(Shape{1, 2}) || (Shape{1, 2}).Equal(Shape{2, 1}) || (Shape{1}).Equal(Shape{1, 1}) {
		t.Errorf("Equal is wrong")
	}
}
