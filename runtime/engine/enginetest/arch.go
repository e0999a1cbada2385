// Package enginetest builds randomly initialised models of the standard
// architectures from a spec string, for tests, benchmarks and
// `edgetrain init`:
//
//	mlp:64-256-128-10
//	textcls:vocab=20000,emb=64,lstm=128,classes=1,seq=64   (gru=N for a GRU)
//	transformer:vocab=8000,d=128,heads=4,ffn=512,layers=2,seq=64,classes=4
//	recommender:users=1000,items=5000,dim=32
//	conv1d:window=128,channels=3,filters=32,kernel=5,classes=2
//	cnn:height=28,width=28,channels=1,filters=16,classes=10
//	tracing:skills=100,emb=64,lstm=128                      (gru=N for a GRU; mask=1 pads)
//
// Weights are drawn from a seeded Glorot-uniform distribution, so a spec
// and a seed always give the same file. With Int8 the matmul weights and
// embedding tables are quantized per row (quantization v1).
package enginetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/quant"
)

// SpecHelp documents the spec grammar for `edgetrain init --help`.
const SpecHelp = `Architecture specs (KIND:PARAMS):
  mlp:IN-H1-...-OUT                 Dense+ReLU layers, softmax output (sigmoid when OUT=1)
  textcls:vocab=V,emb=E,lstm=H,classes=C,seq=T[,bidir=1]
                                    Embedding -> LSTM (gru=H for a GRU) -> Dense
  transformer:vocab=V,d=D,heads=N,ffn=F,layers=L,seq=T,classes=C
                                    Embedding + positions -> L encoder layers -> mean pool -> Dense
  recommender:users=U,items=I,dim=D sigmoid(u.v + b_u + b_i)
  conv1d:window=T,channels=C,filters=F,kernel=K,classes=N
                                    two Conv1D layers, max pool, global average pool, Dense
  cnn:height=H,width=W,channels=C,filters=F,classes=N
                                    Conv2D 3x3, max pool, depthwise 3x3 + pointwise Conv2D 1x1
                                    (stride 2), average pool, global average pool, Dense
  tracing:skills=S,emb=E,lstm=H[,mask=1]
                                    knowledge tracing, one learner's answers a call: Embedding of
                                    answer ids (1 + 2*skill + correct) -> LSTM (gru=H for a GRU)
                                    from the state given, with the state after the last answer
                                    -> Dense sigmoid per skill (mask=1: id 0 pads, keeping the state)`

// Options select quantization and the seed.
type Options struct {
	Int8 bool
	Seed uint64
}

// Build makes the model a spec describes.
func Build(spec string, o Options) (*format.Model, error) {
	kind, params, _ := strings.Cut(spec, ":")
	b := &builder{rng: rand.New(rand.NewPCG(o.Seed, 0xed6e)), int8: o.Int8}
	var err error
	switch kind {
	case "mlp":
		err = b.mlp(params)
	case "textcls":
		err = b.textcls(params)
	case "transformer":
		err = b.transformer(params)
	case "recommender":
		err = b.recommender(params)
	case "conv1d":
		err = b.conv1d(params)
	case "cnn":
		err = b.cnn(params)
	case "tracing":
		err = b.tracing(params)
	default:
		return nil, fmt.Errorf("enginetest: unknown architecture %q in %q\n%s", kind, spec, SpecHelp)
	}
	if err != nil {
		return nil, fmt.Errorf("enginetest: %s: %w", spec, err)
	}
	b.m.Metadata.Producer = format.Producer{Name: "edgetrain init", Version: "1"}
	b.m.Metadata.Extra = append(b.m.Metadata.Extra, format.KeyValue{Key: "arch", Value: spec}, format.KeyValue{Key: "init", Value: "random (untrained)"})
	if err := b.m.Validate(); err != nil {
		return nil, err
	}
	return &b.m, nil
}

type builder struct {
	m    format.Model
	rng  *rand.Rand
	int8 bool
}

func kv(params string) (map[string]int, error) {
	out := map[string]int{}
	for _, f := range strings.Split(params, ",") {
		if f == "" {
			continue
		}
		k, v, ok := strings.Cut(f, "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 {
			return nil, fmt.Errorf("parameter %q is not NAME=N", f)
		}
		out[k] = n
	}
	return out, nil
}

func need(p map[string]int, names ...string) error {
	for _, n := range names {
		if p[n] <= 0 {
			return fmt.Errorf("needs %s=N (positive)", n)
		}
	}
	return nil
}

