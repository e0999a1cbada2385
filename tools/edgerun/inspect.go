package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
	"github.com/edgerun/edgerun/tools/internal/oip"
)

// inspectCmd is the inspect subcommand.
type inspectCmd struct {
	Model       string   `arg:"" name:"model" help:"Model file (.erm)."`
	JSON        bool     `name:"json" help:"Print one JSON object instead of text."`
	TrustedKeys []string `name:"trusted-key" sep:"none" placeholder:"PUB.pem" help:"Require a signature by this public key (written by keygen); repeat for several."`
}

// Run reads and fully verifies the model, then describes it. It never
// prints tensor data.
func (c *inspectCmd) Run(env *cliutil.Env) error {
	// Verify everything, keep no weights: inspecting a large model on a
	// small device costs little memory.
	opts, err := trustedKeyOptions(c.TrustedKeys)
	if err != nil {
		return cliutil.OpError("inspect", c.Model, err)
	}
	m, err := format.ReadFile(c.Model, append(opts, format.WithoutTensorData())...)
	if err != nil {
		return cliutil.OpError("inspect", c.Model, err)
	}
	if c.JSON {
		return cliutil.WriteJSON(env.Stdout, newReport(c.Model, m))
	}
	return writeText(env.Stdout, c.Model, m)
}

// The JSON form of inspect. Field names are part of the CLI's contract:
// add fields, never rename them.
type (
	report struct {
		File          string       `json:"file"`
		FormatVersion string       `json:"format_version"`
		Codec         string       `json:"codec"`
		FileBytes     int64        `json:"file_bytes"`
		StoredBytes   int64        `json:"stored_bytes"`
		DecodedBytes  int64        `json:"decoded_bytes"`
		TensorBytes   int64        `json:"tensor_bytes"`
		Checksum      string       `json:"checksum"` // xxhash64, 16 hex digits
		Signed        bool         `json:"signed"`
		Signer        string       `json:"signer"` // key fingerprint; "" when unsigned
		Trusted       bool         `json:"trusted"`
		Inputs        []valueJSON  `json:"inputs"`
		Outputs       []valueJSON  `json:"outputs"`
		Nodes         []nodeJSON   `json:"nodes"`
		Tensors       []tensorJSON `json:"tensors"`
		Metadata      metadataJSON `json:"metadata"`
	}
	valueJSON struct {
		Name  string  `json:"name"`
		DType string  `json:"dtype"`
		Shape []int64 `json:"shape"` // -1 is a dynamic dimension
	}
	nodeJSON struct {
		Name    string     `json:"name"`
		Op      string     `json:"op"`
		Inputs  []string   `json:"inputs"` // "" is an absent optional input
		Outputs []string   `json:"outputs"`
		Attrs   []attrJSON `json:"attrs"`
	}
	attrJSON struct {
		Name  string `json:"name"`
		Kind  string `json:"kind"`
		Value any    `json:"value"`
	}
	tensorJSON struct {
		Name     string     `json:"name"`
		DType    string     `json:"dtype"`
		Shape    []int64    `json:"shape"`
		Elements int64      `json:"elements"`
		Bytes    int64      `json:"bytes"`
		Quant    *quantJSON `json:"quant"` // null when not quantized
	}
	quantJSON struct {
		Scheme        string `json:"scheme"`
		Axis          int32  `json:"axis"` // -1: one scale for the whole tensor
		NumScales     int    `json:"num_scales"`
		NumZeroPoints int    `json:"num_zero_points"`
	}
	metadataJSON struct {
		Task            string         `json:"task"`
		Labels          []string       `json:"labels"`
		Tokenizer       *tokenizerJSON `json:"tokenizer"` // null for non-text models
		Features        []featureJSON  `json:"features"`
		Metrics         []metricJSON   `json:"metrics"`
		Producer        producerJSON   `json:"producer"`
		DataFingerprint string         `json:"data_fingerprint"`
		Extra           []keyValueJSON `json:"extra"`
	}
	tokenizerJSON struct {
		Kind      string `json:"kind"`
		Lowercase bool   `json:"lowercase"`
		MaxLen    int64  `json:"max_len"`
		VocabSize int    `json:"vocab_size"`
		Unknown   string `json:"unknown"`
		Padding   string `json:"padding"`
		NgramMin  int64  `json:"ngram_min"`
		NgramMax  int64  `json:"ngram_max"`
		Buckets   int64  `json:"buckets"`
	}
	featureJSON struct {
		Name       string    `json:"name"`
		Kind       string    `json:"kind"`
		Mean       jsonFloat `json:"mean"`
		Std        jsonFloat `json:"std"`
		Impute     jsonFloat `json:"impute"`
		Categories []string  `json:"categories"`
	}
	metricJSON struct {
		Name    string    `json:"name"`
		Split   string    `json:"split"`
		Variant string    `json:"variant"`
		Value   jsonFloat `json:"value"`
	}
	producerJSON struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	keyValueJSON struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
)

