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
	"math"
	"os"
	"slices"
	"syscall"

	"github.com/cespare/xxhash/v2"
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
	return Read(f, opts...)
}

// Read decodes one .erm file from r and checks everything in it. r must
// end where the file ends; Read consumes it to the end.
//
// What a hostile file can cost is bounded before it is spent:
//
//  1. the preamble: magic, version, codec, and the sizes against the
//     limits (decoded size at most MaxDecodedBytes, stored size possible
//     for it) and against the length of r;
//  2. while the payload is decompressed and decoded: every count in the
//     header against its limit, against the payload bytes left and
//     against MaxHeaderBytes before anything is allocated for it, every
//     tensor's size against its shape, dtype and the limits before its
//     buffer is allocated, and the graph's references;
//  3. the checksum over the raw stored bytes and, when present, the
//     signature (required, by a trusted key, with WithTrustedKeys), all
//     before Read returns: a model that fails them is never returned.
//
// When r is a regular *os.File or another io.ReaderAt and io.Seeker (a
// *bytes.Reader), Read reads the file once, hashing the stored bytes as
// the decoder consumes them (the checksum fused into the read), and
// decodes every tensor straight into its final buffer (tensorBuf: 64-byte
// aligned, huge pages where the kernel offers them). With
// WithTrustedKeys, it verifies first instead, in a streaming pass that
// allocates nothing, so that a file no trusted key signed costs no
// decoding, and decodes in a second pass that hashes the payload again:
// a file that changes between the passes is refused with ErrChecksum.
// Any other reader is read once: its stored (compressed) payload is
// buffered, at most the stored size the preamble declares, and verified
// before it is decoded.
//
// Decoding costs time proportional to the decoded size and memory of at
// most the tensor data plus MaxHeaderBytes plus the decompressor's window
// (MaxDecoderMemory) and small buffers; Read holds no second copy of the
// tensors. It never panics on bad input: every failure is an *Error whose
// class is one of the Err* sentinels.
func Read(r io.Reader, opts ...Option) (*Model, error) {
	o := collect(opts)
	rd := &reader{o: &o}
	if ra, start, end, ok := sized(r); ok {
		return rd.readSized(ra, start, end)
	}
	return rd.readStream(r)
}

// sized returns r as an io.ReaderAt with the range of the file it holds,
// when r can be read twice: a regular file, a *bytes.Reader, any
// io.ReaderAt that is also an io.Seeker.
func sized(r io.Reader) (ra io.ReaderAt, start, end int64, ok bool) {
	if f, isFile := r.(*os.File); isFile {
		fi, err := f.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return nil, 0, 0, false // a pipe or device: read it once
		}
	}
	rs, isRS := r.(interface {
		io.ReaderAt
		io.Seeker
	})
	if !isRS {
		return nil, 0, 0, false
	}
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, 0, 0, false
	}
	end, err = rs.Seek(0, io.SeekEnd)
	if err != nil || end < start {
		_, _ = rs.Seek(start, io.SeekStart)
		return nil, 0, 0, false
	}
	return rs, start, end, true
}

type reader struct {
	o *options
	p preamble

	tensorBytes int64
}

// sums are the digests of one pass over the stored payload: xxhash64 of
// payload and preamble, and SHA-512 of both when the file is signed.
type sums struct {
	xx  uint64
	sha []byte
}

// hasher hashes the stored payload as it is read or written through it.
type hasher struct {
	n   int64
	xx  *xxhash.Digest
	sha hash.Hash
}

func (rd *reader) newHasher() *hasher {
	h := &hasher{xx: xxhash.New()}
	if rd.p.flags&flagSigned != 0 {
		h.sha = sha512.New()
	}
	return h
}

func (h *hasher) Write(b []byte) (int, error) {
	h.n += int64(len(b))
	_, _ = h.xx.Write(b)
	if h.sha != nil {
		_, _ = h.sha.Write(b)
	}
	return len(b), nil
}

// sums finishes the digests with the preamble.
func (h *hasher) sums(p *preamble) sums {
	_, _ = h.xx.Write(p.raw[:len(p.raw)-8])
	s := sums{xx: h.xx.Sum64()}
	if h.sha != nil {
		_, _ = h.sha.Write(p.raw)
		s.sha = h.sha.Sum(nil)
	}
	return s
}

