package format_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/format/formattest"
)

// streamOnly hides every method of a reader but Read, so that Read takes
// its one-pass path (buffer the stored payload, verify, decode).
type streamOnly struct{ r io.Reader }

func (s streamOnly) Read(b []byte) (int, error) { return s.r.Read(b) }

// readers are the ways a file reaches Read: twice-readable (a
// *bytes.Reader, as a regular file is) and read once.
var readers = []struct {
	name string
	wrap func([]byte) io.Reader
}{
	{"seekable", func(b []byte) io.Reader { return bytes.NewReader(b) }},
	{"stream", func(b []byte) io.Reader { return streamOnly{bytes.NewReader(b)} }},
}

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc - before.TotalAlloc)
}

// declaredDecoded is the decoded payload size a file's preamble states.
func declaredDecoded(file []byte) int64 { return int64(binary.LittleEndian.Uint64(file[24:])) }

// TestHostileFiles: each file of formattest.Hostile is refused with its
// error class (or accepted), and reading it allocates at most
//
//	4 × the file + 1 MiB + the decompressor's window (≤ 8 MiB here),
//	plus, for a file refused for its header's memory, that bound (16 ×
//	the decoded size + 1 MiB, at most MaxHeaderBytes), and for an
//	accepted file its tensors and twice that bound (lists of structs
//	grow as their elements arrive),
//
// where the reader used to allocate 8 GiB (65,536 nodes × 1,024 attribute
// maps, also with a wrong checksum) or gigabytes later (a tokenizer
// max_len of 2^31-1). The stream path holds the stored payload, hence the
// file-size term.
func TestHostileFiles(t *testing.T) {
	for _, c := range formattest.Hostile() {
		for _, r := range readers {
			t.Run(c.Name+"/"+r.name, func(t *testing.T) {
				var m *format.Model
				var err error
				alloc := allocated(func() { m, err = format.Read(r.wrap(c.Data)) })
				decoded := declaredDecoded(c.Data)
				bound := 4*int64(len(c.Data)) + 1<<20 + min(decoded, 8<<20)
				if c.Want == nil {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					bound += m.Container.TensorBytes + 2*min(format.DefaultMaxHeaderBytes, 16*decoded+1<<20)
				} else if got := classOf(t, err); got != c.Want {
					t.Fatalf("error class %v, want %v: %v", got, c.Want, err)
				} else if strings.Contains(err.Error(), "bytes of memory") {
					// Refused for its header's memory: it may cost that much.
					bound += min(format.DefaultMaxHeaderBytes, 16*decoded+1<<20)
				}
				t.Logf("%d-byte file declaring %d decoded bytes: allocated %.2f MiB (bound %.2f MiB): %v",
					len(c.Data), decoded, mib(alloc), mib(bound), err)
				if alloc > bound {
					t.Errorf("allocated %d bytes, over the bound of %d", alloc, bound)
				}
			})
		}
	}
}

// TestVerifiedBeforeDecoded: a file that a required trusted key did not
// sign, and any file read from a stream, is refused before its payload
// is decompressed when its checksum or signature fails: reading the
// 65,536 × 1,024 attribute-map file (64 MiB decoded) then allocates no
// more than small buffers. A seekable file without a required key is
// read in one pass that hashes as it decodes (TestReadOnce): refusing it
// costs at most what decoding any hostile file may (TestHostileFiles'
// bound), and it is refused for its checksum or signature all the same.
func TestVerifiedBeforeDecoded(t *testing.T) {
	key, other := formattest.TestKey(1), formattest.TestKey(2)
	pub := key.Public().(ed25519.PublicKey)
	bomb := formattest.AttrMapBomb(65536, 1024)
	stored := bomb[48:]
	badSum := bytes.Clone(bomb)
	badSum[47] ^= 1
	signedByOther := formattest.Raw{Codec: format.CodecZstd, Stored: stored, DeclaredDecoded: uint64(declaredDecoded(bomb)), Key: other}.Bytes()
	badSig := bytes.Clone(signedByOther)
	badSig[len(badSig)-1] ^= 1
	for _, tc := range []struct {
		name     string
		file     []byte
		opts     []format.Option
		want     error
		keyFirst bool // verified first on every reader
	}{
		{"bad-checksum", badSum, nil, format.ErrChecksum, false},
		{"bad-signature", badSig, nil, format.ErrSignature, false},
		{"bad-signature-key-required", badSig, []format.Option{format.WithTrustedKeys(pub)}, format.ErrSignature, true},
		{"unsigned-key-required", bomb, []format.Option{format.WithTrustedKeys(pub)}, format.ErrUnsigned, true},
		{"untrusted-key", signedByOther, []format.Option{format.WithTrustedKeys(pub)}, format.ErrUntrustedKey, true},
	} {
		for _, r := range readers {
			t.Run(tc.name+"/"+r.name, func(t *testing.T) {
				var err error
				alloc := allocated(func() { _, err = format.Read(r.wrap(tc.file), tc.opts...) })
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				bound := 4*int64(len(tc.file)) + 256<<10
				if !tc.keyFirst && r.name == "seekable" {
					bound = 4*int64(len(tc.file)) + 1<<20 + min(declaredDecoded(tc.file), 8<<20)
				}
				t.Logf("refused after allocating %.1f KiB (bound %.1f KiB): %v", float64(alloc)/1024, float64(bound)/1024, err)
				if alloc > bound {
					t.Errorf("allocated %d bytes before refusing, over %d", alloc, bound)
				}
			})
		}
	}
}

