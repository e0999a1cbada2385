package format_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/tinylib/msgp/msgp"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/format/formattest"
)

// FuzzRead: Read must never panic, must respect its limits, and whatever
// it accepts must write back and read back to the same model. Read checks
// the checksum before it decodes, so each input is also read resealed
// (its checksum recomputed): mutations then reach the decoder. For an
// uncompressed file the header Read decodes must equal what the
// generated msgp decoder makes of the same bytes.
// fuzz:budget 200000x
func FuzzRead(f *testing.F) {
	for _, b := range variants() {
		f.Add(b)
	}
	f.Add(formattest.File(formattest.Full()))
	f.Add(formattest.File(formattest.Full(), format.WithCodec(format.CodecNone)))
	f.Add(formattest.File(formattest.Text(), format.WithCodec(format.CodecNone)))
	for _, c := range formattest.Corrupt() {
		if len(c.Data) < 64<<10 {
			f.Add(c.Data)
		}
	}
	for _, c := range formattest.Hostile() {
		if len(c.Data) < 64<<10 && c.Want != nil { // the accepted one is slow to compare
			f.Add(c.Data)
		}
	}
	// Small versions of the hostile shapes, under the fuzz limits.
	f.Add(formattest.CategoryList(1000, 1))
	f.Add(formattest.AttrMapBomb(64, 70))
	f.Add(formattest.LongAttrNames(70, 64))
	f.Add(formattest.NodeCount(300))
	const maxDecoded = 4 << 20
	f.Fuzz(func(t *testing.T, data []byte) {
		read(t, data, maxDecoded)
		if resealed := formattest.Reseal(data); !bytes.Equal(resealed, data) {
			read(t, resealed, maxDecoded)
		}
	})
}

func read(t *testing.T, data []byte, maxDecoded int64) {
	m, err := format.Read(bytes.NewReader(data), format.WithMaxDecodedBytes(maxDecoded))
	if err != nil {
		classOf(t, err)
		return
	}
	if m.Container.DecodedBytes > maxDecoded || m.Container.TensorBytes > maxDecoded {
		t.Fatalf("accepted %d decoded bytes over the %d limit", m.Container.DecodedBytes, maxDecoded)
	}
	if m.Container.Codec == format.CodecNone {
		plen := int(binary.LittleEndian.Uint16(data[12:]))
		var gen format.Model
		err := gen.DecodeMsg(msgp.NewReader(bytes.NewReader(data[plen:])))
		if errors.Is(err, msgp.ErrLimitExceeded) {
			return // the schema's fixed tags are tighter than Limits there
		}
		if err != nil {
			t.Fatalf("Read accepted a header the generated decoder refuses: %v", err)
		}
		got := *m
		got.Container, got.Limits = format.Container{}, format.Limits{}
		got.Tensors = append([]format.Tensor(nil), m.Tensors...)
		for i := range got.Tensors {
			got.Tensors[i].Data = nil
		}
		if d := cmp.Diff(&gen, &got, cmpopts.EquateEmpty(), cmpopts.EquateNaNs()); d != "" {
			t.Fatalf("Read and the generated decoder disagree (-generated +Read):\n%s", d)
		}
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
}