// hashChunk is the most hashingReader reads at once.
const hashChunk = 256 << 10

// hashingReader hashes what is read through it.
type hashingReader struct {
	r io.Reader
	h *hasher
}

func (hr *hashingReader) Read(b []byte) (int, error) {
	// Read a large destination in parts that fit in the cache, so that
	// hashing reads what was just read from cache, not from memory.
	n, err := hr.r.Read(b[:min(len(b), hashChunk)])
	_, _ = hr.h.Write(b[:n])
	return n, err
}

// wantLen is the length of the whole file the preamble describes.
func (rd *reader) wantLen() int64 {
	n := int64(len(rd.p.raw)) + int64(rd.p.stored)
	if rd.p.flags&flagSigned != 0 {
		n += trailerLen
	}
	return n
}

// readSized reads the file in [start, end) of ra. With a signature
// required (WithTrustedKeys), it reads the file twice: it verifies the
// checksum and the signature in a first pass that allocates nothing for
// the payload, so an unsigned or untrusted file costs no decoding, then
// decodes in a second pass that hashes the bytes again (a file changed
// between the passes is refused with ErrChecksum). Otherwise it reads the
// file once, hashing the stored bytes as the decoder consumes them, and
// checks the checksum and any signature at the end, before it returns
// the model: a corrupt file is refused with ErrChecksum even where the
// decoder failed first.
func (rd *reader) readSized(ra io.ReaderAt, start, end int64) (*Model, error) {
	if err := rd.readPreamble(io.NewSectionReader(ra, start, end-start)); err != nil {
		return nil, err
	}
	p := &rd.p
	plen, size := int64(len(p.raw)), end-start
	if have := size - plen; have < int64(p.stored) {
		return nil, newErr(ErrCorrupt, "payload", "file ends after %d of %d payload bytes (truncated)", max(have, 0), p.stored)
	}
	if size < rd.wantLen() {
		return nil, newErr(ErrCorrupt, "signature", "file ends inside the signature (%d of %d bytes)", size-plen-int64(p.stored), trailerLen)
	}
	if size > rd.wantLen() {
		return nil, newErr(ErrCorrupt, "", "trailing data after the end of the model")
	}
	payload := func() *io.SectionReader { return io.NewSectionReader(ra, start+plen, int64(p.stored)) }
	var trailer []byte
	if p.flags&flagSigned != 0 {
		trailer = make([]byte, trailerLen)
		if _, err := ra.ReadAt(trailer, start+plen+int64(p.stored)); err != nil {
			return nil, wrapErr(ErrCorrupt, "signature", err, "read")
		}
	}
	if !rd.o.requireSig {
		return rd.readOnce(payload(), trailer)
	}

	// Pass 1: hash the raw stored bytes; allocate nothing for them.
	h := rd.newHasher()
	if _, err := io.CopyBuffer(h, payload(), make([]byte, 64<<10)); err != nil {
		return nil, wrapErr(ErrCorrupt, "payload", err, "read")
	}
	first := h.sums(p)
	c, err := rd.verify(first, trailer)
	if err != nil {
		return nil, err
	}

	// Pass 2: decode, hashing the same bytes again.
	h2 := rd.newHasher()
	in := &hashingReader{r: payload(), h: h2}
	m, bodyErr := rd.decodeBody(bufio.NewReaderSize(in, 32<<10))
	// Hash whatever the decoder left unread, so that a file changed
	// since pass 1 is reported as such rather than as whatever the
	// change did to the decoder.
	if _, err := io.Copy(io.Discard, in); err != nil && bodyErr == nil {
		bodyErr = wrapErr(ErrCorrupt, "payload", err, "read")
	}
	if second := h2.sums(p); second.xx != first.xx || !bytes.Equal(second.sha, first.sha) {
		return nil, newErr(ErrChecksum, "", "the file changed while it was read")
	}
	if bodyErr != nil {
		return nil, bodyErr
	}
	return rd.finish(m, c), nil
}