func (b *builder) glorot(n, k int) []float32 {
	lim := math.Sqrt(6 / float64(n+k))
	w := make([]float32, n*k)
	for i := range w {
		w[i] = float32((b.rng.Float64()*2 - 1) * lim)
	}
	return w
}

// weight adds an [n, k] matmul weight (int8 when asked) and returns its name.
func (b *builder) weight(name string, n, k int, shape ...int64) string {
	w := b.glorot(n, k)
	if shape == nil {
		shape = []int64{int64(n), int64(k)}
	}
	if b.int8 {
		q, sc := quant.SymmetricRows(w, n, k)
		b.m.Tensors = append(b.m.Tensors, format.NewI8(name, shape, q, &format.Quant{Scheme: format.Symmetric, Axis: 0, Scales: sc}))
	} else {
		b.m.Tensors = append(b.m.Tensors, format.NewF32(name, shape, w))
	}
	return name
}

func (b *builder) vec(name string, n int, fill float32) string {
	v := make([]float32, n)
	for i := range v {
		v[i] = fill + float32(b.rng.Float64()*0.02-0.01)
	}
	b.m.Tensors = append(b.m.Tensors, format.NewF32(name, []int64{int64(n)}, v))
	return name
}

func (b *builder) node(name, op string, in []string, out string, attrs ...format.Attr) string {
	b.m.Graph.Nodes = append(b.m.Graph.Nodes, format.Node{Name: name, Op: op, Inputs: in, Outputs: []string{out}, Attrs: attrs})
	return out
}

func isAttr(name string, v ...int64) format.Attr {
	return format.Attr{Name: name, Kind: format.AttrInts, Ints: v}
}

func sAttr(name, v string) format.Attr {
	return format.Attr{Name: name, Kind: format.AttrString, String: v}
}
func iAttr(name string, v int64) format.Attr {
	return format.Attr{Name: name, Kind: format.AttrInt, Int: v}
}

func (b *builder) dense(name, x string, in, out int, act string) string {
	w := b.weight(name+"/w", out, in)
	bias := b.vec(name+"/b", out, 0)
	var attrs []format.Attr
	if act != "" {
		attrs = append(attrs, sAttr("activation", act))
	}
	return b.node(name, "Dense", []string{x, w, bias}, name+"/out", attrs...)
}

func (b *builder) head(x string, in, classes int) {
	if classes == 1 {
		y := b.dense("head", x, in, 1, "sigmoid")
		b.m.Graph.Outputs = []format.ValueInfo{{Name: y, DType: format.F32, Shape: []int64{-1, 1}}}
		b.m.Metadata.Labels = []string{"positive"}
		return
	}
	logits := b.dense("head", x, in, classes, "")
	y := b.node("softmax", "Softmax", []string{logits}, "probs")
	b.m.Graph.Outputs = []format.ValueInfo{{Name: y, DType: format.F32, Shape: []int64{-1, int64(classes)}}}
	for i := 0; i < classes; i++ {
		b.m.Metadata.Labels = append(b.m.Metadata.Labels, "class_"+strconv.Itoa(i))
	}
}

func (b *builder) mlp(params string) error {
	var sizes []int
	for _, f := range strings.Split(params, "-") {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return fmt.Errorf("layer size %q is not a positive number", f)
		}
		sizes = append(sizes, n)
	}
	if len(sizes) < 2 {
		return fmt.Errorf("needs at least IN-OUT")
	}
	b.m.Metadata.Task = "tabular-classification"
	b.m.Graph.Inputs = []format.ValueInfo{{Name: "x", DType: format.F32, Shape: []int64{-1, int64(sizes[0])}}}
	for i := 0; i < sizes[0]; i++ {
		b.m.Metadata.Features = append(b.m.Metadata.Features, format.Feature{Name: "f" + strconv.Itoa(i), Kind: "numeric", Std: 1})
	}
	x := "x"
	for i := 1; i < len(sizes)-1; i++ {
		x = b.dense("dense_"+strconv.Itoa(i), x, sizes[i-1], sizes[i], "relu")
	}
	b.head(x, sizes[len(sizes)-2], sizes[len(sizes)-1])
	return nil
}

