package format

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/tinylib/msgp/msgp"
)

// ReadFile reads and verifies the model in the named file. See Read; a
// file that cannot be opened gives the *fs.PathError of os.Open.
func ReadFile(path string, opts ...Option) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: path, Err: syscall.EISDIR}
	}
	m, err := Read(bufio.NewReaderSize(f, 64<<10), opts...)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Read decodes one .erm file from r and checks everything in it: magic,
// version, sizes against the limits (before allocating), checksum,
// signature (always, when present; required with WithTrustedKeys), the
// msgpack body, every tensor's size against its shape and dtype, and the
// graph's references. r must end where the file ends.
//
// Read streams: file → decompressor → msgpack reader → tensor buffers. It
// holds no second copy of the file; peak memory is the tensor data plus
// the decompressor's window (WithMaxDecoderMemory) and small buffers.
// Read never panics on bad input: every failure is an *Error whose class
// is one of the Err* sentinels.
func Read(r io.Reader, opts ...Option) (*Model, error) {
	o := collect(opts)
	rd := &reader{r: r, o: &o}
	m, err := rd.read()
	if err != nil {
		return nil, err
	}
	return m, nil
}

type reader struct {
	r  io.Reader
	o  *options
	p  preamble
	in *hashingReader // the stored payload, hashed as it is read

	tensorBytes int64
}

func (rd *reader) read() (*Model, error) {
	if err := rd.readPreamble(); err != nil {
		return nil, err
	}
	p := &rd.p
	rd.in = &hashingReader{r: io.LimitReader(rd.r, int64(p.stored)), xx: xxhash.New()}
	if p.flags&flagSigned != 0 {
		rd.in.sha = sha512.New()
	}
	m, bodyErr := rd.decodeBody()
	// Hash whatever the decoder left unread, so that a damaged file is
	// reported as a checksum failure rather than as whatever the damage
	// did to the decoder.
	if _, err := io.Copy(io.Discard, rd.in); err != nil && bodyErr == nil {
		bodyErr = wrapErr(ErrCorrupt, "payload", err, "read")
	}
	if rd.in.n != int64(p.stored) {
		return nil, newErr(ErrCorrupt, "payload", "file ends after %d of %d payload bytes (truncated)", rd.in.n, p.stored)
	}
	_, _ = rd.in.xx.Write(p.raw[:len(p.raw)-8])
	if sum := rd.in.xx.Sum64(); sum != p.checksum {
		// The damage may also have upset the decoder; the checksum is
		// the cause, so the decoder's complaint is not part of the error.
		return nil, newErr(ErrChecksum, "", "file checksum is %016x, content hashes to %016x", p.checksum, sum)
	}
	if bodyErr != nil {
		return nil, bodyErr
	}
	c := Container{
		Major: p.major, Minor: p.minor, Codec: p.codec,
		StoredBytes: int64(p.stored), DecodedBytes: int64(p.decoded),
		FileBytes: int64(len(p.raw)) + int64(p.stored), Checksum: p.checksum,
	}
	if p.flags&flagSigned != 0 {
		if err := rd.checkSignature(&c); err != nil {
			return nil, err
		}
		c.FileBytes += trailerLen
	}
	if rd.o.requireSig {
		if !c.Signed {
			return nil, &Error{Part: "signature", Class: ErrUnsigned, Msg: "a signature is required"}
		}
		if !c.Trusted {
			return nil, &Error{Part: "signature", Class: ErrUntrustedKey, Msg: fmt.Sprintf("key %s is not trusted", KeyFingerprint(c.SignerKey))}
		}
	}
	var one [1]byte
	if n, _ := io.ReadFull(rd.r, one[:]); n != 0 {
		return nil, newErr(ErrCorrupt, "", "trailing data after the end of the model")
	}
	c.TensorBytes = rd.tensorBytes
	m.Container = c
	m.Limits = rd.o.lim
	return m, nil
}

