package engine

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/internal/kernel"
	"github.com/edgerun/edgerun/runtime/op"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// Model is a loaded model: packed weights and built operators. It is
// immutable and safe to share between sessions and goroutines.
type Model struct {
	Inputs  []ValueInfo
	Outputs []ValueInfo
	// Meta is the model file's metadata (labels, tokenizer, features).
	Meta format.Metadata

	values []value // every value of the graph, by id
	nodes  []node
	outIDs []int
	inIDs  []int
	lim    limits // from the format.Limits the model was read with
}

// ValueInfo describes a graph input or output. -1 in Shape is dynamic.
type ValueInfo struct {
	Name  string
	DType tensor.DType
	Shape []int
}

type valueKind uint8

const (
	valInput valueKind = iota
	valConst
	valNode
)

type value struct {
	name  string
	kind  valueKind
	desc  op.Desc        // a constant's dtype and shape
	konst *tensor.Tensor // a constant that Run reads; nil once an operator took it
}

type node struct {
	name   string
	op     string
	kernel op.Kernel
	in     []int // value ids, -1 for an absent optional input
	out    []int
}

// LoadOption configures Load.
type LoadOption func(*loadOptions)

type loadOptions struct {
	f32  bool
	take bool
}

// WithF32Weights makes Load also keep every int8 weight matrix
// dequantized to f32, shared by the sessions made WithF32, which then
// run the int8 layers in f32 without making copies of their own. It costs
// 4 bytes a weight on top of the int8 byte; without it a model holds its
// weights once.
func WithF32Weights() LoadOption { return func(o *loadOptions) { o.f32 = true } }

// TakeTensorData lets Load keep fm's tensor data as the model's own
// storage (packed in place, not copied), so weights are held once during
// and after loading. Load then sets every fm.Tensors[i].Data to nil; the
// rest of fm (graph, metadata, tensor headers) is unchanged.
func TakeTensorData() LoadOption { return func(o *loadOptions) { o.take = true } }

// LoadFile reads, verifies and loads a model file. opts are format read
// options (limits, trusted keys). The weights are held once: the decoded
// tensors become the packed weights.
func LoadFile(path string, opts ...format.Option) (*Model, error) {
	fm, err := format.ReadFile(path, opts...)
	if err != nil {
		return nil, err
	}
	return Load(fm, TakeTensorData())
}

// Read reads, verifies and loads a model from r, holding the weights
// once like LoadFile.
func Read(r io.Reader, opts ...format.Option) (*Model, error) {
	fm, err := format.Read(r, opts...)
	if err != nil {
		return nil, err
	}
	return Load(fm, TakeTensorData())
}

// Load builds a Model from a decoded file: it converts the tensors,
// builds every node's operator (refusing unknown operators and
// attributes by name) and plans the graph once with every dynamic
// dimension set to 1, so shape errors surface at load, not at run.
//
// Load holds the graph to fm.Limits, the limits the file was read with
// (format.DefaultLimits for a zero field, as for a Model built in
// memory): the rank, every dimension and the element count of every
// input, constant and planned activation, and the tokenizer's sequence
// length. Every error it returns is ErrInvalidModel; a panic while
// building is recovered as ErrInternal.
//
// After loading, the model holds each weight once, in the packed form its
// operator runs (int8 weights stay int8); constants an operator packed
// are not kept beside it. Without TakeTensorData, Load copies fm's
// tensor data and leaves fm as it was.
func Load(fm *format.Model, opts ...LoadOption) (m *Model, err error) {
	var o loadOptions
	for _, opt := range opts {
		opt(&o)
	}
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, asPanicked(r).err("loading the model")
		}
	}()
	m, err = load(fm, &o)
	if err != nil {
		return nil, classify(ErrInvalidModel, err)
	}
	return m, nil
}

