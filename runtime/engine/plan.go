package engine

import (
	"fmt"
	"math"
	"sort"

	"github.com/edgerun/edgerun/runtime/op"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// plan is the memory layout of one run for one set of input shapes.
type plan struct {
	inShapes []tensor.Shape
	descs    []op.Desc // per value
	offset   []int     // per value: element offset in its dtype's arena (node outputs only)
	arena    [5]int    // elements per arena: f32, i32, i64, u8, i8
	scratch  op.Scratch
}

func arenaOf(d tensor.DType) int {
	switch d {
	case tensor.F32:
		return 0
	case tensor.I32:
		return 1
	case tensor.I64:
		return 2
	case tensor.U8:
		return 3
	}
	return 4
}

// maxArena bounds the elements of one arena: the largest slice of 8-byte
// elements an int can index (2²⁸ on 32-bit targets).
const maxArena = math.MaxInt / 8

// maxScratch is the bound on one node's scratch of each type, in units of
// the MaxElements limit: an operator's working memory is a few times its
// largest activation (attention's query, key and value rows and scores,
// a convolution's im2col rows).
const maxScratch = 4

// checkPlanned holds what an operator's Plan reports to the limits:
// known output dtypes, every output shape within the rank, dimension and
// element bounds, and scratch of each type at most maxScratch ×
// MaxElements. So no activation, and no loop over one, grows past the
// limits, whatever dimensions a request brings.
func (m *Model) checkPlanned(outs []op.Desc, sc op.Scratch) error {
	for j, d := range outs {
		if d.DType.Size() == 0 {
			return fmt.Errorf("output %d has unknown dtype %s", j, d.DType)
		}
		if _, err := m.lim.shape(d.Shape); err != nil {
			return fmt.Errorf("output %d: %w", j, err)
		}
	}
	bound := m.lim.maxElements * maxScratch
	for _, v := range []int{sc.F32, sc.U8, sc.I32} {
		if v < 0 || v > bound {
			return fmt.Errorf("%w: scratch of %d elements exceeds the limit of %d (%d × MaxElements)", tensor.ErrShape, v, bound, maxScratch)
		}
	}
	return nil
}

// plan computes shapes, liveness and arena offsets for the given inputs.
func (m *Model) plan(in []op.Desc) (*plan, error) {
	p := &plan{descs: make([]op.Desc, len(m.values)), offset: make([]int, len(m.values))}
	for i, id := range m.inIDs {
		p.descs[id] = in[i]
		p.inShapes = append(p.inShapes, append(tensor.Shape(nil), in[i].Shape...))
	}
	for id, v := range m.values {
		if v.kind == valConst {
			p.descs[id] = v.desc
		}
	}
	// Last use of every value: node index, or len(nodes) for graph outputs.
	last := make([]int, len(m.values))
	for i := range last {
		last[i] = -1
	}
	for ni, n := range m.nodes {
		for _, id := range n.in {
			if id >= 0 {
				last[id] = ni
			}
		}
	}
	for _, id := range m.outIDs {
		last[id] = len(m.nodes)
	}
	// Free lists per arena: sorted (offset, size) blocks; first fit.
	type block struct{ off, size int }
	var free [5][]block
	var top [5]int
	var overflow bool
	alloc := func(a, size int) int {
		for i, b := range free[a] {
			if b.size >= size {
				off := b.off
				if b.size == size {
					free[a] = append(free[a][:i], free[a][i+1:]...)
				} else {
					free[a][i] = block{b.off + size, b.size - size}
				}
				return off
			}
		}
		off := top[a]
		t, ok := tensor.AddInt(off, size)
		overflow = overflow || !ok || t > maxArena
		top[a] = t
		return off
	}
	release := func(a, off, size int) {
		if size == 0 {
			return
		}
		free[a] = append(free[a], block{off, size})
		sort.Slice(free[a], func(i, j int) bool { return free[a][i].off < free[a][j].off })
		merged := free[a][:0]
		for _, b := range free[a] {
			if k := len(merged) - 1; k >= 0 && merged[k].off+merged[k].size == b.off {
				merged[k].size += b.size
				continue
			}
			merged = append(merged, b)
		}
		free[a] = merged
	}
	descs := make([]op.Desc, 0, 8)
	for ni, n := range m.nodes {
		descs = n.inDescs(descs, p.descs)
		outs, sc, err := n.kernel.Plan(descs)
		if err != nil {
			return nil, fmt.Errorf("engine: node %q (%s): %w", n.name, n.op, err)
		}
		if len(outs) != len(n.out) {
			return nil, fmt.Errorf("engine: node %q (%s) has %d outputs in the file, the operator makes %d", n.name, n.op, len(n.out), len(outs))
		}
		if err := m.checkPlanned(outs, sc); err != nil {
			return nil, fmt.Errorf("engine: node %q (%s): %w", n.name, n.op, err)
		}
		p.scratch.F32 = max(p.scratch.F32, sc.F32)
		p.scratch.U8 = max(p.scratch.U8, sc.U8)
		p.scratch.I32 = max(p.scratch.I32, sc.I32)
		for j, id := range n.out {
			d := outs[j]
			p.descs[id] = d
			p.offset[id] = alloc(arenaOf(d.DType), d.Shape.NumElements())
		}
		// Inputs whose last use is this node are free for later outputs
		// (never for this node's own outputs: those were placed above).
		for _, id := range n.in {
			if id >= 0 && last[id] == ni && m.values[id].kind == valNode {
				release(arenaOf(p.descs[id].DType), p.offset[id], p.descs[id].Shape.NumElements())
				last[id] = -2 // released once even if used twice by this node
			}
		}
		if overflow {
			return nil, fmt.Errorf("engine: node %q (%s): the activations of the graph need more than %d elements of one type", n.name, n.op, maxArena)
		}
		// Outputs nobody reads are dead at once.
		for _, id := range n.out {
			if last[id] == -1 {
				release(arenaOf(p.descs[id].DType), p.offset[id], p.descs[id].Shape.NumElements())
			}
		}
	}
	p.arena = top
	return p, nil
}

// inDescs returns the descs of n's inputs, a zero Desc for an absent
// optional one, in buf's storage; all holds every value's desc.
func (n *node) inDescs(buf, all []op.Desc) []op.Desc {
	buf = buf[:0]
	for _, id := range n.in {
		if id < 0 {
			buf = append(buf, op.Desc{})
		} else {
			buf = append(buf, all[id])
		}
	}
	return buf
}