func (rd *reader) readPreamble() error {
	var head [14]byte
	if n, err := io.ReadFull(rd.r, head[:]); err != nil {
		if n >= len(Magic) && string(head[:len(Magic)]) != Magic || n > 0 && n < len(Magic) && string(head[:n]) != Magic[:n] {
			return newErr(ErrCorrupt, "preamble", "not an edgerun model (bad magic)")
		}
		return wrapErr(ErrCorrupt, "preamble", err, "file too short for a preamble (%d bytes)", n)
	}
	if string(head[:len(Magic)]) != Magic {
		return newErr(ErrCorrupt, "preamble", "not an edgerun model (bad magic %q)", head[:len(Magic)])
	}
	p := &rd.p
	p.major = binary.LittleEndian.Uint16(head[8:])
	p.minor = binary.LittleEndian.Uint16(head[10:])
	p.length = binary.LittleEndian.Uint16(head[12:])
	if p.major != Major {
		return newErr(ErrVersion, "preamble", "file is format version %d.%d, this reader supports %d.x (up to %d.%d)", p.major, p.minor, Major, Major, Minor)
	}
	if p.length < preambleLen || p.length > maxPreambleLen {
		return newErr(ErrCorrupt, "preamble", "preamble length %d outside %d..%d", p.length, preambleLen, maxPreambleLen)
	}
	p.raw = make([]byte, p.length)
	copy(p.raw, head[:])
	if n, err := io.ReadFull(rd.r, p.raw[len(head):]); err != nil {
		return wrapErr(ErrCorrupt, "preamble", err, "file ends inside the preamble (%d of %d bytes)", len(head)+n, p.length)
	}
	b := p.raw
	p.codec = Codec(b[14])
	p.flags = b[15]
	p.stored = binary.LittleEndian.Uint64(b[16:])
	p.decoded = binary.LittleEndian.Uint64(b[24:])
	p.reserved = binary.LittleEndian.Uint64(b[32:])
	p.checksum = binary.LittleEndian.Uint64(b[len(b)-8:])
	switch p.codec {
	case CodecNone, CodecZstd, CodecS2:
	default:
		if p.minor > Minor {
			return newErr(ErrVersion, "preamble", "codec %d of format %d.%d is unknown to this reader (%d.%d)", p.codec, p.major, p.minor, Major, Minor)
		}
		return newErr(ErrCorrupt, "preamble", "unknown codec %d", p.codec)
	}
	if p.decoded > uint64(rd.o.lim.MaxDecodedBytes) {
		return newErr(ErrLimit, "preamble", "decoded payload of %d bytes exceeds the limit of %d", p.decoded, rd.o.lim.MaxDecodedBytes)
	}
	if p.stored > maxStored(p.codec, p.decoded) {
		return newErr(ErrCorrupt, "preamble", "stored payload of %d bytes is impossible for %d decoded bytes with codec %s", p.stored, p.decoded, p.codec)
	}
	return nil
}

// maxStored bounds the stored size of a payload, so a reader never reads
// more than a well-formed file could contain.
func maxStored(c Codec, decoded uint64) uint64 {
	if c == CodecNone {
		return decoded
	}
	// zstd and S2 expand incompressible data by well under 1/64, plus
	// per-frame and per-stream overhead.
	return decoded + decoded/64 + 64<<10
}

// hashingReader counts and hashes the stored payload as it is read.
type hashingReader struct {
	r   io.Reader
	n   int64
	xx  *xxhash.Digest
	sha hash.Hash
}

func (h *hashingReader) Read(b []byte) (int, error) {
	n, err := h.r.Read(b)
	h.n += int64(n)
	_, _ = h.xx.Write(b[:n])
	if h.sha != nil {
		_, _ = h.sha.Write(b[:n])
	}
	return n, err
}

// countReader counts decoded bytes.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

func (rd *reader) decompressor() (io.Reader, func(), error) {
	switch rd.p.codec {
	case CodecZstd:
		dec, err := zstd.NewReader(rd.in,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(uint64(rd.o.lim.MaxDecoderMemory)),
			zstd.WithDecoderMaxWindow(uint64(rd.o.lim.MaxDecoderMemory)),
		)
		if err != nil {
			return nil, nil, wrapErr(ErrCorrupt, "payload", err, "zstd")
		}
		return dec, dec.Close, nil
	case CodecS2:
		// Allocate block buffers as blocks arrive, not the maximum up front.
		return s2.NewReader(rd.in, s2.ReaderMaxBlockSize(4<<20), s2.ReaderAllocBlock(int(max(1024, min(rd.p.decoded, 64<<10))))), func() {}, nil
	}
	return rd.in, func() {}, nil
}

