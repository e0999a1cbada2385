package engine_test

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/engine/enginetest"
	"github.com/edgerun/edgerun/runtime/op"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// fuzzLimits keep every model the fuzzer makes cheap to run: an
// activation holds at most 2¹⁴ elements, so no input can make one Run
// long, and any hang is a bug, not a big model.
var fuzzLimits = format.Limits{MaxElements: 1 << 14, MaxDimSize: 1 << 12, MaxTensorBytes: 1 << 18, MaxSeqLen: 1 << 10}

// fuzzBases are the files the mutations start from: every architecture
// enginetest builds, f32 and int8, encoded once.
var fuzzBases = sync.OnceValue(func() [][]byte {
	var out [][]byte
	for _, spec := range specs {
		for _, int8 := range []bool{false, true} {
			fm, err := enginetest.Build(spec, enginetest.Options{Int8: int8, Seed: 7})
			if err != nil {
				panic(err)
			}
			var buf bytes.Buffer
			if err := format.Write(&buf, fm); err != nil {
				panic(err)
			}
			out = append(out, buf.Bytes())
		}
	}
	return out
})

// FuzzLoadRun mutates a valid model of every architecture structurally,
// steered by the fuzz input (a dimension set to 0, -1, 2³² or a small
// value; an attribute's value, kind or presence; a tensor's shape,
// dtype, quantization, presence; a node's operator, inputs and outputs;
// the tokenizer's length), re-encodes it (so the checksum is recomputed
// and the mutation reaches the engine), reads it with small limits, loads
// it and runs it on inputs shaped from the model's declared inputs, with
// dynamic dimensions and values taken from the fuzz input. The property:
// no panic, no hang, and every error typed (a format error from Read,
// ErrInvalidModel from Load, ErrInvalidInput from Run; ErrInternal, a
// recovered panic, fails).
// fuzz:budget 50000x
func FuzzLoadRun(f *testing.F) {
	for i := range fuzzBases() {
		// Bytes: base, number of mutations, then per mutation its kind
		// and choices (see mutate), then the request (see fuzzInputs).
		f.Add([]byte{byte(i)})
		f.Add([]byte{byte(i), 1, 0, 0, 0, 1, 3}) // graph input dimension 1 → 2³²
		// Dimension 1 → 0, a zero-length sequence the model fixes; two
		// threads, one Run, batch 3.
		f.Add([]byte{byte(i), 1, 0, 0, 0, 1, 0, 1, 0, 3, 0})
		// Dimension 1 → -1, and the request is [3, 0].
		f.Add([]byte{byte(i), 1, 0, 0, 0, 1, 2, 1, 0, 3, 0, 0})
		f.Add([]byte{byte(i), 2, 4, 0, 0, 0, 1, 8, 3, 2, 0, 3})
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &fuzzSource{b: data}
		bases := fuzzBases()
		fm, err := format.Read(bytes.NewReader(bases[src.n(len(bases))]))
		if err != nil {
			t.Fatal(err)
		}
		for range src.n(8) {
			mutate(fm, src)
		}
		var buf bytes.Buffer
		if err := format.Write(&buf, fm, format.WithoutValidation(), format.WithCodec(format.CodecNone)); err != nil {
			return // not encodable: nothing reaches the engine
		}
		fm, err = format.Read(&buf, format.WithLimits(fuzzLimits))
		if err != nil {
			return // format's own fuzz targets hold Read to its contract
		}
		m, err := engine.Load(fm)
		if err != nil {
			if !errors.Is(err, engine.ErrInvalidModel) || errors.Is(err, engine.ErrInternal) {
				t.Fatalf("Load: %v (want ErrInvalidModel)", err)
			}
			return
		}
		s := m.NewSession(engine.WithThreads(1 + src.n(2)))
		defer s.Close()
		for range 1 + src.n(2) {
			in := fuzzInputs(m, src)
			out, err := s.Run(in)
			if err != nil {
				if !errors.Is(err, engine.ErrInvalidInput) || errors.Is(err, engine.ErrInternal) {
					t.Fatalf("Run: %v (want ErrInvalidInput)", err)
				}
				continue
			}
			if len(out) != len(m.Outputs) {
				t.Fatalf("Run gave %d outputs, the model declares %d", len(out), len(m.Outputs))
			}
			for i, o := range out {
				if err := o.Check(); err != nil {
					t.Fatalf("output %d: %v", i, err)
				}
			}
		}
	})
}

