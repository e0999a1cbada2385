package engine

import (
	"errors"
	"fmt"
	"math"
	"runtime/debug"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// The classes of error the engine returns; test with errors.Is. Every
// error of Load is ErrInvalidModel; every error of Run is ErrInvalidInput
// or ErrInternal. The underlying cause stays reachable too: a request over
// the limits is also tensor.ErrShape.
var (
	// ErrInvalidModel: the model cannot be loaded (an unknown operator, a
	// shape or attribute the operator cannot run, a dimension or element
	// count over the limits).
	ErrInvalidModel = errors.New("invalid model")
	// ErrInvalidInput: the request does not fit the model (count, dtype,
	// shape, size over the limits, values such as a token id outside the
	// vocabulary).
	ErrInvalidInput = errors.New("invalid input")
	// ErrInternal: a panic in an operator, recovered; a bug in edgerun.
	// The message holds the panic value and the stack.
	ErrInternal = errors.New("internal error")
)

// classed is an error of one class: it prints as err, and errors.Is finds
// both the class and err's own chain.
type classed struct {
	class, err error
}

func (e *classed) Error() string   { return e.err.Error() }
func (e *classed) Unwrap() []error { return []error{e.class, e.err} }

// classify marks err with class, unless it already carries one.
func classify(class, err error) error {
	if err == nil || errors.Is(err, ErrInvalidModel) || errors.Is(err, ErrInvalidInput) || errors.Is(err, ErrInternal) {
		return err
	}
	return &classed{class: class, err: err}
}

// panicked is a recovered panic value with the stack of the goroutine
// that panicked (a worker's, when the panic happened in a share of
// parallel work).
type panicked struct {
	v     any
	stack []byte
}

func asPanicked(r any) *panicked {
	if p, ok := r.(*panicked); ok {
		return p
	}
	return &panicked{v: r, stack: debug.Stack()}
}

func (p *panicked) err(where string) error {
	return &classed{class: ErrInternal, err: fmt.Errorf("engine: %s panicked (a bug in edgerun): %v\n%s", where, p.v, p.stack)}
}

// limits are a model's bounds in ints (format.Limits converted once,
// clamped so that no byte count derived from them overflows an int).
type limits struct {
	maxDims, maxDim, maxElements, maxSeq int
}

func newLimits(l format.Limits) limits {
	d := format.DefaultLimits()
	pick := func(v, def int64) int {
		if v <= 0 {
			v = def
		}
		return int(min(v, math.MaxInt/16)) // 16: room for bytes of 8-byte elements, doubled
	}
	return limits{
		maxDims:     pick(int64(l.MaxDims), int64(d.MaxDims)),
		maxDim:      pick(l.MaxDimSize, d.MaxDimSize),
		maxElements: pick(l.MaxElements, d.MaxElements),
		maxSeq:      pick(int64(l.MaxSeqLen), int64(d.MaxSeqLen)),
	}
}

// shape checks a planned or requested shape against the limits and
// returns its element count.
func (l limits) shape(s tensor.Shape) (int, error) {
	if len(s) > l.maxDims {
		return 0, fmt.Errorf("%w: %v has rank %d, over the limit of %d", tensor.ErrShape, s, len(s), l.maxDims)
	}
	return s.Bounded(l.maxDim, l.maxElements)
}

// fileShape converts a shape from the file (-1 allowed when dynamic)
// and checks it against the limits, with dynamic dimensions counted as 1.
func (l limits) fileShape(s []int64, dynamic bool) ([]int, error) {
	if len(s) > l.maxDims {
		return nil, fmt.Errorf("%w: shape %v has rank %d, over the limit of %d", tensor.ErrShape, s, len(s), l.maxDims)
	}
	out := make([]int, len(s))
	probe := make(tensor.Shape, len(s))
	for i, d := range s {
		switch {
		case d == -1 && dynamic:
			out[i], probe[i] = -1, 1
			continue
		case d < 0:
			return nil, fmt.Errorf("%w: dimension %d in shape %v", tensor.ErrShape, d, s)
		case d > int64(l.maxDim):
			return nil, fmt.Errorf("%w: dimension %d of shape %v exceeds the limit of %d", tensor.ErrShape, d, s, l.maxDim)
		}
		out[i] = int(d) // d <= maxDim <= MaxInt/16: fits
		probe[i] = out[i]
	}
	if _, err := probe.Bounded(l.maxDim, l.maxElements); err != nil {
		return nil, err
	}
	return out, nil
}