func load(fm *format.Model, o *loadOptions) (*Model, error) {
	if err := fm.Validate(); err != nil {
		return nil, err
	}
	m := &Model{Meta: fm.Metadata, lim: newLimits(fm.Limits)}
	if err := m.checkGraph(fm); err != nil {
		return nil, err
	}
	ids := map[string]int{}
	add := func(v value) int {
		ids[v.name] = len(m.values)
		m.values = append(m.values, v)
		return len(m.values) - 1
	}
	for _, in := range fm.Graph.Inputs {
		dt, err := convDType(in.DType)
		if err != nil {
			return nil, fmt.Errorf("engine: input %q: %w", in.Name, err)
		}
		shape, err := m.lim.fileShape(in.Shape, true)
		if err != nil {
			return nil, fmt.Errorf("engine: input %q: %w", in.Name, err)
		}
		m.Inputs = append(m.Inputs, ValueInfo{Name: in.Name, DType: dt, Shape: shape})
		m.inIDs = append(m.inIDs, add(value{name: in.Name, kind: valInput}))
	}
	// How many places use each constant: an operator that is its only
	// user may keep its data as its packed form (op.Const.Own).
	uses := map[string]int{}
	for i := range fm.Graph.Nodes {
		for _, in := range fm.Graph.Nodes[i].Inputs {
			uses[in]++
		}
	}
	for _, out := range fm.Graph.Outputs {
		uses[out.Name]++
	}
	consts := map[string]*op.Const{}
	for i := range fm.Tensors {
		ft := &fm.Tensors[i]
		t, err := convTensor(ft, o.take)
		if err != nil {
			return nil, fmt.Errorf("engine: tensor %q: %w", ft.Name, err)
		}
		if o.take {
			ft.Data = nil // t holds it now, or a decoded copy of it
		}
		c := &op.Const{Name: ft.Name, T: t, Axis: -1, Own: uses[ft.Name] == 1, Dequant: o.f32}
		if q := ft.Quant; q != nil {
			if q.Scheme != format.Symmetric {
				return nil, fmt.Errorf("engine: tensor %q: quantization scheme %s is not supported (v1 weights are symmetric)", ft.Name, q.Scheme)
			}
			c.Scales, c.Axis = q.Scales, int(q.Axis)
		} else if t.DType == tensor.I8 {
			c.Scales = []float32{1}
		}
		consts[ft.Name] = c
		add(value{name: ft.Name, kind: valConst, desc: op.Desc{DType: t.DType, Shape: t.Shape}, konst: t})
	}
	// Constants Run reads: graph outputs, and inputs of operators that
	// did not take them at build (op.Node.Took). The others live on only
	// in their operators' packed form.
	runReads := map[string]bool{}
	for _, out := range fm.Graph.Outputs {
		runReads[out.Name] = true
	}
	for i := range fm.Graph.Nodes {
		fn := &fm.Graph.Nodes[i]
		on := &op.Node{Name: fn.Name, Op: fn.Op, Attrs: map[string]op.Attr{}, Outputs: len(fn.Outputs), MaxSeqLen: m.lim.maxSeq}
		for _, a := range fn.Attrs {
			on.Attrs[a.Name] = op.Attr{Kind: op.AttrKind(a.Kind), Int: a.Int, Float: a.Float, String: a.String, Ints: a.Ints, Floats: a.Floats, Strings: a.Strings}
		}
		n := node{name: fn.Name, op: fn.Op}
		for _, in := range fn.Inputs {
			if in == "" {
				on.Inputs = append(on.Inputs, op.Input{})
				n.in = append(n.in, -1)
				continue
			}
			id, ok := ids[in]
			if !ok {
				return nil, fmt.Errorf("engine: node %q reads %q, which no input, tensor or earlier node defines", fn.Name, in)
			}
			on.Inputs = append(on.Inputs, op.Input{Name: in, Present: true, Const: consts[in]})
			n.in = append(n.in, id)
		}
		k, err := op.Build(on)
		if err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
		for ii, in := range on.Inputs {
			if in.Const != nil && !on.Took(ii) {
				runReads[in.Name] = true
			}
		}
		n.kernel = k
		for _, out := range fn.Outputs {
			n.out = append(n.out, add(value{name: out, kind: valNode}))
		}
		m.nodes = append(m.nodes, n)
	}
	for id := range m.values {
		if v := &m.values[id]; v.kind == valConst && !runReads[v.name] {
			v.konst = nil
		}
	}
	for _, out := range fm.Graph.Outputs {
		id, ok := ids[out.Name]
		if !ok {
			return nil, fmt.Errorf("engine: graph output %q is not defined", out.Name)
		}
		m.outIDs = append(m.outIDs, id)
	}
	m.fuse()
	m.outIDs = m.outIDs[:0]
	for _, out := range fm.Graph.Outputs {
		dt, err := convDType(out.DType)
		if err != nil {
			return nil, fmt.Errorf("engine: output %q: %w", out.Name, err)
		}
		shape, err := m.lim.fileShape(out.Shape, true)
		if err != nil {
			return nil, fmt.Errorf("engine: output %q: %w", out.Name, err)
		}
		m.Outputs = append(m.Outputs, ValueInfo{Name: out.Name, DType: dt, Shape: shape})
		m.outIDs = append(m.outIDs, ids[out.Name])
	}
	// Plan once to catch shape errors now: a dynamic batch dimension at 1,
	// other dynamic dimensions (sequence length) at the tokenizer's length,
	// or 64, so convolution and pooling windows fit.
	seq := 64
	if tk := fm.Metadata.Tokenizer; tk != nil && tk.MaxLen > 0 {
		seq = int(tk.MaxLen) // at most MaxSeqLen: checkGraph
	}
	probe := make([]op.Desc, len(m.Inputs))
	for i, in := range m.Inputs {
		s := make(tensor.Shape, len(in.Shape))
		for j, d := range in.Shape {
			switch {
			case d >= 0:
				s[j] = d
			case j == 0:
				s[j] = 1
			default:
				s[j] = seq
			}
		}
		probe[i] = op.Desc{DType: in.DType, Shape: s}
	}
	if _, err := m.plan(probe); err != nil {
		return nil, err
	}
	return m, nil
}

