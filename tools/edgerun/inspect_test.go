package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/format/formattest"
)

var show = flag.Bool("show", false, "print inspect's output for formattest.Full")

func TestInspectText(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model *format.Model
		want  []string
	}{
		{"tiny", formattest.Tiny(), []string{
			"format       1.0\n",
			"codec        zstd\n",
			"tensor data  160 B in 3 tensors\n",
			"signature    unsigned\n",
			"inputs (1)\n  x  f32  [?,4]\n",
			"outputs (1)\n  probs  f32  [?,3]\n",
			"nodes (3)",
			"dense_1/w, dense_1/b → h",
			"dense_2/w, - → logits", // absent optional input
			"activation=relu",
			"axis=-1",
			"tensors (3)",
			"  dense_2  Dense    h, dense_2/w, - → logits\n", // no trailing blanks
			"dense_1/w  i8     [8,4]  symmetric, axis 0, 8 scales     32",
			"dense_2/w  f32    [3,8]  -                               96",
			"task       tabular-classification",
			"labels     low, medium, high",
			"tokenizer  -",
			"producer   formattest 1",
		}},
		{"full", formattest.Full(), []string{
			"ids  i64  [?,?]",
			"aux    f32  []",
			"ids, half, u8, i32, i64, scalar, empty → aux, aux2",
			`f=1.5e-07 fs=[+Inf,-0,3] i=-9223372036854775808 is=[1,-2,3] s="héllo 好评" ss=[a,"",差评]`,
			"u8         u8     [3]    asymmetric, per-tensor, 1 scale, 1 zero point",
			"scalar     f32    []",
			"empty      f32    [0,5]",
			"task       text-classification",
			"labels     bad, good",
			`tokenizer  word, lowercase, vocab 5, max len 64, unknown "<unk>", padding "<pad>", n-grams 1..2, 65536 buckets`,
			"features   age: numeric, mean 41.5, std 12.25, impute 41.5\n",
			"           grade: categorical, 3 categories (A, B, C), impute 1\n",
			"metrics    accuracy (test, f32) = 0.975\n",
			"           accuracy (test, int8) = 0.972\n",
			"producer   formattest 1.2.3",
			"data       sha256:0123456789abcdef",
			"extra      author = edgerun\n             licence = CC BY 4.0\n",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeModel(t, tc.name+".erm", tc.model)
			r := runArgs("inspect", path)
			r.wantOK(t)
			m, err := format.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			c := m.Container
			want := append(tc.want,
				"file         "+path+"\n",
				fmt.Sprintf("checksum     %016x (xxhash64)\n", c.Checksum),
				fmt.Sprintf("size         %s\n", byteSize(c.FileBytes)),
				fmt.Sprintf("payload      %s stored, %s decoded\n", byteSize(c.StoredBytes), byteSize(c.DecodedBytes)),
			)
			for _, w := range want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			if t.Failed() || *show && tc.name == "full" {
				t.Logf("output:\n%s", r.stdout)
			}
		})
	}
}

