package oip

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
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

	// Binary is an input whose data comes after the JSON (Options.Binary),
	// BinarySize bytes of it; DecodeBinary fills it.
	Binary     bool
	BinarySize int64

	hasName, hasDatatype bool
	hasData              bool
	checked              bool
	raw                  []byte       // "data" read before the name and datatype
	dims                 [MaxDims]int // nesting of the data
	ndims                int
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
	// Binary lets an input whose "parameters" carry "binary_data_size"
	// come without "data" (Triton's binary tensor data extension, see
	// DecodeBinary): the size goes to Input.BinarySize.
	Binary bool
}

// Decode reads an Open Inference Protocol (KServe v2) inference request
// as a stream: the JSON is never held whole, and each input's values go
// straight into their typed slice. What may be held whole is bounded by
// the byte cap: a "data" array that comes before the input's name and
// datatype (kept as text until they are known), and a string.
//
// Keys are matched exactly (encoding/json's case-insensitive matching
// would let "Data" stand in for "data"), a key given twice is an error,
// and so is a key the protocol does not define: the request takes "id",
// "parameters", "inputs" and "outputs"; an input "name", "datatype",
// "shape", "parameters" and "data"; a requested output "name" and
// "parameters". "data" is flat or nested (rectangular, at most MaxDims
// deep); parameters are strings, numbers or booleans. Errors in the
// request's structure say where, as a line and column.
//
// The JSON is read by a scanner of its own (scan.go) that allocates
// nothing per token: a request costs its tensors, its strings and a
// read buffer of 4 KiB.
func Decode(r io.Reader, opt Options) (*Request, error) {
	if opt.Bytes < 1 || opt.Elements < 1 {
		return nil, errors.New("oip: the limits must be at least 1")
	}
	p := &parser{s: newScanner(NewCapReader(r, opt.Bytes, opt.Flag)), opt: opt}
	defer p.s.release()
	req, err := p.request()
	if err != nil {
		return nil, err
	}
	return req, nil
}

// parser reads a request token by token.
type parser struct {
	s   *scanner
	opt Options
	// Arenas of the request's small parts: its inputs, their shapes, and
	// FP32 data of up to smallData values (a request of many one-value
	// inputs costs a few allocations, not a few per input).
	ins []Input
	i64 []int64
	f32 []float32
}

// smallData is the most values of an input's FP32 data taken from the
// parser's arena.
const smallData = 16

// newInput is a new input, from the arena.
func (p *parser) newInput(index int) *Input {
	if len(p.ins) == cap(p.ins) {
		p.ins = make([]Input, 0, min(max(8*cap(p.ins), 1), 64)) // 1, 8, 64, 64…
	}
	p.ins = p.ins[:len(p.ins)+1]
	in := &p.ins[len(p.ins)-1]
	in.Index = index
	return in
}

// int64s is a slice of n int64s from the arena.
func (p *parser) int64s(n int) []int64 {
	if n > 64 {
		return make([]int64, n)
	}
	if len(p.i64)+n > cap(p.i64) {
		p.i64 = make([]int64, 0, max(2*cap(p.i64), 64))
	}
	i := len(p.i64)
	p.i64 = p.i64[:i+n]
	return p.i64[i : i+n : i+n]
}

// float32s is an empty slice with room for n float32s (at most
// smallData) from the arena; appending beyond n reallocates it.
func (p *parser) float32s(n int) []float32 {
	if len(p.f32)+n > cap(p.f32) {
		p.f32 = make([]float32, 0, max(2*cap(p.f32), 64))
	}
	i := len(p.f32)
	p.f32 = p.f32[:i+n]
	return p.f32[i : i : i+n]
}

