package formattest

import (
	"bytes"
	"crypto/ed25519"
	"io"

	"github.com/edgerun/edgerun/format"
	"github.com/klauspost/compress/zstd"
	"github.com/tinylib/msgp/msgp"
)

// Case is a deliberately broken file and the error class a reader must
// return for it (one of format's Err* sentinels).
type Case struct {
	Name string
	Data []byte
	Want error
}

// Corrupt returns broken files, one per rule of SPEC.md a reader must
// enforce. Each is small; none needs more than a few KiB to reject.
func Corrupt() []Case {
	tiny := Tiny()
	good := File(tiny)
	body := Body(tiny)
	raw := func(mut func(*format.Model)) []byte {
		m := Tiny()
		mut(m)
		return Raw{Codec: format.CodecZstd, Body: Body(m)}.Bytes()
	}
	flip := func(b []byte, i int) []byte {
		b = bytes.Clone(b)
		b[i] ^= 0x40
		return b
	}
	cases := []Case{
		{"empty", nil, format.ErrCorrupt},
		{"bad-magic", append([]byte("PK\x03\x04not a model"), good[18:]...), format.ErrCorrupt},
		{"text-mode-transfer", bytes.Replace(good, []byte("\r\n"), []byte("\n"), 1), format.ErrCorrupt},
		{"future-major", Raw{Major: 2, Codec: format.CodecZstd, Body: body}.Bytes(), format.ErrVersion},
		{"unknown-codec", Raw{Codec: 9, Body: body, Stored: body}.Bytes(), format.ErrCorrupt},
		{"short-preamble-length", func() []byte { b := bytes.Clone(good); b[12] = 20; return b }(), format.ErrCorrupt},
		{"checksum-payload-byte", flip(good, len(good)/2), format.ErrChecksum},
		{"checksum-field", flip(good, 47), format.ErrChecksum},
		{"checksum-reserved", flip(good, 33), format.ErrChecksum},
		{"truncated-preamble", good[:30], format.ErrCorrupt},
		{"truncated-payload", good[:len(good)-10], format.ErrCorrupt},
		{"trailing-data", append(bytes.Clone(good), 0), format.ErrCorrupt},
		{"decoded-size-over-limit", Raw{Codec: format.CodecZstd, Body: body, DeclaredDecoded: 1 << 40}.Bytes(), format.ErrLimit},
		{"decoded-size-too-small", Raw{Codec: format.CodecZstd, Body: body, DeclaredDecoded: uint64(len(body) - 1)}.Bytes(), format.ErrCorrupt},
		{"decoded-size-too-large", Raw{Codec: format.CodecZstd, Body: body, DeclaredDecoded: uint64(len(body) + 1)}.Bytes(), format.ErrCorrupt},
		{"stored-size-impossible", Raw{Codec: format.CodecNone, Body: body, Stored: append(bytes.Clone(body), 0)}.Bytes(), format.ErrCorrupt},
		{"not-msgpack", Raw{Codec: format.CodecZstd, Body: []byte("\xc1\xc1\xc1 definitely not msgpack")}.Bytes(), format.ErrCorrupt},
		{"zstd-garbage", Raw{Codec: format.CodecZstd, Body: body, Stored: []byte("\x28\xb5\x2f\xfd garbage frame")}.Bytes(), format.ErrCorrupt},
		{"s2-garbage", Raw{Codec: format.CodecS2, Body: body, Stored: []byte("\xff\x06\x00\x00S2sTwO garbage")}.Bytes(), format.ErrCorrupt},
		{"tensor-data-short", func() []byte {
			m := Tiny()
			m.Tensors[0].Data = m.Tensors[0].Data[:5]
			return Raw{Codec: format.CodecZstd, Body: Body(m)}.Bytes()
		}(), format.ErrCorrupt},
		{"tensor-negative-dim", raw(func(m *format.Model) { m.Tensors[1].Shape = []int64{-8} }), format.ErrCorrupt},
		{"tensor-unknown-dtype", raw(func(m *format.Model) { m.Tensors[1].DType = 42 }), format.ErrCorrupt},
		{"tensor-too-many-dims", raw(func(m *format.Model) { m.Tensors[1].Shape = []int64{1, 1, 1, 1, 1, 1, 1, 1, 1, 8} }), format.ErrLimit},
		{"tensor-shape-overflow", raw(func(m *format.Model) { m.Tensors[1].Shape = []int64{1 << 40, 1 << 40} }), format.ErrLimit},
		{"tensor-duplicate-name", raw(func(m *format.Model) { m.Tensors[1].Name = m.Tensors[0].Name }), format.ErrCorrupt},
		{"quant-wrong-scale-count", raw(func(m *format.Model) { m.Tensors[0].Quant.Scales = m.Tensors[0].Quant.Scales[:3] }), format.ErrCorrupt},
		{"quant-negative-scale", raw(func(m *format.Model) { m.Tensors[0].Quant.Scales[0] = -1 }), format.ErrCorrupt},
		{"quant-bad-axis", raw(func(m *format.Model) { m.Tensors[0].Quant.Axis = 5 }), format.ErrCorrupt},
		{"graph-unknown-input", raw(func(m *format.Model) { m.Graph.Nodes[1].Inputs[0] = "nowhere" }), format.ErrCorrupt},
		{"graph-use-before-def", raw(func(m *format.Model) {
			m.Graph.Nodes[0], m.Graph.Nodes[1] = m.Graph.Nodes[1], m.Graph.Nodes[0]
		}), format.ErrCorrupt},
		{"graph-output-undefined", raw(func(m *format.Model) { m.Graph.Outputs[0].Name = "ghost" }), format.ErrCorrupt},
		{"graph-empty-op", raw(func(m *format.Model) { m.Graph.Nodes[0].Op = "" }), format.ErrCorrupt},
		{"attr-unknown-kind", raw(func(m *format.Model) { m.Graph.Nodes[0].Attrs[0].Kind = 99 }), format.ErrCorrupt},
		{"tokenizer-unknown-kind", raw(func(m *format.Model) { m.Metadata.Tokenizer = &format.Tokenizer{Kind: "bpe-v9"} }), format.ErrCorrupt},
		{"header-huge-array", Raw{Codec: format.CodecZstd, Body: hugeArrayHeader()}.Bytes(), format.ErrLimit},
		{"header-huge-string", Raw{Codec: format.CodecZstd, Body: hugeStringHeader()}.Bytes(), format.ErrLimit},
		{"extra-data-after-tensors", Raw{Codec: format.CodecZstd, Body: append(bytes.Clone(body), 0xc0)}.Bytes(), format.ErrCorrupt},
		{"decompression-bomb", Bomb(64<<20, 1<<20), format.ErrCorrupt},
		{"signed-flag-without-trailer", Raw{Codec: format.CodecZstd, Body: body, Flags: 1}.Bytes(), format.ErrCorrupt},
		{"signature-bad", func() []byte {
			b := Raw{Codec: format.CodecZstd, Body: body, Key: TestKey(1)}.Bytes()
			b[len(b)-1] ^= 1
			return b
		}(), format.ErrSignature},
		{"signature-wrong-embedded-key", func() []byte {
			b := Raw{Codec: format.CodecZstd, Body: body, Key: TestKey(1)}.Bytes()
			copy(b[len(b)-96:], TestKey(2).Public().(ed25519.PublicKey))
			return b
		}(), format.ErrSignature},
	}
	return cases
}