// embedding adds a [v, d] table (int8 per row when asked).
func (b *builder) embedding(name, ids string, v, d int) string {
	w := make([]float32, v*d)
	for i := range w {
		w[i] = float32(b.rng.NormFloat64() * 0.1)
	}
	if b.int8 {
		q, sc := quant.SymmetricRows(w, v, d)
		b.m.Tensors = append(b.m.Tensors, format.NewI8(name+"/table", []int64{int64(v), int64(d)}, q, &format.Quant{Scheme: format.Symmetric, Axis: 0, Scales: sc}))
	} else {
		b.m.Tensors = append(b.m.Tensors, format.NewF32(name+"/table", []int64{int64(v), int64(d)}, w))
	}
	return b.node(name, "Embedding", []string{ids, name + "/table"}, name+"/out")
}

func (b *builder) textInput(vocab, seq int) {
	b.m.Graph.Inputs = []format.ValueInfo{{Name: "ids", DType: format.I64, Shape: []int64{-1, int64(seq)}}}
	voc := []string{"<pad>", "<unk>"}
	for i := 2; i < vocab; i++ {
		voc = append(voc, "w"+strconv.Itoa(i))
	}
	b.m.Metadata.Task = "text-classification"
	b.m.Metadata.Tokenizer = &format.Tokenizer{Kind: "word", Lowercase: true, MaxLen: int64(seq), Vocab: voc, Unknown: "<unk>", Padding: "<pad>"}
}

// recurrentSize reads lstm=N or gru=N: the state size and the operator.
func recurrentSize(p map[string]int) (int, string, error) {
	h, op := p["lstm"], "LSTM"
	if p["gru"] > 0 {
		h, op = p["gru"], "GRU"
	}
	if h <= 0 {
		return 0, "", fmt.Errorf("needs lstm=N or gru=N")
	}
	return h, op, nil
}

func (b *builder) textcls(params string) error {
	p, err := kv(params)
	if err != nil {
		return err
	}
	if err := need(p, "vocab", "emb", "classes", "seq"); err != nil {
		return err
	}
	h, op, err := recurrentSize(p)
	if err != nil {
		return err
	}
	b.textInput(p["vocab"], p["seq"])
	emb := b.embedding("embedding", "ids", p["vocab"], p["emb"])
	mask := b.node("mask", "PadMask", []string{"ids"}, "mask", iAttr("pad", 0))
	gates := 4
	if op == "GRU" {
		gates = 3
	}
	dirs := 1
	attrs := []format.Attr{iAttr("hidden", int64(h))}
	in := []string{emb}
	addDir := func(sfx string) {
		in = append(in, b.weight("rnn/w_ih"+sfx, gates*h, p["emb"]), b.weight("rnn/w_hh"+sfx, gates*h, h))
		if op == "GRU" {
			in = append(in, b.vec("rnn/b_ih"+sfx, gates*h, 0), b.vec("rnn/b_hh"+sfx, gates*h, 0))
		} else {
			in = append(in, b.vec("rnn/b"+sfx, gates*h, 0))
		}
	}
	addDir("")
	if p["bidir"] > 0 {
		dirs = 2
		attrs = append(attrs, sAttr("direction", "bidirectional"))
		addDir("_r")
	} else {
		// The reverse direction's weight slots (3 for LSTM, 4 for GRU)
		// stay empty.
		perDir := len(in) - 1
		for i := 0; i < perDir; i++ {
			in = append(in, "")
		}
	}
	in = append(in, mask)
	x := b.node("rnn", op, in, "rnn/out", attrs...)
	b.head(x, h*dirs, p["classes"])
	return nil
}

func (b *builder) transformer(params string) error {
	p, err := kv(params)
	if err != nil {
		return err
	}
	if err := need(p, "vocab", "d", "heads", "ffn", "layers", "seq", "classes"); err != nil {
		return err
	}
	d, seq := p["d"], p["seq"]
	if d%p["heads"] != 0 {
		return fmt.Errorf("d=%d is not a multiple of heads=%d", d, p["heads"])
	}
	b.textInput(p["vocab"], seq)
	x := b.embedding("embedding", "ids", p["vocab"], d)
	pos := make([]float32, seq*d)
	for i := range pos {
		pos[i] = float32(b.rng.NormFloat64() * 0.02)
	}
	b.m.Tensors = append(b.m.Tensors, format.NewF32("positions", []int64{int64(seq), int64(d)}, pos))
	x = b.node("pos", "AddPositional", []string{x, "positions"}, "pos/out")
	mask := b.node("mask", "PadMask", []string{"ids"}, "mask", iAttr("pad", 0))
	for l := 0; l < p["layers"]; l++ {
		n := "layer" + strconv.Itoa(l)
		att := b.node(n+"/attn", "MultiHeadAttention", []string{x,
			b.weight(n+"/attn/w_qkv", 3*d, d), b.vec(n+"/attn/b_qkv", 3*d, 0),
			b.weight(n+"/attn/w_o", d, d), b.vec(n+"/attn/b_o", d, 0), mask},
			n+"/attn/out", iAttr("heads", int64(p["heads"])))
		x = b.node(n+"/res1", "Add", []string{x, att}, n+"/res1/out")
		x = b.node(n+"/ln1", "LayerNorm", []string{x, b.vec(n+"/ln1/g", d, 1), b.vec(n+"/ln1/b", d, 0)}, n+"/ln1/out")
		f := b.dense(n+"/ffn1", x, d, p["ffn"], "gelu")
		f = b.dense(n+"/ffn2", f, p["ffn"], d, "")
		x = b.node(n+"/res2", "Add", []string{x, f}, n+"/res2/out")
		x = b.node(n+"/ln2", "LayerNorm", []string{x, b.vec(n+"/ln2/g", d, 1), b.vec(n+"/ln2/b", d, 0)}, n+"/ln2/out")
	}
	x = b.node("pool", "SeqPool", []string{x, mask}, "pool/out", sAttr("mode", "mean"))
	b.head(x, d, p["classes"])
	return nil
}

