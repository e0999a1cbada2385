package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/features"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// Input decoding for `edgerun run`: Open Inference Protocol requests
// (--input) and CSV tables (--csv). Every error names what is wrong in
// the request, in terms of the model's inputs; none panics on hostile
// input.

// Request limits. A request is read as a stream: the JSON is never held
// whole, and each input's numbers go straight into its tensor, so a
// request costs its tensors plus a small buffer. What may still be held
// whole is bounded by the byte cap: a "data" array that comes before the
// input's "name" or "datatype" (kept as text until the model's input is
// known), and the skipped "parameters" and "outputs".
const (
	// defaultMaxRequestBytes is the default of run --max-request-bytes:
	// at two bytes per number ("1,"), the largest f32 tensor it allows
	// is 128 MiB, which a 512 MiB device holds beside a model.
	defaultMaxRequestBytes = 64 << 20
	// maxDataDepth bounds the nesting of a "data" array.
	maxDataDepth = format.DefaultMaxDims
)

// requestLimits bound what one request may cost.
type requestLimits struct {
	Bytes    int64 // JSON bytes read
	Elements int   // elements of one input tensor
}

// defaultRequestLimits are run's defaults: 64 MiB of JSON, and no tensor
// larger than the format's element limit.
func defaultRequestLimits() requestLimits {
	return requestLimits{Bytes: defaultMaxRequestBytes, Elements: int(format.DefaultMaxElements)}
}

// TooLargeError is a request (JSON, CSV or text) longer than the cap.
type TooLargeError struct {
	Max  int64
	Flag string // the flag that raises the cap, if any
}

func (e *TooLargeError) Error() string {
	s := fmt.Sprintf("the request is larger than %d bytes", e.Max)
	if e.Flag != "" {
		s += " (" + e.Flag + ")"
	}
	return s
}

// capReader reads at most max bytes from r, and then fails with a
// TooLargeError instead of io.EOF when r has more.
type capReader struct {
	r    io.Reader
	n    int64 // bytes read
	max  int64
	flag string
	err  error // the TooLargeError, once the cap is passed
}

func newCapReader(r io.Reader, max int64, flag string) *capReader {
	return &capReader{r: io.LimitReader(r, max+1), max: max, flag: flag}
}

func (c *capReader) Read(b []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	k, err := c.r.Read(b)
	c.n += int64(k)
	if c.n > c.max { // the one byte past the cap that LimitReader lets through
		k = max(k-int(c.n-c.max), 0)
		c.n = c.max
		c.err = &TooLargeError{Max: c.max, Flag: c.flag}
		return k, c.err
	}
	return k, err
}

// Bounds on JSON text that a json.Decoder would otherwise buffer whole:
// it keeps a run of whitespace until the token after it, and a number or
// literal until its end.
const (
	maxJSONSpace  = 64 << 10
	maxJSONNumber = 1 << 10
)

// jsonTextError is JSON text that jsonGuard refuses.
type jsonTextError struct{ msg string }

func (e *jsonTextError) Error() string { return e.msg }

// jsonGuard fails on a run of whitespace longer than maxJSONSpace or a
// number or literal longer than maxJSONNumber, outside strings (which
// only the byte cap bounds).
type jsonGuard struct {
	r        io.Reader
	inString bool
	escaped  bool
	space    int // whitespace bytes in a row
	literal  int // number or literal bytes in a row
	err      error
}

func (g *jsonGuard) Read(b []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	k, err := g.r.Read(b)
	for i, c := range b[:k] {
		switch {
		case g.inString:
			switch {
			case g.escaped:
				g.escaped = false
			case c == '\\':
				g.escaped = true
			case c == '"':
				g.inString = false
			}
			continue
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			g.space++
			g.literal = 0
		case c == '"':
			g.inString = true
			g.space, g.literal = 0, 0
		case c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':':
			g.space, g.literal = 0, 0
		default:
			g.literal++
			g.space = 0
		}
		switch {
		case g.space > maxJSONSpace:
			g.err = &jsonTextError{fmt.Sprintf("more than %d bytes of whitespace in a row", maxJSONSpace)}
		case g.literal > maxJSONNumber:
			g.err = &jsonTextError{fmt.Sprintf("a number or literal longer than %d bytes", maxJSONNumber)}
		default:
			continue
		}
		return i, g.err
	}
	return k, err
}

