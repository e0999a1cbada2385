// Package formattest builds tiny valid .erm models and deliberately
// corrupt ones, for the tests of the format package, of readers in other
// languages, and of anything that loads models (engine, daemon, plugins).
//
// It writes containers with its own code, following SPEC.md rather than
// calling format's writer, so it doubles as a second implementation of
// the container that keeps the specification honest.
package formattest

import (
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/edgerun/edgerun/format"
)

// Tiny returns a valid two-layer classifier: input "x" [-1,4] → Dense
// (int8 weights, per-channel symmetric) → ReLU → Dense (f32) → Softmax
// over 3 labels. It is a few hundred bytes once written.
func Tiny() *format.Model {
	w1 := make([]int8, 8*4)
	for i := range w1 {
		w1[i] = int8(i*37%255 - 127)
	}
	w2 := make([]float32, 3*8)
	for i := range w2 {
		w2[i] = float32(i%7)/7 - 0.5
	}
	return &format.Model{
		Graph: format.Graph{
			Inputs:  []format.ValueInfo{{Name: "x", DType: format.F32, Shape: []int64{-1, 4}}},
			Outputs: []format.ValueInfo{{Name: "probs", DType: format.F32, Shape: []int64{-1, 3}}},
			Nodes: []format.Node{
				{Name: "dense_1", Op: "Dense", Inputs: []string{"x", "dense_1/w", "dense_1/b"}, Outputs: []string{"h"},
					Attrs: []format.Attr{{Name: "activation", Kind: format.AttrString, String: "relu"}}},
				{Name: "dense_2", Op: "Dense", Inputs: []string{"h", "dense_2/w", ""}, Outputs: []string{"logits"}},
				{Name: "softmax", Op: "Softmax", Inputs: []string{"logits"}, Outputs: []string{"probs"},
					Attrs: []format.Attr{{Name: "axis", Kind: format.AttrInt, Int: -1}}},
			},
		},
		Tensors: []format.Tensor{
			format.NewI8("dense_1/w", []int64{8, 4}, w1, &format.Quant{Scheme: format.Symmetric, Axis: 0,
				Scales: []float32{0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08}}),
			format.NewF32("dense_1/b", []int64{8}, []float32{0, 0.1, -0.1, 0.2, -0.2, 0.3, -0.3, 0.4}),
			format.NewF32("dense_2/w", []int64{3, 8}, w2),
		},
		Metadata: format.Metadata{
			Task:     "tabular-classification",
			Labels:   []string{"low", "medium", "high"},
			Producer: format.Producer{Name: "formattest", Version: "1"},
		},
	}
}

// Full returns a valid model that sets every field of the schema at least
// once, with every dtype and both quantization schemes, for round-trip
// tests. When a minor version adds fields, Full sets them too;
// GoldenV1_0 stays as it is.
func Full() *format.Model { return GoldenV1_0() }

// GoldenV1_0 is the model stored in format/testdata/golden-v1.0*.erm. It is
// frozen: those files must keep loading to exactly this, forever.
func GoldenV1_0() *format.Model {
	m := Tiny()
	m.Graph.Inputs = append(m.Graph.Inputs, format.ValueInfo{Name: "ids", DType: format.I64, Shape: []int64{-1, -1}})
	m.Tensors = append(m.Tensors,
		format.Tensor{Name: "half", DType: format.F16, Shape: []int64{2, 2}, Data: []byte{0, 0x3c, 0, 0xbc, 0, 0x40, 0xff, 0x7b}},
		format.Tensor{Name: "u8", DType: format.U8, Shape: []int64{3}, Data: []byte{0, 128, 255},
			Quant: &format.Quant{Scheme: format.Asymmetric, Axis: -1, Scales: []float32{0.5}, ZeroPoints: []int32{128}}},
		format.NewI32("i32", []int64{2}, []int32{math.MinInt32, math.MaxInt32}),
		format.NewI64("i64", []int64{1, 2}, []int64{math.MinInt64, math.MaxInt64}),
		format.NewF32("scalar", []int64{}, []float32{float32(math.Pi)}),
		format.NewF32("empty", []int64{0, 5}, nil),
	)
	m.Graph.Nodes = append(m.Graph.Nodes, format.Node{
		Name: "everything", Op: "Custom", Inputs: []string{"ids", "half", "u8", "i32", "i64", "scalar", "empty"},
		Outputs: []string{"aux", "aux2"},
		Attrs: []format.Attr{
			{Name: "f", Kind: format.AttrFloat, Float: 1.5e-7},
			{Name: "fs", Kind: format.AttrFloats, Floats: []float64{math.Inf(1), math.Copysign(0, -1), 3}},
			{Name: "i", Kind: format.AttrInt, Int: math.MinInt64},
			{Name: "is", Kind: format.AttrInts, Ints: []int64{1, -2, 3}},
			{Name: "s", Kind: format.AttrString, String: "héllo 好评"},
			{Name: "ss", Kind: format.AttrStrings, Strings: []string{"a", "", "差评"}},
		},
	})
	m.Graph.Outputs = append(m.Graph.Outputs, format.ValueInfo{Name: "aux", DType: format.F32, Shape: []int64{}})
	m.Metadata = format.Metadata{
		Task:   "text-classification",
		Labels: []string{"bad", "good"},
		Tokenizer: &format.Tokenizer{Kind: "word", Lowercase: true, MaxLen: 64,
			Vocab: []string{"<pad>", "<unk>", "great", "phone", "好评"}, Unknown: "<unk>", Padding: "<pad>",
			NgramMin: 1, NgramMax: 2, Buckets: 1 << 16},
		Features: []format.Feature{
			{Name: "age", Kind: "numeric", Mean: 41.5, Std: 12.25, Impute: 41.5},
			{Name: "grade", Kind: "categorical", Categories: []string{"A", "B", "C"}, Impute: 1},
		},
		Metrics: []format.Metric{
			{Name: "accuracy", Split: "test", Variant: "f32", Value: 0.975},
			{Name: "accuracy", Split: "test", Variant: "int8", Value: 0.972},
		},
		Producer:        format.Producer{Name: "formattest", Version: "1.2.3"},
		DataFingerprint: "sha256:0123456789abcdef",
		Extra:           []format.KeyValue{{Key: "author", Value: "edgerun"}, {Key: "licence", Value: "CC BY 4.0"}},
	}
	return m
}

