package oip

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// benchRequests are the requests BenchmarkDecode reads: the serving
// daemon's common shapes (many named one-value inputs, one text input,
// one row of features) and a large tensor.
func benchRequests() []struct{ name, body string } {
	var named strings.Builder
	named.WriteString(`{"id":"1","inputs":[`)
	for i := range 64 {
		if i > 0 {
			named.WriteByte(',')
		}
		fmt.Fprintf(&named, `{"name":"feature_%02d","datatype":"FP32","shape":[1,1],"data":[%g]}`, i, 0.125+float64(i)*1.37)
	}
	named.WriteString(`]}`)

	row := func(rows int) string {
		var b strings.Builder
		fmt.Fprintf(&b, `{"inputs":[{"name":"x","datatype":"FP32","shape":[%d,64],"data":[`, rows)
		for i := range rows * 64 {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%g", float32(i%997)*0.0137-3.5)
		}
		b.WriteString(`]}]}`)
		return b.String()
	}
	return []struct{ name, body string }{
		{"named64", named.String()},
		{"text", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["this movie was a wonderful surprise, the cast is great and the story \"moves\" along"]}]}`},
		{"row64", row(1)},
		{"rows4096x64", row(4096)},
	}
}

// BenchmarkDecode: Decode of each of benchRequests.
func BenchmarkDecode(b *testing.B) {
	lim := Limits{Bytes: 64 << 20, Elements: 1 << 24}
	for _, tc := range benchRequests() {
		body := []byte(tc.body)
		if _, err := Decode(bytes.NewReader(body), Options{Limits: lim}); err != nil {
			b.Fatalf("%s: %v", tc.name, err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			r := bytes.NewReader(body)
			for b.Loop() {
				r.Reset(body)
				if _, err := Decode(r, Options{Limits: lim}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
