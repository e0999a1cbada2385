package format

// This file holds every struct that travels on the wire inside the
// compressed body of an .erm file. msgp works one file at a time, so all of
// them live here and nowhere else. Fields are map-encoded by short names:
// a new field can be added in a minor version and older readers skip it.
// Never reuse or retype a field name; add a new one instead.
//
// Tensor payloads are not part of these structs (Tensor.Data is tagged
// "-"): they follow the header as one msgpack bin object per tensor, in
// the order of Model.Tensors, so a reader can check every size in the
// header before it allocates a single weight byte. See SPEC.md.

// Read does not decode with the generated DecodeMsg: its own decoder
// (decode.go) reads the same keys and types, holds every list to
// Limits before allocating it and refuses a known key that appears twice.
// The `limit=` tags below bound only the generated decoders.
//
//go:generate go tool msgp -file=schema.go -o=schema_gen.go
//msgp:limit arrays:1048576 maps:4096
//msgp:ignore Container

// Model is the content of an .erm file: a graph, its constant tensors and
// the metadata a runtime or a user needs to feed it and read its answers.
type Model struct {
	Graph    Graph    `msg:"graph"`
	Tensors  []Tensor `msg:"tensors,limit=65536"`
	Metadata Metadata `msg:"meta"`

	// Container describes the file the model was read from: version,
	// codec, sizes, checksum and signature. Read fills it in; Write
	// ignores it.
	Container Container `msg:"-"`
	// Limits are the decode limits the model was read with (Read fills
	// them in; a Model built in memory has zero Limits, which engine.Load
	// takes as DefaultLimits). engine.Load holds the graph to them.
	Limits Limits `msg:"-"`
}

// Graph is a list of nodes in topological order between named inputs and
// outputs.
type Graph struct {
	Inputs  []ValueInfo `msg:"inputs,limit=4096"`
	Outputs []ValueInfo `msg:"outputs,limit=4096"`
	Nodes   []Node      `msg:"nodes,limit=65536"`
}

// ValueInfo names a graph input or output with its element type and shape.
// A dimension of -1 is dynamic (batch size, sequence length).
type ValueInfo struct {
	Name  string  `msg:"name"`
	DType DType   `msg:"dtype"`
	Shape []int64 `msg:"shape,limit=64"`
}

// Node is one operator application. Inputs and Outputs are value names: a
// graph input, a tensor, or an output of an earlier node. An empty input
// name marks an optional input that is absent.
type Node struct {
	Name    string   `msg:"name"`
	Op      string   `msg:"op"`
	Inputs  []string `msg:"in,limit=1024"`
	Outputs []string `msg:"out,limit=1024"`
	Attrs   []Attr   `msg:"attrs,limit=1024"`
}

// AttrKind says which field of an Attr holds its value.
type AttrKind uint8

// Attribute kinds.
const (
	AttrInt AttrKind = iota + 1
	AttrFloat
	AttrString
	AttrInts
	AttrFloats
	AttrStrings
)

// Attr is a named operator attribute. Exactly the field that Kind names is
// meaningful; the writer stores attributes sorted by name.
type Attr struct {
	Name    string    `msg:"name"`
	Kind    AttrKind  `msg:"kind"`
	Int     int64     `msg:"i,omitempty"`
	Float   float64   `msg:"f,omitempty"`
	String  string    `msg:"s,omitempty"`
	Ints    []int64   `msg:"is,omitempty"`
	Floats  []float64 `msg:"fs,omitempty"`
	Strings []string  `msg:"ss,omitempty"`
}

// DType is the element type of a tensor or a graph value.
type DType uint8

// Element types. The numbers are part of the file format.
const (
	F32 DType = 1
	F16 DType = 2
	I8  DType = 3
	U8  DType = 4
	I32 DType = 5
	I64 DType = 6
)

// Tensor is a constant: weights, biases, embedding tables, lookup tables.
// Data is little-endian, canonical row-major (C order) and exactly
// product(Shape) * DType.Size() bytes. Layouts that suit one instruction
// set are made by the runtime at load time, never stored in the file.
type Tensor struct {
	Name  string  `msg:"name"`
	DType DType   `msg:"dtype"`
	Shape []int64 `msg:"shape,limit=64"`
	Quant *Quant  `msg:"quant,omitempty"`
	Data  []byte  `msg:"-"`
}