// WeightKind selects the values of Large's tensors.
type WeightKind int

const (
	// Random fills tensors with uniformly random bytes: incompressible.
	Random WeightKind = iota
	// TrainedLike draws weights from a Laplace-like bell around zero, the
	// way trained and then quantized weights look: int8 values crowd
	// near zero, f32 values keep random low mantissa bits.
	TrainedLike
)

// Large returns a valid MLP-shaped model with about bytes of tensor data
// in layers of 1 MiB-ish tensors of dtype (format.I8 or format.F32), for
// throughput and memory benchmarks. seed makes it reproducible.
func Large(bytes int64, dtype format.DType, kind WeightKind, seed uint64) *format.Model {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	const rows, cols = 1024, 1024
	elem := int64(dtype.Size())
	per := rows * cols * elem
	n := int((bytes + per - 1) / per)
	m := &format.Model{
		Graph: format.Graph{
			Inputs: []format.ValueInfo{{Name: "x", DType: format.F32, Shape: []int64{-1, cols}}},
		},
		Metadata: format.Metadata{Task: "benchmark", Producer: format.Producer{Name: "formattest", Version: "1"}},
	}
	prev := "x"
	for l := 0; l < n; l++ {
		name := "dense_" + strconv.Itoa(l)
		t := format.Tensor{Name: name + "/w", DType: dtype, Shape: []int64{rows, cols}, Data: make([]byte, per)}
		switch {
		case kind == Random:
			for i := 0; i+8 <= len(t.Data); i += 8 {
				v := rng.Uint64()
				for j := 0; j < 8; j++ {
					t.Data[i+j] = byte(v >> (8 * j))
				}
			}
		case dtype == format.I8:
			for i := range t.Data {
				t.Data[i] = byte(int8(math.Max(-127, math.Min(127, math.Round(laplace(rng)*12)))))
			}
			scales := make([]float32, rows)
			for i := range scales {
				scales[i] = 0.001 + float32(rng.Float64())*0.01
			}
			t.Quant = &format.Quant{Scheme: format.Symmetric, Axis: 0, Scales: scales}
		default:
			for i := 0; i < len(t.Data)/4; i++ {
				v := math.Float32bits(float32(laplace(rng) * 0.05))
				t.Data[4*i], t.Data[4*i+1], t.Data[4*i+2], t.Data[4*i+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
			}
		}
		if kind == Random && dtype == format.F32 {
			// Keep random f32 finite: clear the exponent's top bit.
			for i := 3; i < len(t.Data); i += 4 {
				t.Data[i] &^= 0x40
			}
		}
		m.Tensors = append(m.Tensors, t)
		out := name + "/out"
		m.Graph.Nodes = append(m.Graph.Nodes, format.Node{Name: name, Op: "Dense", Inputs: []string{prev, t.Name, ""}, Outputs: []string{out}})
		prev = out
	}
	m.Graph.Outputs = []format.ValueInfo{{Name: prev, DType: format.F32, Shape: []int64{-1, rows}}}
	return m
}

func laplace(rng *rand.Rand) float64 {
	u := rng.Float64() - 0.5
	if u < 0 {
		return math.Log1p(2 * u)
	}
	return -math.Log1p(-2 * u)
}
