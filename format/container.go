package format

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// Format version written by this package. A reader accepts any minor
// version of a major it knows and refuses other majors with ErrVersion.
const (
	Major = 1
	Minor = 0
)

// Magic is the first 8 bytes of every .erm file. Like PNG's signature it
// catches text-mode transfers (CR/LF and ^Z mangling) and 7-bit channels.
const Magic = "\x89ERM\r\n\x1a\n"

const (
	preambleLen    = 48   // length of a version 1.0 preamble
	maxPreambleLen = 4096 // future minors may grow it up to this
	flagSigned     = 1 << 0
	trailerLen     = ed25519.PublicKeySize + ed25519.SignatureSize
)

// preamble is the fixed little-endian header in front of the payload.
//
//	off size field
//	  0    8 magic
//	  8    2 major
//	 10    2 minor
//	 12    2 preamble length (48 for 1.0)
//	 14    1 codec
//	 15    1 flags (bit 0: signed; other bits reserved, written 0)
//	 16    8 stored payload size (bytes between preamble and trailer)
//	 24    8 decoded payload size (msgpack body)
//	 32    8 reserved, written 0
//	 40    8 xxhash64(payload || preamble[0:len-8])
type preamble struct {
	major, minor uint16
	length       uint16
	codec        Codec
	flags        uint8
	stored       uint64
	decoded      uint64
	reserved     uint64
	checksum     uint64
	raw          []byte // the bytes as read, length == length
}

func (p *preamble) marshal() []byte {
	b := make([]byte, preambleLen)
	copy(b, Magic)
	binary.LittleEndian.PutUint16(b[8:], p.major)
	binary.LittleEndian.PutUint16(b[10:], p.minor)
	binary.LittleEndian.PutUint16(b[12:], preambleLen)
	b[14] = byte(p.codec)
	b[15] = p.flags
	binary.LittleEndian.PutUint64(b[16:], p.stored)
	binary.LittleEndian.PutUint64(b[24:], p.decoded)
	binary.LittleEndian.PutUint64(b[32:], p.reserved)
	binary.LittleEndian.PutUint64(b[40:], p.checksum)
	return b
}

// Container describes an .erm file as read: everything outside the model
// itself. It is not serialized as part of the model.
type Container struct {
	Major, Minor uint16
	Codec        Codec
	// StoredBytes is the size of the (compressed) payload in the file;
	// DecodedBytes the size of the msgpack body it decodes to.
	StoredBytes, DecodedBytes int64
	// FileBytes is the whole file: preamble, payload and trailer.
	FileBytes int64
	// Checksum is the verified xxhash64 of preamble and payload.
	Checksum uint64
	// Signed reports a signature trailer; SignerKey is the key it names.
	// Read always verifies a present signature against that key, so a
	// returned model with Signed set was signed by SignerKey.
	Signed    bool
	SignerKey ed25519.PublicKey
	// Trusted reports that SignerKey is one of the keys passed with
	// WithTrustedKeys.
	Trusted bool
	// TensorBytes is the sum of the tensors' data sizes.
	TensorBytes int64
}

// KeyFingerprint is a short printable identity of a public key: the first
// 8 bytes of its SHA-256, in hex.
func KeyFingerprint(pub ed25519.PublicKey) string {
	if len(pub) == 0 {
		return ""
	}
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}