// checkGraph holds what Load reads from the file to the model's limits
// before anything is converted: the tokenizer's sequence length and every
// constant's shape and data size. (Graph inputs and outputs are checked
// as they are converted.)
func (m *Model) checkGraph(fm *format.Model) error {
	if tk := fm.Metadata.Tokenizer; tk != nil && tk.MaxLen > int64(m.lim.maxSeq) {
		return fmt.Errorf("engine: tokenizer max_len %d exceeds the limit of %d", tk.MaxLen, m.lim.maxSeq)
	}
	for i := range fm.Tensors {
		ft := &fm.Tensors[i]
		shape, err := m.lim.fileShape(ft.Shape, false)
		if err != nil {
			return fmt.Errorf("engine: tensor %q: %w", ft.Name, err)
		}
		size := 0
		switch ft.DType {
		case format.I8, format.U8:
			size = 1
		case format.F16:
			size = 2
		case format.F32, format.I32:
			size = 4
		case format.I64:
			size = 8
		default:
			return fmt.Errorf("engine: tensor %q: unsupported dtype %s", ft.Name, ft.DType)
		}
		n := tensor.Shape(shape).NumElements() // bounded by fileShape
		if len(ft.Data) != n*size {
			return fmt.Errorf("engine: tensor %q: %s%v needs %d bytes of data, has %d (read without tensor data?)", ft.Name, ft.DType, ft.Shape, n*size, len(ft.Data))
		}
		if q := ft.Quant; q != nil && (q.Axis < -1 || int(q.Axis) >= len(shape) || (q.Axis >= 0 && len(q.Scales) != shape[q.Axis]) || (q.Axis == -1 && len(q.Scales) != 1)) {
			return fmt.Errorf("engine: tensor %q: quantization axis %d with %d scales does not fit shape %v", ft.Name, q.Axis, len(q.Scales), ft.Shape)
		}
	}
	return nil
}

// Kernel names the kernel implementation this process runs.
func Kernel() string { return kernel.Current() }

// Features lists the kernel implementation and the CPU features the
// kernels detected (for logs, `edgerun version`, `edgerun bench`).
func Features() []string { return kernel.Features() }

func convDType(d format.DType) (tensor.DType, error) {
	switch d {
	case format.F32:
		return tensor.F32, nil
	case format.I8:
		return tensor.I8, nil
	case format.U8:
		return tensor.U8, nil
	case format.I32:
		return tensor.I32, nil
	case format.I64:
		return tensor.I64, nil
	case format.F16:
		return tensor.F32, nil // stored f16 constants are widened at load
	}
	return 0, fmt.Errorf("unsupported dtype %s", d)
}

// convTensor converts a file tensor checkGraph has checked. With take,
// the tensor shares ft's bytes where their layout is the tensor's (every
// dtype but f16 on a little-endian CPU); otherwise it copies them (one
// memory copy on a little-endian CPU) and decodes f16, and every dtype on
// a big-endian CPU, element by element.
func convTensor(ft *format.Tensor, take bool) (*tensor.Tensor, error) {
	shape := make([]int, len(ft.Shape))
	for i, d := range ft.Shape {
		shape[i] = int(d) // within MaxDimSize: checkGraph
	}
	n := tensor.Shape(shape).NumElements()
	t := &tensor.Tensor{Shape: shape}
	d := ft.Data
	if take && len(d) > 0 {
		switch ft.DType {
		case format.F32:
			if v := alias[float32](d); len(v) == n {
				t.DType, t.F32 = tensor.F32, v
				return t, nil
			}
		case format.I8:
			if v := alias[int8](d); len(v) == n {
				t.DType, t.I8 = tensor.I8, v
				return t, nil
			}
		case format.U8:
			if len(d) == n {
				t.DType, t.U8 = tensor.U8, d
				return t, nil
			}
		case format.I32:
			if v := alias[int32](d); len(v) == n {
				t.DType, t.I32 = tensor.I32, v
				return t, nil
			}
		case format.I64:
			if v := alias[int64](d); len(v) == n {
				t.DType, t.I64 = tensor.I64, v
				return t, nil
			}
		}
	}
	// A copy: one memory copy where the bytes are the values (a
	// little-endian CPU), else decoded element by element.
	switch ft.DType {
	case format.F32:
		if v := copyLE[float32](d); len(v) == n {
			t.DType, t.F32 = tensor.F32, v
			return t, nil
		}
	case format.I8:
		if v := copyLE[int8](d); len(v) == n {
			t.DType, t.I8 = tensor.I8, v
			return t, nil
		}
	case format.I32:
		if v := copyLE[int32](d); len(v) == n {
			t.DType, t.I32 = tensor.I32, v
			return t, nil
		}
	case format.I64:
		if v := copyLE[int64](d); len(v) == n {
			t.DType, t.I64 = tensor.I64, v
			return t, nil
		}
	}
	switch ft.DType {
	case format.F32:
		t.DType, t.F32 = tensor.F32, make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:]))
		}
	case format.F16:
		t.DType, t.F32 = tensor.F32, make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = f16to32(binary.LittleEndian.Uint16(d[2*i:]))
		}
	case format.I8:
		t.DType, t.I8 = tensor.I8, make([]int8, n)
		for i := range t.I8 {
			t.I8[i] = int8(d[i])
		}
	case format.U8:
		t.DType, t.U8 = tensor.U8, append([]uint8(nil), d...)
	case format.I32:
		t.DType, t.I32 = tensor.I32, make([]int32, n)
		for i := range t.I32 {
			t.I32[i] = int32(binary.LittleEndian.Uint32(d[4*i:]))
		}
	case format.I64:
		t.DType, t.I64 = tensor.I64, make([]int64, n)
		for i := range t.I64 {
			t.I64[i] = int64(binary.LittleEndian.Uint64(d[8*i:]))
		}
	default:
		return nil, fmt.Errorf("unsupported dtype %s", ft.DType)
	}
	return t, nil
}

