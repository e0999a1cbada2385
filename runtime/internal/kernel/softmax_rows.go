package kernel

import "math"

// softmaxRowsBatch is the widest row SoftmaxRowsF32 batches: a narrower
// row (a classifier's few classes) costs the per-row kernel more in calls
// and scalar tails than in exponentials.
const softmaxRowsBatch = 15

// softmaxRowsChunk bounds the floats one batched pass covers, so they
// stay in the L1 cache between the passes.
const softmaxRowsChunk = 2048

// SoftmaxRowsF32 sets each whole row of d values of p to its softmax, bit
// for bit as SoftmaxF32 on each row (a trailing partial row too). Rows of
// up to 15 values are done a block of rows at a time: their maxima
// subtracted, one vector Exp pass over the block, then each row's sum in
// SoftmaxF32's order and the divisions.
func SoftmaxRowsF32(p []float32, d int) {
	if d <= 0 {
		return
	}
	if d > softmaxRowsBatch {
		for off := 0; off < len(p); off += d {
			impl.SoftmaxF32(p[off:min(off+d, len(p))])
		}
		return
	}
	whole := len(p) / d * d
	chunk := softmaxRowsChunk / d * d
	for off := 0; off < whole; off += chunk {
		softmaxRowsBlock(p[off:min(off+chunk, whole)], d)
	}
	if whole < len(p) {
		impl.SoftmaxF32(p[whole:])
	}
}

// softmaxRowsBlock is SoftmaxRowsF32 over a block of whole rows of d.
func softmaxRowsBlock(blk []float32, d int) {
	for r := 0; r+d <= len(blk); r += d {
		row := blk[r : r+d]
		mx := float32(math.Inf(-1))
		for _, s := range row {
			mx = max(mx, s)
		}
		for j := range row {
			row[j] -= mx
		}
	}
	impl.ExpSlice(blk, blk)
	for r := 0; r+d <= len(blk); r += d {
		row := blk[r : r+d]
		sum := sumF32(row)
		for j := range row {
			row[j] /= sum
		}
	}
}
