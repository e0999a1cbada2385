package format

// Limits bound what Read accepts from an untrusted file, and what
// engine.Load accepts from the model's graph. Read refuses a file that
// exceeds any of them with ErrLimit before allocating for the excess; the
// Model it returns carries the limits it was read with (Model.Limits), so
// that the engine holds the graph to the same bounds.
//
// The defaults (DefaultLimits) are sized so that a device with 512 MiB of
// RAM survives any file: raise them with WithLimits or the WithMax*
// options for bigger models on bigger machines.
type Limits struct {
	// MaxDecodedBytes caps the decoded (decompressed) payload.
	MaxDecodedBytes int64
	// MaxTensorBytes caps the data of any one tensor.
	MaxTensorBytes int64
	// MaxTensors caps the number of tensors in a model.
	MaxTensors int
	// MaxNodes caps the number of graph nodes.
	MaxNodes int
	// MaxAttrs caps the attributes of one node.
	MaxAttrs int
	// MaxDims caps the rank of tensors and graph values.
	MaxDims int
	// MaxDimSize caps any one dimension of a tensor, a graph value or an
	// attribute that gives a shape.
	MaxDimSize int64
	// MaxElements caps the element count of any one tensor or value the
	// engine plans, inputs and intermediate activations included.
	MaxElements int64
	// MaxStringLen caps any one string (names, vocabulary entries,
	// metadata values).
	MaxStringLen int
	// MaxListLen caps any one list in the metadata: labels, vocabulary,
	// categories, feature names.
	MaxListLen int
	// MaxSeqLen caps a tokenizer's max_len and any sequence length the
	// model fixes.
	MaxSeqLen int
	// MaxDecoderMemory caps the memory the zstd decompressor may use for
	// its window and buffers.
	MaxDecoderMemory int64
	// MaxHeaderBytes caps the memory the decoded header takes as Go
	// values: graph, tensor descriptions and metadata, every list and
	// string of them (tensor data is bounded by MaxDecodedBytes).
	MaxHeaderBytes int64
}

// Default limits, safe on a 512 MiB device.
const (
	DefaultMaxDecodedBytes  = 256 << 20 // decoded payload
	DefaultMaxTensorBytes   = 256 << 20 // one tensor's data
	DefaultMaxTensors       = 65536     // tensors per model
	DefaultMaxNodes         = 65536     // graph nodes
	DefaultMaxAttrs         = 64        // attributes per node
	DefaultMaxDims          = 8         // rank of a tensor or value
	DefaultMaxDimSize       = 1 << 26   // one dimension
	DefaultMaxElements      = 1 << 26   // elements of one tensor or value (256 MiB of f32)
	DefaultMaxStringLen     = 1 << 20   // one string
	DefaultMaxListLen       = 1 << 20   // one metadata list
	DefaultMaxSeqLen        = 1 << 16   // tokenizer max_len, fixed sequence lengths
	DefaultMaxDecoderMemory = 64 << 20  // decompressor window and buffers
	DefaultMaxHeaderBytes   = 64 << 20  // the decoded header, as Go values
)

// DefaultLimits returns the limits Read uses unless told otherwise.
func DefaultLimits() Limits {
	return Limits{
		MaxDecodedBytes:  DefaultMaxDecodedBytes,
		MaxTensorBytes:   DefaultMaxTensorBytes,
		MaxTensors:       DefaultMaxTensors,
		MaxNodes:         DefaultMaxNodes,
		MaxAttrs:         DefaultMaxAttrs,
		MaxDims:          DefaultMaxDims,
		MaxDimSize:       DefaultMaxDimSize,
		MaxElements:      DefaultMaxElements,
		MaxStringLen:     DefaultMaxStringLen,
		MaxListLen:       DefaultMaxListLen,
		MaxSeqLen:        DefaultMaxSeqLen,
		MaxDecoderMemory: DefaultMaxDecoderMemory,
		MaxHeaderBytes:   DefaultMaxHeaderBytes,
	}
}

// WithLimits replaces every decode limit at once. A zero field keeps its
// default.
func WithLimits(l Limits) Option {
	return func(o *options) {
		d := DefaultLimits()
		pick64 := func(v, def int64) int64 {
			if v > 0 {
				return v
			}
			return def
		}
		pick := func(v, def int) int {
			if v > 0 {
				return v
			}
			return def
		}
		o.lim = Limits{
			MaxDecodedBytes:  pick64(l.MaxDecodedBytes, d.MaxDecodedBytes),
			MaxTensorBytes:   pick64(l.MaxTensorBytes, d.MaxTensorBytes),
			MaxTensors:       pick(l.MaxTensors, d.MaxTensors),
			MaxNodes:         pick(l.MaxNodes, d.MaxNodes),
			MaxAttrs:         pick(l.MaxAttrs, d.MaxAttrs),
			MaxDims:          pick(l.MaxDims, d.MaxDims),
			MaxDimSize:       pick64(l.MaxDimSize, d.MaxDimSize),
			MaxElements:      pick64(l.MaxElements, d.MaxElements),
			MaxStringLen:     pick(l.MaxStringLen, d.MaxStringLen),
			MaxListLen:       pick(l.MaxListLen, d.MaxListLen),
			MaxSeqLen:        pick(l.MaxSeqLen, d.MaxSeqLen),
			MaxDecoderMemory: pick64(l.MaxDecoderMemory, d.MaxDecoderMemory),
			MaxHeaderBytes:   pick64(l.MaxHeaderBytes, d.MaxHeaderBytes),
		}
	}
}
