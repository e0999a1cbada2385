package train

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Embedding maps token ids to rows of a table [V, D]: the engine's
// Embedding operator. Its input is Batch.IDs (one id per output row); its
// output keeps the batch's B, T and Mask, so a SeqPool or a recurrent
// layer after it sees which steps are padding.
type Embedding struct {
	Table *Param

	ids []int // the last Forward's ids (training)
}

// NewEmbedding makes a [vocab, dim] table drawn from N(0, 0.1²).
func NewEmbedding(rng *rand.Rand, vocab, dim int) *Embedding {
	l := &Embedding{Table: newParam("table", false, vocab, dim)}
	for i := range l.Table.W {
		l.Table.W[i] = rng.NormFloat64() * 0.1
	}
	return l
}

// Vocab and Dim are the table's shape.
func (l *Embedding) Vocab() int { return l.Table.Shape[0] }
func (l *Embedding) Dim() int   { return l.Table.Shape[1] }

// Forward gathers the rows of in.IDs.
func (l *Embedding) Forward(in *Batch, train bool) *Batch {
	d, v := l.Dim(), l.Vocab()
	x := mat64(max(len(in.IDs), 1), d)
	xd := x.RawMatrix().Data
	for i, id := range in.IDs {
		if id < 0 || id >= v {
			panic(fmt.Sprintf("train: Embedding: id %d (row %d) outside the vocabulary of %d", id, i, v))
		}
		copy(xd[i*d:(i+1)*d], l.Table.W[id*d:(id+1)*d])
	}
	if len(in.IDs) == 0 {
		x = &mat.Dense{}
	}
	l.ids = in.IDs
	out := *in
	out.X = x
	return &out
}

// Backward adds each output row's gradient to its id's row of the table.
// The input is ids: there is no input gradient.
func (l *Embedding) Backward(dout *mat.Dense) *mat.Dense {
	d := l.Dim()
	dd := dout.RawMatrix()
	for i, id := range l.ids {
		row := dd.Data[i*dd.Stride : i*dd.Stride+d]
		g := l.Table.G[id*d : (id+1)*d]
		for j, v := range row {
			g[j] += v
		}
	}
	return nil
}

// Params is the table.
func (l *Embedding) Params() []*Param { return []*Param{l.Table} }

// Export writes an Embedding node (the table int8 per row when
// quantizing) reading the ids named in.
func (l *Embedding) Export(e *Exporter, in string) (string, error) {
	name := e.Unique("embedding")
	t := e.Matrix(name+"/table", l.Table)
	return e.NodeNamed(name, "Embedding", []string{in, t}), nil
}

// maskPad is the padding id of exported masks: text.PadID, the id every
// runtime/text tokenizer pads with (Seqs.Pad on the host).
const maskPad = 0

// exportMask returns the value holding the graph's padding mask: the
// output of its PadMask node, or of a new one over the ids the first
// Embedding node reads. It returns "" when the graph has no Embedding
// (the input is not token ids, so there is no padding to mask).
func exportMask(e *Exporter) string {
	ids := ""
	for _, n := range e.M.Graph.Nodes {
		if n.Op == "PadMask" && len(n.Outputs) == 1 {
			return n.Outputs[0]
		}
		if n.Op == "Embedding" && ids == "" && len(n.Inputs) > 0 {
			ids = n.Inputs[0]
		}
	}
	if ids == "" {
		return ""
	}
	return e.Node("mask", "PadMask", []string{ids}, IntAttr("pad", maskPad))
}
