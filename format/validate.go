package format

import (
	"fmt"
	"math"
)

// Validate checks a model against the rules of the format, with the
// limits it was read with (Model.Limits; a zero field, and a Model built
// in memory, use DefaultLimits). Read and Write call it; a model that
// passes can be written and read back unchanged with those limits.
func (m *Model) Validate() error {
	o := defaultOptions()
	WithLimits(m.Limits)(&o)
	return m.validate(&o, true)
}

func tensorPart(i int, name string) string { return fmt.Sprintf("tensor %d %q", i, name) }

// numElements returns the product of shape, or an error on negative
// dimensions, too many dims or overflow past max.
func numElements(shape []int64, maxDims int, max int64) (int64, error) {
	if len(shape) > maxDims {
		return 0, fmt.Errorf("rank %d exceeds the limit of %d", len(shape), maxDims)
	}
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d != 0 && n > max/d {
			return 0, fmt.Errorf("shape %v has more than %d elements", shape, max)
		}
		n *= d
	}
	return n, nil
}

// validateTensorHeader checks everything about t except its data, and
// returns the data size in bytes that its shape and dtype require.
func validateTensorHeader(i int, t *Tensor, o *options) (int64, error) {
	part := tensorPart(i, t.Name)
	if t.Name == "" {
		return 0, newErr(ErrCorrupt, part, "empty name")
	}
	if len(t.Name) > o.lim.MaxStringLen {
		return 0, newErr(ErrLimit, part, "name longer than %d bytes", o.lim.MaxStringLen)
	}
	size := t.DType.Size()
	if size == 0 {
		return 0, newErr(ErrCorrupt, part, "unknown dtype %d", uint8(t.DType))
	}
	if len(t.Shape) > o.lim.MaxDims {
		return 0, newErr(ErrLimit, part, "rank %d exceeds the limit of %d", len(t.Shape), o.lim.MaxDims)
	}
	for _, d := range t.Shape {
		if d < 0 {
			return 0, newErr(ErrCorrupt, part, "negative dimension in shape %v", t.Shape)
		}
		if d > o.lim.MaxDimSize {
			return 0, newErr(ErrLimit, part, "dimension %d in shape %v exceeds the limit of %d (MaxDimSize)", d, t.Shape, o.lim.MaxDimSize)
		}
	}
	n, err := numElements(t.Shape, o.lim.MaxDims, min(o.lim.MaxTensorBytes/int64(size), o.lim.MaxElements))
	if err != nil {
		return 0, wrapErr(ErrLimit, part, err, "tensor too large (MaxTensorBytes %d, MaxElements %d)", o.lim.MaxTensorBytes, o.lim.MaxElements)
	}
	if err := validateQuant(t, o); err != nil {
		return 0, newErr(ErrCorrupt, part, "quantization: %v", err)
	}
	return n * int64(size), nil
}

func validateQuant(t *Tensor, o *options) error {
	q := t.Quant
	if q == nil {
		return nil
	}
	switch t.DType {
	case I8, U8, I32:
	default:
		return fmt.Errorf("dtype %s cannot be quantized", t.DType)
	}
	switch q.Scheme {
	case Symmetric:
		if len(q.ZeroPoints) != 0 {
			return fmt.Errorf("symmetric scheme has zero points")
		}
	case Asymmetric:
		if len(q.ZeroPoints) != len(q.Scales) {
			return fmt.Errorf("%d zero points for %d scales", len(q.ZeroPoints), len(q.Scales))
		}
	default:
		return fmt.Errorf("unknown scheme %d", uint8(q.Scheme))
	}
	want := 1
	if q.Axis != -1 {
		if q.Axis < 0 || int(q.Axis) >= len(t.Shape) {
			return fmt.Errorf("axis %d out of range for rank %d", q.Axis, len(t.Shape))
		}
		want = int(t.Shape[q.Axis])
	}
	if len(q.Scales) != want {
		return fmt.Errorf("%d scales, axis %d needs %d", len(q.Scales), q.Axis, want)
	}
	for j, s := range q.Scales {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return fmt.Errorf("scale %d is %v; scales must be finite and positive", j, s)
		}
	}
	return nil
}

func validateValueInfo(kind string, i int, v *ValueInfo, o *options) error {
	part := fmt.Sprintf("graph %s %d %q", kind, i, v.Name)
	if v.Name == "" {
		return newErr(ErrCorrupt, part, "empty name")
	}
	if !v.DType.Valid() {
		return newErr(ErrCorrupt, part, "unknown dtype %d", uint8(v.DType))
	}
	if len(v.Shape) > o.lim.MaxDims {
		return newErr(ErrLimit, part, "rank %d exceeds the limit of %d", len(v.Shape), o.lim.MaxDims)
	}
	for _, d := range v.Shape {
		if d < -1 {
			return newErr(ErrCorrupt, part, "dimension %d in shape %v (use -1 for dynamic)", d, v.Shape)
		}
		if d > o.lim.MaxDimSize {
			return newErr(ErrLimit, part, "dimension %d in shape %v exceeds the limit of %d (MaxDimSize)", d, v.Shape, o.lim.MaxDimSize)
		}
	}
	return nil
}

