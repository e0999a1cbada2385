package format

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/tinylib/msgp/msgp"
)

// The header decoder. Read does not use the generated Model.DecodeMsg:
// that one allocates every list at the length the file claims, up to the
// schema's fixed `limit=` tags, before reading a single element, so a few
// KiB of msgpack could claim gigabytes of Go values. headerDecoder reads
// the same schema (same keys, same msgpack types, unknown keys skipped)
// and, before it allocates a list, checks the list's length against
//
//   - the limit for that list (Limits.MaxNodes, MaxAttrs, MaxListLen, ...),
//   - the payload bytes left to decode: every element takes at least one
//     byte, and a node, attribute, tensor or graph value that passes the
//     checks made as it is decoded takes at least minNodeBytes, ... bytes,
//   - the header's memory budget (headerBudget: at most
//     Limits.MaxHeaderBytes), charged with the Go size of every list and
//     string as it is made.
//
// So decoding the header costs O(its encoded size) time and at most
// headerBudget of memory, whatever the file claims. FuzzRead checks that
// it decodes what the generated decoder does (on uncompressed inputs),
// and the round-trip tests that it reads every field Write writes.

// The header may take at most headerBytesPerByte × the decoded payload +
// headerSlack bytes of memory, and at most Limits.MaxHeaderBytes. Headers
// that writers produce take far less: a node, attribute, tensor or graph
// value that passes the checks made as it is decoded costs at most 9
// bytes of Go memory per byte of msgpack, a string in a list 16 (an empty
// one: a 16-byte string header for one byte). Only elements the format
// lets be empty (a feature, metric or extra entry encoded as an empty
// map, 32 to 80 bytes for one) can exceed the ratio, and then only past
// the slack: beyond some ten thousand of them the file is refused.
const (
	headerBytesPerByte = 16
	headerSlack        = 1 << 20
)

func headerBudget(l *Limits, decoded int64) int64 {
	return min(l.MaxHeaderBytes, headerBytesPerByte*decoded+headerSlack)
}

// maxMapEntries bounds the entries of one struct map (the schema's
// `//msgp:limit maps:` value), maxGraphIO the graph's inputs and outputs,
// maxNodeIO a node's inputs and outputs (the `limit=` tags of schema.go).
const (
	maxMapEntries = 4096
	maxGraphIO    = 4096
	maxNodeIO     = 1024
)

// Smallest encodings of elements that pass the checks made as they are
// decoded: a map header, the keys that must be present and the shortest
// values they accept.
const (
	minAttrBytes  = 1 + 5 + 2 + 5 + 1     // {"name": "x", "kind": 1}
	minNodeBytes  = 1 + 3 + 2 + 4 + 1 + 1 // {"op": "x", "out": [""]}
	minValueBytes = 1 + 5 + 2 + 6 + 1     // {"name": "x", "dtype": 1} (tensor or graph value)
	minFloatBytes = 5                     // float 32
)

// Go sizes of the elements of the header's lists, charged to the budget.
var (
	sizeofString  = int64(unsafe.Sizeof(""))
	sizeofInt64   = int64(unsafe.Sizeof(int64(0)))
	sizeofFloat64 = int64(unsafe.Sizeof(float64(0)))
	sizeofNode    = int64(unsafe.Sizeof(Node{}))
	sizeofAttr    = int64(unsafe.Sizeof(Attr{}))
	sizeofTensor  = int64(unsafe.Sizeof(Tensor{}))
	sizeofValue   = int64(unsafe.Sizeof(ValueInfo{}))
	sizeofFeature = int64(unsafe.Sizeof(Feature{}))
	sizeofMetric  = int64(unsafe.Sizeof(Metric{}))
	sizeofKV      = int64(unsafe.Sizeof(KeyValue{}))
	sizeofQuant   = int64(unsafe.Sizeof(Quant{}))
	sizeofTok     = int64(unsafe.Sizeof(Tokenizer{}))
)

type headerDecoder struct {
	r      *msgp.Reader
	lim    *Limits
	left   func() int64 // decoded payload bytes not yet consumed
	budget int64        // Go memory the header may still take
	maxMem int64        // the budget at the start
	// skipped reports that the last key's value was skipped (unknown).
	skipped bool
	path    []pathElem // where the decoder is, for messages
}