// lineReader remembers where the lines start in what a json.Decoder has
// read but not yet consumed, so that an error can say where it is as a
// line and column. Newlines before the decoder's position are folded
// into a count: what it holds is bounded by the decoder's buffer.
type lineReader struct {
	r     io.Reader
	dec   *json.Decoder
	read  int64   // bytes read
	nl    []int64 // offsets of the newlines not yet folded
	lines int     // newlines folded
	last  int64   // offset of the last folded newline, -1 for none
}

func (l *lineReader) Read(b []byte) (int, error) {
	if l.dec != nil {
		l.fold(l.dec.InputOffset())
	}
	k, err := l.r.Read(b)
	for i, c := range b[:k] {
		if c == '\n' {
			l.nl = append(l.nl, l.read+int64(i))
		}
	}
	l.read += int64(k)
	return k, err
}

// fold counts the newlines before off.
func (l *lineReader) fold(off int64) {
	i := 0
	for i < len(l.nl) && l.nl[i] < off {
		l.last = l.nl[i]
		i++
	}
	l.lines += i
	l.nl = append(l.nl[:0], l.nl[i:]...)
}

// position is the 1-based line and column of the byte at off, which
// must not be before the decoder's position when the newlines were last
// folded.
func (l *lineReader) position(off int64) (line, col int) {
	l.fold(off)
	return l.lines + 1, int(off - l.last)
}

// reqParser reads an Open Inference Protocol (KServe v2) inference
// request token by token. Keys are matched exactly (encoding/json's
// case-insensitive matching would let "Data" stand in for "data"), a key
// given twice is an error, and so is a key the protocol does not define:
// the request object takes "id", "parameters" (ignored), "inputs" and
// "outputs" (ignored: run returns every output); an input takes "name",
// "datatype", "shape", "parameters" (ignored) and "data".
type reqParser struct {
	dec    *json.Decoder
	lines  *lineReader
	lim    requestLimits
	inputs []engine.ValueInfo
	out    []*tensor.Tensor
	begun  bool // a token was read
}

// parseRequest decodes an inference request into one tensor per model
// input, in the model's input order.
func parseRequest(r io.Reader, inputs []engine.ValueInfo, lim requestLimits) ([]*tensor.Tensor, error) {
	lr := &lineReader{r: &jsonGuard{r: newCapReader(r, lim.Bytes, "--max-request-bytes")}, last: -1}
	p := &reqParser{dec: json.NewDecoder(lr), lines: lr, lim: lim, inputs: inputs}
	lr.dec = p.dec
	p.dec.UseNumber()
	if err := p.request(); err != nil {
		return nil, err
	}
	return p.out, nil
}