// readOnce decodes the stored payload read from payload, hashing it as
// the decoder reads it, and then verifies the digests (see readSized).
// What decoding an unverified payload may cost is bounded as for a
// verified one, by the preamble's sizes and the limits: a checksum is no
// defence against a hostile file, whose author can compute it.
func (rd *reader) readOnce(payload io.Reader, trailer []byte) (*Model, error) {
	h := rd.newHasher()
	in := &hashingReader{r: payload, h: h}
	m, bodyErr := rd.decodeBody(bufio.NewReaderSize(in, 32<<10))
	// Hash what the decoder left unread (after an error), so that the
	// checksum decides whether the file is corrupt.
	_, readErr := io.Copy(io.Discard, in)
	c, err := rd.verify(h.sums(&rd.p), trailer)
	switch {
	case err != nil && h.n == int64(rd.p.stored):
		return nil, err
	case bodyErr != nil:
		return nil, bodyErr
	case readErr != nil:
		return nil, wrapErr(ErrCorrupt, "payload", readErr, "read")
	case err != nil:
		return nil, err
	}
	return rd.finish(m, c), nil
}

// readStream reads the file from r once: it buffers the stored payload
// (at most the size the preamble declares, which the limits bound),
// verifies it, and decodes it from memory.
func (rd *reader) readStream(r io.Reader) (*Model, error) {
	if err := rd.readPreamble(r); err != nil {
		return nil, err
	}
	p := &rd.p
	if p.stored > math.MaxInt {
		return nil, newErr(ErrLimit, "payload", "stored payload of %d bytes does not fit in memory on this machine", p.stored)
	}
	h := rd.newHasher()
	stored, err := readUpTo(io.TeeReader(r, h), int64(p.stored))
	if err != nil {
		return nil, wrapErr(ErrCorrupt, "payload", err, "read")
	}
	if int64(len(stored)) != int64(p.stored) {
		return nil, newErr(ErrCorrupt, "payload", "file ends after %d of %d payload bytes (truncated)", len(stored), p.stored)
	}
	var trailer []byte
	if p.flags&flagSigned != 0 {
		trailer = make([]byte, trailerLen)
		if n, err := io.ReadFull(r, trailer); err != nil {
			return nil, wrapErr(ErrCorrupt, "signature", err, "file ends inside the signature (%d of %d bytes)", n, trailerLen)
		}
	}
	var one [1]byte
	if n, _ := io.ReadFull(r, one[:]); n != 0 {
		return nil, newErr(ErrCorrupt, "", "trailing data after the end of the model")
	}
	c, err := rd.verify(h.sums(p), trailer)
	if err != nil {
		return nil, err
	}
	m, err := rd.decodeBody(bytes.NewReader(stored))
	if err != nil {
		return nil, err
	}
	return rd.finish(m, c), nil
}

