// Command ermgen writes a set of small .erm files, valid and deliberately
// broken, for demos, manual testing and readers in other languages:
//
//	go run ./format/formattest/cmd/ermgen -out demo-out
//
// It writes tiny.erm (formattest.Tiny, zstd), tiny-s2.erm (S2),
// tiny-none.erm (uncompressed), full.erm (formattest.Full, every field of
// the schema), and three files a reader must refuse: corrupt-checksum.erm
// (one payload byte flipped), truncated.erm (cut in the middle) and
// bad-magic.erm. It reads every file back with format.ReadFile and exits
// non-zero if a valid file does not load or a broken one is not refused
// with the expected error class.
//
// ermgen imports only format, formattest and the standard library.
package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/format/formattest"
)

func main() {
	out := flag.String("out", "", "directory to write the .erm files into (created if missing)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: ermgen -out DIR\n\nWrites valid and deliberately corrupt .erm files into DIR.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "ermgen:", err)
		os.Exit(1)
	}
}

// valid is one well-formed file to write.
type valid struct {
	name  string
	model func() *format.Model
	codec format.Codec
	what  string
}

// broken is one file derived from tiny.erm's bytes that Read must refuse
// with an error matching class.
type broken struct {
	name   string
	what   string
	class  error
	mangle func(b []byte) ([]byte, error)
}

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, v := range []valid{
		{"tiny.erm", formattest.Tiny, format.CodecZstd, "two-layer int8 classifier"},
		{"tiny-s2.erm", formattest.Tiny, format.CodecS2, "same model, S2 codec (fastest to load)"},
		{"tiny-none.erm", formattest.Tiny, format.CodecNone, "same model, stored uncompressed"},
		{"full.erm", formattest.Full, format.CodecZstd, "every schema field, dtype and quantization scheme"},
	} {
		path := filepath.Join(dir, v.name)
		if err := format.WriteFile(path, v.model(), format.WithCodec(v.codec)); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		if _, err := format.ReadFile(path); err != nil {
			return fmt.Errorf("read back %s: %w", path, err)
		}
		if err := report(path, v.codec.String(), v.what); err != nil {
			return err
		}
	}

	// The broken files start from an in-memory copy of tiny.erm.
	var buf bytes.Buffer
	if err := format.Write(&buf, formattest.Tiny()); err != nil {
		return fmt.Errorf("encode tiny: %w", err)
	}
	good := buf.Bytes()
	for _, b := range []broken{
		{"corrupt-checksum.erm", "one payload byte flipped", format.ErrChecksum, flipPayloadByte},
		{"truncated.erm", "cut in the middle", format.ErrCorrupt, func(b []byte) ([]byte, error) { return b[:len(b)/2], nil }},
		{"bad-magic.erm", "magic overwritten", format.ErrCorrupt, func(b []byte) ([]byte, error) {
			copy(b, "NOTERM\r\n")
			return b, nil
		}},
	} {
		data, err := b.mangle(bytes.Clone(good))
		if err != nil {
			return fmt.Errorf("%s: %w", b.name, err)
		}
		path := filepath.Join(dir, b.name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
		_, err = format.ReadFile(path)
		if !errors.Is(err, b.class) {
			return fmt.Errorf("%s: reading it gave %v, want an error matching %q", path, err, b.class)
		}
		if err := report(path, "broken", b.what+", refused with "+b.class.Error()); err != nil {
			return err
		}
	}
	return nil
}

// flipPayloadByte inverts one byte in the middle of the payload, which
// starts after the preamble (its length is the uint16 at offset 12, see
// format/SPEC.md).
func flipPayloadByte(b []byte) ([]byte, error) {
	if len(b) < 14 {
		return nil, errors.New("file too short")
	}
	start := int(binary.LittleEndian.Uint16(b[12:14]))
	if start >= len(b) {
		return nil, errors.New("no payload")
	}
	b[start+(len(b)-start)/2] ^= 0xff
	return b, nil
}

func report(path, kind, what string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %-36s %5d bytes  %-6s  %s\n", path, fi.Size(), kind, what)
	return nil
}
