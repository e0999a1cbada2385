package op

import (
	"sync"

	"github.com/edgerun/edgerun/runtime/internal/kernel"
)

// geluChunk is the size of the pooled GELU scratch: the vector GELU runs
// on chunks of x this long.
const geluChunk = 1024

// geluScratch holds GELU scratch for callers without their own (the rows
// a worker takes when Linear splits rows): a pooled buffer costs far less
// than the scalar GELU, and no allocation once the pool holds one per
// worker.
var geluScratch = sync.Pool{New: func() any { return new([geluChunk]float32) }}

// geluPooled sets x[i] = GELU(x[i]) in place, bit for bit, with the
// vector kernel and a pooled scratch.
func geluPooled(x []float32) {
	buf := geluScratch.Get().(*[geluChunk]float32)
	for i := 0; i < len(x); i += geluChunk {
		c := x[i:min(i+geluChunk, len(x))]
		kernel.GELUSlice(c, c, buf[:len(c)])
	}
	geluScratch.Put(buf)
}