// jsonFloat is a float64 that JSON can always encode: finite values are
// numbers, infinities and NaN the strings "+Inf", "-Inf" and "NaN".
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return []byte(strconv.Quote(strconv.FormatFloat(v, 'g', -1, 64))), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

func jsonFloats(fs []float64) []jsonFloat {
	out := make([]jsonFloat, len(fs))
	for i, f := range fs {
		out[i] = jsonFloat(f)
	}
	return out
}

// nonNil makes empty lists encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func newReport(file string, m *format.Model) *report {
	c := &m.Container
	r := &report{
		File:          file,
		FormatVersion: fmt.Sprintf("%d.%d", c.Major, c.Minor),
		Codec:         c.Codec.String(),
		FileBytes:     c.FileBytes,
		StoredBytes:   c.StoredBytes,
		DecodedBytes:  c.DecodedBytes,
		TensorBytes:   c.TensorBytes,
		Checksum:      fmt.Sprintf("%016x", c.Checksum),
		Signed:        c.Signed,
		Signer:        format.KeyFingerprint(c.SignerKey),
		Trusted:       c.Trusted,
		Inputs:        valuesJSON(m.Graph.Inputs),
		Outputs:       valuesJSON(m.Graph.Outputs),
		Nodes:         make([]nodeJSON, 0, len(m.Graph.Nodes)),
		Tensors:       make([]tensorJSON, 0, len(m.Tensors)),
	}
	for i := range m.Graph.Nodes {
		n := &m.Graph.Nodes[i]
		nj := nodeJSON{Name: n.Name, Op: n.Op, Inputs: nonNil(n.Inputs), Outputs: nonNil(n.Outputs),
			Attrs: make([]attrJSON, 0, len(n.Attrs))}
		for j := range n.Attrs {
			a := &n.Attrs[j]
			nj.Attrs = append(nj.Attrs, attrJSON{Name: a.Name, Kind: a.Kind.String(), Value: attrValue(a)})
		}
		r.Nodes = append(r.Nodes, nj)
	}
	for i := range m.Tensors {
		t := &m.Tensors[i]
		tj := tensorJSON{Name: t.Name, DType: t.DType.String(), Shape: nonNil(t.Shape),
			Elements: t.NumElements(), Bytes: t.ByteSize()}
		if q := t.Quant; q != nil {
			tj.Quant = &quantJSON{Scheme: q.Scheme.String(), Axis: q.Axis, NumScales: len(q.Scales), NumZeroPoints: len(q.ZeroPoints)}
		}
		r.Tensors = append(r.Tensors, tj)
	}
	md := &m.Metadata
	r.Metadata = metadataJSON{
		Task:            md.Task,
		Labels:          nonNil(md.Labels),
		Features:        make([]featureJSON, 0, len(md.Features)),
		Metrics:         make([]metricJSON, 0, len(md.Metrics)),
		Producer:        producerJSON{Name: md.Producer.Name, Version: md.Producer.Version},
		DataFingerprint: md.DataFingerprint,
		Extra:           make([]keyValueJSON, 0, len(md.Extra)),
	}
	if tk := md.Tokenizer; tk != nil {
		r.Metadata.Tokenizer = &tokenizerJSON{Kind: tk.Kind, Lowercase: tk.Lowercase, MaxLen: tk.MaxLen,
			VocabSize: len(tk.Vocab), Unknown: tk.Unknown, Padding: tk.Padding,
			NgramMin: tk.NgramMin, NgramMax: tk.NgramMax, Buckets: tk.Buckets}
	}
	for _, f := range md.Features {
		r.Metadata.Features = append(r.Metadata.Features, featureJSON{Name: f.Name, Kind: f.Kind,
			Mean: jsonFloat(f.Mean), Std: jsonFloat(f.Std), Impute: jsonFloat(f.Impute), Categories: nonNil(f.Categories)})
	}
	for _, mt := range md.Metrics {
		r.Metadata.Metrics = append(r.Metadata.Metrics, metricJSON{Name: mt.Name, Split: mt.Split, Variant: mt.Variant, Value: jsonFloat(mt.Value)})
	}
	for _, kv := range md.Extra {
		r.Metadata.Extra = append(r.Metadata.Extra, keyValueJSON(kv))
	}
	return r
}