// checkList refuses a list longer than max.
func checkList(part, what string, n, max int, limit string) error {
	if n > max {
		return newErr(ErrLimit, part, "%d %s exceed the limit of %d (%s)", n, what, max, limit)
	}
	return nil
}

// uniqueAttrs reports the first attribute name that appears twice, in
// time linear in the names' bytes: the writer stores attributes sorted,
// so one pass usually shows them strictly increasing; otherwise a set.
func uniqueAttrs(attrs []Attr) (dup string, ok bool) {
	sorted := true
	for j := 1; j < len(attrs) && sorted; j++ {
		sorted = attrs[j-1].Name < attrs[j].Name
	}
	if sorted {
		return "", true
	}
	seen := make(map[string]struct{}, len(attrs))
	for j := range attrs {
		if _, ok := seen[attrs[j].Name]; ok {
			return attrs[j].Name, false
		}
		seen[attrs[j].Name] = struct{}{}
	}
	return "", true
}

// validate checks the whole model. withData also checks tensor data
// lengths (Read checks them as it reads, before allocating).
func (m *Model) validate(o *options, withData bool) error {
	if err := m.validateCounts(o); err != nil {
		return err
	}
	// Every value name in the graph: inputs, tensors, node outputs.
	// Every value name in the graph: inputs, tensors, node outputs, with
	// who defines it (a code, described only in an error message).
	defined := make(map[string]int, len(m.Tensors)+len(m.Graph.Inputs)+len(m.Graph.Nodes))
	const byInput, byTensor = -1, -2 // else the index of the node
	describe := func(code int) string {
		switch code {
		case byInput:
			return "a graph input"
		case byTensor:
			return "a tensor"
		}
		return fmt.Sprintf("node %d %q", code, m.Graph.Nodes[code].Name)
	}
	define := func(name string, code int, part func() string) error {
		if prev, ok := defined[name]; ok {
			return newErr(ErrCorrupt, part(), "name %q is already used by %s", name, describe(prev))
		}
		defined[name] = code
		return nil
	}
	for i := range m.Graph.Inputs {
		v := &m.Graph.Inputs[i]
		if err := validateValueInfo("input", i, v, o); err != nil {
			return err
		}
		if err := define(v.Name, byInput, func() string { return fmt.Sprintf("graph input %d", i) }); err != nil {
			return err
		}
	}
	var total int64
	for i := range m.Tensors {
		t := &m.Tensors[i]
		n, err := validateTensorHeader(i, t, o)
		if err != nil {
			return err
		}
		if withData && int64(len(t.Data)) != n {
			return newErr(ErrCorrupt, tensorPart(i, t.Name), "data is %d bytes, shape %v %s needs %d", len(t.Data), t.Shape, t.DType, n)
		}
		total += n
		if total > o.lim.MaxDecodedBytes {
			return newErr(ErrLimit, tensorPart(i, t.Name), "tensor data adds up to more than %d bytes", o.lim.MaxDecodedBytes)
		}
		if err := define(t.Name, byTensor, func() string { return tensorPart(i, t.Name) }); err != nil {
			return err
		}
	}
	for i := range m.Graph.Nodes {
		n := &m.Graph.Nodes[i]
		nodePart := func() string { return fmt.Sprintf("node %d %q", i, n.Name) }
		if n.Op == "" {
			return newErr(ErrCorrupt, nodePart(), "empty op name")
		}
		for _, in := range n.Inputs {
			if in == "" {
				continue // absent optional input
			}
			if _, ok := defined[in]; !ok {
				return newErr(ErrCorrupt, nodePart(), "input %q is not a graph input, a tensor or an output of an earlier node", in)
			}
		}
		if len(n.Outputs) == 0 {
			return newErr(ErrCorrupt, nodePart(), "no outputs")
		}
		for _, out := range n.Outputs {
			if out == "" {
				return newErr(ErrCorrupt, nodePart(), "empty output name")
			}
			if err := define(out, i, nodePart); err != nil {
				return err
			}
		}
		for j := range n.Attrs {
			a := &n.Attrs[j]
			if a.Name == "" {
				return newErr(ErrCorrupt, nodePart(), "attribute %d has no name", j)
			}
			if a.Kind < AttrInt || a.Kind > AttrStrings {
				return newErr(ErrCorrupt, nodePart(), "attribute %q has unknown kind %d", a.Name, uint8(a.Kind))
			}
			if l := max(len(a.Ints), len(a.Floats), len(a.Strings)); l > o.lim.MaxListLen {
				return newErr(ErrLimit, nodePart(), "attribute %q has %d values, over the limit of %d (MaxListLen)", a.Name, l, o.lim.MaxListLen)
			}
		}
		if dup, ok := uniqueAttrs(n.Attrs); !ok {
			return newErr(ErrCorrupt, nodePart(), "attribute %q appears twice", dup)
		}
	}
	outs := make(map[string]bool, len(m.Graph.Outputs))
	for i := range m.Graph.Outputs {
		v := &m.Graph.Outputs[i]
		if err := validateValueInfo("output", i, v, o); err != nil {
			return err
		}
		part := fmt.Sprintf("graph output %d %q", i, v.Name)
		if _, ok := defined[v.Name]; !ok {
			return newErr(ErrCorrupt, part, "not produced by any node, input or tensor")
		}
		if outs[v.Name] {
			return newErr(ErrCorrupt, part, "listed twice")
		}
		outs[v.Name] = true
	}
	if tk := m.Metadata.Tokenizer; tk != nil {
		switch tk.Kind {
		case "word", "char", "hash-ngram":
		default:
			return newErr(ErrCorrupt, "metadata tokenizer", "unknown kind %q (want word, char or hash-ngram)", tk.Kind)
		}
		if tk.MaxLen < 0 || tk.NgramMin < 0 || tk.NgramMax < tk.NgramMin || tk.Buckets < 0 {
			return newErr(ErrCorrupt, "metadata tokenizer", "negative or inverted sizes (max_len %d, ngram %d..%d, buckets %d)", tk.MaxLen, tk.NgramMin, tk.NgramMax, tk.Buckets)
		}
		if tk.MaxLen > int64(o.lim.MaxSeqLen) {
			return newErr(ErrLimit, "metadata tokenizer", "max_len %d exceeds the limit of %d (MaxSeqLen)", tk.MaxLen, o.lim.MaxSeqLen)
		}
	}
	return nil
}