// fuzzOps are the registered operators, without the deliberately
// broken ones of the engine's internal tests (same test binary).
var fuzzOps = sync.OnceValue(func() []string {
	var out []string
	for _, n := range op.Names() {
		if !strings.HasPrefix(n, "testPanic") {
			out = append(out, n)
		}
	}
	return out
})

// fuzzSource hands out the fuzz input's bytes; past the end it gives 0.
type fuzzSource struct{ b []byte }

func (s *fuzzSource) byte() byte {
	if len(s.b) == 0 {
		return 0
	}
	v := s.b[0]
	s.b = s.b[1:]
	return v
}

// n is a number in [0, k) (0 when k <= 0).
func (s *fuzzSource) n(k int) int {
	if k <= 0 {
		return 0
	}
	return int(s.byte()) % k
}

// fuzzInts are the values a dimension or an int attribute is set to.
var fuzzInts = []int64{0, 1, -1, 1 << 32, 2, 3, 7, 16, 64, -2, 1 << 12, 1<<12 + 1, 1 << 16, 1<<31 - 1, 1 << 31, 1 << 40, math.MaxInt64, math.MinInt64}

func (s *fuzzSource) int64() int64 {
	if i := s.n(len(fuzzInts) + 1); i < len(fuzzInts) {
		return fuzzInts[i]
	}
	return int64(s.byte())
}

func (s *fuzzSource) float() float64 {
	v := []float64{0, 1, -1, 0.5, 1e-30, 1e30, math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1)}
	return v[s.n(len(v))]
}

func (s *fuzzSource) shape(sh []int64) []int64 {
	sh = append([]int64(nil), sh...)
	switch s.n(4) {
	case 0, 1:
		if len(sh) > 0 {
			sh[s.n(len(sh))] = s.int64()
		}
	case 2:
		sh = append(sh, s.int64())
	case 3:
		if len(sh) > 0 {
			sh = sh[:len(sh)-1]
		}
	}
	return sh
}

var fuzzDTypes = []format.DType{format.F32, format.F16, format.I8, format.U8, format.I32, format.I64, 0, 9}

// names lists every value name of the graph, and "" (an absent input).
func names(fm *format.Model) []string {
	out := []string{""}
	for _, in := range fm.Graph.Inputs {
		out = append(out, in.Name)
	}
	for _, t := range fm.Tensors {
		out = append(out, t.Name)
	}
	for _, n := range fm.Graph.Nodes {
		out = append(out, n.Outputs...)
	}
	return out
}

// resize gives a tensor data for its (new) shape and dtype when that is
// small, filled from the fuzz input (so floats may be NaN or huge).
func resize(t *format.Tensor, src *fuzzSource) {
	n := int64(1)
	for _, d := range t.Shape {
		if d < 0 || d > 1<<14 || n*d > 1<<14 {
			return // left inconsistent: Read refuses it
		}
		n *= d
	}
	data := make([]byte, n*int64(max(t.DType.Size(), 1)))
	seed := src.byte()
	for i := range data {
		data[i] = seed + byte(i*7)
	}
	t.Data = data
}

