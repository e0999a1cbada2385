// Package datafile opens the data files the tools read, plain or
// compressed by their extension: .zst (zstd) or .gz (gzip), so that
// bundled datasets can stay compressed in the repository.
package datafile

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// Open opens path for reading, decompressing .zst and .gz files. Close
// releases the decoder and the file.
func Open(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(f, 1<<16)
	switch {
	case strings.HasSuffix(path, ".zst"):
		dec, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return &closer{Reader: dec, close: func() { dec.Close() }, f: f}, nil
	case strings.HasSuffix(path, ".gz"):
		gz, err := gzip.NewReader(r)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return &closer{Reader: gz, close: func() { gz.Close() }, f: f}, nil
	}
	return &closer{Reader: r, f: f}, nil
}

type closer struct {
	io.Reader
	close func()
	f     *os.File
}

func (c *closer) Close() error {
	if c.close != nil {
		c.close()
	}
	return c.f.Close()
}