func TestInspectJSON(t *testing.T) {
	path := writeModel(t, "full.erm", formattest.Full(), format.WithCodec(format.CodecS2))
	r := runArgs("inspect", "--json", path)
	r.wantOK(t)
	if *show {
		t.Logf("output:\n%s", r.stdout)
	}
	m, err := format.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := m.Container

	// Every documented top-level field is present.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	for _, k := range []string{"format_version", "codec", "file_bytes", "stored_bytes", "decoded_bytes", "tensor_bytes",
		"checksum", "signed", "signer", "trusted", "inputs", "outputs", "nodes", "tensors", "metadata"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}

	var got report
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if dec.More() {
		t.Error("more than one JSON value")
	}
	if got.File != path || got.FormatVersion != "1.0" || got.Codec != "s2" ||
		got.FileBytes != c.FileBytes || got.StoredBytes != c.StoredBytes || got.DecodedBytes != c.DecodedBytes ||
		got.TensorBytes != c.TensorBytes || got.Checksum != fmt.Sprintf("%016x", c.Checksum) ||
		got.Signed || got.Signer != "" || got.Trusted {
		t.Errorf("container fields: %+v, want %+v", got, c)
	}
	if fi, _ := os.Stat(path); got.FileBytes != fi.Size() {
		t.Errorf("file_bytes %d, file is %d bytes", got.FileBytes, fi.Size())
	}
	wantInputs := []valueJSON{{"x", "f32", []int64{-1, 4}}, {"ids", "i64", []int64{-1, -1}}}
	if !reflect.DeepEqual(got.Inputs, wantInputs) {
		t.Errorf("inputs = %+v", got.Inputs)
	}
	wantOutputs := []valueJSON{{"probs", "f32", []int64{-1, 3}}, {"aux", "f32", []int64{}}}
	if !reflect.DeepEqual(got.Outputs, wantOutputs) {
		t.Errorf("outputs = %+v", got.Outputs)
	}
	if len(got.Nodes) != 4 || got.Nodes[1].Inputs[2] != "" || got.Nodes[3].Op != "Custom" || got.Nodes[0].Outputs[0] != "h" {
		t.Errorf("nodes = %+v", got.Nodes)
	}
	if len(got.Tensors) != len(m.Tensors) {
		t.Fatalf("%d tensors, want %d", len(got.Tensors), len(m.Tensors))
	}
	var sum int64
	for i, tj := range got.Tensors {
		mt := &m.Tensors[i]
		if tj.Name != mt.Name || tj.DType != mt.DType.String() || tj.Bytes != mt.ByteSize() || tj.Elements != mt.NumElements() {
			t.Errorf("tensor %d = %+v", i, tj)
		}
		sum += tj.Bytes
	}
	if sum != got.TensorBytes {
		t.Errorf("tensor bytes add up to %d, tensor_bytes is %d", sum, got.TensorBytes)
	}
	if q := got.Tensors[0].Quant; q == nil || *q != (quantJSON{"symmetric", 0, 8, 0}) {
		t.Errorf("dense_1/w quant = %+v", q)
	}
	if q := got.Tensors[4].Quant; got.Tensors[4].Name != "u8" || q == nil || *q != (quantJSON{"asymmetric", -1, 1, 1}) {
		t.Errorf("u8 quant = %+v", q)
	}
	if got.Tensors[1].Quant != nil {
		t.Errorf("dense_1/b quant = %+v", got.Tensors[1].Quant)
	}
	md := got.Metadata
	if md.Task != "text-classification" || !reflect.DeepEqual(md.Labels, []string{"bad", "good"}) ||
		md.Tokenizer == nil || md.Tokenizer.Kind != "word" || md.Tokenizer.VocabSize != 5 || md.Tokenizer.MaxLen != 64 ||
		len(md.Features) != 2 || md.Features[0].Mean != 41.5 || len(md.Features[1].Categories) != 3 ||
		len(md.Metrics) != 2 || md.Metrics[1].Variant != "int8" || md.Metrics[1].Value != 0.972 ||
		md.Producer != (producerJSON{"formattest", "1.2.3"}) || md.DataFingerprint != "sha256:0123456789abcdef" ||
		!reflect.DeepEqual(md.Extra, []keyValueJSON{{"author", "edgerun"}, {"licence", "CC BY 4.0"}}) {
		t.Errorf("metadata = %+v", md)
	}
	if strings.Contains(r.stdout, "vocab\"") || strings.Contains(r.stdout, "great") {
		t.Error("JSON dumps the vocabulary")
	}

	// Attribute values keep their types; infinities become strings.
	var attrs struct {
		Nodes []struct {
			Attrs []struct {
				Name  string `json:"name"`
				Kind  string `json:"kind"`
				Value any    `json:"value"`
			} `json:"attrs"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &attrs); err != nil {
		t.Fatal(err)
	}
	a := attrs.Nodes[3].Attrs
	if len(a) != 6 || a[0].Kind != "float" || a[0].Value != 1.5e-7 ||
		!reflect.DeepEqual(a[1].Value, []any{"+Inf", 0.0, 3.0}) || a[4].Value != "héllo 好评" ||
		!reflect.DeepEqual(a[5].Value, []any{"a", "", "差评"}) {
		t.Errorf("attrs = %+v", a)
	}
}

func TestInspectSigned(t *testing.T) {
	dir := t.TempDir()
	path := writeModel(t, "tiny.erm", formattest.Tiny())
	runArgs("keygen", filepath.Join(dir, "k")).wantOK(t)
	runArgs("sign", path, "--key", filepath.Join(dir, "k.key")).wantOK(t)
	pub, err := format.ReadPublicKeyFile(filepath.Join(dir, "k.pub"))
	if err != nil {
		t.Fatal(err)
	}
	fp := format.KeyFingerprint(pub)

	r := runArgs("inspect", path)
	r.wantOK(t)
	if !strings.Contains(r.stdout, "signature    signed by key "+fp+" (verified against its embedded key)\n") {
		t.Errorf("output:\n%s", r.stdout)
	}
	r = runArgs("inspect", path, "--trusted-key", filepath.Join(dir, "k.pub"))
	r.wantOK(t)
	if !strings.Contains(r.stdout, "signature    signed by key "+fp+" (trusted)\n") {
		t.Errorf("output:\n%s", r.stdout)
	}
	for _, trusted := range []bool{false, true} {
		args := []string{"inspect", "--json", path}
		if trusted {
			args = append(args, "--trusted-key", filepath.Join(dir, "k.pub"))
		}
		r := runArgs(args...)
		r.wantOK(t)
		var got report
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatal(err)
		}
		if !got.Signed || got.Signer != fp || got.Trusted != trusted {
			t.Errorf("trusted=%v: signed %v, signer %q, trusted %v", trusted, got.Signed, got.Signer, got.Trusted)
		}
	}

	// An unsigned model is refused when a signature is required.
	unsigned := writeModel(t, "unsigned.erm", formattest.Tiny())
	runArgs("inspect", unsigned, "--trusted-key", filepath.Join(dir, "k.pub")).wantFail(t, 1, "edgerun: inspect "+unsigned+": format: ")
}

// TestInspectBadFiles: a bad file is exit code 1 and one line on stderr.
func TestInspectBadFiles(t *testing.T) {
	good, err := os.ReadFile(writeModel(t, "full.erm", formattest.Full()))
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 0x55
	version := append([]byte(nil), good...)
	binary.LittleEndian.PutUint16(version[8:], format.Major+1)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		data []byte
		want string // in the error line
	}{
		{"flipped", flipped, "checksum mismatch"},
		{"truncated", good[:len(good)*2/3], "truncated"},
		{"preamble-only", good[:20], "preamble"},
		{"version", version, "unsupported format version"},
		{"empty", nil, "preamble"},
		{"text", []byte("hello\nworld\n"), "bad magic"},
		{"trailing", append(append([]byte(nil), good...), 0), "trailing data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".erm")
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"inspect", path}, {"inspect", "--json", path}} {
				r := runArgs(args...)
				r.wantFail(t, 1, "edgerun: inspect "+path+": format: ")
				if !strings.Contains(r.stderr, tc.want) {
					t.Errorf("error %q does not say %q", r.stderr, tc.want)
				}
			}
		})
	}
	missing := filepath.Join(dir, "missing.erm")
	runArgs("inspect", missing).wantFail(t, 1, "edgerun: inspect "+missing+": open: ")
	runArgs("inspect", dir).wantFail(t, 1, "edgerun: inspect "+dir+": ")
}

// TestInspectCorruptCases runs inspect on every broken file formattest
// knows, one per rule of the format specification.
func TestInspectCorruptCases(t *testing.T) {
	dir := t.TempDir()
	for i, tc := range formattest.Corrupt() {
		t.Run(tc.Name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("case%d.erm", i))
			if err := os.WriteFile(path, tc.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"inspect", path}, {"inspect", "--json", path}} {
				runArgs(args...).wantFail(t, 1, "edgerun: inspect "+path+": format: ")
			}
		})
	}
}

// TestInspectEveryDamage flips a bit in every third byte and cuts the
// file at every third length (every 11th with -short or -race), for each
// codec, signed and not: inspect must always fail with one line, never
// panic or succeed.
func TestInspectEveryDamage(t *testing.T) {
	dir := t.TempDir()
	runArgs("keygen", filepath.Join(dir, "k")).wantOK(t)
	key, err := format.ReadPrivateKeyFile(filepath.Join(dir, "k.key"))
	if err != nil {
		t.Fatal(err)
	}
	for _, codec := range []format.Codec{format.CodecNone, format.CodecZstd, format.CodecS2} {
		for _, signed := range []bool{false, true} {
			name := codec.String()
			opts := []format.Option{format.WithCodec(codec)}
			if signed {
				name += "-signed"
				opts = append(opts, format.WithSigningKey(key))
			}
			t.Run(name, func(t *testing.T) {
				good, err := os.ReadFile(writeModel(t, "m.erm", formattest.Tiny(), opts...))
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(t.TempDir(), "bad.erm")
				try := func(what string, data []byte) {
					t.Helper()
					if err := os.WriteFile(path, data, 0o644); err != nil {
						t.Fatal(err)
					}
					r := runArgs("inspect", path)
					if r.code != 1 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "edgerun: inspect ") {
						t.Fatalf("%s: %v", what, r)
					}
				}
				// format's own tests sweep every bit; here every few
				// bytes cover preamble, payload and signature.
				step := 3
				if testing.Short() || raceEnabled {
					step = 11
				}
				bad := make([]byte, len(good))
				for i := 0; i < len(good); i += step {
					copy(bad, good)
					bad[i] ^= 0x01 << (i % 8)
					try(fmt.Sprintf("bit %d of byte %d flipped", i%8, i), bad)
				}
				for n := 0; n < len(good); n += step {
					try(fmt.Sprintf("cut to %d of %d bytes", n, len(good)), good[:n])
				}
			})
		}
	}
}

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		"dense_1/w":       "dense_1/w",
		"好评":              "好评",
		"two words":       "two words",
		"tab\there":       `"tab\there"`,
		"line\nbreak":     `"line\nbreak"`,
		"\x1b[31mred":     `"\x1b[31mred"`,
		"bad\xffutf8":     `"bad\xffutf8"`,
		"zero\u200bwidth": `"zero\u200bwidth"`,
	} {
		if got := text(in); got != want {
			t.Errorf("text(%q) = %s, want %s", in, got, want)
		}
	}
	if got := byteSize(1536); got != "1536 B (1.5 KiB)" {
		t.Errorf("byteSize = %s", got)
	}
	if got := byteSize(3 << 30); got != "3221225472 B (3.0 GiB)" {
		t.Errorf("byteSize = %s", got)
	}
	long := make([]int64, 20)
	if got := bracketList(long, func(int64) string { return "0" }); got != "[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,…+4]" {
		t.Errorf("bracketList = %s", got)
	}
}

func TestInspectHostileNames(t *testing.T) {
	m := formattest.Tiny()
	m.Metadata.Labels = []string{"ok", "evil\x1b]0;pwned\x07", "tab\tbed", "new\nline"}
	m.Metadata.Task = "task\r\nFAKE: line"
	path := writeModel(t, "hostile.erm", m)
	r := runArgs("inspect", path)
	r.wantOK(t)
	for _, bad := range []string{"\x1b", "\x07", "\r", "tab\tbed", "new\nline", "\nFAKE"} {
		if strings.Contains(r.stdout, bad) {
			t.Errorf("output contains %q:\n%s", bad, r.stdout)
		}
	}
	for _, w := range []string{`"evil\x1b]0;pwned\a"`, `"task\r\nFAKE: line"`} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("output lacks %s:\n%s", w, r.stdout)
		}
	}
}