// changingFile serves data, but after the first full read of the payload
// range it serves changed instead: a file replaced between Read's passes.
type changingFile struct {
	data, changed []byte
	reads         int
	pos           int64
}

func (f *changingFile) ReadAt(b []byte, off int64) (int, error) {
	src := f.data
	if f.reads > 0 {
		src = f.changed
	}
	if off >= int64(len(src)) {
		return 0, io.EOF
	}
	n := copy(b, src[off:])
	if off+int64(n) == int64(len(src)) {
		f.reads++
	}
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

func (f *changingFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		f.pos = off
	case io.SeekCurrent:
		f.pos += off
	case io.SeekEnd:
		f.pos = int64(len(f.data)) + off
	}
	return f.pos, nil
}

func (f *changingFile) Read([]byte) (int, error) { return 0, errors.New("Read must not be used") }

// TestFileChangedBetweenPasses: with a required key, Read verifies in
// a first pass and hashes what it decodes again in a second, so a file
// swapped after the first pass verified it is refused. Without one it
// reads the payload once (reads counts the full reads of it).
func TestFileChangedBetweenPasses(t *testing.T) {
	key := formattest.TestKey(3)
	good := formattest.File(formattest.Tiny(), format.WithSigningKey(key))
	changed := bytes.Clone(good)
	changed[len(changed)/2] ^= 0x20
	opt := format.WithTrustedKeys(key.Public().(ed25519.PublicKey))
	if _, err := format.Read(&changingFile{data: good, changed: good}, opt); err != nil {
		t.Fatalf("unchanged file: %v", err)
	}
	_, err := format.Read(&changingFile{data: good, changed: changed}, opt)
	if !errors.Is(err, format.ErrChecksum) {
		t.Errorf("file changed between passes: got %v, want ErrChecksum", err)
	}
	unsigned := formattest.File(formattest.Tiny())
	f := &changingFile{data: unsigned, changed: unsigned}
	if _, err := format.Read(f); err != nil {
		t.Errorf("no key required: %v", err)
	}
	if f.reads != 1 {
		t.Errorf("no key required: the payload was read %d times, want once", f.reads)
	}
}

// TestReadOnce: without a required key, a seekable file is read in one
// pass that hashes as it decodes; a flipped bit anywhere in the payload
// or preamble is still refused with ErrChecksum (or, in the preamble's
// fields, as corrupt), never accepted, and the stream path agrees.
func TestReadOnce(t *testing.T) {
	for _, c := range []format.Codec{format.CodecNone, format.CodecS2, format.CodecZstd} {
		good := formattest.File(formattest.Tiny(), format.WithCodec(c))
		for i := 0; i < len(good); i += max(1, len(good)/97) {
			bad := bytes.Clone(good)
			bad[i] ^= 0x10
			for _, r := range readers {
				_, err := format.Read(r.wrap(bad))
				if err == nil {
					t.Fatalf("%s: bit flipped at byte %d accepted (%s)", c, i, r.name)
				}
				if i >= 48 && !errors.Is(err, format.ErrChecksum) {
					t.Errorf("%s: bit flipped in the payload at byte %d: %v, want ErrChecksum (%s)", c, i, err, r.name)
				}
			}
		}
	}
}