// pathElem is a key (idx < 0) or a list index of the decoder's position.
type pathElem struct {
	key string
	idx int
}

// fail returns an *Error naming the decoder's position.
func (d *headerDecoder) fail(class error, format string, args ...any) error {
	return newErr(class, "header "+d.where(), format, args...)
}

func (d *headerDecoder) where() string {
	s := ""
	for i, p := range d.path {
		switch {
		case p.idx >= 0:
			s += fmt.Sprintf("[%d]", p.idx)
		case i > 0:
			s += "." + p.key
		default:
			s += p.key
		}
	}
	return s
}

func (d *headerDecoder) push(key string) { d.path = append(d.path, pathElem{key: key, idx: -1}) }
func (d *headerDecoder) index(i int)     { d.path = append(d.path, pathElem{idx: i}) }
func (d *headerDecoder) pop()            { d.path = d.path[:len(d.path)-1] }

// msgpErr classes an error of the msgpack reader.
func (d *headerDecoder) msgpErr(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Part: "header " + d.where(), Class: readErrClass(err), Msg: "bad msgpack", Err: err}
}

func (d *headerDecoder) charge(n int64) error {
	if n > d.budget {
		return d.fail(ErrLimit, "the header needs more than %d bytes of memory (at most MaxHeaderBytes, %d, and %d × the payload + %d)",
			d.maxMem, d.lim.MaxHeaderBytes, headerBytesPerByte, headerSlack)
	}
	d.budget -= n
	return nil
}

// list reads an array header and checks its length n against max (the
// limit called limit), the bytes left (minEnc per element) and the
// budget (size per element).
func (d *headerDecoder) list(max int, limit string, minEnc, size int64) (int, error) {
	n, err := d.r.ReadArrayHeader()
	if err != nil {
		return 0, d.msgpErr(err)
	}
	if int64(n) > int64(max) {
		return 0, d.fail(ErrLimit, "%d entries exceed the limit of %d (%s)", n, max, limit)
	}
	if left := d.left(); int64(n)*minEnc > left {
		return 0, d.fail(ErrCorrupt, "claims %d entries; the %d bytes left in the payload cannot hold them", n, left)
	}
	if err := d.charge(int64(n) * size); err != nil {
		return 0, err
	}
	return int(n), nil
}

// fields reads a map header and calls field for every key. A key the
// schema knows may appear once: a second "attrs" or "max_len" is refused
// rather than silently overriding the first.
func (d *headerDecoder) fields(field func(key string) error) error {
	n, err := d.r.ReadMapHeader()
	if err != nil {
		return d.msgpErr(err)
	}
	if n > maxMapEntries {
		return d.fail(ErrLimit, "map of %d entries exceeds the limit of %d", n, maxMapEntries)
	}
	if left := d.left(); 2*int64(n) > left {
		return d.fail(ErrCorrupt, "map claims %d entries; the %d bytes left in the payload cannot hold them", n, left)
	}
	// The known keys seen so far, end to end (a struct has at most 9,
	// none longer than 9 bytes).
	var seen [128]byte
	var ends [16]uint8
	nseen := 0
	for range n {
		k, err := d.r.ReadMapKeyPtr()
		if err != nil {
			return d.msgpErr(err)
		}
		// k points into the reader's buffer, valid until the next read:
		// compare and copy it now, never keep it.
		start := 0
		if nseen > 0 {
			start = int(ends[nseen-1])
		}
		for i, off := 0, 0; i < nseen; i++ {
			if string(seen[off:ends[i]]) == string(k) {
				return d.fail(ErrCorrupt, "key %q appears twice", k)
			}
			off = int(ends[i])
		}
		fits := nseen < len(ends) && start+len(k) <= len(seen)
		if fits {
			copy(seen[start:], k)
		}
		d.skipped = false
		if err := field(msgp.UnsafeString(k)); err != nil {
			return err
		}
		if fits && !d.skipped {
			ends[nseen] = uint8(start + len(k))
			nseen++
		}
	}
	return nil
}

// values decodes n small elements (strings, numbers: at most 16 bytes of
// Go memory per byte of msgpack, within the header budget) into a slice
// made at its final length.
func values[T any](d *headerDecoder, n int, elem func(*T) error) ([]T, error) {
	s := make([]T, n)
	for i := range s {
		if err := elem(&s[i]); err != nil {
			d.index(i)
			return nil, err
		}
	}
	return s, nil
}

