package op

// PerSample is implemented by a Kernel that computes each index of dim 0
// of its outputs (a sample of the batch) from that index of its run-time
// inputs alone, and with the same bits whatever the number of samples, for
// inputs of the given descs. The engine then may run a batch as slices of
// samples, one after the other or on several goroutines, each slice's
// activations small enough to stay in the cache, and get the bits of the
// whole batch run at once. It also checks that every activation's dim 0
// is the batch times a constant (so a Reshape or Flatten that keeps the
// samples apart qualifies, one that mixes them cannot), so a kernel only
// answers for its own arithmetic. A kernel without the method is never
// run in slices.
type PerSample interface {
	PerSample(in []Desc) bool
}

// rank2 reports whether x has a dim 0 apart from the axis the operator
// reduces over (its last).
func rank2(in []Desc) bool { return len(in) > 0 && len(in[0].Shape) >= 2 }

// Row-wise over the last axis: per sample when that axis is not dim 0.

func (*dense) PerSample(in []Desc) bool        { return rank2(in) }
func (*layerNorm) PerSample(in []Desc) bool    { return rank2(in) }
func (*addLayerNorm) PerSample(in []Desc) bool { return rank2(in) }
func (softmaxOp) PerSample(in []Desc) bool     { return rank2(in) }
func (dotOp) PerSample(in []Desc) bool         { return rank2(in) }
func (*normalizeOp) PerSample(in []Desc) bool  { return rank2(in) }

// Along axis 0, Concat puts all the samples of one input before the next
// input's: per sample only along another axis.
func (c *concatOp) PerSample(in []Desc) bool {
	if len(in) == 0 {
		return false
	}
	ax, ok := c.resolve(len(in[0].Shape))
	return ok && ax != 0
}

// Per element or per id; Add and Mul broadcast only a constant or a
// value without the batch dimension, which the engine's check of dim 0
// refuses unless it is a constant.

func (*embeddingOp) PerSample([]Desc) bool  { return true }
func (*embeddingDot) PerSample([]Desc) bool { return true }
func (*actOp) PerSample([]Desc) bool        { return true }
func (binaryOp) PerSample([]Desc) bool      { return true }
func (*reshapeOp) PerSample([]Desc) bool    { return true }
func (flattenOp) PerSample([]Desc) bool     { return true }

// [B, T, ...] operators: every step of a sample from that sample alone.

func (*padMaskOp) PerSample([]Desc) bool          { return true }
func (*seqPoolOp) PerSample([]Desc) bool          { return true }
func (*mha) PerSample([]Desc) bool                { return true }
func (*addPositional) PerSample([]Desc) bool      { return true }
func (*recurrent) PerSample([]Desc) bool          { return true }
func (*conv1D) PerSample([]Desc) bool             { return true }
func (*maxPool1D) PerSample([]Desc) bool          { return true }
func (globalAveragePool1D) PerSample([]Desc) bool { return true }

// [B, H, W, C] operators: every output cell of a sample from that
// sample's cells alone.

func (*conv2D) PerSample([]Desc) bool      { return true }
func (*depthwise2D) PerSample([]Desc) bool { return true }
func (*pool2D) PerSample([]Desc) bool      { return true }
func (globalPool2D) PerSample([]Desc) bool { return true }