// TestReadFileTakesTwoPasses: ReadFile reads a regular file in place
// (no buffered copy of its payload) and a pipe in one pass; both accept
// a valid model and refuse a hostile one.
func TestReadFileTakesTwoPasses(t *testing.T) {
	dir := t.TempDir()
	big := formattest.File(formattest.Large(8<<20, format.I8, formattest.Random, 1), format.WithCodec(format.CodecNone))
	path := filepath.Join(dir, "big.erm")
	if err := os.WriteFile(path, big, 0o644); err != nil {
		t.Fatal(err)
	}
	var m *format.Model
	var err error
	alloc := allocated(func() { m, err = format.ReadFile(path) })
	if err != nil {
		t.Fatal(err)
	}
	// Tensors once, plus small buffers: no copy of the 8 MiB payload.
	if bound := m.Container.TensorBytes + 2<<20; alloc > bound {
		t.Errorf("ReadFile allocated %.1f MiB for %.1f MiB of tensors", mib(alloc), mib(m.Container.TensorBytes))
	}
	hostile := filepath.Join(dir, "hostile.erm")
	if err := os.WriteFile(hostile, formattest.AttrMapBomb(65536, 1024), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := format.ReadFile(hostile); !errors.Is(err, format.ErrLimit) {
		t.Errorf("hostile file: %v, want ErrLimit", err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, _ = pw.Write(formattest.File(formattest.Tiny()))
		_ = pw.Close()
	}()
	defer pr.Close()
	if _, err := format.Read(pr); err != nil {
		t.Errorf("model from a pipe: %v", err)
	}
}

// TestLinearAttributeCheck: 1,024 attributes whose 16 KiB names differ
// only in their last bytes. A pairwise duplicate check compared 8 GiB of
// names; the check is now linear in the names' bytes. The file is
// refused under the default MaxAttrs and accepted when it is raised; a
// duplicate among them is still found, sorted or not.
func TestLinearAttributeCheck(t *testing.T) {
	file := formattest.LongAttrNames(1024, 16<<10)
	if _, err := format.Read(bytes.NewReader(file)); !errors.Is(err, format.ErrLimit) {
		t.Fatalf("default limits: %v, want ErrLimit", err)
	}
	raised := format.WithLimits(format.Limits{MaxAttrs: 1024})
	m, err := format.Read(bytes.NewReader(file), raised)
	if err != nil {
		t.Fatalf("MaxAttrs 1024: %v", err)
	}
	attrs := m.Graph.Nodes[2].Attrs
	if len(attrs) != 1024 {
		t.Fatalf("%d attributes", len(attrs))
	}
	for _, swap := range []bool{false, true} {
		dup := formattest.Tiny()
		dup.Graph.Nodes[2].Attrs = append([]format.Attr(nil), attrs...)
		a := dup.Graph.Nodes[2].Attrs
		a[700].Name = a[300].Name
		if swap {
			a[0], a[1023] = a[1023], a[0]
		}
		var buf bytes.Buffer
		if err := format.Write(&buf, dup, format.WithoutValidation()); err != nil {
			t.Fatal(err)
		}
		if _, err := format.Read(&buf, raised); !errors.Is(err, format.ErrCorrupt) {
			t.Errorf("duplicate attribute (unsorted: %v): %v, want ErrCorrupt", swap, err)
		}
	}
}

// TestEveryLimit: each limit of Limits refuses a model that exceeds it
// by one, with ErrLimit, on Read and on Write.
func TestEveryLimit(t *testing.T) {
	base := func() *format.Model {
		m := formattest.Full()
		m.Metadata.Features[1].Categories = []string{"A", "B", "C", "D"}
		return m
	}
	for _, tc := range []struct {
		name string
		lim  format.Limits
	}{
		{"MaxDecodedBytes", format.Limits{MaxDecodedBytes: 100}},
		{"MaxTensorBytes", format.Limits{MaxTensorBytes: 31}},
		{"MaxTensors", format.Limits{MaxTensors: 8}},
		{"MaxNodes", format.Limits{MaxNodes: 3}},
		{"MaxAttrs", format.Limits{MaxAttrs: 5}},
		{"MaxDims", format.Limits{MaxDims: 1}},
		{"MaxDimSize", format.Limits{MaxDimSize: 7}},
		{"MaxElements", format.Limits{MaxElements: 31}},
		{"MaxStringLen", format.Limits{MaxStringLen: 10}},
		{"MaxListLen", format.Limits{MaxListLen: 4}},
		{"MaxSeqLen", format.Limits{MaxSeqLen: 63}},
		{"MaxHeaderBytes", format.Limits{MaxHeaderBytes: 1000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := formattest.File(base())
			_, err := format.Read(bytes.NewReader(file), format.WithLimits(tc.lim))
			if !errors.Is(err, format.ErrLimit) {
				t.Errorf("Read: got %v, want ErrLimit", err)
			}
		})
	}
	if _, err := format.Read(bytes.NewReader(formattest.File(base())), format.WithLimits(format.Limits{
		MaxDecodedBytes: 4096, MaxTensorBytes: 96, MaxTensors: 9, MaxNodes: 4, MaxAttrs: 6, MaxDims: 2, MaxDimSize: 8,
		MaxElements: 32, MaxStringLen: 23, MaxListLen: 5, MaxSeqLen: 64, MaxHeaderBytes: 8192,
	})); err != nil {
		t.Errorf("limits at the model's size: %v", err)
	}
	// Write holds a model to the limits it is given, so that it never
	// writes a file that Read with the same limits refuses.
	tooMany := formattest.Tiny()
	for i := range 70 {
		tooMany.Graph.Nodes[0].Attrs = append(tooMany.Graph.Nodes[0].Attrs, format.Attr{Name: "x" + string(rune('A'+i)), Kind: format.AttrInt})
	}
	if err := format.Write(io.Discard, tooMany); !errors.Is(err, format.ErrLimit) {
		t.Errorf("Write of 71 attributes: %v, want ErrLimit", err)
	}
}

// TestDuplicateKeysRefused: a key the schema knows appears at most once
// in its map; a second one (which a decoder would let override the
// first) is refused. Unknown keys may repeat.
func TestDuplicateKeysRefused(t *testing.T) {
	m := formattest.Tiny()
	hdr, err := m.MarshalMsg(nil)
	if err != nil {
		t.Fatal(err)
	}
	body := formattest.Body(m)
	tensors := body[len(hdr):]
	meta := bytes.LastIndex(hdr, []byte("\xa4meta"))
	for _, tc := range []struct {
		name string
		hdr  []byte
		want error
	}{
		// {graph, tensors, meta, meta}: the second meta overrides the first.
		{"meta-twice", append(append([]byte{0x84}, hdr[1:]...), hdr[meta:]...), format.ErrCorrupt},
		// Two unknown keys of the same name are skipped like any other.
		{"unknown-twice", append(append([]byte{0x85}, hdr[1:]...), "\xa3new\x01\xa3new\x02"...), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := formattest.Raw{Codec: format.CodecZstd, Body: append(bytes.Clone(tc.hdr), tensors...)}.Bytes()
			_, err := format.Read(bytes.NewReader(file))
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestValidateUsesModelLimits: Validate holds a model to the limits it
// was read with, so a model read with raised limits validates (as
// engine.Load does) and one built in memory gets the defaults.
func TestValidateUsesModelLimits(t *testing.T) {
	file := formattest.LongAttrNames(100, 16)
	m, err := format.Read(bytes.NewReader(file), format.WithLimits(format.Limits{MaxAttrs: 100}))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Errorf("read with MaxAttrs 100: %v", err)
	}
	m.Limits = format.Limits{}
	if err := m.Validate(); !errors.Is(err, format.ErrLimit) {
		t.Errorf("with default limits: %v, want ErrLimit", err)
	}
}

// shrinkingFile reports size bytes to Seek but serves only the first cut
// of them: a file truncated after Read checked its length.
type shrinkingFile struct {
	data []byte
	cut  int64
	pos  int64
}

func (f *shrinkingFile) ReadAt(b []byte, off int64) (int, error) {
	if off >= f.cut {
		return 0, io.EOF
	}
	n := copy(b, f.data[off:f.cut])
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

func (f *shrinkingFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		f.pos = off
	case io.SeekCurrent:
		f.pos += off
	case io.SeekEnd:
		f.pos = int64(len(f.data)) + off
	}
	return f.pos, nil
}

func (f *shrinkingFile) Read([]byte) (int, error) { return 0, errors.New("Read must not be used") }

// TestFileTruncatedWhileRead: a file that ends early after Read checked
// its length (truncated while it is read) is refused as corrupt, with or
// without a required key, whatever the codec and wherever it ends.
func TestFileTruncatedWhileRead(t *testing.T) {
	key := formattest.TestKey(4)
	m := formattest.Large(3<<20, format.F32, formattest.Random, 5)
	for _, c := range []format.Codec{format.CodecNone, format.CodecS2, format.CodecZstd} {
		file := formattest.File(m, format.WithCodec(c), format.WithSigningKey(key))
		for _, opts := range [][]format.Option{nil, {format.WithTrustedKeys(key.Public().(ed25519.PublicKey))}} {
			for _, cut := range []int64{48, 100, int64(len(file)) / 3, int64(len(file)) - 200, int64(len(file)) - 1} {
				_, err := format.Read(&shrinkingFile{data: file, cut: cut}, opts...)
				if !errors.Is(err, format.ErrCorrupt) && !errors.Is(err, format.ErrChecksum) {
					t.Errorf("%s, %d options, cut at %d of %d: %v, want ErrCorrupt or ErrChecksum", c, len(opts), cut, len(file), err)
				}
			}
		}
	}
}
