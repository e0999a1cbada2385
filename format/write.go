package format

import (
	"bytes"
	"cmp"
	"crypto"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"slices"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/tinylib/msgp/msgp"
)

// signatureContext domain-separates edgerun model signatures (Ed25519ph
// with context, RFC 8032 section 5.1).
const signatureContext = "edgerun/erm/v1"

// Write encodes m as an .erm file onto w. The payload is compressed into
// memory first (the preamble states its size), so Write holds one
// compressed copy of the model; WriteFile streams instead.
func Write(w io.Writer, m *Model, opts ...Option) error {
	o := collect(opts)
	if err := prepare(m, &o); err != nil {
		return err
	}
	// Size the buffer once: the payload is at most about the tensor data
	// plus the header (compression only shrinks weights, or grows them a
	// little when they are random).
	var buf bytes.Buffer
	var size int64
	for i := range m.Tensors {
		size += int64(len(m.Tensors[i].Data)) + 5
	}
	buf.Grow(int(min(size+size/64, 1<<31)) + m.Msgsize())
	pw := newPayloadWriter(&buf, o.signingKey != nil)
	res, err := writeBody(pw, m, &o)
	if err != nil {
		return err
	}
	pre, trailer, err := finish(pw, res, &o)
	if err != nil {
		return err
	}
	for _, b := range [][]byte{pre, buf.Bytes(), trailer} {
		if _, err := w.Write(b); err != nil {
			return wrapErr(nil, "", err, "write")
		}
	}
	return nil
}

// prepare validates m and checks the write options.
func prepare(m *Model, o *options) error {
	switch o.codec {
	case CodecNone, CodecZstd, CodecS2:
	default:
		return fmt.Errorf("format: unknown codec %d", uint8(o.codec))
	}
	if o.level < 0 || o.level > 4 {
		return fmt.Errorf("format: compression level %d out of range 0..4", o.level)
	}
	if o.signingKey != nil && len(o.signingKey) != ed25519.PrivateKeySize {
		return fmt.Errorf("format: signing key is %d bytes, want %d", len(o.signingKey), ed25519.PrivateKeySize)
	}
	if o.skipValidate {
		return nil
	}
	return m.validate(o, true)
}

// payloadWriter counts and hashes the stored payload bytes on their way
// to the file: xxhash64 always, SHA-512 when the file is to be signed.
type payloadWriter struct {
	w   io.Writer
	n   int64
	xx  *xxhash.Digest
	sha hash.Hash
}

func newPayloadWriter(w io.Writer, signed bool) *payloadWriter {
	p := &payloadWriter{w: w, xx: xxhash.New()}
	if signed {
		p.sha = sha512.New()
	}
	return p
}

func (p *payloadWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.n += int64(n)
	_, _ = p.xx.Write(b[:n])
	if p.sha != nil {
		_, _ = p.sha.Write(b[:n])
	}
	return n, err
}

type bodyResult struct {
	codec   Codec
	decoded int64
}

// countWriter counts the decoded payload bytes.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// canonical returns a shallow copy of m whose attribute and extra lists
// are sorted, so equal models give equal bytes.
func canonical(m *Model) *Model {
	c := *m
	c.Graph.Nodes = slices.Clone(m.Graph.Nodes)
	for i := range c.Graph.Nodes {
		n := &c.Graph.Nodes[i]
		if !slices.IsSortedFunc(n.Attrs, cmpAttr) {
			n.Attrs = slices.Clone(n.Attrs)
			slices.SortStableFunc(n.Attrs, cmpAttr)
		}
	}
	if !slices.IsSortedFunc(m.Metadata.Extra, cmpKV) {
		c.Metadata.Extra = slices.Clone(m.Metadata.Extra)
		slices.SortStableFunc(c.Metadata.Extra, cmpKV)
	}
	return &c
}

func cmpAttr(a, b Attr) int   { return cmp.Compare(a.Name, b.Name) }
func cmpKV(a, b KeyValue) int { return cmp.Compare(a.Key, b.Key) }
func zstdLevel(l int) zstd.EncoderLevel {
	switch l {
	case 1:
		return zstd.SpeedFastest
	case 3:
		return zstd.SpeedBetterCompression
	case 4:
		return zstd.SpeedBestCompression
	}
	return zstd.SpeedDefault
}

