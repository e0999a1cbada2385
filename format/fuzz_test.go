package format_test

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/format/formattest"
)

// FuzzRead: Read must never panic, must respect its limits, and whatever
// it accepts must write back and read back to the same model.
// fuzz:budget 100000x
func FuzzRead(f *testing.F) {
	for _, b := range variants() {
		f.Add(b)
	}
	f.Add(formattest.File(formattest.Full()))
	f.Add(formattest.File(formattest.Full(), format.WithCodec(format.CodecNone)))
	for _, c := range formattest.Corrupt() {
		if len(c.Data) < 64<<10 {
			f.Add(c.Data)
		}
	}
	const maxDecoded = 4 << 20
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := format.Read(bytes.NewReader(data), format.WithMaxDecodedBytes(maxDecoded))
		if err != nil {
			classOf(t, err)
			return
		}
		if m.Container.DecodedBytes > maxDecoded || m.Container.TensorBytes > maxDecoded {
			t.Fatalf("accepted %d decoded bytes over the %d limit", m.Container.DecodedBytes, maxDecoded)
		}
		var buf bytes.Buffer
		if err := format.Write(&buf, m, format.WithCodec(m.Container.Codec)); err != nil {
			t.Fatalf("accepted model does not write back: %v", err)
		}
		m2, err := format.Read(&buf)
		if err != nil {
			t.Fatalf("rewritten model does not read back: %v", err)
		}
		m.Container, m2.Container = format.Container{}, format.Container{}
		m.Limits, m2.Limits = format.Limits{}, format.Limits{}
		if d := cmp.Diff(m, m2, cmpopts.EquateEmpty(), cmpopts.EquateNaNs()); d != "" {
			t.Fatalf("round trip changed the model (-first +second):\n%s", d)
		}
	})
}
