package train

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// PoolMode is how SeqPool reduces the steps of a sequence.
type PoolMode int

// The pooling modes, as the engine's SeqPool mode attribute.
const (
	PoolMean PoolMode = iota
	PoolMax
	PoolSum
)

// String is the engine's name of the mode.
func (m PoolMode) String() string {
	switch m {
	case PoolMax:
		return "max"
	case PoolSum:
		return "sum"
	}
	return "mean"
}

// SeqPool reduces a sequence batch (B·T rows of D, row b·T + t) to one
// row per example over its valid steps (Batch.Mask; all steps when nil):
// the engine's SeqPool operator with the PadMask of the ids as its mask.
// An example with no valid step gives zeros. Before an Embedding's output
// with mean mode it is fastText's (and PyTorch EmbeddingBag's) model.
type SeqPool struct {
	Mode PoolMode

	b, t, d int
	mask    []float64
	cnt     []float64 // valid steps per example (mean)
	arg     []int     // the step each max came from, −1 for none
}

// Forward pools every example's valid steps.
func (l *SeqPool) Forward(in *Batch, train bool) *Batch {
	b, t := in.B, in.T
	r, d := in.X.Dims()
	if t <= 0 || r != b*t {
		panic(fmt.Sprintf("train: SeqPool needs a sequence batch, got %d rows for B=%d, T=%d", r, b, t))
	}
	x := in.X.RawMatrix()
	y := mat64(max(b, 1), d)
	yd := y.RawMatrix().Data
	l.b, l.t, l.d, l.mask = b, t, d, in.Mask
	l.cnt = l.cnt[:0]
	if l.Mode == PoolMax {
		l.arg = append(l.arg[:0], make([]int, b*d)...)
	}
	for i := 0; i < b; i++ {
		yr := yd[i*d : (i+1)*d]
		var n float64
		for s := 0; s < t; s++ {
			if in.Mask != nil && in.Mask[i*t+s] == 0 {
				continue
			}
			xr := x.Data[(i*t+s)*x.Stride:][:d]
			switch l.Mode {
			case PoolMax:
				for j, v := range xr {
					if n == 0 || v > yr[j] {
						yr[j] = v
						l.arg[i*d+j] = s
					}
				}
			default:
				for j, v := range xr {
					yr[j] += v
				}
			}
			n++
		}
		if n == 0 && l.Mode == PoolMax {
			for j := range yr {
				l.arg[i*d+j] = -1
			}
		}
		if l.Mode == PoolMean && n > 0 {
			for j := range yr {
				yr[j] /= n
			}
		}
		l.cnt = append(l.cnt, n)
	}
	if b == 0 {
		y = &mat.Dense{}
	}
	return &Batch{X: y, B: b}
}

// Backward spreads each example's gradient over the steps it pooled.
func (l *SeqPool) Backward(dout *mat.Dense) *mat.Dense {
	b, t, d := l.b, l.t, l.d
	dx := mat64(max(b*t, 1), d)
	xd := dx.RawMatrix().Data
	g := dout.RawMatrix()
	for i := 0; i < b; i++ {
		gr := g.Data[i*g.Stride:][:d]
		if l.Mode == PoolMax {
			for j, v := range gr {
				if s := l.arg[i*d+j]; s >= 0 {
					xd[(i*t+s)*d+j] = v
				}
			}
			continue
		}
		f := 1.0
		if l.Mode == PoolMean && l.cnt[i] > 0 {
			f = 1 / l.cnt[i]
		}
		for s := 0; s < t; s++ {
			if l.mask != nil && l.mask[i*t+s] == 0 {
				continue
			}
			xr := xd[(i*t+s)*d:][:d]
			for j, v := range gr {
				xr[j] = v * f
			}
		}
	}
	return dx
}

// Params: none.
func (l *SeqPool) Params() []*Param { return nil }

// Export writes a SeqPool node, masked by the ids' PadMask when the model
// reads token ids.
func (l *SeqPool) Export(e *Exporter, in string) (string, error) {
	inputs := []string{in}
	if m := exportMask(e); m != "" {
		inputs = append(inputs, m)
	}
	return e.Node("pool", "SeqPool", inputs, StrAttr("mode", l.Mode.String())), nil
}
