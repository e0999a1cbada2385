package format

import "crypto/ed25519"

type options struct {
	lim Limits

	trusted      []ed25519.PublicKey
	requireSig   bool
	skipValidate bool
	skipData     bool

	// write side
	codec      Codec
	level      int
	signingKey ed25519.PrivateKey
}

func defaultOptions() options {
	return options{lim: DefaultLimits(), codec: CodecZstd}
}

// Option configures Read, ReadFile, Write and WriteFile. Options that do
// not apply to an operation are ignored by it.
type Option func(*options)

func collect(opts []Option) options {
	o := defaultOptions()
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// WithMaxDecodedBytes caps the size of the decoded (decompressed) payload.
// A file that declares or produces more is refused with ErrLimit before
// the excess is decompressed.
func WithMaxDecodedBytes(n int64) Option { return func(o *options) { o.lim.MaxDecodedBytes = n } }

// WithMaxTensors caps the number of tensors in a model.
func WithMaxTensors(n int) Option { return func(o *options) { o.lim.MaxTensors = n } }

// WithMaxDims caps the rank of tensors and graph values.
func WithMaxDims(n int) Option { return func(o *options) { o.lim.MaxDims = n } }

// WithMaxTensorBytes caps the data size of any one tensor.
func WithMaxTensorBytes(n int64) Option { return func(o *options) { o.lim.MaxTensorBytes = n } }

// WithMaxStringLen caps the length of any string in the header. (List
// lengths have their own limits: see Limits and WithLimits.)
func WithMaxStringLen(n int) Option { return func(o *options) { o.lim.MaxStringLen = n } }

// WithMaxDecoderMemory caps the memory the zstd decompressor may use for
// its window and buffers.
func WithMaxDecoderMemory(n int64) Option { return func(o *options) { o.lim.MaxDecoderMemory = n } }

// WithTrustedKeys makes Read require a signature made by one of keys. An
// unsigned file fails with ErrUnsigned, one signed by another key with
// ErrUntrustedKey, a bad signature with ErrSignature. With no keys at all
// every file is refused: no signature can be trusted.
func WithTrustedKeys(keys ...ed25519.PublicKey) Option {
	return func(o *options) {
		o.trusted = append(o.trusted, keys...)
		o.requireSig = true
	}
}

// WithoutTensorData makes Read verify the whole file (checksum,
// signature, every size) but keep no tensor data: each Tensor.Data is nil
// and Container.TensorBytes still counts it. Inspecting a large model
// then costs little memory.
func WithoutTensorData() Option { return func(o *options) { o.skipData = true } }

// WithCodec selects the payload compression for Write (default zstd).
func WithCodec(c Codec) Option { return func(o *options) { o.codec = c } }

// WithLevel selects the compression effort for Write: 1 (fastest) to 4
// (smallest); 0 is the codec's default. It never changes what Read returns.
func WithLevel(level int) Option { return func(o *options) { o.level = level } }

// WithSigningKey makes Write sign the file with key (ed25519).
func WithSigningKey(key ed25519.PrivateKey) Option { return func(o *options) { o.signingKey = key } }

// WithoutValidation makes Write store a model without checking it. It
// exists so that formattest can build deliberately broken files that
// exercise readers; production code has no reason to use it. Read always
// validates.
func WithoutValidation() Option { return func(o *options) { o.skipValidate = true } }