// QuantScheme is how a quantized tensor's integers map back to reals.
type QuantScheme uint8

// Quantization schemes. The numbers are part of the file format.
const (
	// Symmetric: real = scale * q. Zero points are absent (all zero).
	Symmetric QuantScheme = 1
	// Asymmetric (affine): real = scale * (q - zero_point).
	Asymmetric QuantScheme = 2
)

// Quant describes a quantized tensor. Axis is the channel axis that
// Scales and ZeroPoints run along, or -1 for one scale for the whole
// tensor. Quantization v1 stores int8 weights symmetric per output
// channel and int8 embedding tables symmetric per row.
type Quant struct {
	Scheme     QuantScheme `msg:"scheme"`
	Axis       int32       `msg:"axis"`
	Scales     []float32   `msg:"scales"`
	ZeroPoints []int32     `msg:"zps,omitempty"`
}

// Metadata is what a runtime or a person needs besides the graph: how to
// turn raw input into tensors and tensors into answers, and where the
// model came from.
type Metadata struct {
	// Task names what the model does, e.g. "text-classification",
	// "tabular-classification", "regression", "recommendation".
	Task string `msg:"task"`
	// Labels are the class names, in output order.
	Labels []string `msg:"labels,omitempty"`
	// Tokenizer turns text into token ids; nil for non-text models.
	Tokenizer *Tokenizer `msg:"tokenizer,omitempty"`
	// Features describe tabular inputs in column order, with the
	// normalisation and imputation the trainer fitted.
	Features []Feature `msg:"features,omitempty,limit=65536"`
	// Metrics are the figures measured when the model was exported.
	Metrics []Metric `msg:"metrics,omitempty,limit=4096"`
	// Producer is the program that wrote the file.
	Producer Producer `msg:"producer"`
	// DataFingerprint identifies the training data (e.g. a SHA-256).
	DataFingerprint string `msg:"data_fp,omitempty"`
	// Extra is free-form key/value metadata, stored sorted by key.
	Extra []KeyValue `msg:"extra,omitempty,limit=65536"`
}

// Tokenizer is the text front end of a model, fitted on its training data.
type Tokenizer struct {
	// Kind is "word", "char" (Chinese/Japanese text) or "hash-ngram".
	Kind      string `msg:"kind"`
	Lowercase bool   `msg:"lower"`
	// MaxLen is the sequence length inputs are padded or cut to.
	MaxLen int64 `msg:"max_len"`
	// Vocab maps token id to token; ids are positions.
	Vocab   []string `msg:"vocab,omitempty"`
	Unknown string   `msg:"unk,omitempty"`
	Padding string   `msg:"pad,omitempty"`
	// NgramMin, NgramMax and Buckets configure the hashing tokenizer.
	NgramMin int64 `msg:"ngram_min,omitempty"`
	NgramMax int64 `msg:"ngram_max,omitempty"`
	Buckets  int64 `msg:"buckets,omitempty"`
}

// Feature is one tabular input column.
type Feature struct {
	Name string `msg:"name"`
	// Kind is "numeric" or "categorical".
	Kind string `msg:"kind"`
	// Mean and Std standardise a numeric feature: x' = (x - Mean) / Std.
	Mean float64 `msg:"mean,omitempty"`
	Std  float64 `msg:"std,omitempty"`
	// Impute is the value used when the input is missing.
	Impute float64 `msg:"impute,omitempty"`
	// Categories are the known values of a categorical feature, in
	// one-hot or embedding order.
	Categories []string `msg:"cats,omitempty"`
}

// Metric is one measured figure, e.g. {"accuracy", "test", "int8", 0.97}.
type Metric struct {
	Name    string  `msg:"name"`
	Split   string  `msg:"split,omitempty"`
	Variant string  `msg:"variant,omitempty"`
	Value   float64 `msg:"value"`
}

// Producer names the program and version that wrote a model.
type Producer struct {
	Name    string `msg:"name"`
	Version string `msg:"version"`
}

// KeyValue is one entry of free-form metadata.
type KeyValue struct {
	Key   string `msg:"k"`
	Value string `msg:"v"`
}