// mutate applies one structural change to fm.
func mutate(fm *format.Model, src *fuzzSource) {
	g := &fm.Graph
	switch src.n(12) {
	case 0: // a graph input's dimension or rank
		if len(g.Inputs) > 0 {
			in := &g.Inputs[src.n(len(g.Inputs))]
			in.Shape = src.shape(in.Shape)
		}
	case 1: // a graph input's dtype
		if len(g.Inputs) > 0 {
			g.Inputs[src.n(len(g.Inputs))].DType = fuzzDTypes[src.n(len(fuzzDTypes))]
		}
	case 2: // an attribute's value
		if len(g.Nodes) == 0 {
			return
		}
		n := &g.Nodes[src.n(len(g.Nodes))]
		if len(n.Attrs) == 0 {
			return
		}
		a := &n.Attrs[src.n(len(n.Attrs))]
		switch src.n(6) {
		case 0:
			a.Int = src.int64()
		case 1:
			a.Float = src.float()
		case 2:
			a.String = []string{"", "same", "valid", "max", "sum", "mean", "relu", "gelu", "bidirectional", "sequence", "x"}[src.n(11)]
		case 3:
			a.Kind = format.AttrKind(1 + src.n(7))
		case 4:
			if len(a.Ints) > 0 {
				a.Ints[src.n(len(a.Ints))] = src.int64()
			} else {
				a.Ints = append(a.Ints, src.int64())
			}
		case 5:
			n.Attrs = append(n.Attrs[:0:0], n.Attrs[1:]...) // drop the first
		}
	case 3: // add an attribute the operator knows
		if len(g.Nodes) == 0 {
			return
		}
		n := &g.Nodes[src.n(len(g.Nodes))]
		d := op.Lookup(n.Op)
		if d == nil || len(d.Attrs) == 0 {
			return
		}
		name := d.Attrs[src.n(len(d.Attrs))]
		for _, a := range n.Attrs {
			if a.Name == name {
				return
			}
		}
		a := format.Attr{Name: name, Kind: format.AttrKind(1 + src.n(6))}
		a.Int, a.Float, a.Ints = src.int64(), src.float(), []int64{src.int64(), src.int64()}
		a.String = []string{"same", "valid", "max", "relu", "bidirectional", "sequence"}[src.n(6)]
		n.Attrs = append(n.Attrs, a)
	case 4: // a tensor's shape (data resized to fit when small)
		if len(fm.Tensors) > 0 {
			t := &fm.Tensors[src.n(len(fm.Tensors))]
			t.Shape = src.shape(t.Shape)
			if q := t.Quant; q != nil && q.Axis >= 0 && int(q.Axis) < len(t.Shape) && t.Shape[q.Axis] >= 0 && t.Shape[q.Axis] <= 1<<12 {
				q.Scales = make([]float32, t.Shape[q.Axis])
				for i := range q.Scales {
					q.Scales[i] = 0.01
				}
			}
			resize(t, src)
		}
	case 5: // a tensor's dtype
		if len(fm.Tensors) > 0 {
			t := &fm.Tensors[src.n(len(fm.Tensors))]
			t.DType = fuzzDTypes[src.n(6)]
			if t.DType != format.I8 && t.DType != format.U8 && t.DType != format.I32 {
				t.Quant = nil
			}
			resize(t, src)
		}
	case 6: // drop or duplicate a tensor
		if len(fm.Tensors) > 0 {
			i := src.n(len(fm.Tensors))
			if src.n(2) == 0 {
				fm.Tensors = append(fm.Tensors[:i:i], fm.Tensors[i+1:]...)
			} else {
				c := fm.Tensors[i]
				c.Name += "_" + strconv.Itoa(src.n(3))
				fm.Tensors = append(fm.Tensors, c)
			}
		}
	case 7: // a node input: another value, absent, dropped or added
		if len(g.Nodes) == 0 {
			return
		}
		n := &g.Nodes[src.n(len(g.Nodes))]
		all := names(fm)
		switch src.n(3) {
		case 0:
			if len(n.Inputs) > 0 {
				n.Inputs[src.n(len(n.Inputs))] = all[src.n(len(all))]
			}
		case 1:
			if len(n.Inputs) > 0 {
				n.Inputs = n.Inputs[:len(n.Inputs)-1]
			}
		case 2:
			n.Inputs = append(n.Inputs, all[src.n(len(all))])
		}
	case 8: // a node's operator
		if len(g.Nodes) > 0 {
			ops := fuzzOps()
			g.Nodes[src.n(len(g.Nodes))].Op = ops[src.n(len(ops))]
		}
	case 9: // drop or duplicate a node, or rename an output
		if len(g.Nodes) == 0 {
			return
		}
		i := src.n(len(g.Nodes))
		switch src.n(3) {
		case 0:
			g.Nodes = append(g.Nodes[:i:i], g.Nodes[i+1:]...)
		case 1:
			c := g.Nodes[i]
			c.Name += "_dup"
			c.Outputs = append([]string(nil), c.Outputs...)
			for j := range c.Outputs {
				c.Outputs[j] += "_dup"
			}
			g.Nodes = append(g.Nodes, c)
		case 2:
			if len(g.Nodes[i].Outputs) > 0 {
				all := names(fm)
				g.Nodes[i].Outputs[0] = all[src.n(len(all))]
			}
		}
	case 10: // quantization
		if len(fm.Tensors) == 0 {
			return
		}
		t := &fm.Tensors[src.n(len(fm.Tensors))]
		if t.Quant == nil {
			t.Quant = &format.Quant{Scheme: format.Symmetric, Axis: -1, Scales: []float32{0.5}}
			return
		}
		switch src.n(3) {
		case 0:
			t.Quant.Axis = int32(src.int64())
		case 1:
			if len(t.Quant.Scales) > 0 {
				t.Quant.Scales[src.n(len(t.Quant.Scales))] = float32(src.float())
			}
		case 2:
			t.Quant.Scheme = format.QuantScheme(src.n(3))
		}
	case 11: // graph outputs and the tokenizer
		if tk := fm.Metadata.Tokenizer; tk != nil && src.n(2) == 0 {
			tk.MaxLen = src.int64()
			return
		}
		if len(g.Outputs) > 0 {
			o := &g.Outputs[src.n(len(g.Outputs))]
			all := names(fm)
			o.Name = all[src.n(len(all))]
			o.Shape = src.shape(o.Shape)
		}
	}
}

