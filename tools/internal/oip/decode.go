package oip

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// MaxDims bounds the rank of a shape and the nesting of a "data" array
// (the model format's limit).
const MaxDims = 8

// The datatypes the codec reads.
const (
	FP32  = "FP32"
	INT64 = "INT64"
	INT32 = "INT32"
	BOOL  = "BOOL"
	BYTES = "BYTES"
)

// Datatypes lists the datatypes the codec reads, for messages.
const Datatypes = "FP32, INT64, INT32, BOOL or BYTES"

// Request is a decoded inference request.
type Request struct {
	ID         string
	Inputs     []*Input
	Outputs    []Output          // the outputs asked for; none: all
	Parameters map[string]string // strings, numbers (as written) and booleans ("true", "false")
}

// Output is one output a request asks for.
type Output struct {
	Name       string
	Parameters map[string]string
}

// OutputNames are the names of the outputs asked for.
func (r *Request) OutputNames() []string {
	if len(r.Outputs) == 0 {
		return nil
	}
	s := make([]string, len(r.Outputs))
	for i, o := range r.Outputs {
		s[i] = o.Name
	}
	return s
}

// Input is one input of a request, its data in the field of its
// datatype, row-major.
type Input struct {
	Index      int // in "inputs"
	Name       string
	Datatype   string
	Shape      []int64 // as given, or else the nesting of the data ([n] for flat data)
	HasShape   bool    // "shape" was given
	Parameters map[string]string

	FP32  []float32
	INT64 []int64
	INT32 []int32
	BOOL  []bool
	BYTES [][]byte

	// Missing marks the elements sent as missing values (null, or the
	// strings "NaN" and "NA" in numeric data), nil when none is. A
	// missing element holds NaN (FP32), 0, false or nil. Whether one may
	// be missing is the consumer's decision.
	Missing []bool

	hasName, hasDatatype bool
	hasData              bool
	checked              bool
	raw                  json.RawMessage // "data" read before the name and datatype
	dims                 []int           // nesting of the data
}

// Label names the input in errors: input "x", or inputs[2] without a name.
func (in *Input) Label() string {
	if in.hasName {
		return fmt.Sprintf("input %q", in.Name)
	}
	return fmt.Sprintf("inputs[%d]", in.Index)
}

// Len is the number of elements read.
func (in *Input) Len() int {
	return len(in.FP32) + len(in.INT64) + len(in.INT32) + len(in.BOOL) + len(in.BYTES)
}

// FirstMissing is the index of the first missing element, -1 for none.
func (in *Input) FirstMissing() int {
	return slices.Index(in.Missing, true)
}

// Options are how Decode reads a request.
type Options struct {
	Limits
	// Check, when set, is called once for each input, as soon as what
	// comes before its data is known (at the latest when the input
	// ends): its name and datatype (either may be empty) and its shape,
	// if given. An error stops the decoding and is returned, wrapped in
	// nothing. The consumer uses it to refuse an input early, before its
	// data is read.
	Check func(in *Input) error
}

// Decode reads an Open Inference Protocol (KServe v2) inference request
// as a stream: the JSON is never held whole, and each input's values go
// straight into their typed slice. What may be held whole is bounded by
// the byte cap: a "data" array that comes before the input's name and
// datatype (kept as text until they are known).
//
// Keys are matched exactly (encoding/json's case-insensitive matching
// would let "Data" stand in for "data"), a key given twice is an error,
// and so is a key the protocol does not define: the request takes "id",
// "parameters", "inputs" and "outputs"; an input "name", "datatype",
// "shape", "parameters" and "data"; a requested output "name" and
// "parameters". "data" is flat or nested (rectangular, at most MaxDims
// deep); parameters are strings, numbers or booleans. Errors in the
// request's structure say where, as a line and column.
func Decode(r io.Reader, opt Options) (*Request, error) {
	if opt.Bytes < 1 || opt.Elements < 1 {
		return nil, errors.New("oip: the limits must be at least 1")
	}
	lr := &lineReader{r: &jsonGuard{r: NewCapReader(r, opt.Bytes, opt.Flag)}, last: -1}
	p := &parser{dec: json.NewDecoder(lr), lines: lr, opt: opt}
	lr.dec = p.dec
	p.dec.UseNumber()
	req, err := p.request()
	if err != nil {
		return nil, err
	}
	return req, nil
}