// listOf decodes n structs with elem into a slice that grows as they
// arrive (up to exactly n): a struct costs up to 128 bytes of Go memory
// for one byte of msgpack, so a list whose elements turn out to be bad
// costs what was decoded, not what was claimed.
func listOf[T any](d *headerDecoder, n int, elem func(*T) error) ([]T, error) {
	s := make([]T, 0, min(n, 256))
	for i := range n {
		if len(s) == cap(s) {
			t := make([]T, len(s), min(n, 2*cap(s)))
			copy(t, s)
			s = t
		}
		s = s[:i+1]
		d.index(i)
		if err := elem(&s[i]); err != nil {
			return nil, err
		}
		d.pop()
	}
	return s, nil
}

// skip skips the value of a key the schema does not know.
func (d *headerDecoder) skip() error {
	d.skipped = true
	if err := d.r.Skip(); err != nil {
		return d.msgpErr(err)
	}
	return nil
}

func (d *headerDecoder) str(dst *string) error {
	s, err := d.r.ReadString()
	if err != nil {
		return d.msgpErr(err)
	}
	*dst = s
	return d.charge(int64(len(s)))
}

func (d *headerDecoder) strs(dst *[]string, max int, limit string) error {
	n, err := d.list(max, limit, 1, sizeofString)
	if err != nil {
		return err
	}
	*dst, err = values(d, n, d.str)
	return err
}

func (d *headerDecoder) ints(dst *[]int64, max int, limit string) error {
	n, err := d.list(max, limit, 1, sizeofInt64)
	if err != nil {
		return err
	}
	*dst, err = values(d, n, d.i64)
	return err
}

func (d *headerDecoder) u8(dst *uint8) (err error) {
	if *dst, err = d.r.ReadUint8(); err != nil {
		return d.msgpErr(err)
	}
	return nil
}

func (d *headerDecoder) i64(dst *int64) (err error) {
	if *dst, err = d.r.ReadInt64(); err != nil {
		return d.msgpErr(err)
	}
	return nil
}

func (d *headerDecoder) f64(dst *float64) (err error) {
	if *dst, err = d.r.ReadFloat64(); err != nil {
		return d.msgpErr(err)
	}
	return nil
}

// isNil reports whether the next object is nil (and consumes it).
func (d *headerDecoder) isNil() (bool, error) {
	if !d.r.IsNil() {
		return false, nil
	}
	if err := d.r.ReadNil(); err != nil {
		return false, d.msgpErr(err)
	}
	return true, nil
}

// model decodes the header map into m.
func (d *headerDecoder) model(m *Model) error {
	return d.fields(func(k string) error {
		switch k {
		case "graph":
			d.push("graph")
			defer d.pop()
			return d.graph(&m.Graph)
		case "tensors":
			d.push("tensors")
			defer d.pop()
			n, err := d.list(d.lim.MaxTensors, "MaxTensors", minValueBytes, sizeofTensor)
			if err != nil {
				return err
			}
			m.Tensors, err = listOf(d, n, d.tensor)
			return err
		case "meta":
			d.push("meta")
			defer d.pop()
			return d.metadata(&m.Metadata)
		}
		return d.skip()
	})
}

func (d *headerDecoder) graph(g *Graph) error {
	return d.fields(func(k string) error {
		switch k {
		case "inputs", "outputs":
			d.push(k)
			defer d.pop()
			n, err := d.list(maxGraphIO, "graph inputs or outputs", minValueBytes, sizeofValue)
			if err != nil {
				return err
			}
			vs, err := listOf(d, n, d.value)
			if err != nil {
				return err
			}
			if k == "inputs" {
				g.Inputs = vs
			} else {
				g.Outputs = vs
			}
			return nil
		case "nodes":
			d.push("nodes")
			defer d.pop()
			n, err := d.list(d.lim.MaxNodes, "MaxNodes", minNodeBytes, sizeofNode)
			if err != nil {
				return err
			}
			g.Nodes, err = listOf(d, n, d.node)
			return err
		}
		return d.skip()
	})
}

