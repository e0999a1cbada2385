package format_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/format/formattest"
)

var update = flag.Bool("update", false, "rewrite golden files")

var classes = []error{format.ErrCorrupt, format.ErrChecksum, format.ErrVersion, format.ErrLimit, format.ErrSignature}

// classOf returns the one error class err belongs to, or nil.
func classOf(t *testing.T, err error) error {
	t.Helper()
	var found error
	for _, c := range classes {
		if errors.Is(err, c) {
			if found != nil {
				t.Errorf("error %q is both %v and %v", err, found, c)
			}
			found = c
		}
	}
	var fe *format.Error
	if !errors.As(err, &fe) {
		t.Errorf("error %q is %T, not *format.Error", err, err)
	}
	return found
}

func TestCorruptCases(t *testing.T) {
	for _, c := range formattest.Corrupt() {
		t.Run(c.Name, func(t *testing.T) {
			m, err := format.Read(bytes.NewReader(c.Data))
			if err == nil {
				t.Fatalf("accepted a corrupt file: %d tensors", len(m.Tensors))
			}
			if got := classOf(t, err); got != c.Want {
				t.Errorf("error class %v, want %v: %v", got, c.Want, err)
			}
			if !strings.HasPrefix(err.Error(), "format: ") || strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line starting with \"format: \": %q", err)
			}
		})
	}
}

func TestErrorNamesThePart(t *testing.T) {
	m := formattest.Tiny()
	m.Tensors[0].Data = m.Tensors[0].Data[:5]
	_, err := format.Read(bytes.NewReader(formattest.Raw{Codec: format.CodecZstd, Body: formattest.Body(m)}.Bytes()))
	if err == nil || !strings.Contains(err.Error(), `tensor 0 "dense_1/w"`) {
		t.Errorf("error %v does not name the tensor", err)
	}
	_, err = format.Read(bytes.NewReader(formattest.Raw{Major: 3, Minor: 1, Body: formattest.Body(m)}.Bytes()))
	if err == nil || !strings.Contains(err.Error(), "3.1") || !strings.Contains(err.Error(), fmt.Sprintf("%d.x", format.Major)) {
		t.Errorf("version error %v does not name both versions", err)
	}
}

// variants are small valid files: each codec, signed and unsigned.
func variants() map[string][]byte {
	key := formattest.TestKey(7)
	out := map[string][]byte{}
	for _, c := range []format.Codec{format.CodecNone, format.CodecZstd, format.CodecS2} {
		out[c.String()] = formattest.File(formattest.Tiny(), format.WithCodec(c))
		out[c.String()+"-signed"] = formattest.File(formattest.Tiny(), format.WithCodec(c), format.WithSigningKey(key))
	}
	return out
}

// TestBitFlipSweep flips every bit of small models, one at a time: every
// variant must be rejected, and nothing may panic.
func TestBitFlipSweep(t *testing.T) {
	for name, good := range variants() {
		t.Run(name, func(t *testing.T) {
			if _, err := format.Read(bytes.NewReader(good)); err != nil {
				t.Fatalf("valid file rejected: %v", err)
			}
			b := bytes.Clone(good)
			counts := map[error]int{}
			for i := range b {
				for bit := 0; bit < 8; bit++ {
					b[i] ^= 1 << bit
					_, err := format.Read(bytes.NewReader(b))
					if err == nil {
						t.Fatalf("byte %d bit %d flipped: accepted", i, bit)
					}
					counts[classOf(t, err)]++
					b[i] ^= 1 << bit
				}
			}
			t.Logf("%d bytes, %d flips rejected: %v", len(b), 8*len(b), counts)
		})
	}
}