func valuesJSON(vs []format.ValueInfo) []valueJSON {
	out := make([]valueJSON, 0, len(vs))
	for _, v := range vs {
		out = append(out, valueJSON{Name: v.Name, DType: v.DType.String(), Shape: nonNil(v.Shape)})
	}
	return out
}

// attrValue is the JSON value of an attribute: the field its kind names.
func attrValue(a *format.Attr) any {
	switch a.Kind {
	case format.AttrInt:
		return a.Int
	case format.AttrFloat:
		return jsonFloat(a.Float)
	case format.AttrString:
		return a.String
	case format.AttrInts:
		return nonNil(a.Ints)
	case format.AttrFloats:
		return jsonFloats(a.Floats)
	case format.AttrStrings:
		return nonNil(a.Strings)
	}
	return nil
}

// Text output. Every string that comes from the file goes through text
// (or quoteIfNeeded), so a hostile model cannot break the layout or send
// control sequences to the terminal.

// maxListItems is how many elements of a list (labels, categories,
// attribute values) the text output shows before an ellipsis; --json
// shows them all.
const maxListItems = 16

func writeText(w io.Writer, file string, m *format.Model) error {
	var b bytes.Buffer
	c := &m.Container

	tw := newTable(&b)
	fmt.Fprintf(tw, "file\t%s\n", text(file))
	fmt.Fprintf(tw, "format\t%d.%d\n", c.Major, c.Minor)
	fmt.Fprintf(tw, "codec\t%s\n", c.Codec)
	fmt.Fprintf(tw, "size\t%s\n", byteSize(c.FileBytes))
	fmt.Fprintf(tw, "payload\t%s stored, %s decoded\n", byteSize(c.StoredBytes), byteSize(c.DecodedBytes))
	fmt.Fprintf(tw, "tensor data\t%s in %s\n", byteSize(c.TensorBytes), plural(len(m.Tensors), "tensor", "tensors"))
	fmt.Fprintf(tw, "checksum\t%016x (xxhash64)\n", c.Checksum)
	fmt.Fprintf(tw, "signature\t%s\n", signature(c))
	tw.Flush()

	writeValues(&b, "inputs", m.Graph.Inputs)
	writeValues(&b, "outputs", m.Graph.Outputs)

	fmt.Fprintf(&b, "\nnodes (%d)\n", len(m.Graph.Nodes))
	if len(m.Graph.Nodes) > 0 {
		tw = newTable(&b)
		fmt.Fprintf(tw, "  NAME\tOP\tINPUTS → OUTPUTS\tATTRS\n")
		for i := range m.Graph.Nodes {
			n := &m.Graph.Nodes[i]
			attrs := make([]string, len(n.Attrs))
			for j := range n.Attrs {
				attrs[j] = attrText(&n.Attrs[j])
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s → %s\t%s\n", text(n.Name), text(n.Op),
				nameList(n.Inputs), nameList(n.Outputs), strings.Join(attrs, " "))
		}
		tw.Flush()
	}

	fmt.Fprintf(&b, "\ntensors (%d)\n", len(m.Tensors))
	if len(m.Tensors) > 0 {
		width := len("BYTES")
		for i := range m.Tensors {
			width = max(width, len(strconv.FormatInt(m.Tensors[i].ByteSize(), 10)))
		}
		tw = newTable(&b)
		fmt.Fprintf(tw, "  NAME\tDTYPE\tSHAPE\tQUANT\t%*s\n", width, "BYTES")
		for i := range m.Tensors {
			t := &m.Tensors[i]
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%*d\n", text(t.Name), t.DType, oip.ShapeText(t.Shape), quantText(t.Quant), width, t.ByteSize())
		}
		tw.Flush()
	}

	md := &m.Metadata
	fmt.Fprintf(&b, "\nmetadata\n")
	tw = newTable(&b)
	fmt.Fprintf(tw, "  task\t%s\n", orDash(text(md.Task)))
	fmt.Fprintf(tw, "  labels\t%s\n", orDash(listText(md.Labels, text)))
	fmt.Fprintf(tw, "  tokenizer\t%s\n", tokenizerText(md.Tokenizer))
	writeLines(tw, "features", len(md.Features), func(i int) string { return featureText(&md.Features[i]) })
	writeLines(tw, "metrics", len(md.Metrics), func(i int) string { return metricText(&md.Metrics[i]) })
	fmt.Fprintf(tw, "  producer\t%s\n", orDash(strings.TrimSpace(text(md.Producer.Name)+" "+text(md.Producer.Version))))
	fmt.Fprintf(tw, "  data\t%s\n", orDash(text(md.DataFingerprint)))
	writeLines(tw, "extra", len(md.Extra), func(i int) string { return text(md.Extra[i].Key) + " = " + text(md.Extra[i].Value) })
	tw.Flush()

	_, err := w.Write(trimLines(b.Bytes()))
	return err
}