func (d *headerDecoder) value(v *ValueInfo) error {
	err := d.fields(func(k string) error {
		switch k {
		case "name":
			return d.str(&v.Name)
		case "dtype":
			return d.u8((*uint8)(&v.DType))
		case "shape":
			return d.ints(&v.Shape, d.lim.MaxDims, "MaxDims")
		}
		return d.skip()
	})
	if err != nil {
		return err
	}
	// Checked here as well as in validate, so that every value counted
	// against the payload holds at least minValueBytes.
	if v.Name == "" || !v.DType.Valid() {
		return d.fail(ErrCorrupt, "value without a name or with unknown dtype %d", uint8(v.DType))
	}
	return nil
}

func (d *headerDecoder) node(n *Node) error {
	err := d.fields(func(k string) error {
		switch k {
		case "name":
			return d.str(&n.Name)
		case "op":
			return d.str(&n.Op)
		case "in":
			return d.strs(&n.Inputs, maxNodeIO, "node inputs")
		case "out":
			return d.strs(&n.Outputs, maxNodeIO, "node outputs")
		case "attrs":
			d.push("attrs")
			defer d.pop()
			c, err := d.list(d.lim.MaxAttrs, "MaxAttrs", minAttrBytes, sizeofAttr)
			if err != nil {
				return err
			}
			n.Attrs, err = listOf(d, c, d.attr)
			return err
		}
		return d.skip()
	})
	if err != nil {
		return err
	}
	if n.Op == "" || len(n.Outputs) == 0 {
		return d.fail(ErrCorrupt, "node %q without an op or outputs", n.Name)
	}
	return nil
}

func (d *headerDecoder) attr(a *Attr) error {
	err := d.fields(func(k string) error {
		switch k {
		case "name":
			return d.str(&a.Name)
		case "kind":
			return d.u8((*uint8)(&a.Kind))
		case "i":
			return d.i64(&a.Int)
		case "f":
			return d.f64(&a.Float)
		case "s":
			return d.str(&a.String)
		case "is":
			return d.ints(&a.Ints, d.lim.MaxListLen, "MaxListLen")
		case "fs":
			c, err := d.list(d.lim.MaxListLen, "MaxListLen", minFloatBytes, sizeofFloat64)
			if err != nil {
				return err
			}
			a.Floats, err = values(d, c, d.f64)
			return err
		case "ss":
			return d.strs(&a.Strings, d.lim.MaxListLen, "MaxListLen")
		}
		return d.skip()
	})
	if err != nil {
		return err
	}
	if a.Name == "" || a.Kind < AttrInt || a.Kind > AttrStrings {
		return d.fail(ErrCorrupt, "attribute %q without a name or with unknown kind %d", a.Name, uint8(a.Kind))
	}
	return nil
}

func (d *headerDecoder) tensor(t *Tensor) error {
	err := d.fields(func(k string) error {
		switch k {
		case "name":
			return d.str(&t.Name)
		case "dtype":
			return d.u8((*uint8)(&t.DType))
		case "shape":
			return d.ints(&t.Shape, d.lim.MaxDims, "MaxDims")
		case "quant":
			isNil, err := d.isNil()
			if isNil || err != nil {
				t.Quant = nil
				return err
			}
			if err := d.charge(sizeofQuant); err != nil {
				return err
			}
			t.Quant = new(Quant)
			return d.quant(t.Quant)
		}
		return d.skip()
	})
	if err != nil {
		return err
	}
	if t.Name == "" || t.DType.Size() == 0 {
		return d.fail(ErrCorrupt, "tensor %q without a name or with unknown dtype %d", t.Name, uint8(t.DType))
	}
	return nil
}

func (d *headerDecoder) quant(q *Quant) error {
	// One scale and zero point per channel: at most MaxDimSize.
	maxCh := int(min(d.lim.MaxDimSize, 1<<31-1))
	return d.fields(func(k string) error {
		switch k {
		case "scheme":
			return d.u8((*uint8)(&q.Scheme))
		case "axis":
			var err error
			if q.Axis, err = d.r.ReadInt32(); err != nil {
				return d.msgpErr(err)
			}
			return nil
		case "scales":
			n, err := d.list(maxCh, "MaxDimSize", minFloatBytes, 4)
			if err != nil {
				return err
			}
			q.Scales, err = values(d, n, func(f *float32) (err error) {
				if *f, err = d.r.ReadFloat32(); err != nil {
					return d.msgpErr(err)
				}
				return nil
			})
			return err
		case "zps":
			n, err := d.list(maxCh, "MaxDimSize", 1, 4)
			if err != nil {
				return err
			}
			q.ZeroPoints, err = values(d, n, func(z *int32) (err error) {
				if *z, err = d.r.ReadInt32(); err != nil {
					return d.msgpErr(err)
				}
				return nil
			})
			return err
		}
		return d.skip()
	})
}

