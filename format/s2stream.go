package format

import (
	"errors"
	"io"

	"github.com/klauspost/compress/s2"
)

// s2Stream reads an S2 (or Snappy) framed stream, as s2.Reader does, but
// decodes each block straight into the caller's buffer when the block
// fits in it: an uncompressed block is read into it (in parts, when it
// does not fit), a compressed one is decoded into it. Read decodes a tensor's data with one Read call per
// block into the tensor's final buffer, so a payload is neither copied
// out of a block buffer nor held in one (which would be faulted in as
// well). Blocks that do not fit (the msgpack header, the tail of a
// tensor) and are compressed go through a block buffer, as in s2.Reader.
//
// Per-block CRCs are not checked: the file's checksum covers the stored
// bytes. Chunk types, lengths and the stream identifier are checked as
// s2.Reader checks them; blocks decode to at most maxBlock bytes and
// compressed chunks may be at most maxChunk bytes, so a hostile stream
// costs at most those buffers (allocated as chunks that need them
// arrive) beyond what it decodes to.
type s2Stream struct {
	r        io.Reader
	maxBlock int
	maxChunk int

	started bool
	snappy  bool
	cbuf    []byte // a compressed chunk
	block   []byte // a decoded block that did not fit the caller's buffer
	i, j    int    // block[i:j] is not read yet
	raw     int    // bytes of an uncompressed block not read yet
	err     error
}

// Framing format constants (github.com/google/snappy framing_format.txt
// and the S2 extension of it).
const (
	s2ChunkCompressed   = 0x00
	s2ChunkUncompressed = 0x01
	s2ChunkStreamID     = 0xff
	s2MagicBody         = "S2sTwO"
	s2MagicBodySnappy   = "sNaPpY"
	s2ChecksumSize      = 4
	snappyMaxBlock      = 64 << 10
)

// errS2Corrupt is the error of a malformed stream (s2.ErrCorrupt, so that
// messages read as the s2 package's do).
var errS2Corrupt = s2.ErrCorrupt

func newS2Stream(r io.Reader, maxBlock int, storedLen uint64) *s2Stream {
	maxChunk := s2.MaxEncodedLen(maxBlock) + s2ChecksumSize
	if storedLen < uint64(maxChunk) {
		maxChunk = int(storedLen)
	}
	return &s2Stream{r: r, maxBlock: maxBlock, maxChunk: maxChunk}
}

// readFull reads len(p) bytes; an end of stream inside a chunk is
// corrupt.
func (s *s2Stream) readFull(p []byte) bool {
	if _, err := io.ReadFull(s.r, p); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = errS2Corrupt
		}
		s.err = err
		return false
	}
	return true
}

func (s *s2Stream) fail(err error) (int, error) {
	s.err = err
	return 0, err
}

// Read implements io.Reader.
func (s *s2Stream) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	for {
		if s.i < s.j {
			n := copy(p, s.block[s.i:s.j])
			s.i += n
			return n, nil
		}
		if len(p) == 0 {
			return 0, nil
		}
		if s.raw > 0 {
			// The rest of an uncompressed block: read it through.
			n := min(len(p), s.raw)
			if !s.readFull(p[:n]) {
				return 0, s.err
			}
			s.raw -= n
			return n, nil
		}
		var hdr [4]byte
		if _, err := io.ReadFull(s.r, hdr[:]); err != nil {
			if err == io.ErrUnexpectedEOF {
				err = errS2Corrupt
			}
			return s.fail(err) // io.EOF at a chunk boundary: the end
		}
		typ := hdr[0]
		n := int(hdr[1]) | int(hdr[2])<<8 | int(hdr[3])<<16
		if !s.started {
			if typ != s2ChunkStreamID {
				return s.fail(errS2Corrupt)
			}
			s.started = true
		}
		switch {
		case typ == s2ChunkStreamID:
			var body [len(s2MagicBody)]byte
			if n != len(body) {
				return s.fail(errS2Corrupt)
			}
			if !s.readFull(body[:]) {
				return 0, s.err
			}
			switch string(body[:]) {
			case s2MagicBody:
				s.snappy = false
			case s2MagicBodySnappy:
				s.snappy = true
			default:
				return s.fail(errS2Corrupt)
			}
		case typ == s2ChunkCompressed:
			if n < s2ChecksumSize || n > s.maxChunk {
				return s.fail(errS2Corrupt)
			}
			if cap(s.cbuf) < n {
				s.cbuf = scratchBuf(n)
			}
			chunk := s.cbuf[:n]
			if !s.readFull(chunk) {
				return 0, s.err
			}
			src := chunk[s2ChecksumSize:]
			dlen, err := s2.DecodedLen(src)
			if err != nil {
				return s.fail(err)
			}
			if dlen > s.maxBlock || s.snappy && dlen > snappyMaxBlock {
				return s.fail(errS2Corrupt)
			}
			if dlen <= len(p) {
				// Straight into the caller's buffer.
				dst := p[:dlen:dlen]
				if _, err := s2.Decode(dst, src); err != nil {
					return s.fail(err)
				}
				if dlen > 0 {
					return dlen, nil
				}
				continue
			}
			if cap(s.block) < dlen {
				s.block = scratchBuf(dlen)
			}
			if _, err := s2.Decode(s.block[:dlen:dlen], src); err != nil {
				return s.fail(err)
			}
			s.i, s.j = 0, dlen
		case typ == s2ChunkUncompressed:
			if n < s2ChecksumSize {
				return s.fail(errS2Corrupt)
			}
			dlen := n - s2ChecksumSize
			if dlen > s.maxBlock || s.snappy && dlen > snappyMaxBlock {
				return s.fail(errS2Corrupt)
			}
			var crc [s2ChecksumSize]byte
			if !s.readFull(crc[:]) {
				return 0, s.err
			}
			// Straight into the caller's buffer, the part that fits now
			// and the rest as it is asked for: no block buffer.
			s.raw = dlen
		case typ <= 0x7f:
			// Reserved unskippable chunks (0x02-0x7f).
			return s.fail(s2.ErrUnsupported)
		default:
			// Padding (0xfe) and reserved skippable chunks (0x80-0xfd),
			// among them S2's index.
			if k, err := io.CopyN(io.Discard, s.r, int64(n)); err != nil {
				if errors.Is(err, io.EOF) && k < int64(n) {
					err = errS2Corrupt
				}
				return s.fail(err)
			}
		}
	}
}