// fuzzInputs makes a request for m: its declared inputs, dynamic
// dimensions 0 to 9 (sometimes a wrong rank or a fixed dimension changed;
// a zero byte keeps the declared shape),
// values from the fuzz input: ids mostly small, sometimes negative or
// huge; floats sometimes NaN or infinite.
func fuzzInputs(m *engine.Model, src *fuzzSource) []*tensor.Tensor {
	var in []*tensor.Tensor
	for _, vi := range m.Inputs {
		shape := make(tensor.Shape, len(vi.Shape))
		for i, d := range vi.Shape {
			shape[i] = d
			if d < 0 {
				shape[i] = src.n(10)
			}
		}
		switch src.n(16) { // zero bytes: the declared shape
		case 14:
			shape = append(shape, 1)
		case 15:
			if len(shape) > 0 {
				shape[src.n(len(shape))] = src.n(3)
			}
		}
		n, err := shape.Elements()
		if err != nil || n > 1<<14 {
			n = 0
		}
		t := &tensor.Tensor{DType: vi.DType, Shape: shape}
		switch vi.DType {
		case tensor.F32:
			t.F32 = make([]float32, n)
			for i := range t.F32 {
				switch b := src.byte(); b {
				case 255:
					t.F32[i] = float32(math.NaN())
				case 254:
					t.F32[i] = float32(math.Inf(1))
				default:
					t.F32[i] = float32(int(b)-128) / 16
				}
			}
		case tensor.I64, tensor.I32:
			ids := make([]int64, n)
			for i := range ids {
				switch b := src.byte(); b {
				case 255:
					ids[i] = -1
				case 254:
					ids[i] = math.MaxInt64
				default:
					ids[i] = int64(b % 32)
				}
			}
			if vi.DType == tensor.I64 {
				t.I64 = ids
			} else {
				t.I32 = make([]int32, n)
				for i, v := range ids {
					t.I32[i] = int32(v)
				}
			}
		case tensor.U8:
			t.U8 = make([]uint8, n)
		case tensor.I8:
			t.I8 = make([]int8, n)
		}
		in = append(in, t)
	}
	return in
}
