package formattest

import (
	"bytes"
	"fmt"
	"math"

	"github.com/edgerun/edgerun/format"
	"github.com/klauspost/compress/zstd"
	"github.com/tinylib/msgp/msgp"
)

// Hostile returns small files whose decoding once cost far more than
// their size: header lists that expand a few KiB into gigabytes of Go
// values, a quadratic duplicate check, a tokenizer length that makes a
// runtime allocate gigabytes, a tensor far larger than the file. Want is
// the error class a reader must return, or nil for a file it must accept
// (at a cost proportional to the file's decoded size). Each file is built
// in memory in well under a second.
func Hostile() []Case {
	var cases []Case
	add := func(name string, data []byte, want error) {
		cases = append(cases, Case{Name: name, Data: data, Want: want})
	}
	bomb := AttrMapBomb(65536, 1024)
	add("attr-maps-65536x1024", bomb, format.ErrLimit)
	bad := bytes.Clone(bomb)
	bad[47] ^= 0x01 // the last byte of the checksum field
	add("attr-maps-65536x1024-bad-checksum", bad, format.ErrChecksum)
	add("attr-maps-65536x64", AttrMapBomb(65536, 64), format.ErrCorrupt)
	add("category-list-1M", CategoryList(1<<20, 1), nil)
	add("category-list-over-limit", CategoryList(format.DefaultMaxListLen+1, 1), format.ErrLimit)
	add("category-list-1M-x200B", CategoryList(1<<20, 200), format.ErrLimit)
	add("attrs-1024-long-names", LongAttrNames(1024, 16<<10), format.ErrLimit)
	add("nodes-over-limit", NodeCount(format.DefaultMaxNodes+1), format.ErrLimit)
	add("tokenizer-max-len-2^31-1", File(TextMaxLen(math.MaxInt32), format.WithoutValidation()), format.ErrLimit)
	add("unused-tensor-1GiB", UnusedTensor(1<<30, 0), format.ErrLimit)
	add("unused-tensor-1GiB-lying-preamble", UnusedTensor(1<<30, 1<<20), format.ErrLimit)
	add("tensor-dim-over-limit", Raw{Codec: format.CodecZstd, Body: Body(func() *format.Model {
		m := Tiny()
		m.Tensors = append(m.Tensors, format.Tensor{Name: "wide", DType: format.U8, Shape: []int64{0, format.DefaultMaxDimSize + 1}})
		return m
	}())}.Bytes(), format.ErrLimit)
	return cases
}

// AttrMapBomb is a zstd file whose header holds nodes nodes, each with
// attrs empty attribute maps (one byte each): 65,536 × 1,024 is about
// 64 MiB of msgpack in a file of tens of KiB, and used to decode into
// 8 GiB of Go values before any check ran.
func AttrMapBomb(nodes, attrs int) []byte {
	var pre []byte
	pre = msgp.AppendMapHeader(pre, 1)
	pre = msgp.AppendString(pre, "graph")
	pre = msgp.AppendMapHeader(pre, 1)
	pre = msgp.AppendString(pre, "nodes")
	pre = msgp.AppendArrayHeader(pre, uint32(nodes))
	var node []byte
	node = msgp.AppendMapHeader(node, 1)
	node = msgp.AppendString(node, "attrs")
	node = msgp.AppendArrayHeader(node, uint32(attrs))
	for range attrs {
		node = msgp.AppendMapHeader(node, 0)
	}
	return zstdRepeat(pre, node, nodes, nil, 0)
}

// CategoryList is Tiny with one categorical feature of n categories of
// size bytes each (all equal): n = 2^20 of 200 bytes is 200 MiB of
// strings in a file of a few KiB.
func CategoryList(n, size int) []byte {
	m := Tiny()
	hdr, err := m.MarshalMsg(nil)
	if err != nil {
		panic("formattest: " + err.Error())
	}
	// Replace the header's metadata by one with the feature; msgp writes
	// struct fields in schema order, so "meta" is the last key.
	i := bytes.LastIndex(hdr, []byte("\xa4meta"))
	if i < 0 {
		panic("formattest: no meta key in the header")
	}
	var pre []byte
	pre = append(pre, hdr[:i]...)
	pre = msgp.AppendString(pre, "meta")
	pre = msgp.AppendMapHeader(pre, 3)
	pre = msgp.AppendString(pre, "task")
	pre = msgp.AppendString(pre, m.Metadata.Task)
	pre = msgp.AppendString(pre, "labels")
	pre = msgp.AppendArrayHeader(pre, uint32(len(m.Metadata.Labels)))
	for _, l := range m.Metadata.Labels {
		pre = msgp.AppendString(pre, l)
	}
	pre = msgp.AppendString(pre, "features")
	pre = msgp.AppendArrayHeader(pre, 1)
	pre = msgp.AppendMapHeader(pre, 3)
	pre = msgp.AppendString(pre, "name")
	pre = msgp.AppendString(pre, "grade")
	pre = msgp.AppendString(pre, "kind")
	pre = msgp.AppendString(pre, "categorical")
	pre = msgp.AppendString(pre, "cats")
	pre = msgp.AppendArrayHeader(pre, uint32(n))
	var suffix []byte
	for i := range m.Tensors {
		suffix = msgp.AppendBytes(suffix, m.Tensors[i].Data)
	}
	return zstdRepeat(pre, msgp.AppendString(nil, string(bytes.Repeat([]byte{'c'}, size))), n, suffix, 0)
}

