package format_test

import (
	"bytes"
	"crypto/ed25519"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/format/formattest"
)

func TestRoundTripEveryField(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	for _, codec := range []format.Codec{format.CodecNone, format.CodecZstd, format.CodecS2} {
		for _, signed := range []bool{false, true} {
			name := codec.String()
			opts := []format.Option{format.WithCodec(codec)}
			if signed {
				name += "/signed"
				opts = append(opts, format.WithSigningKey(priv))
			}
			t.Run(name, func(t *testing.T) {
				want := formattest.Full()
				var buf bytes.Buffer
				if err := format.Write(&buf, want, opts...); err != nil {
					t.Fatal(err)
				}
				got, err := format.Read(bytes.NewReader(buf.Bytes()))
				if err != nil {
					t.Fatal(err)
				}
				c := got.Container
				if c.Codec != codec || c.Signed != signed || c.FileBytes != int64(buf.Len()) || c.Major != format.Major || c.Minor != format.Minor {
					t.Errorf("container = %+v", c)
				}
				if signed && !c.SignerKey.Equal(pub) {
					t.Errorf("signer key %x, want %x", c.SignerKey, pub)
				}
				got.Container, got.Limits = format.Container{}, format.Limits{}
				if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
					t.Errorf("round trip changed the model (-want +got):\n%s", d)
				}
			})
		}
	}
}