func (d *headerDecoder) metadata(md *Metadata) error {
	return d.fields(func(k string) error {
		switch k {
		case "task":
			return d.str(&md.Task)
		case "labels":
			d.push("labels")
			defer d.pop()
			return d.strs(&md.Labels, d.lim.MaxListLen, "MaxListLen")
		case "tokenizer":
			d.push("tokenizer")
			defer d.pop()
			isNil, err := d.isNil()
			if isNil || err != nil {
				md.Tokenizer = nil
				return err
			}
			if err := d.charge(sizeofTok); err != nil {
				return err
			}
			md.Tokenizer = new(Tokenizer)
			return d.tokenizer(md.Tokenizer)
		case "features":
			d.push("features")
			defer d.pop()
			n, err := d.list(d.lim.MaxListLen, "MaxListLen", 1, sizeofFeature)
			if err != nil {
				return err
			}
			md.Features, err = listOf(d, n, d.feature)
			return err
		case "metrics":
			d.push("metrics")
			defer d.pop()
			n, err := d.list(d.lim.MaxListLen, "MaxListLen", 1, sizeofMetric)
			if err != nil {
				return err
			}
			md.Metrics, err = listOf(d, n, func(mt *Metric) error {
				return d.fields(func(k string) error {
					switch k {
					case "name":
						return d.str(&mt.Name)
					case "split":
						return d.str(&mt.Split)
					case "variant":
						return d.str(&mt.Variant)
					case "value":
						return d.f64(&mt.Value)
					}
					return d.skip()
				})
			})
			return err
		case "producer":
			return d.fields(func(k string) error {
				switch k {
				case "name":
					return d.str(&md.Producer.Name)
				case "version":
					return d.str(&md.Producer.Version)
				}
				return d.skip()
			})
		case "data_fp":
			return d.str(&md.DataFingerprint)
		case "extra":
			d.push("extra")
			defer d.pop()
			n, err := d.list(d.lim.MaxListLen, "MaxListLen", 1, sizeofKV)
			if err != nil {
				return err
			}
			md.Extra, err = listOf(d, n, func(kv *KeyValue) error {
				return d.fields(func(k string) error {
					switch k {
					case "k":
						return d.str(&kv.Key)
					case "v":
						return d.str(&kv.Value)
					}
					return d.skip()
				})
			})
			return err
		}
		return d.skip()
	})
}

func (d *headerDecoder) tokenizer(t *Tokenizer) error {
	return d.fields(func(k string) error {
		switch k {
		case "kind":
			return d.str(&t.Kind)
		case "lower":
			var err error
			if t.Lowercase, err = d.r.ReadBool(); err != nil {
				return d.msgpErr(err)
			}
			return nil
		case "max_len":
			return d.i64(&t.MaxLen)
		case "vocab":
			return d.strs(&t.Vocab, d.lim.MaxListLen, "MaxListLen")
		case "unk":
			return d.str(&t.Unknown)
		case "pad":
			return d.str(&t.Padding)
		case "ngram_min":
			return d.i64(&t.NgramMin)
		case "ngram_max":
			return d.i64(&t.NgramMax)
		case "buckets":
			return d.i64(&t.Buckets)
		}
		return d.skip()
	})
}

func (d *headerDecoder) feature(f *Feature) error {
	return d.fields(func(k string) error {
		switch k {
		case "name":
			return d.str(&f.Name)
		case "kind":
			return d.str(&f.Kind)
		case "mean":
			return d.f64(&f.Mean)
		case "std":
			return d.f64(&f.Std)
		case "impute":
			return d.f64(&f.Impute)
		case "cats":
			d.push("cats")
			defer d.pop()
			return d.strs(&f.Categories, d.lim.MaxListLen, "MaxListLen")
		}
		return d.skip()
	})
}
