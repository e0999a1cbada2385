package oip

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// errNoData is a "data" that is null.
var errNoData = errors.New(`"data" is missing`)

// dataReader reads a "data" array, flat or nested, into the input's
// slice of its datatype, checking that nested arrays are rectangular.
type dataReader struct {
	in    *Input
	lim   Limits
	n     int          // values read
	dims  [MaxDims]int // length of the arrays at each depth, -1 until one closes
	ndims int
	leaf  int          // depth of the values, -1 until one is read
	count [MaxDims]int // values of each open array
	depth int          // arrays open
}

func newDataReader(in *Input, lim Limits, size int) dataReader {
	d := dataReader{in: in, lim: lim, leaf: -1}
	size = max(min(size, lim.Elements), 0)
	switch in.Datatype {
	case FP32:
		if cap(in.FP32) < size || len(in.FP32) > 0 { // else room given by the parser
			in.FP32 = make([]float32, 0, size)
		}
	case INT64:
		in.INT64 = make([]int64, 0, size)
	case INT32:
		in.INT32 = make([]int32, 0, size)
	case BOOL:
		in.BOOL = make([]bool, 0, size)
	case BYTES:
		in.BYTES = make([][]byte, 0, min(size, 1024))
	}
	return d
}

// read reads the array from s. Errors of the scanner are returned as
// they are.
func (d *dataReader) read(s *scanner) error {
	if err := s.next(); err != nil {
		return err
	}
	switch s.kind {
	case tokNull:
		return errNoData
	case '[':
	default:
		return errors.New(`"data" is not an array`)
	}
	if err := d.open(); err != nil {
		return err
	}
	for d.depth > 0 {
		if !s.more() {
			if err := s.next(); err != nil { // ']'
				return err
			}
			if err := d.close(); err != nil {
				return err
			}
			continue
		}
		if err := s.next(); err != nil {
			return err
		}
		if s.kind == '[' {
			if err := d.open(); err != nil {
				return err
			}
			continue
		}
		if err := d.value(s); err != nil {
			return err
		}
	}
	d.in.dims, d.in.ndims = d.dims, d.ndims
	return nil
}

func (d *dataReader) open() error {
	depth := d.depth
	switch {
	case depth == MaxDims:
		return fmt.Errorf("data is nested deeper than %d arrays", MaxDims)
	case d.leaf >= 0 && depth >= d.leaf:
		return fmt.Errorf("data is ragged: an array where a value belongs (depth %d)", depth)
	}
	if depth > 0 {
		d.count[depth-1]++
	}
	if d.ndims == depth {
		d.dims[depth] = -1
		d.ndims++
	}
	d.count[depth] = 0
	d.depth++
	return nil
}

func (d *dataReader) close() error {
	depth := d.depth - 1
	n := d.count[depth]
	switch {
	case d.dims[depth] == -1:
		d.dims[depth] = n
	case d.dims[depth] != n:
		return fmt.Errorf("data is ragged: arrays of lengths %d and %d at depth %d", d.dims[depth], n, depth)
	}
	d.depth = depth
	return nil
}

// isMissing reports whether the scanner's token is a missing value of a
// datatype: null for every datatype, and the strings "NaN" and "NA" for
// numbers.
func isMissing(s *scanner, datatype string) bool {
	if s.kind == tokNull {
		return true
	}
	return s.kind == tokString && (string(s.val) == "NaN" || string(s.val) == "NA") && datatype != BOOL && datatype != BYTES
}

func (d *dataReader) value(s *scanner) error {
	depth := d.depth
	switch {
	case d.ndims > depth:
		return fmt.Errorf("data is ragged: a value at depth %d, arrays at depth %d", depth, depth)
	case d.leaf >= 0 && d.leaf != depth:
		return fmt.Errorf("data is ragged: values at depths %d and %d", d.leaf, depth)
	case d.n >= d.lim.Elements:
		return fmt.Errorf("data has more than %d values", d.lim.Elements)
	}
	d.leaf = depth
	d.count[depth-1]++
	in := d.in
	missing := isMissing(s, in.Datatype)
	if missing && in.Missing == nil {
		in.Missing = make([]bool, d.n, max(d.n+1, in.Len()))
	}
	if in.Missing != nil {
		in.Missing = append(in.Missing, missing)
	}
	isNum := s.kind == tokNumber
	switch in.Datatype {
	case FP32:
		v := math.NaN()
		if !missing {
			if !isNum {
				return d.notA(s, "a number")
			}
			var err error
			if v, err = strconv.ParseFloat(string(s.val), 32); err != nil {
				return fmt.Errorf("data[%d] = %s is out of the FP32 range", d.n, s.val)
			}
		}
		in.FP32 = append(in.FP32, float32(v))
	case INT64, INT32:
		bits := 64
		if in.Datatype == INT32 {
			bits = 32
		}
		var v int64
		if !missing {
			if !isNum {
				return d.notA(s, "a number")
			}
			var err error
			if v, err = strconv.ParseInt(string(s.val), 10, bits); err != nil {
				if errors.Is(err, strconv.ErrRange) {
					return fmt.Errorf("data[%d] = %s is out of the INT%d range", d.n, s.val, bits)
				}
				return fmt.Errorf("data[%d] = %s is not an integer", d.n, s.val)
			}
		}
		if bits == 64 {
			in.INT64 = append(in.INT64, v)
		} else {
			in.INT32 = append(in.INT32, int32(v))
		}
	case BOOL:
		if s.kind != tokTrue && s.kind != tokFalse && !missing {
			return d.notA(s, "a boolean")
		}
		in.BOOL = append(in.BOOL, s.kind == tokTrue)
	case BYTES:
		if s.kind != tokString && !missing {
			return d.notA(s, "a string")
		}
		var b []byte
		if !missing {
			b = bytes.Clone(s.val)
			if b == nil {
				b = []byte{}
			}
		}
		in.BYTES = append(in.BYTES, b)
	}
	d.n++
	return nil
}

func (d *dataReader) notA(s *scanner, want string) error {
	return fmt.Errorf("data[%d] is %s, not %s (%s data)", d.n, s.tokenText(), want, d.in.Datatype)
}