// syntax turns an error of the scanner into one line that says where.
func (p *parser) syntax(err error) error {
	var se *syntaxError
	var tl *TooLargeError
	var te *jsonTextError
	switch {
	case errors.As(err, &tl):
		return err
	case errors.As(err, &se):
		line, col := p.s.position(se.off)
		return fmt.Errorf("invalid JSON at line %d, column %d: %s", line, col, se.msg)
	case errors.As(err, &te):
		return fmt.Errorf("invalid JSON: %w", err)
	case errors.Is(err, io.EOF) && !p.s.begun:
		return errors.New("invalid JSON: the input is empty")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("invalid JSON: unexpected end of input")
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

// invalid is a request that is valid JSON but not a valid request; off
// is where the offending key or value starts (or, for some, ends).
func (p *parser) invalid(off int64, format string, args ...any) error {
	line, col := p.s.position(off)
	return fmt.Errorf("invalid request at line %d, column %d: %s", line, col, fmt.Sprintf(format, args...))
}

// at is where the value read last is, for errors: its start for an
// array, object or number, its end for the others (as encoding/json's
// offsets told, which the messages keep).
func (p *parser) at() int64 {
	switch p.s.kind {
	case '[', '{', tokNumber:
		return p.s.start
	}
	return p.s.end
}

// token reads the next token (kind and text in p.s).
func (p *parser) token() error {
	if err := p.s.next(); err != nil {
		return p.syntax(err)
	}
	return nil
}

// str is the token read last as a string, if it is one.
func (p *parser) str() (string, bool) {
	if p.s.kind != tokString {
		return "", false
	}
	return string(p.s.val), true
}

// object reads the keys of the object whose '{' was just read, refusing
// a key given twice or not in keys, and calls value to read each value
// with the key's index in keys.
func (p *parser) object(what func() string, keys []string, value func(key int) error) error {
	var seen uint
	for p.s.more() {
		if err := p.token(); err != nil {
			return err
		}
		k := -1
		for i, key := range keys {
			if string(p.s.val) == key {
				k = i
				break
			}
		}
		switch {
		case k < 0:
			return p.invalid(p.s.start, "%s has an unknown key %q (keys are case-sensitive: %s)", what(), p.s.val, quoteAll(keys))
		case seen&(1<<k) != 0:
			return p.invalid(p.s.start, "%s has the key %q twice", what(), p.s.val)
		}
		seen |= 1 << k
		if err := value(k); err != nil {
			return err
		}
	}
	return p.token() // '}'
}

// openObject reads a value that must be an object, up to its '{'.
func (p *parser) openObject(what func() string) error {
	if err := p.token(); err != nil {
		return err
	}
	if p.s.kind != '{' {
		return p.invalid(p.at(), "%s must be an object, not %s", what(), kindOf(p.s.kind))
	}
	return nil
}

// QuoteKeys lists a map's keys sorted and quoted, as QuoteList does
// (at most 8, and how many more).
func QuoteKeys(m map[string]string) string {
	return QuoteList(slices.Sorted(maps.Keys(m)), 8)
}

// QuoteList quotes at most n strings of s, joined by ", ", and counts the
// others ("and 3 more"): lists in error messages stay short.
func QuoteList(s []string, n int) string {
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

func quoteAll(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

// kindOf names the JSON kind of a token for messages.
func kindOf(kind byte) string {
	switch kind {
	case '[':
		return "an array"
	case '{':
		return "an object"
	case tokString:
		return "a string"
	case tokNumber:
		return "a number"
	case tokTrue, tokFalse:
		return "a boolean"
	}
	return "null"
}

// tokenText is the token read last, for messages.
func (s *scanner) tokenText() string {
	switch s.kind {
	case tokNumber:
		return string(s.val)
	case tokString:
		return strconv.Quote(string(s.val))
	}
	return kindOf(s.kind)
}

// The keys of a request, of one of its inputs and of a requested output.
var (
	requestKeys = []string{"id", "parameters", "inputs", "outputs"}
	inputKeys   = []string{"name", "datatype", "shape", "parameters", "data"}
	outputKeys  = []string{"name", "parameters"}
)

// The indexes of the keys.
const (
	keyID, keyParameters, keyInputs, keyOutputs                 = 0, 1, 2, 3
	keyName, keyDatatype, keyShape, keyInputParameters, keyData = 0, 1, 2, 3, 4
)

func theRequest() string { return "the request" }

func (p *parser) request() (*Request, error) {
	if err := p.token(); err != nil {
		return nil, err
	}
	if p.s.kind != '{' {
		return nil, p.invalid(p.at(), "the request must be an object, not a JSON %s", strings.TrimPrefix(strings.TrimPrefix(kindOf(p.s.kind), "an "), "a "))
	}
	req := &Request{}
	err := p.object(theRequest, requestKeys, func(key int) error {
		switch key {
		case keyID:
			if err := p.token(); err != nil {
				return err
			}
			id, ok := p.str()
			if !ok {
				return p.invalid(p.s.end, `"id" must be a string, not %s`, kindOf(p.s.kind))
			}
			req.ID = id
			return nil
		case keyParameters:
			return p.parameters(`"parameters"`, &req.Parameters)
		case keyOutputs:
			return p.outputs(req)
		}
		if err := p.token(); err != nil {
			return err
		}
		if p.s.kind != '[' {
			return p.invalid(p.at(), `"inputs" must be an array, not %s`, kindOf(p.s.kind))
		}
		for i := 0; p.s.more(); i++ {
			in, err := p.input(i)
			if err != nil {
				return err
			}
			req.Inputs = append(req.Inputs, in)
		}
		return p.token() // ']'
	})
	if err != nil {
		return nil, err
	}
	if err := p.s.atEnd(); err != nil {
		return nil, err
	}
	return req, nil
}

// parameters reads an object of strings, numbers and booleans, each key
// once, numbers as written.
func (p *parser) parameters(what string, dst *map[string]string) error {
	if err := p.openObject(func() string { return what }); err != nil {
		return err
	}
	m := map[string]string{}
	for p.s.more() {
		if err := p.token(); err != nil {
			return err
		}
		k := string(p.s.val)
		if _, dup := m[k]; dup {
			return p.invalid(p.s.end, "%s has the key %q twice", what, k)
		}
		if err := p.token(); err != nil {
			return err
		}
		switch p.s.kind {
		case tokString, tokNumber:
			m[k] = string(p.s.val)
		case tokTrue:
			m[k] = "true"
		case tokFalse:
			m[k] = "false"
		default:
			return p.invalid(p.at(), "%s: %q must be a string, a number or a boolean, not %s", what, k, kindOf(p.s.kind))
		}
	}
	*dst = m
	return p.token() // '}'
}

// outputs reads "outputs": an array of {"name", "parameters"}.
func (p *parser) outputs(req *Request) error {
	if err := p.token(); err != nil {
		return err
	}
	if p.s.kind != '[' {
		return p.invalid(p.at(), `"outputs" must be an array, not %s`, kindOf(p.s.kind))
	}
	for i := 0; p.s.more(); i++ {
		what := fmt.Sprintf("outputs[%d]", i)
		whatFn := func() string { return what }
		if err := p.openObject(whatFn); err != nil {
			return err
		}
		var o Output
		named := false
		err := p.object(whatFn, outputKeys, func(key int) error {
			if key == 1 {
				return p.parameters(what+`: "parameters"`, &o.Parameters)
			}
			if err := p.token(); err != nil {
				return err
			}
			s, ok := p.str()
			if !ok {
				return p.invalid(p.s.end, `%s: "name" must be a string, not %s`, what, kindOf(p.s.kind))
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
	return p.token() // ']'
}

// datatype is a datatype's name, one of the constants when it is one.
func datatype(b []byte) string {
	switch string(b) {
	case FP32:
		return FP32
	case INT64:
		return INT64
	case INT32:
		return INT32
	case BOOL:
		return BOOL
	case BYTES:
		return BYTES
	}
	return string(b)
}

func (p *parser) input(index int) (*Input, error) {
	in := p.newInput(index)
	what := func() string { return fmt.Sprintf("inputs[%d]", index) }
	if err := p.openObject(what); err != nil {
		return nil, err
	}
	err := p.object(what, inputKeys, func(key int) error {
		switch key {
		case keyName, keyDatatype:
			if err := p.token(); err != nil {
				return err
			}
			if p.s.kind != tokString {
				return p.invalid(p.s.end, "%s: %q must be a string, not %s", in.Label(), inputKeys[key], kindOf(p.s.kind))
			}
			if key == keyName {
				in.Name, in.hasName = string(p.s.val), true
			} else {
				in.Datatype, in.hasDatatype = datatype(p.s.val), true
			}
			return nil
		case keyShape:
			return p.shape(in)
		case keyInputParameters:
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
	if bin, err := p.binary(in); bin || err != nil { // binary.go
		if err != nil {
			return nil, err
		}
		return in, nil
	}
	if !in.hasData {
		return nil, fmt.Errorf(`%s: "data" is missing`, in.Label())
	}
	if in.raw != nil { // read before the input was known
		s := newScanner(bytes.NewReader(in.raw))
		d := newDataReader(in, p.opt.Limits, len(in.raw)/2+1)
		err := d.read(s)
		s.release()
		if err != nil {
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
	if err := p.token(); err != nil {
		return err
	}
	if p.s.kind != '[' {
		return p.invalid(p.at(), `%s: "shape" must be an array of integers, not %s`, in.Label(), kindOf(p.s.kind))
	}
	var dims [MaxDims]int64
	n := 0
	for p.s.more() {
		if err := p.token(); err != nil {
			return err
		}
		var d int64
		err := errNotInt
		if p.s.kind == tokNumber {
			d, err = strconv.ParseInt(string(p.s.val), 10, 64)
		}
		if err != nil {
			return p.invalid(p.s.end, `%s: "shape" must be an array of integers, not hold %s`, in.Label(), p.s.tokenText())
		}
		if n == MaxDims {
			return fmt.Errorf("%s: shape has more than %d dimensions", in.Label(), MaxDims)
		}
		dims[n] = d
		n++
	}
	in.Shape, in.HasShape = p.int64s(n), true
	copy(in.Shape, dims[:n])
	return p.token() // ']'
}

var errNotInt = errors.New("not an integer")

// data reads an input's "data": straight into its slice when the name
// and datatype are known, else as text, for later.
func (p *parser) data(in *Input) error {
	in.hasData = true
	if !in.hasName || !in.hasDatatype {
		raw, err := p.s.skipValue(nil)
		if err != nil {
			return p.syntax(err)
		}
		in.raw = raw
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
			size = int(min(n, (p.opt.Bytes-p.s.end)/2+1))
		}
	}
	if in.Datatype == FP32 && size > 0 && size <= smallData {
		in.FP32 = p.float32s(size)
	}
	d := newDataReader(in, p.opt.Limits, size)
	err := d.read(p.s)
	if err == nil {
		return nil
	}
	var se *syntaxError
	var tl *TooLargeError
	var te *jsonTextError
	switch {
	case errors.As(err, &tl):
		return err
	case errors.As(err, &se), errors.As(err, &te), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return p.syntax(err)
	case err == errNoData:
		in.hasData = false
		return nil
	}
	return fmt.Errorf("%s: %w", in.Label(), err)
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
	dims := in.dims[:in.ndims]
	if !in.HasShape {
		in.Shape = make([]int64, len(dims))
		for i, d := range dims {
			in.Shape[i] = int64(d)
		}
		return nil
	}
	n, err := CheckShape(in.Shape, lim.Elements)
	if err != nil {
		return err
	}
	if len(dims) > 1 && !slices.EqualFunc(in.Shape, dims, func(a int64, b int) bool { return a == int64(b) }) {
		nested := make([]int64, len(dims))
		for i, d := range dims {
			nested[i] = int64(d)
		}
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