func TestTruncationAtEveryLength(t *testing.T) {
	for name, good := range variants() {
		t.Run(name, func(t *testing.T) {
			for n := 0; n < len(good); n++ {
				_, err := format.Read(bytes.NewReader(good[:n]))
				if err == nil {
					t.Fatalf("truncated to %d of %d bytes: accepted", n, len(good))
				}
				if c := classOf(t, err); c != format.ErrCorrupt && c != format.ErrChecksum {
					t.Fatalf("truncated to %d: class %v: %v", n, c, err)
				}
			}
		})
	}
}

func TestLimits(t *testing.T) {
	good := formattest.File(formattest.Full())
	for _, tc := range []struct {
		name string
		opt  format.Option
	}{
		{"decoded-bytes", format.WithMaxDecodedBytes(100)},
		{"tensors", format.WithMaxTensors(2)},
		{"dims", format.WithMaxDims(1)},
		{"tensor-bytes", format.WithMaxTensorBytes(16)},
		{"string-len", format.WithMaxStringLen(4)},
		// The payload's zstd window (its size, about 1.1 KiB) is over 1 KiB,
		// and 1 byte is below any window.
		{"decoder-memory", format.WithMaxDecoderMemory(1 << 10)},
		{"decoder-memory-below-min", format.WithMaxDecoderMemory(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := format.Read(bytes.NewReader(good), tc.opt)
			if !errors.Is(err, format.ErrLimit) {
				t.Fatalf("got %v, want ErrLimit", err)
			}
		})
	}
	if _, err := format.Read(bytes.NewReader(good), format.WithMaxTensors(20), format.WithMaxDims(2), format.WithMaxDecoderMemory(4<<10)); err != nil {
		t.Fatalf("limits at the model's size rejected it: %v", err)
	}
}

// TestDecompressionBomb: a file of a few KiB that expands to 256 MiB is
// refused, whether its preamble is honest about the size (over the limit)
// or lies (payload outgrows it), and the reader never allocates anywhere
// near the expanded size.
func TestDecompressionBomb(t *testing.T) {
	const expand = 256 << 20
	for _, tc := range []struct {
		name     string
		declared int64
		want     error
	}{
		{"honest", expand + 1024, format.ErrLimit},
		{"lying", 1 << 20, format.ErrCorrupt},
		{"lying-15MiB", 15 << 20, format.ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bomb := formattest.Bomb(expand, tc.declared)
			if len(bomb) > 64<<10 {
				t.Fatalf("bomb is %d bytes, not tiny", len(bomb))
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			lim := format.Limits{MaxDecodedBytes: 16 << 20}
			if tc.want == format.ErrCorrupt {
				// The tensor fits the limits: only the lie stops it.
				lim = format.Limits{MaxDecodedBytes: 1 << 30, MaxTensorBytes: 1 << 30, MaxDimSize: 1 << 30, MaxElements: 1 << 30}
			}
			_, err := format.Read(bytes.NewReader(bomb), format.WithLimits(lim))
			runtime.ReadMemStats(&after)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d-byte file expanding to %d MiB: refused after allocating %.1f MiB: %v", len(bomb), expand>>20, float64(alloc)/(1<<20), err)
			if alloc > 24<<20 {
				t.Errorf("allocated %d bytes reading a bomb", alloc)
			}
		})
	}
}

