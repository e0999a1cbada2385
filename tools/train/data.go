package train

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// Dataset is what Fit draws mini-batches from.
type Dataset interface {
	// Len is the number of examples.
	Len() int
	// Batch gathers the examples idx into a model input and their
	// targets (class indices, 0/1, or values; for several outputs per
	// example, row-major).
	Batch(idx []int) (*Batch, []float64)
}

// Table is a dataset of fixed-width float rows (standardised features,
// pixels, sensor windows flattened) with one target each, or Outs targets.
type Table struct {
	X    []float64 // N × F, row-major
	F    int
	Y    []float64 // N × Outs
	Outs int       // targets per example (0 means 1)
	// T > 0 marks rows as sequences of T steps of F/T channels each (for
	// Conv1D): batches then have B examples of T rows.
	T int
}

// Len is the number of rows.
func (d *Table) Len() int {
	if d.F == 0 {
		return 0
	}
	return len(d.X) / d.F
}

// Batch copies the rows idx.
func (d *Table) Batch(idx []int) (*Batch, []float64) {
	outs := max(d.Outs, 1)
	x := make([]float64, len(idx)*d.F)
	y := make([]float64, len(idx)*outs)
	for i, r := range idx {
		copy(x[i*d.F:(i+1)*d.F], d.X[r*d.F:(r+1)*d.F])
		copy(y[i*outs:(i+1)*outs], d.Y[r*outs:(r+1)*outs])
	}
	if d.T > 0 {
		c := d.F / d.T
		return &Batch{X: mat.NewDense(len(idx)*d.T, c, x), B: len(idx), T: d.T}, y
	}
	return &Batch{X: mat.NewDense(len(idx), d.F, x), B: len(idx)}, y
}

// Subset returns the rows idx as a new table.
func (d *Table) Subset(idx []int) *Table {
	outs := max(d.Outs, 1)
	out := &Table{F: d.F, Outs: d.Outs, T: d.T, X: make([]float64, 0, len(idx)*d.F), Y: make([]float64, 0, len(idx)*outs)}
	for _, r := range idx {
		out.X = append(out.X, d.X[r*d.F:(r+1)*d.F]...)
		out.Y = append(out.Y, d.Y[r*outs:(r+1)*outs]...)
	}
	return out
}

// Seqs is a dataset of token-id sequences padded to T with Pad, one
// target each: the input of Embedding-first models.
type Seqs struct {
	IDs [][]int // each of length T
	T   int
	Pad int
	Y   []float64
}

// Len is the number of sequences.
func (d *Seqs) Len() int { return len(d.IDs) }

// Batch flattens the sequences idx into ids (row b·T + t) with their mask.
func (d *Seqs) Batch(idx []int) (*Batch, []float64) {
	ids := make([]int, 0, len(idx)*d.T)
	mask := make([]float64, 0, len(idx)*d.T)
	y := make([]float64, len(idx))
	for i, r := range idx {
		s := d.IDs[r]
		if len(s) != d.T {
			panic(fmt.Sprintf("train: sequence %d has %d ids, want %d", r, len(s), d.T))
		}
		ids = append(ids, s...)
		for _, id := range s {
			m := 1.0
			if id == d.Pad {
				m = 0
			}
			mask = append(mask, m)
		}
		y[i] = d.Y[r]
	}
	return &Batch{IDs: ids, B: len(idx), T: d.T, Mask: mask}, y
}

// Subset returns the sequences idx.
func (d *Seqs) Subset(idx []int) *Seqs {
	out := &Seqs{T: d.T, Pad: d.Pad}
	for _, r := range idx {
		out.IDs = append(out.IDs, d.IDs[r])
		out.Y = append(out.Y, d.Y[r])
	}
	return out
}