// trimLines removes the padding tabwriter leaves after an empty last cell.
func trimLines(b []byte) []byte {
	lines := bytes.SplitAfter(b, []byte("\n"))
	out := make([]byte, 0, len(b))
	for _, l := range lines {
		nl := bytes.HasSuffix(l, []byte("\n"))
		out = append(out, bytes.TrimRight(l, " \n")...)
		if nl {
			out = append(out, '\n')
		}
	}
	return out
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

// writeLines writes one labelled row per item, the label on the first.
func writeLines(tw io.Writer, label string, n int, item func(int) string) {
	if n == 0 {
		fmt.Fprintf(tw, "  %s\t-\n", label)
		return
	}
	for i := range n {
		if i > 0 {
			label = ""
		}
		fmt.Fprintf(tw, "  %s\t%s\n", label, item(i))
	}
}

func writeValues(b *bytes.Buffer, title string, vs []format.ValueInfo) {
	fmt.Fprintf(b, "\n%s (%d)\n", title, len(vs))
	tw := newTable(b)
	for _, v := range vs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", text(v.Name), v.DType, oip.ShapeText(v.Shape))
	}
	tw.Flush()
}

func signature(c *format.Container) string {
	switch {
	case !c.Signed:
		return "unsigned"
	case c.Trusted:
		return "signed by key " + format.KeyFingerprint(c.SignerKey) + " (trusted)"
	}
	return "signed by key " + format.KeyFingerprint(c.SignerKey) + " (verified against its embedded key)"
}

func quantText(q *format.Quant) string {
	if q == nil {
		return "-"
	}
	axis := "per-tensor"
	if q.Axis != -1 {
		axis = "axis " + strconv.Itoa(int(q.Axis))
	}
	s := fmt.Sprintf("%s, %s, %s", q.Scheme, axis, plural(len(q.Scales), "scale", "scales"))
	if len(q.ZeroPoints) > 0 {
		s += ", " + plural(len(q.ZeroPoints), "zero point", "zero points")
	}
	return s
}

// plural prints a count with the singular or plural noun.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// attrText prints an attribute compactly: axis=-1, fs=[+Inf,-0,3],
// s="two words".
func attrText(a *format.Attr) string {
	var v string
	switch a.Kind {
	case format.AttrInt:
		v = strconv.FormatInt(a.Int, 10)
	case format.AttrFloat:
		v = floatText(a.Float)
	case format.AttrString:
		v = quoteIfNeeded(a.String)
	case format.AttrInts:
		v = bracketList(a.Ints, func(i int64) string { return strconv.FormatInt(i, 10) })
	case format.AttrFloats:
		v = bracketList(a.Floats, floatText)
	case format.AttrStrings:
		v = bracketList(a.Strings, quoteIfNeeded)
	default:
		v = "?"
	}
	return quoteIfNeeded(a.Name) + "=" + v
}