// LongAttrNames is Tiny whose softmax node carries attrs attributes with
// distinct names of nameLen bytes that share all but their last 8 bytes:
// a pairwise duplicate check compares attrs²/2 × nameLen bytes.
func LongAttrNames(attrs, nameLen int) []byte {
	m := Tiny()
	n := &m.Graph.Nodes[2]
	prefix := bytes.Repeat([]byte{'a'}, nameLen-8)
	n.Attrs = n.Attrs[:0]
	for i := range attrs {
		n.Attrs = append(n.Attrs, format.Attr{Name: fmt.Sprintf("%s%08d", prefix, i), Kind: format.AttrInt, Int: -1})
	}
	return File(m, format.WithoutValidation(), format.WithLevel(1))
}

// NodeCount is a header whose graph claims n nodes, each an empty map.
func NodeCount(n int) []byte {
	var pre []byte
	pre = msgp.AppendMapHeader(pre, 1)
	pre = msgp.AppendString(pre, "graph")
	pre = msgp.AppendMapHeader(pre, 1)
	pre = msgp.AppendString(pre, "nodes")
	pre = msgp.AppendArrayHeader(pre, uint32(n))
	return zstdRepeat(pre, msgp.AppendMapHeader(nil, 0), n, nil, 0)
}

// Text returns a valid text classifier: token ids [-1,-1] → Embedding →
// masked mean → Sigmoid, with a word tokenizer of maxLen (0: none).
func Text() *format.Model { return TextMaxLen(8) }

// TextMaxLen is Text with the tokenizer's max_len set to maxLen.
func TextMaxLen(maxLen int64) *format.Model {
	attr := func(name string, v int64) format.Attr { return format.Attr{Name: name, Kind: format.AttrInt, Int: v} }
	return &format.Model{
		Graph: format.Graph{
			Inputs:  []format.ValueInfo{{Name: "ids", DType: format.I64, Shape: []int64{-1, -1}}},
			Outputs: []format.ValueInfo{{Name: "p", DType: format.F32, Shape: []int64{-1, 1}}},
			Nodes: []format.Node{
				{Name: "emb", Op: "Embedding", Inputs: []string{"ids", "table"}, Outputs: []string{"e"}},
				{Name: "mask", Op: "PadMask", Inputs: []string{"ids"}, Outputs: []string{"m"}, Attrs: []format.Attr{attr("pad", 0)}},
				{Name: "pool", Op: "SeqPool", Inputs: []string{"e", "m"}, Outputs: []string{"pooled"},
					Attrs: []format.Attr{{Name: "mode", Kind: format.AttrString, String: "mean"}}},
				{Name: "sig", Op: "Sigmoid", Inputs: []string{"pooled"}, Outputs: []string{"p"}},
			},
		},
		Tensors: []format.Tensor{format.NewF32("table", []int64{5, 1}, []float32{0, 0, 4, -4, 0})},
		Metadata: format.Metadata{
			Task: "text-classification", Labels: []string{"bad", "good"},
			Tokenizer: &format.Tokenizer{Kind: "word", Lowercase: true, MaxLen: maxLen,
				Vocab: []string{"<pad>", "<unk>", "good", "bad", "phone"}, Unknown: "<unk>", Padding: "<pad>"},
			Producer: format.Producer{Name: "formattest", Version: "1"},
		},
	}
}

// UnusedTensor is Tiny plus one u8 tensor of size bytes of zeros that no
// node uses, stored as zstd frames of a few dozen bytes per MiB: a 1 GiB
// tensor makes a file of about 100 KiB. declared, when non-zero,
// replaces the decoded size in the preamble (a lie).
func UnusedTensor(size int64, declared uint64) []byte {
	m := Tiny()
	m.Tensors = append(m.Tensors, format.Tensor{Name: "unused", DType: format.U8, Shape: []int64{size}})
	hdr, err := m.MarshalMsg(nil)
	if err != nil {
		panic("formattest: " + err.Error())
	}
	for i := range m.Tensors[:len(m.Tensors)-1] {
		hdr = msgp.AppendBytes(hdr, m.Tensors[i].Data)
	}
	hdr = append(hdr, 0xc6, byte(size>>24), byte(size>>16), byte(size>>8), byte(size)) // bin32
	const unit = 1 << 20
	if size%unit != 0 {
		panic("formattest: UnusedTensor size must be a multiple of 1 MiB")
	}
	return zstdRepeat(hdr, make([]byte, unit), int(size/unit), nil, declared)
}

// zstdRepeat assembles a zstd file whose decoded payload is prefix, then
// unit n times, then suffix. It compresses each part once and repeats
// the frames (a payload may hold several zstd frames, SPEC.md section
// 3), so a payload of gigabytes costs milliseconds to build.
func zstdRepeat(prefix, unit []byte, n int, suffix []byte, declared uint64) []byte {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false), zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		panic("formattest: " + err.Error())
	}
	defer enc.Close()
	// Group units into chunks of about 1 MiB, compressed once.
	per := max(1, min(n, (1<<20)/max(1, len(unit))))
	chunk := bytes.Repeat(unit, per)
	var stored []byte
	stored = enc.EncodeAll(prefix, stored)
	cf := enc.EncodeAll(chunk, nil)
	for left := n; left > 0; left -= per {
		if left < per {
			stored = enc.EncodeAll(bytes.Repeat(unit, left), stored)
			break
		}
		stored = append(stored, cf...)
	}
	if len(suffix) > 0 {
		stored = enc.EncodeAll(suffix, stored)
	}
	decoded := uint64(len(prefix)) + uint64(n)*uint64(len(unit)) + uint64(len(suffix))
	if declared != 0 {
		decoded = declared
	}
	return Raw{Codec: format.CodecZstd, Stored: stored, DeclaredDecoded: decoded}.Bytes()
}