// hugeArrayHeader is a header whose label list claims 2^31 entries.
func hugeArrayHeader() []byte {
	b := msgp.AppendMapHeader(nil, 1)
	b = msgp.AppendString(b, "meta")
	b = msgp.AppendMapHeader(b, 1)
	b = msgp.AppendString(b, "labels")
	return msgp.AppendArrayHeader(b, 1<<31)
}

// hugeStringHeader is a header whose task string claims 1 GiB.
func hugeStringHeader() []byte {
	b := msgp.AppendMapHeader(nil, 1)
	b = msgp.AppendString(b, "meta")
	b = msgp.AppendMapHeader(b, 1)
	b = msgp.AppendString(b, "task")
	b = append(b, 0xdb, 0x40, 0, 0, 0) // str32 of 1 GiB
	return append(b, "only a few bytes follow"...)
}

// Bomb returns a zstd-compressed file a few KiB long whose payload
// expands to expand bytes: a valid header that declares one u8 tensor of
// expand bytes, followed by zeros. The preamble declares declared decoded
// bytes, so a reader must notice the payload outgrowing it without
// decompressing (much) more.
func Bomb(expand, declared int64) []byte {
	m := &format.Model{
		Tensors: []format.Tensor{{Name: "zeros", DType: format.U8, Shape: []int64{expand}}},
		Graph: format.Graph{
			Inputs:  []format.ValueInfo{{Name: "x", DType: format.U8, Shape: []int64{1}}},
			Outputs: []format.ValueInfo{{Name: "zeros", DType: format.U8, Shape: []int64{expand}}},
		},
	}
	hdr, _ := m.MarshalMsg(nil)
	hdr = append(hdr, 0xc6, byte(expand>>24), byte(expand>>16), byte(expand>>8), byte(expand)) // bin32
	var buf bytes.Buffer
	enc, _ := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false))
	_, _ = enc.Write(hdr)
	_, _ = io.Copy(enc, io.LimitReader(zeroReader{}, expand))
	_ = enc.Close()
	return Raw{Codec: format.CodecZstd, Stored: buf.Bytes(), DeclaredDecoded: uint64(declared)}.Bytes()
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