// f16to32 widens an IEEE half-precision value.
func f16to32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch exp {
	case 0:
		if frac == 0 {
			return math.Float32frombits(sign)
		}
		// subnormal: normalise
		e := uint32(127 - 15 + 1)
		for frac&0x400 == 0 {
			frac <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (frac&0x3ff)<<13)
	case 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

// fuse rewrites patterns that have a faster fused kernel:
// Dot(Embedding(a), Embedding(b)) over int8 tables (recommendation
// scoring), when the embeddings feed nothing else, and LayerNorm(Add(a, b))
// (a transformer's residual and the norm after it), when the sum feeds
// nothing else.
func (m *Model) fuse() {
	uses := make([]int, len(m.values))
	producer := make([]int, len(m.values))
	for i := range producer {
		producer[i] = -1
	}
	for ni, n := range m.nodes {
		for _, id := range n.in {
			if id >= 0 {
				uses[id]++
			}
		}
		for _, id := range n.out {
			producer[id] = ni
		}
	}
	for _, id := range m.outIDs {
		uses[id]++
	}
	removed := make([]bool, len(m.nodes))
	for ni := range m.nodes {
		n := &m.nodes[ni]
		if n.op != "Dot" || len(n.in) != 2 || n.in[0] < 0 || n.in[1] < 0 || n.in[0] == n.in[1] {
			continue
		}
		pa, pb := producer[n.in[0]], producer[n.in[1]]
		if pa < 0 || pb < 0 || uses[n.in[0]] != 1 || uses[n.in[1]] != 1 {
			continue
		}
		ea, eb := &m.nodes[pa], &m.nodes[pb]
		if ea.op != "Embedding" || eb.op != "Embedding" || ea.in[0] < 0 || eb.in[0] < 0 {
			continue
		}
		k := op.FuseEmbeddingDot(ea.kernel, eb.kernel, n.kernel)
		if k == nil {
			continue
		}
		n.kernel, n.op = k, "EmbeddingDot"
		n.in = []int{ea.in[0], eb.in[0]}
		removed[pa], removed[pb] = true, true
	}
	// LayerNorm(Add(a, b)) where the sum feeds only the norm: one pass per
	// row (op.FuseAddLayerNorm), the sum never written.
	for ni := range m.nodes {
		n := &m.nodes[ni]
		if n.op != "LayerNorm" || len(n.in) < 1 || n.in[0] < 0 {
			continue
		}
		pa := producer[n.in[0]]
		if pa < 0 || removed[pa] || uses[n.in[0]] != 1 {
			continue
		}
		a := &m.nodes[pa]
		if a.op != "Add" || len(a.in) != 2 || a.in[0] < 0 || a.in[1] < 0 {
			continue
		}
		k := op.FuseAddLayerNorm(a.kernel, n.kernel)
		if k == nil {
			continue
		}
		n.kernel, n.op = k, "AddLayerNorm"
		n.in = []int{a.in[0], a.in[1]}
		removed[pa] = true
	}
	kept := m.nodes[:0]
	for ni, n := range m.nodes {
		if !removed[ni] {
			kept = append(kept, n)
		}
	}
	m.nodes = kept
}