// syntax turns an error of the decoder into one line that says where.
func (p *reqParser) syntax(err error) error {
	var se *json.SyntaxError
	var tl *TooLargeError
	switch {
	case errors.As(err, &tl):
		return err
	case errors.As(err, &se):
		line, col := p.lines.position(p.dec.InputOffset())
		return fmt.Errorf("invalid JSON at line %d, column %d: %v", line, col, se)
	case errors.Is(err, io.EOF) && !p.begun:
		return errors.New("invalid JSON: the input is empty")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("invalid JSON: unexpected end of input")
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

// invalid is a request that is valid JSON but not a valid request; off
// is where the offending key or value starts (or, for some, ends).
func (p *reqParser) invalid(off int64, format string, args ...any) error {
	line, col := p.lines.position(off)
	return fmt.Errorf("invalid request at line %d, column %d: %s", line, col, fmt.Sprintf(format, args...))
}

func (p *reqParser) token() (json.Token, error) {
	t, err := p.dec.Token()
	if err != nil {
		return nil, p.syntax(err)
	}
	p.begun = true
	return t, nil
}

// start reads a value's first token and reports where it starts.
func (p *reqParser) start() (json.Token, int64, error) {
	t, err := p.token()
	end := p.dec.InputOffset()
	switch v := t.(type) {
	case json.Delim:
		return t, end - 1, err
	case json.Number:
		return t, end - int64(len(v)), err
	}
	return t, end, err
}

// object reads the keys of the object whose '{' was just read, refusing
// a key given twice or not in keys, and calls value to read each value.
func (p *reqParser) object(what string, keys []string, value func(key string) error) error {
	var seen []string
	for p.dec.More() {
		before := p.dec.InputOffset()
		t, err := p.token()
		if err != nil {
			return err
		}
		k, _ := t.(string) // the decoder only returns strings for keys
		// Where the key starts (its quote), unless escapes make it longer.
		at := max(p.dec.InputOffset()-int64(len(strconv.Quote(k))), before)
		switch {
		case slices.Contains(seen, k):
			return p.invalid(at, "%s has the key %q twice", what, k)
		case !slices.Contains(keys, k):
			return p.invalid(at, "%s has an unknown key %q (keys are case-sensitive: %s)", what, k, quoteAll(keys))
		}
		seen = append(seen, k)
		if err := value(k); err != nil {
			return err
		}
	}
	_, err := p.token() // '}'
	return err
}

func quoteAll(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

// kindOf names the JSON kind of a token for messages.
func kindOf(t json.Token) string {
	switch t := t.(type) {
	case json.Delim:
		if t == '[' {
			return "an array"
		}
		return "an object"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// skipped reads a JSON value without keeping it, noting its first byte.
type skipped byte

func (s *skipped) UnmarshalJSON(b []byte) error {
	*s = skipped(b[0])
	return nil
}

// skip reads a value that must be an object ('{') or an array ('[').
func (p *reqParser) skip(what string, kind byte) error {
	var s skipped
	if err := p.dec.Decode(&s); err != nil {
		return p.syntax(err)
	}
	p.begun = true
	if byte(s) != kind {
		want := "an object"
		if kind == '[' {
			want = "an array"
		}
		return p.invalid(p.dec.InputOffset(), "%s must be %s", what, want)
	}
	return nil
}

// The keys of a request and of one of its inputs.
var (
	requestKeys = []string{"id", "parameters", "inputs", "outputs"}
	inputKeys   = []string{"name", "datatype", "shape", "parameters", "data"}
)

func (p *reqParser) request() error {
	t, off, err := p.start()
	if err != nil {
		return err
	}
	if t != json.Delim('{') {
		return p.invalid(off, "the request must be an object, not a JSON %s", strings.TrimPrefix(strings.TrimPrefix(kindOf(t), "an "), "a "))
	}
	p.out = make([]*tensor.Tensor, len(p.inputs))
	n := 0
	err = p.object("the request", requestKeys, func(key string) error {
		switch key {
		case "id":
			t, err := p.token()
			if err != nil {
				return err
			}
			if _, ok := t.(string); !ok {
				return p.invalid(p.dec.InputOffset(), `"id" must be a string, not %s`, kindOf(t))
			}
			return nil
		case "parameters":
			return p.skip(`"parameters"`, '{')
		case "outputs":
			return p.skip(`"outputs"`, '[')
		}
		t, off, err := p.start()
		if err != nil {
			return err
		}
		if t != json.Delim('[') {
			return p.invalid(off, `"inputs" must be an array, not %s`, kindOf(t))
		}
		for ; p.dec.More(); n++ {
			if err := p.input(n); err != nil {
				return err
			}
		}
		_, err = p.token() // ']'
		return err
	})
	if err != nil {
		return err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		var tl *TooLargeError
		if errors.As(err, &tl) {
			return err
		}
		return errors.New("invalid JSON: data after the request object")
	}
	if n == 0 {
		return fmt.Errorf(`no "inputs" in the request (the model takes %s)`, inputNames(p.inputs))
	}
	for k, t := range p.out {
		if t == nil {
			return fmt.Errorf("input %q is missing (the model takes %s)", p.inputs[k].Name, inputNames(p.inputs))
		}
	}
	return nil
}

// oipInput is one request input as it is read.
type oipInput struct {
	index    int // in "inputs"
	name     *string
	datatype *string
	shape    []int64
	hasShape bool
	raw      json.RawMessage // "data" read before the input was known
	data     *dataReader     // "data" read
	hasData  bool

	k    int // the model's input, -1 until known
	want engine.ValueInfo
}

// label names the input in errors.
func (in *oipInput) label() string {
	if in.name != nil {
		return fmt.Sprintf("input %q", *in.name)
	}
	return fmt.Sprintf("inputs[%d]", in.index)
}

func (p *reqParser) input(index int) error {
	t, off, err := p.start()
	if err != nil {
		return err
	}
	if t != json.Delim('{') {
		return p.invalid(off, "inputs[%d] must be an object, not %s", index, kindOf(t))
	}
	in := &oipInput{index: index, k: -1}
	err = p.object(fmt.Sprintf("inputs[%d]", index), inputKeys, func(key string) error {
		switch key {
		case "name", "datatype":
			t, err := p.token()
			if err != nil {
				return err
			}
			s, ok := t.(string)
			if !ok {
				return p.invalid(p.dec.InputOffset(), "%s: %q must be a string, not %s", in.label(), key, kindOf(t))
			}
			if key == "name" {
				in.name = &s
			} else {
				in.datatype = &s
			}
			return nil
		case "shape":
			return p.shape(in)
		case "parameters":
			return p.skip(fmt.Sprintf(`%s: "parameters"`, in.label()), '{')
		}
		return p.data(in)
	})
	if err != nil {
		return err
	}
	if err := p.resolve(in); err != nil {
		return err
	}
	if !in.hasData {
		return fmt.Errorf(`%s: "data" is missing`, in.label())
	}
	if in.data == nil { // read before the input was known
		dec := json.NewDecoder(bytes.NewReader(in.raw))
		dec.UseNumber()
		in.data = newDataReader(in, p.lim, len(in.raw)/2+1)
		if err := in.data.read(dec); err != nil {
			return fmt.Errorf("%s: %w", in.label(), err)
		}
		in.raw = nil
	}
	t2, err := in.tensor()
	if err != nil {
		return fmt.Errorf("%s: %w", in.label(), err)
	}
	p.out[in.k] = t2
	return nil
}

// shape reads an input's "shape": an array of integers.
func (p *reqParser) shape(in *oipInput) error {
	t, off, err := p.start()
	if err != nil {
		return err
	}
	if t != json.Delim('[') {
		return p.invalid(off, `%s: "shape" must be an array of integers, not %s`, in.label(), kindOf(t))
	}
	in.shape, in.hasShape = []int64{}, true
	for p.dec.More() {
		t, err := p.token()
		if err != nil {
			return err
		}
		num, _ := t.(json.Number)
		d, err := strconv.ParseInt(string(num), 10, 64)
		if err != nil {
			return p.invalid(p.dec.InputOffset(), `%s: "shape" must be an array of integers, not hold %s`, in.label(), tokenText(t))
		}
		if len(in.shape) == maxDataDepth {
			return fmt.Errorf("%s: shape has more than %d dimensions", in.label(), maxDataDepth)
		}
		in.shape = append(in.shape, d)
	}
	_, err = p.token() // ']'
	return err
}

func tokenText(t json.Token) string {
	if n, ok := t.(json.Number); ok {
		return string(n)
	}
	return kindOf(t)
}

// data reads an input's "data": straight into the tensor when the
// model's input is already known, else as text, for later.
func (p *reqParser) data(in *oipInput) error {
	in.hasData = true
	if in.name == nil || in.datatype == nil {
		if err := p.dec.Decode(&in.raw); err != nil {
			return p.syntax(err)
		}
		if string(in.raw) == "null" {
			in.hasData = false
		}
		return nil
	}
	if err := p.resolve(in); err != nil {
		return err
	}
	// Room for every value the shape promises, up to what the bytes
	// left can hold (a number and a comma each).
	size := 0
	if in.hasShape {
		if shape, err := checkShape(in.shape, p.lim); err == nil {
			size = int(min(int64(shape.NumElements()), (p.lim.Bytes-p.dec.InputOffset())/2+1))
		}
	}
	in.data = newDataReader(in, p.lim, size)
	err := in.data.read(p.dec)
	var se *json.SyntaxError
	var tl *TooLargeError
	var te *jsonTextError
	switch {
	case errors.As(err, &tl):
		return err
	case errors.As(err, &se), errors.As(err, &te), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return p.syntax(err)
	case err == errNoData:
		in.hasData = false
	case err != nil:
		return fmt.Errorf("%s: %w", in.label(), err)
	}
	return nil
}

// resolve finds the model's input and checks the datatype and shape
// against it, once.
func (p *reqParser) resolve(in *oipInput) error {
	if in.k >= 0 {
		return nil
	}
	switch {
	case in.name == nil || *in.name == "":
		return fmt.Errorf("inputs[%d] has no name (the model takes %s)", in.index, inputNames(p.inputs))
	case inputIndex(p.inputs, *in.name) < 0:
		return fmt.Errorf("the model has no input %q (it takes %s)", *in.name, inputNames(p.inputs))
	case p.out[inputIndex(p.inputs, *in.name)] != nil:
		return fmt.Errorf("input %q is given twice", *in.name)
	}
	in.k = inputIndex(p.inputs, *in.name)
	in.want = p.inputs[in.k]
	p.out[in.k] = &tensor.Tensor{} // taken: a second input of this name is an error
	dt := ""
	if in.datatype != nil {
		dt = *in.datatype
	}
	if err := checkDatatype(dt, in.want); err != nil {
		return fmt.Errorf("%s: %w", in.label(), err)
	}
	if in.hasShape {
		shape, err := checkShape(in.shape, p.lim)
		if err == nil && !fits(shape, in.want.Shape) {
			err = fmt.Errorf("shape %s does not fit the model's %s", intShapeText(shape), intShapeText(in.want.Shape))
		}
		if err != nil {
			return fmt.Errorf("%s: %w", in.label(), err)
		}
	}
	return nil
}

// checkDatatype checks a request datatype against the model's input.
func checkDatatype(dt string, want engine.ValueInfo) error {
	switch dt {
	case "":
		return errors.New(`"datatype" is missing (FP32, INT64 or INT32)`)
	case "FP32", "INT64", "INT32":
	default:
		return fmt.Errorf("datatype %q is not supported (FP32, INT64 or INT32)", dt)
	}
	isInt := dt != "FP32"
	switch want.DType {
	case tensor.F32:
		if isInt {
			return fmt.Errorf("datatype %s does not fit the model's f32 input (use FP32)", dt)
		}
	case tensor.I64, tensor.I32:
		if !isInt {
			return fmt.Errorf("datatype %s does not fit the model's %s input (use INT64 or INT32)", dt, want.DType)
		}
	default:
		return fmt.Errorf("the model's input is %s, which run cannot feed", want.DType)
	}
	return nil
}

func inputIndex(inputs []engine.ValueInfo, name string) int {
	for i, in := range inputs {
		if in.Name == name {
			return i
		}
	}
	return -1
}

// inputNames lists the model's inputs for error messages: x f32 [?,4].
func inputNames(inputs []engine.ValueInfo) string {
	parts := make([]string, len(inputs))
	for i, in := range inputs {
		parts[i] = fmt.Sprintf("%s %s %s", quoteIfNeeded(in.Name), in.DType, intShapeText(in.Shape))
	}
	return strings.Join(parts, ", ")
}

// checkShape checks a request shape against the limits.
func checkShape(s []int64, lim requestLimits) (tensor.Shape, error) {
	shape := make(tensor.Shape, len(s))
	n := 1
	for i, d := range s {
		if d < 0 || d > int64(lim.Elements) {
			return nil, fmt.Errorf("shape %v has a negative or huge dimension", s)
		}
		if d > 0 && n > lim.Elements/int(d) {
			return nil, fmt.Errorf("shape %v is too large (more than %d elements)", s, lim.Elements)
		}
		n *= int(d)
		shape[i] = int(d)
	}
	return shape, nil
}

// tensor checks the data read against the shape and the model.
func (in *oipInput) tensor() (*tensor.Tensor, error) {
	d := in.data
	nested := tensor.Shape(d.dims)
	shape := nested
	if in.hasShape {
		var err error
		if shape, err = checkShape(in.shape, requestLimits{Elements: d.lim.Elements}); err != nil {
			return nil, err
		}
		if len(nested) > 1 && !shape.Equal(nested) {
			return nil, fmt.Errorf("shape %s does not match the nesting of data, %s", shapeText(in.shape), intShapeText(nested))
		}
	}
	if !fits(shape, in.want.Shape) {
		return nil, fmt.Errorf("shape %s does not fit the model's %s", intShapeText(shape), intShapeText(in.want.Shape))
	}
	if n := shape.NumElements(); n != d.n {
		return nil, fmt.Errorf("shape %s needs %d values, data has %d", intShapeText(shape), n, d.n)
	}
	t := &tensor.Tensor{DType: in.want.DType, Shape: shape}
	switch in.want.DType {
	case tensor.F32:
		t.F32 = nonNil(d.f32)
	case tensor.I64:
		t.I64 = nonNil(d.i64)
	case tensor.I32:
		t.I32 = nonNil(d.i32)
	}
	return t, nil
}

// errNoData is a "data" that is null.
var errNoData = errors.New(`"data" is missing`)

// dataReader reads a "data" array, flat or nested, into a typed buffer,
// checking that nested arrays are rectangular.
type dataReader struct {
	lim   requestLimits
	dtype tensor.DType
	bits  int // of integer values: 32 or 64
	f32   []float32
	i64   []int64
	i32   []int32
	n     int   // values read
	dims  []int // length of the arrays at each depth, -1 until one closes
	leaf  int   // depth of the numbers, -1 until one is read
	count []int // values of each open array
}

func newDataReader(in *oipInput, lim requestLimits, size int) *dataReader {
	d := &dataReader{lim: lim, dtype: in.want.DType, bits: 64, leaf: -1}
	if in.want.DType == tensor.I32 || (in.datatype != nil && *in.datatype == "INT32") {
		d.bits = 32
	}
	size = max(min(size, lim.Elements), 0)
	switch d.dtype {
	case tensor.F32:
		d.f32 = make([]float32, 0, size)
	case tensor.I64:
		d.i64 = make([]int64, 0, size)
	case tensor.I32:
		d.i32 = make([]int32, 0, size)
	}
	return d
}

// read reads the array from dec. Errors of the decoder are returned as
// they are.
func (d *dataReader) read(dec *json.Decoder) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	switch {
	case t == nil:
		return errNoData
	case t != json.Delim('['):
		return errors.New(`"data" is not an array`)
	}
	if err := d.open(); err != nil {
		return err
	}
	for len(d.count) > 0 {
		if !dec.More() {
			if _, err := dec.Token(); err != nil { // ']'
				return err
			}
			if err := d.close(); err != nil {
				return err
			}
			continue
		}
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case json.Number:
			if err := d.value(string(t)); err != nil {
				return err
			}
		case json.Delim: // '[' or '{': a ']' or '}' ends the loop above
			if t == '{' {
				return fmt.Errorf("data[%d] is an object, not a number", d.n)
			}
			if err := d.open(); err != nil {
				return err
			}
		default:
			return fmt.Errorf("data[%d] is %s, not a number", d.n, kindOf(t))
		}
	}
	return nil
}

func (d *dataReader) open() error {
	depth := len(d.count)
	switch {
	case depth == maxDataDepth:
		return fmt.Errorf("data is nested deeper than %d arrays", maxDataDepth)
	case d.leaf >= 0 && depth >= d.leaf:
		return fmt.Errorf("data is ragged: an array where a number belongs (depth %d)", depth)
	}
	if depth > 0 {
		d.count[depth-1]++
	}
	if len(d.dims) == depth {
		d.dims = append(d.dims, -1)
	}
	d.count = append(d.count, 0)
	return nil
}

func (d *dataReader) close() error {
	depth := len(d.count) - 1
	n := d.count[depth]
	switch {
	case d.dims[depth] == -1:
		d.dims[depth] = n
	case d.dims[depth] != n:
		return fmt.Errorf("data is ragged: arrays of lengths %d and %d at depth %d", d.dims[depth], n, depth)
	}
	d.count = d.count[:depth]
	return nil
}

func (d *dataReader) value(s string) error {
	depth := len(d.count)
	switch {
	case len(d.dims) > depth:
		return fmt.Errorf("data is ragged: a number at depth %d, arrays at depth %d", depth, depth)
	case d.leaf >= 0 && d.leaf != depth:
		return fmt.Errorf("data is ragged: numbers at depths %d and %d", d.leaf, depth)
	case d.n >= d.lim.Elements:
		return fmt.Errorf("data has more than %d values", d.lim.Elements)
	}
	d.leaf = depth
	d.count[depth-1]++
	switch d.dtype {
	case tensor.F32:
		v, err := strconv.ParseFloat(s, 32)
		if err != nil {
			return fmt.Errorf("data[%d] = %s is out of the FP32 range", d.n, s)
		}
		d.f32 = append(d.f32, float32(v))
	default:
		v, err := strconv.ParseInt(s, 10, d.bits)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return fmt.Errorf("data[%d] = %s is out of the INT%d range", d.n, s, d.bits)
			}
			return fmt.Errorf("data[%d] = %s is not an integer", d.n, s)
		}
		if d.dtype == tensor.I64 {
			d.i64 = append(d.i64, v)
		} else {
			d.i32 = append(d.i32, int32(v))
		}
	}
	d.n++
	return nil
}

// fits reports whether a run-time shape fits a declared one, where -1 is
// any size.
func fits(shape tensor.Shape, want []int) bool {
	if len(shape) != len(want) {
		return false
	}
	for i, d := range want {
		if d != -1 && d != shape[i] {
			return false
		}
	}
	return true
}

// utf8BOM is the byte order mark some editors write at the start of a
// UTF-8 file.
const utf8BOM = "\xef\xbb\xbf"

// maxCSVLine bounds one line of a CSV table: the CSV reader holds a
// line, and its fields, several times over.
const maxCSVLine = 1 << 20

// lineCapReader fails when a line is longer than max bytes.
type lineCapReader struct {
	r    io.Reader
	max  int
	run  int // bytes since the last newline
	line int // 1-based number of the current line
	err  error
}

func (l *lineCapReader) Read(b []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	k, err := l.r.Read(b)
	for i, c := range b[:k] {
		if c == '\n' {
			l.run = 0
			l.line++
			continue
		}
		if l.run++; l.run > l.max {
			l.err = fmt.Errorf("line %d is longer than %d bytes", l.line, l.max)
			return i, l.err
		}
	}
	return k, err
}

// parseCSV reads a table with one row per batch entry for a model with a
// single f32 input of shape [?, N], reading at most lim.Bytes bytes and
// lim.Elements values. A UTF-8 byte order mark is skipped.
//
// The first row is a header when it names every feature of the model's
// metadata (exactly, surrounding spaces aside), and data when every cell
// is a number (or, for a tabular model, a missing value); a row that is
// both or neither is an error, never a guess. With a header, the columns
// are picked by name (in any order, other columns ignored). Rows are
// encoded as the trainer prepared them and as the tabular plugins do
// (runtime/features): missing values (NaN, "NA", "", ...) imputed,
// categorical columns one-hot, an infinite number an error. Without a
// header, the columns are the model's features in order when they are
// all numeric (encoded the same way), otherwise the model's input
// columns, which must be finite numbers.
func parseCSV(r io.Reader, m *engine.Model, lim requestLimits) (*tensor.Tensor, error) {
	if len(m.Inputs) != 1 || m.Inputs[0].DType != tensor.F32 || len(m.Inputs[0].Shape) != 2 || m.Inputs[0].Shape[1] <= 0 {
		return nil, fmt.Errorf("--csv needs a model with one f32 input of shape [?,N]; this one takes %s", inputNames(m.Inputs))
	}
	width := m.Inputs[0].Shape[1]
	br := bufio.NewReader(&lineCapReader{r: newCapReader(r, lim.Bytes, "--max-request-bytes"), max: maxCSVLine, line: 1})
	if b, _ := br.Peek(len(utf8BOM)); string(b) == utf8BOM {
		br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(br)
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	enc, feats := csvEncoder(m, width)
	var (
		data []float32
		cols []int // column of each feature (with enc); nil: in order
		rows int
		row  = make([]float64, width)
	)
	for first := true; ; first = false {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("invalid CSV at line %d: %v", pe.Line, pe.Err)
			}
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		if first {
			header, err := csvHeader(rec, feats, enc != nil && len(feats) == width)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			if header != nil {
				cols = header
				continue
			}
			if enc != nil && len(feats) != width {
				enc = nil // categorical features: rows are the encoded columns
			}
		}
		if cols == nil && len(rec) != width {
			return nil, fmt.Errorf("line %d has %d columns, the model takes %d features", line, len(rec), width)
		}
		if len(data)+width > lim.Elements {
			return nil, fmt.Errorf("the table has more than %d values", lim.Elements)
		}
		if enc != nil {
			at := cols
			if at == nil {
				at = inOrder(len(feats))
				cols = at
			}
			if len(rec) <= maxIndex(at) {
				return nil, fmt.Errorf("line %d has %d columns, the header %d", line, len(rec), maxIndex(at)+1)
			}
			for f, c := range at {
				if feats[f].Kind != features.Categorical && isInf(rec[c]) {
					return nil, fmt.Errorf("line %d, field %d (%s): %q is not a finite number", line, c+1, feats[f].Name, rec[c])
				}
			}
			if err := enc.Encode(row, rec, at); err != nil {
				return nil, fmt.Errorf("line %d, %v", line, err)
			}
			for _, v := range row {
				data = append(data, float32(v))
			}
			rows++
			continue
		}
		for c := range width {
			v, err := strconv.ParseFloat(strings.TrimSpace(rec[c]), 32)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				l, col := cr.FieldPos(c)
				what := "a number"
				if math.IsNaN(v) || isInf(rec[c]) {
					what = "a finite number"
				}
				return nil, fmt.Errorf("line %d, column %d: %q is not %s", l, col, rec[c], what)
			}
			data = append(data, float32(v))
		}
		rows++
	}
	if rows == 0 {
		return nil, errors.New("the table has no data rows")
	}
	return tensor.NewF32(tensor.Shape{rows, width}, data), nil
}