func TestSignatures(t *testing.T) {
	key, other := formattest.TestKey(1), formattest.TestKey(2)
	pub := key.Public().(ed25519.PublicKey)
	unsigned := formattest.File(formattest.Tiny())
	signed := formattest.File(formattest.Tiny(), format.WithSigningKey(key))
	byOther := formattest.File(formattest.Tiny(), format.WithSigningKey(other))
	tampered := bytes.Clone(signed)
	tampered[len(tampered)-5] ^= 0x80

	m, err := format.Read(bytes.NewReader(signed))
	if err != nil || !m.Container.Signed || m.Container.Trusted {
		t.Fatalf("signed file without trusted keys: %v, %+v", err, m.Container)
	}
	m, err = format.Read(bytes.NewReader(signed), format.WithTrustedKeys(pub))
	if err != nil || !m.Container.Trusted {
		t.Fatalf("signed by a trusted key: %v", err)
	}
	_, err = format.Read(bytes.NewReader(unsigned), format.WithTrustedKeys(pub))
	if !errors.Is(err, format.ErrUnsigned) || errors.Is(err, format.ErrUntrustedKey) {
		t.Errorf("unsigned with trusted keys: %v, want ErrUnsigned only", err)
	}
	_, err = format.Read(bytes.NewReader(byOther), format.WithTrustedKeys(pub))
	if !errors.Is(err, format.ErrUntrustedKey) || errors.Is(err, format.ErrUnsigned) {
		t.Errorf("signed by another key: %v, want ErrUntrustedKey only", err)
	}
	for _, opts := range [][]format.Option{nil, {format.WithTrustedKeys(pub)}} {
		_, err = format.Read(bytes.NewReader(tampered), opts...)
		if !errors.Is(err, format.ErrSignature) || errors.Is(err, format.ErrUnsigned) || errors.Is(err, format.ErrUntrustedKey) {
			t.Errorf("tampered signature: %v, want a bad-signature error", err)
		}
	}
}

func TestSignFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.erm")
	if err := format.WriteFile(path, formattest.Full(), format.WithCodec(format.CodecS2)); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	for _, seed := range []byte{1, 2} { // the second signature replaces the first
		key := formattest.TestKey(seed)
		if err := format.SignFile(path, key); err != nil {
			t.Fatal(err)
		}
		m, err := format.ReadFile(path, format.WithTrustedKeys(key.Public().(ed25519.PublicKey)))
		if err != nil {
			t.Fatalf("after signing with key %d: %v", seed, err)
		}
		if m.Container.Codec != format.CodecS2 {
			t.Errorf("codec changed to %v", m.Container.Codec)
		}
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before[48:], after[48:len(after)-96]) {
		t.Error("signing changed the payload bytes")
	}
	if err := format.SignFile(filepath.Join(t.TempDir(), "missing.erm"), formattest.TestKey(1)); err == nil {
		t.Error("signing a missing file succeeded")
	}
}