func (b *builder) recommender(params string) error {
	p, err := kv(params)
	if err != nil {
		return err
	}
	if err := need(p, "users", "items", "dim"); err != nil {
		return err
	}
	b.m.Metadata.Task = "recommendation"
	b.m.Graph.Inputs = []format.ValueInfo{
		{Name: "user", DType: format.I64, Shape: []int64{-1}},
		{Name: "item", DType: format.I64, Shape: []int64{-1}},
	}
	u := b.embedding("user_emb", "user", p["users"], p["dim"])
	v := b.embedding("item_emb", "item", p["items"], p["dim"])
	dot := b.node("dot", "Dot", []string{u, v}, "dot/out")
	bu := b.embedding("user_bias", "user", p["users"], 1)
	bi := b.embedding("item_bias", "item", p["items"], 1)
	s := b.node("add_u", "Add", []string{dot, bu}, "add_u/out")
	s = b.node("add_i", "Add", []string{s, bi}, "add_i/out")
	y := b.node("sigmoid", "Sigmoid", []string{s}, "score")
	b.m.Graph.Outputs = []format.ValueInfo{{Name: y, DType: format.F32, Shape: []int64{-1, 1}}}
	return nil
}

func (b *builder) conv1d(params string) error {
	p, err := kv(params)
	if err != nil {
		return err
	}
	if err := need(p, "window", "channels", "filters", "kernel", "classes"); err != nil {
		return err
	}
	c, f, k := p["channels"], p["filters"], p["kernel"]
	b.m.Metadata.Task = "sensor-classification"
	b.m.Graph.Inputs = []format.ValueInfo{{Name: "x", DType: format.F32, Shape: []int64{-1, int64(p["window"]), int64(c)}}}
	x := b.node("conv1", "Conv1D", []string{"x", b.weight("conv1/w", f, k*c, int64(f), int64(k), int64(c)), b.vec("conv1/b", f, 0)},
		"conv1/out", sAttr("padding", "same"), sAttr("activation", "relu"))
	x = b.node("pool1", "MaxPool1D", []string{x}, "pool1/out", iAttr("size", 2))
	x = b.node("conv2", "Conv1D", []string{x, b.weight("conv2/w", f, k*f, int64(f), int64(k), int64(f)), b.vec("conv2/b", f, 0)},
		"conv2/out", sAttr("padding", "same"), sAttr("activation", "relu"))
	x = b.node("gap", "GlobalAveragePool1D", []string{x}, "gap/out")
	b.head(x, f, p["classes"])
	return nil
}