// decodeBody decompresses and decodes the payload.
func (rd *reader) decodeBody() (*Model, error) {
	dec, closeDec, err := rd.decompressor()
	if err != nil {
		return nil, err
	}
	defer closeDec()
	o := rd.o
	cr := &countReader{r: io.LimitReader(dec, int64(rd.p.decoded))}
	mr := msgp.NewReaderSize(cr, int(max(256, min(rd.p.decoded, 32<<10))))
	// Array lengths are bounded by the schema's msgp limits (generated
	// code); bin and map sizes by the reader's element limit.
	mr.SetMaxElements(uint32(min(o.lim.MaxTensorBytes, 1<<32-1)))
	mr.SetMaxStringLength(uint64(o.lim.MaxStringLen))
	mr.SetMaxRecursionDepth(32)

	m := new(Model)
	if err := m.DecodeMsg(mr); err != nil {
		return nil, payloadErr(rd.p.codec, "header", err)
	}
	if err := m.validate(o, false); err != nil {
		return nil, err
	}
	var total int64
	for i := range m.Tensors {
		n, _ := validateTensorHeader(i, &m.Tensors[i], o) // checked by validate
		total += n
	}
	if total > int64(rd.p.decoded) {
		return nil, newErr(ErrCorrupt, "tensors", "tensor data adds up to %d bytes, more than the %d-byte payload", total, rd.p.decoded)
	}
	for i := range m.Tensors {
		t := &m.Tensors[i]
		part := tensorPart(i, t.Name)
		want, _ := validateTensorHeader(i, t, o) // checked by validate
		n, err := mr.ReadBytesHeader()
		if err != nil {
			return nil, payloadErr(rd.p.codec, part, err)
		}
		if int64(n) != want {
			return nil, newErr(ErrCorrupt, part, "data is %d bytes, shape %v %s needs %d", n, t.Shape, t.DType, want)
		}
		if cr.n-int64(mr.Buffered())+want > int64(rd.p.decoded) {
			return nil, newErr(ErrCorrupt, part, "data runs past the end of the payload")
		}
		rd.tensorBytes += want
		if o.skipData {
			if _, err := mr.R.Skip(int(want)); err != nil {
				return nil, payloadErr(rd.p.codec, part, err)
			}
			continue
		}
		t.Data = make([]byte, want)
		if _, err := mr.ReadFull(t.Data); err != nil {
			return nil, payloadErr(rd.p.codec, part, err)
		}
	}
	if _, err := mr.R.PeekByte(); err == nil {
		return nil, newErr(ErrCorrupt, "payload", "extra data after the last tensor")
	}
	if cr.n != int64(rd.p.decoded) {
		return nil, newErr(ErrCorrupt, "payload", "decodes to %d bytes, preamble says %d", cr.n, rd.p.decoded)
	}
	var one [1]byte
	if n, _ := io.ReadFull(dec, one[:]); n != 0 {
		return nil, newErr(ErrCorrupt, "payload", "decodes to more than the %d bytes the preamble says", rd.p.decoded)
	}
	return m, nil
}

func payloadErr(c Codec, part string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	class := ErrCorrupt
	if errors.Is(err, msgp.ErrLimitExceeded) {
		class = ErrLimit
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return wrapErr(class, part, err, "payload ends early")
	}
	return wrapErr(class, part, err, "%s payload", c)
}

func (rd *reader) checkSignature(c *Container) error {
	var t [trailerLen]byte
	if n, err := io.ReadFull(rd.r, t[:]); err != nil {
		return wrapErr(ErrCorrupt, "signature", err, "file ends inside the signature (%d of %d bytes)", n, trailerLen)
	}
	pub := ed25519.PublicKey(bytes.Clone(t[:ed25519.PublicKeySize]))
	_, _ = rd.in.sha.Write(rd.p.raw)
	if !verifyDigest(pub, rd.in.sha.Sum(nil), t[ed25519.PublicKeySize:]) {
		return newErr(ErrSignature, "signature", "does not verify with the key it names (%s)", KeyFingerprint(pub))
	}
	c.Signed = true
	c.SignerKey = pub
	for _, k := range rd.o.trusted {
		if k.Equal(pub) {
			c.Trusted = true
		}
	}
	return nil
}