// TestFutureMinorLoads: a file from a later minor version, with a longer
// preamble and header fields this reader does not know, still loads.
func TestFutureMinorLoads(t *testing.T) {
	m := formattest.Tiny()
	body := formattest.Body(m)
	hdr, _ := m.MarshalMsg(nil)
	if hdr[0] != 0x83 { // fixmap with 3 entries: graph, tensors, meta
		t.Fatalf("unexpected header start %#x", hdr[0])
	}
	// A fourth header field, unknown to this reader, between the header's
	// known fields and the tensor data.
	future := append([]byte{0x84}, hdr[1:]...)
	future = append(future, "\xa6future\x92\x01\xa3new"...) // "future": [1, "new"]
	future = append(future, body[len(hdr):]...)
	file := formattest.Raw{Minor: format.Minor + 7, Codec: format.CodecZstd, Body: future, PreambleExtra: make([]byte, 24)}.Bytes()
	got, err := format.Read(bytes.NewReader(file))
	if err != nil {
		t.Fatalf("future minor rejected: %v", err)
	}
	if got.Container.Minor != format.Minor+7 {
		t.Errorf("minor = %d", got.Container.Minor)
	}
	got.Container, got.Limits = format.Container{}, format.Limits{}
	if d := cmp.Diff(m, got, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}

// TestGolden: files written by earlier versions must keep loading, with
// the same content. Regenerate (only when adding a new golden for a new
// version) with go test ./format -run Golden -update.
func TestGolden(t *testing.T) {
	key := formattest.TestKey(42)
	for _, g := range []struct {
		file string
		opts []format.Option
	}{
		{"golden-v1.0.erm", []format.Option{format.WithSigningKey(key)}},
		{"golden-v1.0-s2.erm", []format.Option{format.WithCodec(format.CodecS2)}},
		{"golden-v1.0-none.erm", []format.Option{format.WithCodec(format.CodecNone)}},
	} {
		t.Run(g.file, func(t *testing.T) {
			path := filepath.Join("testdata", g.file)
			if *update {
				if err := format.WriteFile(path, formattest.GoldenV1_0(), g.opts...); err != nil {
					t.Fatal(err)
				}
			}
			m, err := format.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if m.Container.Major != 1 || m.Container.Minor != 0 {
				t.Errorf("golden file is %d.%d", m.Container.Major, m.Container.Minor)
			}
			if m.Container.Signed && !m.Container.SignerKey.Equal(key.Public()) {
				t.Errorf("signed by %s", format.KeyFingerprint(m.Container.SignerKey))
			}
			m.Container, m.Limits = format.Container{}, format.Limits{}
			if d := cmp.Diff(formattest.GoldenV1_0(), m, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("golden content changed (-want +got)\n%s", d)
			}
		})
	}
}

func TestValidateRejectsOnWrite(t *testing.T) {
	m := formattest.Tiny()
	m.Tensors[2].Data = m.Tensors[2].Data[1:]
	var buf bytes.Buffer
	if err := format.Write(&buf, m); !errors.Is(err, format.ErrCorrupt) {
		t.Fatalf("Write of an invalid model: %v", err)
	}
	if buf.Len() != 0 {
		t.Error("Write wrote bytes for an invalid model")
	}
}

// TestDeterministic: the same model gives the same bytes, whatever the
// order of its attributes and extra metadata.
func TestDeterministic(t *testing.T) {
	a := formattest.Full()
	b := formattest.Full()
	attrs := b.Graph.Nodes[3].Attrs
	for i, j := 0, len(attrs)-1; i < j; i, j = i+1, j-1 {
		attrs[i], attrs[j] = attrs[j], attrs[i]
	}
	b.Metadata.Extra[0], b.Metadata.Extra[1] = b.Metadata.Extra[1], b.Metadata.Extra[0]
	for _, c := range []format.Codec{format.CodecNone, format.CodecZstd, format.CodecS2} {
		if !bytes.Equal(formattest.File(a, format.WithCodec(c)), formattest.File(b, format.WithCodec(c))) {
			t.Errorf("%v: equal models gave different bytes", c)
		}
	}
	if b.Graph.Nodes[3].Attrs[0].Name != "ss" {
		t.Error("Write sorted the caller's attributes in place")
	}
}

func TestWithoutTensorData(t *testing.T) {
	file := formattest.File(formattest.Full(), format.WithCodec(format.CodecS2))
	full, err := format.Read(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	m, err := format.Read(bytes.NewReader(file), format.WithoutTensorData())
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Tensors {
		if m.Tensors[i].Data != nil {
			t.Errorf("tensor %q has data", m.Tensors[i].Name)
		}
	}
	if m.Container.TensorBytes != full.Container.TensorBytes || m.Container.Checksum != full.Container.Checksum {
		t.Errorf("container %+v, want %+v", m.Container, full.Container)
	}
	// Damage is still detected.
	file[len(file)-3] ^= 1
	if _, err := format.Read(bytes.NewReader(file), format.WithoutTensorData()); !errors.Is(err, format.ErrChecksum) {
		t.Errorf("damaged file: %v", err)
	}
}

// TestNegativeZero: cmp treats -0 == +0, so check the sign bit survives.
func TestNegativeZero(t *testing.T) {
	m, err := format.Read(bytes.NewReader(formattest.File(formattest.Full())))
	if err != nil {
		t.Fatal(err)
	}
	fs := m.Graph.Nodes[3].Attr("fs").Floats
	if len(fs) != 3 || fs[1] != 0 || !math.Signbit(fs[1]) {
		t.Errorf("fs = %v, want [+Inf -0 3]", fs)
	}
}