// validateCounts checks the length of every list against its limit
// (the header decoder checks them before allocating; this holds models
// built in memory, which Write stores, to the same bounds).
func (m *Model) validateCounts(o *options) error {
	l := &o.lim
	g := &m.Graph
	if len(m.Tensors) > l.MaxTensors {
		return newErr(ErrLimit, "tensors", "%d tensors exceed the limit of %d (MaxTensors)", len(m.Tensors), l.MaxTensors)
	}
	if len(g.Nodes) > l.MaxNodes {
		return newErr(ErrLimit, "graph", "%d nodes exceed the limit of %d (MaxNodes)", len(g.Nodes), l.MaxNodes)
	}
	if err := checkList("graph", "inputs", len(g.Inputs), maxGraphIO, "graph inputs"); err != nil {
		return err
	}
	if err := checkList("graph", "outputs", len(g.Outputs), maxGraphIO, "graph outputs"); err != nil {
		return err
	}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		if len(n.Attrs) <= l.MaxAttrs && len(n.Inputs) <= maxNodeIO && len(n.Outputs) <= maxNodeIO {
			continue
		}
		part := fmt.Sprintf("node %d %q", i, n.Name)
		if err := checkList(part, "attributes", len(n.Attrs), l.MaxAttrs, "MaxAttrs"); err != nil {
			return err
		}
		if err := checkList(part, "inputs", len(n.Inputs), maxNodeIO, "node inputs"); err != nil {
			return err
		}
		if err := checkList(part, "outputs", len(n.Outputs), maxNodeIO, "node outputs"); err != nil {
			return err
		}
	}
	md := &m.Metadata
	lists := []struct {
		what string
		n    int
	}{{"labels", len(md.Labels)}, {"features", len(md.Features)}, {"metrics", len(md.Metrics)}, {"extra entries", len(md.Extra)}}
	if md.Tokenizer != nil {
		lists = append(lists, struct {
			what string
			n    int
		}{"vocabulary entries", len(md.Tokenizer.Vocab)})
	}
	for _, ls := range lists {
		if err := checkList("metadata", ls.what, ls.n, l.MaxListLen, "MaxListLen"); err != nil {
			return err
		}
	}
	for i := range md.Features {
		if n := len(md.Features[i].Categories); n > l.MaxListLen {
			return newErr(ErrLimit, fmt.Sprintf("metadata feature %d %q", i, md.Features[i].Name), "%d categories exceed the limit of %d (MaxListLen)", n, l.MaxListLen)
		}
	}
	return nil
}