// csvEncoder returns the strict encoder of the model's feature metadata
// and the features, or nil when the features do not encode to the
// model's input width.
func csvEncoder(m *engine.Model, width int) (*features.Encoder, []features.Feature) {
	if len(m.Meta.Features) == 0 {
		return nil, nil
	}
	fs := make([]features.Feature, len(m.Meta.Features))
	for i, f := range m.Meta.Features {
		fs[i] = features.Feature{Name: f.Name, Kind: f.Kind, Impute: f.Impute, Categories: f.Categories}
	}
	enc := features.NewEncoder(fs)
	enc.Strict = true
	if enc.Width != width {
		return nil, nil
	}
	return enc, fs
}

// csvHeader decides what the first row of a table is. It returns the
// column of each feature when the row is a header, nil when it is data,
// and an error when it is both, or neither. missingOK says whether a
// data cell may be a missing value (a tabular model's features, in
// order).
func csvHeader(rec []string, feats []features.Feature, missingOK bool) ([]int, error) {
	isData := true
	for _, f := range rec {
		if _, err := strconv.ParseFloat(strings.TrimSpace(f), 64); err != nil && !(missingOK && features.IsMissing(f)) {
			isData = false
			break
		}
	}
	if len(feats) == 0 {
		if isData {
			return nil, nil
		}
		return nil, fmt.Errorf("the first row is not numbers, and the model has no feature names to match a header against: %s", quoteList(rec, 8))
	}
	pos := make(map[string]int, len(rec))
	for i, h := range rec {
		h = strings.TrimSpace(h)
		if j, dup := pos[h]; dup && slices.ContainsFunc(feats, func(f features.Feature) bool { return f.Name == h }) {
			return nil, fmt.Errorf("the header names %q twice (columns %d and %d)", h, j+1, i+1)
		}
		pos[h] = i
	}
	cols := make([]int, len(feats))
	var lacks []string
	for i, f := range feats {
		c, ok := pos[f.Name]
		if !ok {
			lacks = append(lacks, f.Name)
		}
		cols[i] = c
	}
	switch {
	case len(lacks) == 0 && isData:
		return nil, errors.New("the first row is ambiguous: it names the model's features and is also a row of numbers")
	case len(lacks) == 0:
		return cols, nil
	case isData:
		return nil, nil
	}
	var extra []string
	for _, h := range rec {
		h = strings.TrimSpace(h)
		if !slices.ContainsFunc(feats, func(f features.Feature) bool { return f.Name == h }) {
			extra = append(extra, h)
		}
	}
	msg := fmt.Sprintf("the first row is neither data nor a header naming the model's features (matched exactly): it lacks %s", quoteList(lacks, 8))
	if len(extra) > 0 {
		msg += " and has " + quoteList(extra, 8)
	}
	return nil, errors.New(msg)
}

// quoteList quotes at most n strings, and counts the others.
func quoteList(s []string, n int) string {
	q := make([]string, 0, min(len(s), n)+1)
	for i, v := range s {
		if i == n {
			q = append(q, fmt.Sprintf("and %d more", len(s)-n))
			break
		}
		q = append(q, strconv.Quote(v))
	}
	return strings.Join(q, ", ")
}

// isInf reports whether a field is an infinite number, or one too large
// for a float64.
func isInf(s string) bool {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return math.IsInf(v, 0) && (err == nil || errors.Is(err, strconv.ErrRange))
}

func inOrder(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func maxIndex(cols []int) int {
	m := 0
	for _, c := range cols {
		m = max(m, c)
	}
	return m
}