// parser reads a request token by token.
type parser struct {
	dec   *json.Decoder
	lines *lineReader
	opt   Options
	begun bool // a token was read
}

// syntax turns an error of the decoder into one line that says where.
func (p *parser) syntax(err error) error {
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
func (p *parser) invalid(off int64, format string, args ...any) error {
	line, col := p.lines.position(off)
	return fmt.Errorf("invalid request at line %d, column %d: %s", line, col, fmt.Sprintf(format, args...))
}

func (p *parser) token() (json.Token, error) {
	t, err := p.dec.Token()
	if err != nil {
		return nil, p.syntax(err)
	}
	p.begun = true
	return t, nil
}

// start reads a value's first token and reports where it starts.
func (p *parser) start() (json.Token, int64, error) {
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
func (p *parser) object(what string, keys []string, value func(key string) error) error {
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

// openObject reads a value that must be an object, up to its '{'.
func (p *parser) openObject(what string) error {
	t, off, err := p.start()
	if err != nil {
		return err
	}
	if t != json.Delim('{') {
		return p.invalid(off, "%s must be an object, not %s", what, kindOf(t))
	}
	return nil
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

func tokenText(t json.Token) string {
	switch t := t.(type) {
	case json.Number:
		return string(t)
	case string:
		return strconv.Quote(t)
	}
	return kindOf(t)
}

// The keys of a request, of one of its inputs and of a requested output.
var (
	requestKeys = []string{"id", "parameters", "inputs", "outputs"}
	inputKeys   = []string{"name", "datatype", "shape", "parameters", "data"}
	outputKeys  = []string{"name", "parameters"}
)

func (p *parser) request() (*Request, error) {
	t, off, err := p.start()
	if err != nil {
		return nil, err
	}
	if t != json.Delim('{') {
		return nil, p.invalid(off, "the request must be an object, not a JSON %s", strings.TrimPrefix(strings.TrimPrefix(kindOf(t), "an "), "a "))
	}
	req := &Request{}
	err = p.object("the request", requestKeys, func(key string) error {
		switch key {
		case "id":
			t, err := p.token()
			if err != nil {
				return err
			}
			id, ok := t.(string)
			if !ok {
				return p.invalid(p.dec.InputOffset(), `"id" must be a string, not %s`, kindOf(t))
			}
			req.ID = id
			return nil
		case "parameters":
			return p.parameters(`"parameters"`, &req.Parameters)
		case "outputs":
			return p.outputs(req)
		}
		t, off, err := p.start()
		if err != nil {
			return err
		}
		if t != json.Delim('[') {
			return p.invalid(off, `"inputs" must be an array, not %s`, kindOf(t))
		}
		for i := 0; p.dec.More(); i++ {
			in, err := p.input(i)
			if err != nil {
				return err
			}
			req.Inputs = append(req.Inputs, in)
		}
		_, err = p.token() // ']'
		return err
	})
	if err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		var tl *TooLargeError
		if errors.As(err, &tl) {
			return nil, err
		}
		return nil, errors.New("invalid JSON: data after the request object")
	}
	return req, nil
}

// parameters reads an object of strings, numbers and booleans, each key
// once, numbers as written.
func (p *parser) parameters(what string, dst *map[string]string) error {
	if err := p.openObject(what); err != nil {
		return err
	}
	m := map[string]string{}
	for p.dec.More() {
		t, err := p.token()
		if err != nil {
			return err
		}
		k, _ := t.(string)
		if _, dup := m[k]; dup {
			return p.invalid(p.dec.InputOffset(), "%s has the key %q twice", what, k)
		}
		t, off, err := p.start()
		if err != nil {
			return err
		}
		switch v := t.(type) {
		case string:
			m[k] = v
		case json.Number:
			m[k] = string(v)
		case bool:
			m[k] = strconv.FormatBool(v)
		default:
			return p.invalid(off, "%s: %q must be a string, a number or a boolean, not %s", what, k, kindOf(t))
		}
	}
	*dst = m
	_, err := p.token() // '}'
	return err
}

// outputs reads "outputs": an array of {"name", "parameters"}.
func (p *parser) outputs(req *Request) error {
	t, off, err := p.start()
	if err != nil {
		return err
	}
	if t != json.Delim('[') {
		return p.invalid(off, `"outputs" must be an array, not %s`, kindOf(t))
	}
	for i := 0; p.dec.More(); i++ {
		what := fmt.Sprintf("outputs[%d]", i)
		if err := p.openObject(what); err != nil {
			return err
		}
		var o Output
		named := false
		err := p.object(what, outputKeys, func(key string) error {
			if key == "parameters" {
				return p.parameters(what+`: "parameters"`, &o.Parameters)
			}
			t, err := p.token()
			if err != nil {
				return err
			}
			s, ok := t.(string)
			if !ok {
				return p.invalid(p.dec.InputOffset(), `%s: "name" must be a string, not %s`, what, kindOf(t))
			}
			o.Name, named = s, true
			return nil
		})
		if err != nil {
			return err
		}
		switch {
		case !named || o.Name == "":
			return fmt.Errorf(`%s has no "name"`, what)
		case slices.ContainsFunc(req.Outputs, func(x Output) bool { return x.Name == o.Name }):
			return fmt.Errorf("output %q is asked for twice", o.Name)
		}
		req.Outputs = append(req.Outputs, o)
	}
	_, err = p.token() // ']'
	return err
}

func (p *parser) input(index int) (*Input, error) {
	what := fmt.Sprintf("inputs[%d]", index)
	if err := p.openObject(what); err != nil {
		return nil, err
	}
	in := &Input{Index: index}
	err := p.object(what, inputKeys, func(key string) error {
		switch key {
		case "name", "datatype":
			t, err := p.token()
			if err != nil {
				return err
			}
			s, ok := t.(string)
			if !ok {
				return p.invalid(p.dec.InputOffset(), "%s: %q must be a string, not %s", in.Label(), key, kindOf(t))
			}
			if key == "name" {
				in.Name, in.hasName = s, true
			} else {
				in.Datatype, in.hasDatatype = s, true
			}
			return nil
		case "shape":
			return p.shape(in)
		case "parameters":
			return p.parameters(in.Label()+`: "parameters"`, &in.Parameters)
		}
		return p.data(in)
	})
	if err != nil {
		return nil, err
	}
	if err := p.check(in); err != nil {
		return nil, err
	}
	if !in.hasData {
		return nil, fmt.Errorf(`%s: "data" is missing`, in.Label())
	}
	if in.raw != nil { // read before the input was known
		dec := json.NewDecoder(bytes.NewReader(in.raw))
		dec.UseNumber()
		d := newDataReader(in, p.opt.Limits, len(in.raw)/2+1)
		if err := d.read(dec); err != nil {
			return nil, fmt.Errorf("%s: %w", in.Label(), err)
		}
		in.raw = nil
	}
	if err := in.finish(p.opt.Limits); err != nil {
		return nil, fmt.Errorf("%s: %w", in.Label(), err)
	}
	return in, nil
}

// check checks the input's name and datatype, once, and calls the
// consumer's Check.
func (p *parser) check(in *Input) error {
	if in.checked {
		return nil
	}
	in.checked = true
	if p.opt.Check != nil {
		if err := p.opt.Check(in); err != nil {
			return err
		}
	}
	switch {
	case !in.hasName || in.Name == "":
		return fmt.Errorf("inputs[%d] has no name", in.Index)
	case !in.hasDatatype || in.Datatype == "":
		return fmt.Errorf(`%s: "datatype" is missing (%s)`, in.Label(), Datatypes)
	}
	switch in.Datatype {
	case FP32, INT64, INT32, BOOL, BYTES:
	default:
		return fmt.Errorf("%s: datatype %q is not one of %s", in.Label(), in.Datatype, Datatypes)
	}
	if in.HasShape {
		if _, err := CheckShape(in.Shape, p.opt.Elements); err != nil {
			return fmt.Errorf("%s: %w", in.Label(), err)
		}
	}
	return nil
}

// shape reads an input's "shape": an array of integers.
func (p *parser) shape(in *Input) error {
	t, off, err := p.start()
	if err != nil {
		return err
	}
	if t != json.Delim('[') {
		return p.invalid(off, `%s: "shape" must be an array of integers, not %s`, in.Label(), kindOf(t))
	}
	in.Shape, in.HasShape = []int64{}, true
	for p.dec.More() {
		t, err := p.token()
		if err != nil {
			return err
		}
		num, _ := t.(json.Number)
		d, err := strconv.ParseInt(string(num), 10, 64)
		if err != nil {
			return p.invalid(p.dec.InputOffset(), `%s: "shape" must be an array of integers, not hold %s`, in.Label(), tokenText(t))
		}
		if len(in.Shape) == MaxDims {
			return fmt.Errorf("%s: shape has more than %d dimensions", in.Label(), MaxDims)
		}
		in.Shape = append(in.Shape, d)
	}
	_, err = p.token() // ']'
	return err
}

// data reads an input's "data": straight into its slice when the name
// and datatype are known, else as text, for later.
func (p *parser) data(in *Input) error {
	in.hasData = true
	if !in.hasName || !in.hasDatatype {
		if err := p.dec.Decode(&in.raw); err != nil {
			return p.syntax(err)
		}
		if string(in.raw) == "null" {
			in.hasData, in.raw = false, nil
		}
		return nil
	}
	if err := p.check(in); err != nil {
		return err
	}
	// Room for every value the shape promises, up to what the bytes
	// left can hold (a number and a comma each).
	size := 0
	if in.HasShape {
		if n, err := CheckShape(in.Shape, p.opt.Elements); err == nil {
			size = int(min(n, (p.opt.Bytes-p.dec.InputOffset())/2+1))
		}
	}
	d := newDataReader(in, p.opt.Limits, size)
	err := d.read(p.dec)
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
		return fmt.Errorf("%s: %w", in.Label(), err)
	}
	return nil
}

// CheckShape checks a shape's dimensions (none negative) and its number
// of elements (at most max), and returns that number.
func CheckShape(s []int64, max int) (int64, error) {
	n := int64(1)
	for _, d := range s {
		if d < 0 || d > int64(max) {
			return 0, fmt.Errorf("shape %v has a negative or huge dimension", s)
		}
		if d > 0 && n > int64(max)/d {
			return 0, fmt.Errorf("shape %v is too large (more than %d elements)", s, max)
		}
		n *= d
	}
	return n, nil
}

// finish checks the data read against the shape, or takes the shape
// from the data's nesting.
func (in *Input) finish(lim Limits) error {
	nested := make([]int64, len(in.dims))
	for i, d := range in.dims {
		nested[i] = int64(d)
	}
	if !in.HasShape {
		in.Shape = nested
		return nil
	}
	n, err := CheckShape(in.Shape, lim.Elements)
	if err != nil {
		return err
	}
	if len(nested) > 1 && !slices.Equal(in.Shape, nested) {
		return fmt.Errorf("shape %s does not match the nesting of data, %s", ShapeText(in.Shape), ShapeText(nested))
	}
	if got := in.Len(); int64(got) != n {
		return fmt.Errorf("shape %s needs %d values, data has %d", ShapeText(in.Shape), n, got)
	}
	return nil
}

// ShapeText prints a shape as [2,4], -1 (any size) as "?".
func ShapeText(shape []int64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range shape {
		if i > 0 {
			b.WriteByte(',')
		}
		if d == -1 {
			b.WriteByte('?')
		} else {
			b.WriteString(strconv.FormatInt(d, 10))
		}
	}
	b.WriteByte(']')
	return b.String()
}