// readUpTo reads r to its end or to n bytes, whichever comes first,
// growing the buffer with what arrives rather than allocating n up front.
func readUpTo(r io.Reader, n int64) ([]byte, error) {
	b := make([]byte, 0, min(n, 64<<10))
	for int64(len(b)) < n {
		if len(b) == cap(b) {
			b = slices.Grow(b, int(min(n, int64(cap(b))*2))-len(b))
		}
		k, err := r.Read(b[len(b):min(int64(cap(b)), n)])
		b = b[:len(b)+k]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

// verify checks the checksum and the signature (sums are the digests of
// the stored payload and the preamble) and the caller's trust
// requirements, before anything is decoded.
func (rd *reader) verify(s sums, trailer []byte) (Container, error) {
	p := &rd.p
	if s.xx != p.checksum {
		return Container{}, newErr(ErrChecksum, "", "file checksum is %016x, content hashes to %016x", p.checksum, s.xx)
	}
	c := Container{
		Major: p.major, Minor: p.minor, Codec: p.codec,
		StoredBytes: int64(p.stored), DecodedBytes: int64(p.decoded),
		FileBytes: rd.wantLen(), Checksum: p.checksum,
	}
	if trailer != nil {
		pub := ed25519.PublicKey(bytes.Clone(trailer[:ed25519.PublicKeySize]))
		if !verifyDigest(pub, s.sha, trailer[ed25519.PublicKeySize:]) {
			return Container{}, newErr(ErrSignature, "signature", "does not verify with the key it names (%s)", KeyFingerprint(pub))
		}
		c.Signed = true
		c.SignerKey = pub
		for _, k := range rd.o.trusted {
			if k.Equal(pub) {
				c.Trusted = true
			}
		}
	}
	if rd.o.requireSig {
		if !c.Signed {
			return Container{}, &Error{Part: "signature", Class: ErrUnsigned, Msg: "a signature is required"}
		}
		if !c.Trusted {
			return Container{}, &Error{Part: "signature", Class: ErrUntrustedKey, Msg: fmt.Sprintf("key %s is not trusted", KeyFingerprint(c.SignerKey))}
		}
	}
	return c, nil
}

func (rd *reader) finish(m *Model, c Container) *Model {
	c.TensorBytes = rd.tensorBytes
	m.Container = c
	m.Limits = rd.o.lim
	return m
}

func (rd *reader) readPreamble(r io.Reader) error {
	var head [14]byte
	if n, err := io.ReadFull(r, head[:]); err != nil {
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
	if n, err := io.ReadFull(r, p.raw[len(head):]); err != nil {
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
	if p.decoded > uint64(max(rd.o.lim.MaxDecodedBytes, 0)) {
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

func (rd *reader) decompressor(in io.Reader) (io.Reader, func(), error) {
	switch rd.p.codec {
	case CodecZstd:
		if m := rd.o.lim.MaxDecoderMemory; m < zstd.MinWindowSize {
			return nil, nil, newErr(ErrLimit, "payload", "MaxDecoderMemory %d is below the smallest zstd window, %d bytes", m, zstd.MinWindowSize)
		}
		dec, err := zstd.NewReader(in,
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
		// Blocks decode straight into the tensors' buffers (s2Stream);
		// block buffers are allocated as blocks need them, not the
		// maximum up front. The stream's per-block CRCs are not checked:
		// the checksum over the stored bytes covers them, and a corrupt
		// stream is refused for it (ErrChecksum) whatever it decodes to.
		return newS2Stream(in, 4<<20, rd.p.stored), func() {}, nil
	}
	return in, func() {}, nil
}

// decodeBody decompresses and decodes the stored payload read from in.
func (rd *reader) decodeBody(in io.Reader) (*Model, error) {
	dec, closeDec, err := rd.decompressor(in)
	if err != nil {
		return nil, err
	}
	defer closeDec()
	o := rd.o
	cr := &countReader{r: io.LimitReader(dec, int64(rd.p.decoded))}
	mr := msgp.NewReaderSize(cr, int(max(256, min(rd.p.decoded, 32<<10))))
	mr.SetMaxElements(uint32(min(o.lim.MaxTensorBytes, 1<<32-1)))
	mr.SetMaxStringLength(uint64(max(o.lim.MaxStringLen, 0)))
	mr.SetMaxRecursionDepth(32)

	m := new(Model)
	hd := &headerDecoder{
		r: mr, lim: &o.lim, budget: headerBudget(&o.lim, int64(rd.p.decoded)),
		left: func() int64 { return int64(rd.p.decoded) - (cr.n - int64(mr.Buffered())) },
	}
	hd.maxMem = hd.budget
	if err := hd.model(m); err != nil {
		var e *Error
		if errors.As(err, &e) && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
			e.Msg = "payload ends early: " + e.Msg
		}
		return nil, err
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
		if want > math.MaxInt {
			return nil, newErr(ErrLimit, part, "%d bytes do not fit in memory on this machine", want)
		}
		if o.skipData {
			if _, err := mr.R.Skip(int(want)); err != nil {
				return nil, payloadErr(rd.p.codec, part, err)
			}
			continue
		}
		t.Data = tensorBuf(int(want))
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
	class := readErrClass(err)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return wrapErr(class, part, err, "payload ends early")
	}
	return wrapErr(class, part, err, "%s payload", c)
}

// readErrClass is the class of an error from the msgpack reader: ErrLimit
// for one of its limits or the zstd decompressor's (MaxDecoderMemory: more
// memory than it allows), else ErrCorrupt. (A frame header claiming a
// window over the limit, zstd.ErrWindowSizeExceeded, stays ErrCorrupt:
// garbage after the zstd magic number reads as one.)
func readErrClass(err error) error {
	if errors.Is(err, msgp.ErrLimitExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded) {
		return ErrLimit
	}
	return ErrCorrupt
}