func (b *builder) cnn(params string) error {
	p, err := kv(params)
	if err != nil {
		return err
	}
	if err := need(p, "height", "width", "channels", "filters", "classes"); err != nil {
		return err
	}
	c, f := p["channels"], p["filters"]
	b.m.Metadata.Task = "image-classification"
	b.m.Graph.Inputs = []format.ValueInfo{{Name: "x", DType: format.F32, Shape: []int64{-1, int64(p["height"]), int64(p["width"]), int64(c)}}}
	x := b.node("conv1", "Conv2D", []string{"x", b.weight("conv1/w", f, 9*c, int64(f), 3, 3, int64(c)), b.vec("conv1/b", f, 0)},
		"conv1/out", sAttr("padding", "same"), sAttr("activation", "relu"))
	x = b.node("pool1", "MaxPool2D", []string{x}, "pool1/out", isAttr("size", 2, 2))
	x = b.node("dw", "DepthwiseConv2D", []string{x, b.weight("dw/w", f, 9, int64(f), 3, 3), b.vec("dw/b", f, 0)},
		"dw/out", sAttr("padding", "same"), sAttr("activation", "relu"))
	x = b.node("pw", "Conv2D", []string{x, b.weight("pw/w", 2*f, f, int64(2*f), 1, 1, int64(f)), b.vec("pw/b", 2*f, 0)},
		"pw/out", isAttr("strides", 2, 2), sAttr("activation", "relu"))
	x = b.node("pool2", "AvgPool2D", []string{x}, "pool2/out", isAttr("size", 2, 2), isAttr("strides", 1, 1), sAttr("padding", "same"))
	x = b.node("gap", "GlobalAveragePool2D", []string{x}, "gap/out")
	b.head(x, 2*f, p["classes"])
	return nil
}

// tracing is a knowledge-tracing model run a learner's new answers at a
// time (tools/train/tracing's DKT, the same names): inputs answers i64
// [B, T] (1 + 2·skill + correct, 0 pads), h_in f32 [B, H] (and c_in for
// the LSTM), the state before the first answer; outputs p_correct [B, T,
// S], the probability of a correct next answer on each skill after each
// answer, and h_out (and c_out), the state after each row's last answer,
// which the caller keeps per learner and passes back as h_in (and c_in).
func (b *builder) tracing(params string) error {
	p, err := kv(params)
	if err != nil {
		return err
	}
	if err := need(p, "skills", "emb"); err != nil {
		return err
	}
	h, op, err := recurrentSize(p)
	if err != nil {
		return err
	}
	skills, e := p["skills"], p["emb"]
	hd := int64(h)
	b.m.Metadata.Task = "knowledge-tracing"
	b.m.Metadata.Extra = append(b.m.Metadata.Extra,
		format.KeyValue{Key: "tracing_skills", Value: strconv.Itoa(skills)}, format.KeyValue{Key: "tracing_hidden", Value: strconv.Itoa(h)})
	for i := 0; i < skills; i++ {
		b.m.Metadata.Labels = append(b.m.Metadata.Labels, "skill_"+strconv.Itoa(i))
	}
	b.m.Graph.Inputs = []format.ValueInfo{
		{Name: "answers", DType: format.I64, Shape: []int64{-1, -1}},
		{Name: "h_in", DType: format.F32, Shape: []int64{-1, hd}},
	}
	state, outs := []string{"h_in"}, []string{"rnn/y", "h_out"}
	gates, biases := 3, 2
	if op == "LSTM" {
		gates, biases = 4, 1
		b.m.Graph.Inputs = append(b.m.Graph.Inputs, format.ValueInfo{Name: "c_in", DType: format.F32, Shape: []int64{-1, hd}})
		state, outs = append(state, "c_in"), append(outs, "c_out")
	}
	x := b.embedding("embedding", "answers", 2*skills+1, e)
	in := []string{x, b.weight("rnn/w_ih", gates*h, e), b.weight("rnn/w_hh", gates*h, h)}
	if op == "GRU" {
		in = append(in, b.vec("rnn/b_ih", gates*h, 0), b.vec("rnn/b_hh", gates*h, 0))
	} else {
		in = append(in, b.vec("rnn/b", gates*h, 0))
	}
	for range 2 + biases { // the reverse direction's slots
		in = append(in, "")
	}
	mask := ""
	if p["mask"] > 0 {
		mask = b.node("mask", "PadMask", []string{"answers"}, "mask", iAttr("pad", 0))
	}
	in = append(append(in, mask), state...)
	b.m.Graph.Nodes = append(b.m.Graph.Nodes, format.Node{Name: "rnn", Op: op, Inputs: in, Outputs: outs,
		Attrs: []format.Attr{iAttr("hidden", hd), sAttr("return", "sequence")}})
	y := b.node("head", "Dense", []string{"rnn/y", b.weight("head/w", skills, h), b.vec("head/b", skills, 0)}, "p_correct", sAttr("activation", "sigmoid"))
	b.m.Graph.Outputs = []format.ValueInfo{{Name: y, DType: format.F32, Shape: []int64{-1, -1, int64(skills)}}}
	for _, o := range outs[1:] {
		b.m.Graph.Outputs = append(b.m.Graph.Outputs, format.ValueInfo{Name: o, DType: format.F32, Shape: []int64{-1, hd}})
	}
	return nil
}