func floatText(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func bracketList[T any](xs []T, str func(T) string) string {
	parts := make([]string, 0, min(len(xs), maxListItems)+1)
	for i, x := range xs {
		if i == maxListItems {
			parts = append(parts, fmt.Sprintf("…+%d", len(xs)-i))
			break
		}
		parts = append(parts, str(x))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// listText joins up to maxListItems items with ", ".
func listText(xs []string, str func(string) string) string {
	parts := make([]string, 0, min(len(xs), maxListItems)+1)
	for i, x := range xs {
		if i == maxListItems {
			parts = append(parts, fmt.Sprintf("… (%d in all)", len(xs)))
			break
		}
		parts = append(parts, str(x))
	}
	return strings.Join(parts, ", ")
}

// nameList lists value names; an absent optional input ("") is "-".
func nameList(names []string) string {
	if len(names) == 0 {
		return "-"
	}
	parts := make([]string, len(names))
	for i, n := range names {
		if n == "" {
			parts[i] = "-"
		} else {
			parts[i] = text(n)
		}
	}
	return strings.Join(parts, ", ")
}

func tokenizerText(tk *format.Tokenizer) string {
	if tk == nil {
		return "-"
	}
	parts := []string{text(tk.Kind)}
	if tk.Lowercase {
		parts = append(parts, "lowercase")
	}
	parts = append(parts, fmt.Sprintf("vocab %d", len(tk.Vocab)), fmt.Sprintf("max len %d", tk.MaxLen))
	if tk.Unknown != "" {
		parts = append(parts, "unknown "+strconv.Quote(tk.Unknown))
	}
	if tk.Padding != "" {
		parts = append(parts, "padding "+strconv.Quote(tk.Padding))
	}
	if tk.NgramMin != 0 || tk.NgramMax != 0 {
		parts = append(parts, fmt.Sprintf("n-grams %d..%d", tk.NgramMin, tk.NgramMax))
	}
	if tk.Buckets != 0 {
		parts = append(parts, fmt.Sprintf("%d buckets", tk.Buckets))
	}
	return strings.Join(parts, ", ")
}

func featureText(f *format.Feature) string {
	s := text(f.Name) + ": " + orDash(text(f.Kind))
	if f.Mean != 0 || f.Std != 0 {
		s += ", mean " + floatText(f.Mean) + ", std " + floatText(f.Std)
	}
	if len(f.Categories) > 0 {
		s += fmt.Sprintf(", %s (%s)", plural(len(f.Categories), "category", "categories"), listText(f.Categories, quoteIfNeeded))
	}
	s += ", impute " + floatText(f.Impute)
	return s
}

func metricText(mt *format.Metric) string {
	s := text(mt.Name)
	var qual []string
	for _, q := range []string{mt.Split, mt.Variant} {
		if q != "" {
			qual = append(qual, text(q))
		}
	}
	if len(qual) > 0 {
		s += " (" + strings.Join(qual, ", ") + ")"
	}
	return s + " = " + floatText(mt.Value)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// byteSize prints an exact byte count, with a binary-prefixed
// approximation from 1 KiB up: "612 B", "1536 B (1.5 KiB)".
func byteSize(n int64) string {
	s := strconv.FormatInt(n, 10) + " B"
	const units = "KMGTPE"
	if n < 1024 {
		return s
	}
	f, u := float64(n)/1024, 0
	for f >= 1024 && u < len(units)-1 {
		f /= 1024
		u++
	}
	return fmt.Sprintf("%s (%.1f %ciB)", s, f, units[u])
}

// text returns s for printing in a table: unchanged if it is valid
// UTF-8 made of printable characters, else Go-quoted, so that tabs,
// newlines and escape sequences in a model cannot reach the terminal.
func text(s string) string {
	if printable(s) {
		return s
	}
	return strconv.Quote(s)
}

// quoteIfNeeded quotes s when it is empty or would be ambiguous inside a
// compact attribute list (spaces, commas, brackets, quotes, '=').
func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " ,[]\"=") || !printable(s) {
		return strconv.Quote(s)
	}
	return s
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
