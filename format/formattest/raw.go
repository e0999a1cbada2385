package formattest

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
	"github.com/edgerun/edgerun/format"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/tinylib/msgp/msgp"
)

// Body returns the msgpack body of m as SPEC.md lays it out: the header
// map, then one bin object per tensor. It does not validate m.
func Body(m *format.Model) []byte {
	b, err := m.MarshalMsg(nil)
	if err != nil {
		panic("formattest: " + err.Error()) // only on unencodable Go values, never from data
	}
	for i := range m.Tensors {
		b = msgp.AppendBytes(b, m.Tensors[i].Data)
	}
	return b
}

// Raw describes a container to assemble byte by byte, following SPEC.md
// rather than format's writer. The zero value of every override field
// means "what a correct writer would put there".
type Raw struct {
	Major uint16 // zero means format.Major
	Minor uint16
	Codec format.Codec
	Body  []byte // decoded payload (see Body)
	// Stored replaces the compressed payload (Codec is still written).
	Stored []byte
	// Extra bytes inserted into the preamble before the checksum, the
	// way a future minor version may grow it.
	PreambleExtra []byte
	Flags         uint8
	// DeclaredDecoded, when non-zero, replaces the decoded size field.
	DeclaredDecoded uint64
	// Key signs the file (sets the signed flag).
	Key ed25519.PrivateKey
	// Trailer replaces the signature trailer when non-nil.
	Trailer []byte
}

// Compress returns body compressed with codec, as a writer would store it.
func Compress(codec format.Codec, body []byte) []byte {
	switch codec {
	case format.CodecZstd:
		enc, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false), zstd.WithAllLitEntropyCompression(true))
		return enc.EncodeAll(body, nil)
	case format.CodecS2:
		var buf bytes.Buffer
		w := s2.NewWriter(&buf)
		_, _ = w.Write(body)
		_ = w.Close()
		return buf.Bytes()
	}
	return bytes.Clone(body)
}

// Bytes assembles the file.
func (r Raw) Bytes() []byte {
	major, minor := r.Major, r.Minor
	if major == 0 {
		major = format.Major
	}
	stored := r.Stored
	if stored == nil {
		stored = Compress(r.Codec, r.Body)
	}
	decoded := uint64(len(r.Body))
	if r.DeclaredDecoded != 0 {
		decoded = r.DeclaredDecoded
	}
	flags := r.Flags
	if r.Key != nil {
		flags |= 1
	}
	plen := 48 + len(r.PreambleExtra)
	pre := make([]byte, 40, plen)
	copy(pre, format.Magic)
	binary.LittleEndian.PutUint16(pre[8:], major)
	binary.LittleEndian.PutUint16(pre[10:], minor)
	binary.LittleEndian.PutUint16(pre[12:], uint16(plen))
	pre[14] = byte(r.Codec)
	pre[15] = flags
	binary.LittleEndian.PutUint64(pre[16:], uint64(len(stored)))
	binary.LittleEndian.PutUint64(pre[24:], decoded)
	pre = append(pre, r.PreambleExtra...)
	h := xxhash.New()
	_, _ = h.Write(stored)
	_, _ = h.Write(pre)
	pre = binary.LittleEndian.AppendUint64(pre, h.Sum64())

	out := append(pre, stored...)
	switch {
	case r.Trailer != nil:
		out = append(out, r.Trailer...)
	case r.Key != nil:
		d := sha512.New()
		_, _ = d.Write(stored)
		_, _ = d.Write(pre)
		sig, err := r.Key.Sign(nil, d.Sum(nil), &ed25519.Options{Hash: crypto.SHA512, Context: "edgerun/erm/v1"})
		if err != nil {
			panic("formattest: " + err.Error())
		}
		out = append(out, r.Key.Public().(ed25519.PublicKey)...)
		out = append(out, sig...)
	}
	return out
}

// File returns m written by format.Write with opts, panicking on error
// (for tests: m must be valid).
func File(m *format.Model, opts ...format.Option) []byte {
	var buf bytes.Buffer
	if err := format.Write(&buf, m, opts...); err != nil {
		panic("formattest: " + err.Error())
	}
	return buf.Bytes()
}

// TestKey returns a fixed ed25519 key derived from seed, for reproducible
// signed test files. Never use it for anything real.
func TestKey(seed byte) ed25519.PrivateKey {
	s := make([]byte, ed25519.SeedSize)
	for i := range s {
		s[i] = seed + byte(i)
	}
	return ed25519.NewKeyFromSeed(s)
}

// Reseal returns a copy of file with its checksum recomputed over its
// payload and preamble as they are, so that a mutated file (a fuzzer's)
// passes the checksum and reaches the decoder. A file too short to hold
// its preamble and payload is returned as it is. A signature is left
// alone (a signed file whose bytes changed fails its signature).
func Reseal(file []byte) []byte {
	if len(file) < 48 {
		return file
	}
	plen := int(binary.LittleEndian.Uint16(file[12:]))
	stored := binary.LittleEndian.Uint64(file[16:])
	if plen < 48 || plen > len(file) || stored > uint64(len(file)-plen) {
		return file
	}
	out := bytes.Clone(file)
	h := xxhash.New()
	_, _ = h.Write(out[plen : plen+int(stored)])
	_, _ = h.Write(out[:plen-8])
	binary.LittleEndian.PutUint64(out[plen-8:], h.Sum64())
	return out
}