// writeBody writes the msgpack body (header map, then one bin per tensor)
// through the codec onto pw.
func writeBody(pw io.Writer, m *Model, o *options) (bodyResult, error) {
	var comp io.WriteCloser
	switch o.codec {
	case CodecZstd:
		enc, err := zstd.NewWriter(pw,
			zstd.WithEncoderLevel(zstdLevel(o.level)),
			zstd.WithEncoderConcurrency(1), // reproducible bytes, bounded memory
			zstd.WithEncoderCRC(false),     // the container checksum covers the payload
			zstd.WithWindowSize(1<<20),     // the reader holds a window of history: keep it small on a 512 MiB device
			// Weights rarely repeat, but their bytes are skewed (trained
			// int8 values crowd near zero; f32 exponents cluster): entropy-
			// code literals even in blocks without matches.
			zstd.WithAllLitEntropyCompression(true),
		)
		if err != nil {
			return bodyResult{}, err
		}
		comp = enc
	case CodecS2:
		// S2 blocks are independent: compressing them concurrently gives
		// the same bytes.
		var sopts []s2.WriterOption
		switch o.level {
		case 3:
			sopts = append(sopts, s2.WriterBetterCompression())
		case 4:
			sopts = append(sopts, s2.WriterBestCompression())
		}
		comp = s2.NewWriter(pw, sopts...)
	default:
		comp = nopCloser{pw}
	}
	cw := &countWriter{w: comp}
	mw := msgp.NewWriterSize(cw, 64<<10)
	c := canonical(m)
	if err := c.EncodeMsg(mw); err != nil {
		return bodyResult{}, wrapErr(nil, "header", err, "encode")
	}
	for i := range c.Tensors {
		if err := mw.WriteBytes(c.Tensors[i].Data); err != nil {
			return bodyResult{}, wrapErr(nil, tensorPart(i, c.Tensors[i].Name), err, "write")
		}
	}
	if err := mw.Flush(); err != nil {
		return bodyResult{}, wrapErr(nil, "payload", err, "write")
	}
	if err := comp.Close(); err != nil {
		return bodyResult{}, wrapErr(nil, "payload", err, "compress")
	}
	return bodyResult{codec: o.codec, decoded: cw.n}, nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// finish computes the preamble and the optional signature trailer once the
// payload has gone through pw.
func finish(pw *payloadWriter, res bodyResult, o *options) (pre, trailer []byte, err error) {
	p := preamble{major: Major, minor: Minor, codec: res.codec, stored: uint64(pw.n), decoded: uint64(res.decoded)}
	if o.signingKey != nil {
		p.flags |= flagSigned
	}
	pre = p.marshal()
	_, _ = pw.xx.Write(pre[:preambleLen-8])
	binary.LittleEndian.PutUint64(pre[preambleLen-8:], pw.xx.Sum64())
	if o.signingKey != nil {
		_, _ = pw.sha.Write(pre)
		trailer, err = signDigest(o.signingKey, pw.sha.Sum(nil))
	}
	return pre, trailer, err
}

// signDigest returns the trailer: public key, then the Ed25519ph signature
// of digest = SHA-512(payload || preamble).
func signDigest(key ed25519.PrivateKey, digest []byte) ([]byte, error) {
	sig, err := key.Sign(nil, digest, &ed25519.Options{Hash: crypto.SHA512, Context: signatureContext})
	if err != nil {
		return nil, fmt.Errorf("format: sign: %w", err)
	}
	t := make([]byte, 0, trailerLen)
	t = append(t, key.Public().(ed25519.PublicKey)...)
	return append(t, sig...), nil
}

func verifyDigest(pub ed25519.PublicKey, digest, sig []byte) bool {
	return ed25519.VerifyWithOptions(pub, digest, sig, &ed25519.Options{Hash: crypto.SHA512, Context: signatureContext}) == nil
}
