package engine_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/engine/enginetest"
)

// BenchmarkLoadFile times engine.LoadFile of the 50 MB f32 (and 13 MB
// int8) mlp:2048-2048-2048-2048-10 written with each codec, from a file
// in the page cache; MB/s is of the file.
func BenchmarkLoadFile(b *testing.B) {
	dir := b.TempDir()
	for _, q := range []struct {
		name string
		int8 bool
	}{{"f32", false}, {"int8", true}} {
		fm, err := enginetest.Build("mlp:2048-2048-2048-2048-10", enginetest.Options{Int8: q.int8, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range []format.Codec{format.CodecNone, format.CodecS2, format.CodecZstd} {
			path := filepath.Join(dir, q.name+"_"+c.String()+".erm")
			if err := format.WriteFile(path, fm, format.WithCodec(c)); err != nil {
				b.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(q.name+"/"+c.String(), func(b *testing.B) {
				b.SetBytes(fi.Size())
				for b.Loop() {
					if _, err := engine.LoadFile(path); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
