package format_test

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/format/formattest"
)

const benchModelBytes = 50 << 20

var codecs = []format.Codec{format.CodecZstd, format.CodecS2, format.CodecNone}

// BenchmarkWrite and BenchmarkRead report MB/s of tensor data for a 50 MB
// model of int8 weights shaped like trained ones.
func BenchmarkWrite(b *testing.B) {
	m := formattest.Large(benchModelBytes, format.I8, formattest.TrainedLike, 1)
	for _, c := range codecs {
		b.Run(c.String(), func(b *testing.B) {
			var buf bytes.Buffer
			b.SetBytes(benchModelBytes)
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				if err := format.Write(&buf, m, format.WithCodec(c)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "file-bytes")
		})
	}
}

func BenchmarkRead(b *testing.B) {
	m := formattest.Large(benchModelBytes, format.I8, formattest.TrainedLike, 1)
	for _, c := range codecs {
		file := formattest.File(m, format.WithCodec(c))
		b.Run(c.String(), func(b *testing.B) {
			b.SetBytes(benchModelBytes)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := format.Read(bytes.NewReader(file)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFileSize reports the file size of each codec, as a ratio of
// the tensor bytes, for random and trained-like weights, int8 and f32.
// Its time per op is that of one Write.
func BenchmarkFileSize(b *testing.B) {
	for _, dt := range []format.DType{format.I8, format.F32} {
		for _, kind := range []formattest.WeightKind{formattest.Random, formattest.TrainedLike} {
			m := formattest.Large(benchModelBytes, dt, kind, 2)
			var tensorBytes int64
			for _, t := range m.Tensors {
				tensorBytes += int64(len(t.Data))
			}
			name := map[formattest.WeightKind]string{formattest.Random: "random", formattest.TrainedLike: "trained"}[kind]
			for _, c := range codecs {
				b.Run(fmt.Sprintf("%s/%s/%s", dt, name, c), func(b *testing.B) {
					var buf bytes.Buffer
					for b.Loop() {
						buf.Reset()
						if err := format.Write(&buf, m, format.WithCodec(c)); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(buf.Len()), "file-bytes")
					b.ReportMetric(float64(buf.Len())/float64(tensorBytes), "file/tensor")
				})
			}
		}
	}
}

// TestReadPeakHeap: reading a 50 MB model allocates at most 1.2 × its
// tensor bytes + 16 MiB in total, an upper bound on the heap Read adds.
func TestReadPeakHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 50 MB model")
	}
	m := formattest.Large(benchModelBytes, format.I8, formattest.TrainedLike, 3)
	for _, c := range codecs {
		file := formattest.File(m, format.WithCodec(c))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		got, err := format.Read(bytes.NewReader(file))
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		tensor := got.Container.TensorBytes
		alloc := int64(after.TotalAlloc - before.TotalAlloc)
		limit := tensor*12/10 + 16<<20
		t.Logf("%-4s: tensors %.1f MiB, file %.1f MiB, allocated during Read %.1f MiB = %.3f × tensors (bound %.1f MiB)",
			c, mib(tensor), mib(int64(len(file))), mib(alloc), float64(alloc)/float64(tensor), mib(limit))
		if alloc > limit {
			t.Errorf("%s: Read allocated %d bytes, over 1.2 × %d + 16 MiB", c, alloc, tensor)
		}
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
