package format

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/klauspost/compress/s2"
)

// s2Encode writes data as an S2 stream with the writer options.
func s2Encode(t testing.TB, data []byte, opts ...s2.WriterOption) []byte {
	var buf bytes.Buffer
	w := s2.NewWriter(&buf, opts...)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readS2Stream reads stream with s2Stream, with Read calls of the given
// sizes in turn (cycled); its result is what a msgpack reader that asks
// for those sizes would see.
func readS2Stream(stream []byte, sizes []int) ([]byte, error) {
	s := newS2Stream(bytes.NewReader(stream), 4<<20, uint64(len(stream)))
	var out []byte
	buf := make([]byte, slices.Max(sizes))
	for i := 0; ; i++ {
		p := buf[:sizes[i%len(sizes)]]
		n, err := s.Read(p)
		if n > len(p) || n < 0 {
			return nil, fmt.Errorf("Read returned %d for %d bytes", n, len(p))
		}
		out = append(out, p[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if n == 0 && len(p) > 0 {
			return nil, errors.New("Read returned 0, nil")
		}
	}
}

// readS2Reference reads stream with the s2 package's reader, set up as
// s2Stream is (4 MiB blocks, CRCs not checked).
func readS2Reference(stream []byte) ([]byte, error) {
	return io.ReadAll(s2.NewReader(bytes.NewReader(stream), s2.ReaderMaxBlockSize(4<<20), s2.ReaderAllocBlock(1024), s2.ReaderIgnoreCRC()))
}

// TestS2Stream: s2Stream decodes what the s2 writer writes, with every
// writer layout (block sizes, Snappy framing, padding, an index,
// uncompressed) and data from incompressible to all zeros, whatever the
// sizes of the reads, and a block that fits the read lands in the
// caller's buffer without a block buffer.
func TestS2Stream(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 5<<20+3)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	text := bytes.Repeat([]byte("edgerun loads models at disk speed. "), 150000)
	mixed := append(append(bytes.Clone(random[:1<<20]), make([]byte, 1<<20)...), text[:1<<20]...)
	inputs := map[string][]byte{
		"empty": nil, "one": {7}, "small": random[:100], "random": random, "zeros": make([]byte, 3<<20), "text": text, "mixed": mixed,
	}
	writers := map[string][]s2.WriterOption{
		"default":    nil,
		"block64k":   {s2.WriterBlockSize(64 << 10)},
		"block4m":    {s2.WriterBlockSize(4 << 20)},
		"snappy":     {s2.WriterSnappyCompat()},
		"padding":    {s2.WriterPadding(4096)},
		"index":      {s2.WriterAddIndex()},
		"uncompress": {s2.WriterUncompressed()},
		"better":     {s2.WriterBetterCompression(), s2.WriterConcurrency(1)},
	}
	readSizes := [][]int{{6 << 20}, {1}, {7, 4096, 1 << 20}, {32 << 10}, {5, 1 << 22}}
	for in, data := range inputs {
		for wn, wo := range writers {
			stream := s2Encode(t, data, wo...)
			if _, err := readS2Reference(stream); err != nil {
				// The writer's empty stream with an index has no stream
				// identifier; s2.Reader refuses it too.
				if _, ours := readS2Stream(stream, readSizes[0]); ours == nil {
					t.Errorf("%s/%s: s2.Reader refuses the stream (%v), s2Stream accepts it", in, wn, err)
				}
				continue
			}
			for _, sizes := range readSizes {
				if len(sizes) == 1 && sizes[0] == 1 && len(data) > 1<<20 {
					continue // byte by byte: only the small inputs
				}
				if raceEnabled && len(data) > 1<<20 && len(sizes) != 3 && sizes[0] != 6<<20 {
					// Under -race the large inputs are read whole and in the
					// mixed sizes only (the race suite of make test); the
					// other sizes run without -race.
					continue
				}
				got, err := readS2Stream(stream, sizes)
				if err != nil {
					t.Fatalf("%s/%s reads %v: %v", in, wn, sizes, err)
				}
				if !bytes.Equal(got, data) {
					t.Fatalf("%s/%s reads %v: decoded %d bytes, differ from the %d written", in, wn, sizes, len(got), len(data))
				}
			}
		}
	}
	// A whole-stream read into one buffer needs no block buffer.
	s := newS2Stream(bytes.NewReader(s2Encode(t, mixed)), 4<<20, 1<<30)
	dst := make([]byte, len(mixed))
	if _, err := io.ReadFull(s, dst); err != nil {
		t.Fatal(err)
	}
	if s.block != nil {
		t.Errorf("a %d-byte block buffer was allocated for reads that fit the blocks", cap(s.block))
	}
	if !bytes.Equal(dst, mixed) {
		t.Error("direct decode differs")
	}
}

// TestS2StreamCorrupt: truncated and damaged streams give an error,
// never a panic or a short success.
func TestS2StreamCorrupt(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	stream := s2Encode(t, data, s2.WriterBlockSize(64<<10))
	for cut := 0; cut < len(stream); cut += 997 {
		got, err := readS2Stream(stream[:cut], []int{1 << 20})
		if err == nil && len(got) == len(data) {
			t.Fatalf("stream cut at %d of %d decoded in full", cut, len(stream))
		}
	}
	for _, bad := range [][]byte{
		{0x00, 0x04, 0x00, 0x00, 0, 0, 0, 0},                   // data before the stream identifier
		{0xff, 0x06, 0x00, 0x00, 'n', 'o', 'p', 'e', '!', '!'}, // bad identifier
		append(s2Encode(t, nil), 0x02, 0x00, 0x00, 0x00),       // reserved unskippable chunk
		append(s2Encode(t, nil), 0x00, 0x02, 0x00, 0x00, 0, 0), // compressed chunk shorter than its CRC
		append(s2Encode(t, nil), 0x01, 0xff, 0xff, 0xff),       // uncompressed block over the limit
		append(s2Encode(t, nil), 0xfe, 0x10, 0x00, 0x00, 1),    // padding cut short
	} {
		_, err := readS2Stream(bad, []int{1 << 20})
		_, refErr := readS2Reference(bad)
		if err == nil || refErr == nil {
			t.Errorf("stream % x: s2Stream %v, s2.Reader %v; want errors from both", bad, err, refErr)
		}
	}
}

// FuzzS2Stream: s2Stream and s2.Reader (set up alike) accept the same
// streams and decode them to the same bytes.
func FuzzS2Stream(f *testing.F) {
	f.Add(s2Encode(f, []byte("hello, hello, hello, hello")), uint16(3))
	f.Add(s2Encode(f, bytes.Repeat([]byte{1, 2, 3}, 40000), s2.WriterBlockSize(4096)), uint16(100))
	f.Add(s2Encode(f, []byte("snappy framed"), s2.WriterSnappyCompat()), uint16(1))
	f.Add(s2Encode(f, make([]byte, 70000), s2.WriterPadding(512), s2.WriterAddIndex()), uint16(65535))
	f.Fuzz(func(t *testing.T, stream []byte, size uint16) {
		want, refErr := readS2Reference(stream)
		got, err := readS2Stream(stream, []int{int(size) + 1, 64 << 10})
		if (err == nil) != (refErr == nil) {
			t.Fatalf("s2Stream: %v, s2.Reader: %v", err, refErr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("decoded %d bytes, s2.Reader %d, differing", len(got), len(want))
		}
	})
}
