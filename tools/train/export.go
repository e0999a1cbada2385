package train

import (
	"fmt"
	"strconv"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/quant"
)

// Exporter builds the .erm graph of a trained model: layers add their
// tensors and nodes through it. With Int8, matmul weights and embedding
// tables are written int8 per row (quantization v1, runtime/quant), except
// the tensors of layers listed in KeepF32 (per-layer fallback).
type Exporter struct {
	M       format.Model
	Int8    bool
	KeepF32 map[string]bool // node names whose weights stay f32
	used    map[string]int
	// Quantized lists the tensors written int8.
	Quantized []string
}

// NewExporter starts an empty model.
func NewExporter(int8 bool) *Exporter {
	return &Exporter{Int8: int8, used: map[string]int{}}
}

// Unique returns base, or base_N when base is taken: a node name.
func (e *Exporter) Unique(base string) string {
	n := e.used[base]
	e.used[base] = n + 1
	if n == 0 {
		return base
	}
	return base + "_" + strconv.Itoa(n)
}

// layerOf is the node name a tensor name belongs to (before the "/").
func layerOf(name string) string {
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			return name[:i]
		}
	}
	return name
}

// Matrix writes a weight matrix (p's shape; the first axis is the output
// channel) as int8 per row when quantizing, else f32, and returns its name.
func (e *Exporter) Matrix(name string, p *Param) string {
	shape := make([]int64, len(p.Shape))
	for i, d := range p.Shape {
		shape[i] = int64(d)
	}
	w := f32(p.W)
	if e.Int8 && !e.KeepF32[layerOf(name)] {
		n := p.Shape[0]
		q, sc := quant.SymmetricRows(w, n, len(w)/n)
		e.M.Tensors = append(e.M.Tensors, format.NewI8(name, shape, q, &format.Quant{Scheme: format.Symmetric, Axis: 0, Scales: sc}))
		e.Quantized = append(e.Quantized, name)
		return name
	}
	e.M.Tensors = append(e.M.Tensors, format.NewF32(name, shape, w))
	return name
}

// Vector writes an f32 vector.
func (e *Exporter) Vector(name string, v []float64) string {
	return e.F32(name, []int64{int64(len(v))}, v)
}

// F32 writes an f32 tensor of the given shape.
func (e *Exporter) F32(name string, shape []int64, v []float64) string {
	e.M.Tensors = append(e.M.Tensors, format.NewF32(name, shape, f32(v)))
	return name
}

// Node appends a node named Unique(base) and returns its output's name.
func (e *Exporter) Node(base, op string, in []string, attrs ...format.Attr) string {
	return e.NodeNamed(e.Unique(base), op, in, attrs...)
}

// NodeNamed appends a node with a name already made unique; its output
// is name + "/out".
func (e *Exporter) NodeNamed(name, op string, in []string, attrs ...format.Attr) string {
	out := name + "/out"
	e.M.Graph.Nodes = append(e.M.Graph.Nodes, format.Node{Name: name, Op: op, Inputs: in, Outputs: []string{out}, Attrs: attrs})
	return out
}

// Output names the graph output.
func (e *Exporter) Output(name string, cols int) {
	e.M.Graph.Outputs = append(e.M.Graph.Outputs, format.ValueInfo{Name: name, DType: format.F32, Shape: []int64{-1, int64(cols)}})
}

// Finish validates the model.
func (e *Exporter) Finish() (*format.Model, error) {
	if err := e.M.Validate(); err != nil {
		return nil, fmt.Errorf("train: export: %w", err)
	}
	return &e.M, nil
}

// StrAttr, IntAttr and FloatAttr make node attributes.
func StrAttr(name, v string) format.Attr {
	return format.Attr{Name: name, Kind: format.AttrString, String: v}
}

// IntAttr makes an int attribute.
func IntAttr(name string, v int64) format.Attr {
	return format.Attr{Name: name, Kind: format.AttrInt, Int: v}
}

// IntsAttr makes an ints attribute.
func IntsAttr(name string, v ...int64) format.Attr {
	return format.Attr{Name: name, Kind: format.AttrInts, Ints: v}
}

// FloatAttr makes a float attribute.
func FloatAttr(name string, v float64) format.Attr {
	return format.Attr{Name: name, Kind: format.AttrFloat, Float: v}
}

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
