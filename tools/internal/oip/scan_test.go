package oip

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// stdTokens reads the first top-level array or object of b with
// encoding/json's Decoder.Token, as "kind:text" strings, and whether it
// is valid JSON.
func stdTokens(b []byte) ([]string, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var toks []string
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return toks, false
		}
		switch t := t.(type) {
		case json.Delim:
			toks = append(toks, string(t))
			if t == '[' || t == '{' {
				depth++
			} else {
				depth--
			}
		case string:
			toks = append(toks, "s:"+t)
		case json.Number:
			toks = append(toks, "n:"+string(t))
		case bool:
			toks = append(toks, fmt.Sprint(t))
		default:
			toks = append(toks, "null")
		}
		if depth == 0 {
			return toks, true
		}
	}
}

// scanTokens is stdTokens with the scanner, reading r.
func scanTokens(r io.Reader) ([]string, error) {
	s := newScanner(r)
	defer s.release()
	var toks []string
	for {
		if err := s.next(); err != nil {
			return toks, err
		}
		switch s.kind {
		case '[', '{', ']', '}':
			toks = append(toks, string(rune(s.kind)))
		case tokString:
			toks = append(toks, "s:"+string(s.val))
		case tokNumber:
			toks = append(toks, "n:"+string(s.val))
		case tokTrue, tokFalse:
			toks = append(toks, fmt.Sprint(s.kind == tokTrue))
		default:
			toks = append(toks, "null")
		}
		if len(s.stack) == 0 {
			return toks, nil
		}
	}
}

// TestScanner: the scanner reads what encoding/json's Decoder.Token
// reads, token for token (strings unescaped, invalid UTF-8 and lone
// surrogates as U+FFFD, numbers as written), and refuses what it
// refuses; also when the reader returns a byte at a time, so that every
// token spans reads.
func TestScanner(t *testing.T) {
	for _, s := range scannerSeeds {
		checkScanner(t, []byte(s))
	}
}

var scannerSeeds = []string{
	`{"a":[1,-2.5e+3,0,-0,1E9,0.125],"b":{"c":null,"d":true,"e":false},"f":""}`,
	`["\"\\\/\b\f\n\r\t","\u00e9\u20AC","\ud83d\ude00","\ud800","\ud800\u0041","\udc00x","\ud800\ud800", "a\u0000b"]`,
	"[\"w\xc3\xb6rld\", \"bad \xff\xfe utf8\", \"\xe2\x82\"]",
	"\n\t\r [ 1 , [ 2 , 3 ] , { } , [ ] ]\n",
	strings.Repeat("[", 50) + strings.Repeat("]", 50),
	`{"a":1,}`, `[1,]`, `[,1]`, `{"a" 1}`, `{"a":1 "b":2}`, `{1:2}`, `[01]`, `[1.]`, `[.5]`, `[-]`, `[1e]`, `[1e+]`,
	`[+1]`, `[1x]`, `[tru]`, `[truex]`, `[nul]`, `[True]`, `["a` + "\n" + `"]`, `["\x"]`, `["\u12"]`, `["\u12g4"]`,
	`[1}`, `{"a":1]`, `]`, `}`, `{"a"}`, `{"a":}`, `[1 2]`, `["a" "b"]`, `[`, `{"a":`, `["abc`, `[1.5`, `[-`,
}

func checkScanner(t *testing.T, b []byte) {
	t.Helper()
	if i := bytes.IndexAny(b, "[{"); i < 0 || len(bytes.TrimLeft(b[:i], " \t\r\n")) > 0 {
		return // the requests are objects; a top-level scalar is not compared
	}
	want, ok := stdTokens(b)
	for _, r := range []io.Reader{bytes.NewReader(b), iotest.OneByteReader(bytes.NewReader(b))} {
		got, err := scanTokens(r)
		n := min(len(got), len(want))
		if (err == nil) != ok || fmt.Sprintf("%q", got[:n]) != fmt.Sprintf("%q", want[:n]) || ok && len(got) != len(want) {
			t.Errorf("%q: scanner %q, %v; encoding/json %q, valid %v", b, got, err, want, ok)
		}
		var se *syntaxError
		if err != nil && !errors.As(err, &se) && err != io.ErrUnexpectedEOF && err != io.EOF {
			t.Errorf("%q: error %T %v", b, err, err)
		}
	}
}

// FuzzScanner: TestScanner's comparison with encoding/json for any input.
//
// fuzz:budget 200000x
func FuzzScanner(f *testing.F) {
	for _, s := range scannerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1000 {
			return // under the scanner's bounds on numbers and whitespace
		}
		checkScanner(t, b)
	})
}

// TestDecodeSplitReads: a request read a byte at a time (every token
// split across reads, escaped strings among them) decodes as when read
// whole.
func TestDecodeSplitReads(t *testing.T) {
	for _, s := range []string{
		`{"id":"a\"b","parameters":{"k":"v\u00e9","n":-1.5e3,"b":true},"inputs":[{"name":"x","datatype":"FP32","shape":[2,2],"data":[[1,null],["NaN",4.25]]},{"data":[["\ud83d\ude00",null]],"name":"s","datatype":"BYTES"}],"outputs":[{"name":"y","parameters":{"classification":2}}]}`,
		"{\n  \"inputs\": [\n    {\"name\": \"x\", \"datatype\": \"INT64\", \"data\": [1, 2, 3]}\n  ]\n}\n",
	} {
		whole, err := Decode(strings.NewReader(s), Options{Limits: testLimits})
		if err != nil {
			t.Fatal(err)
		}
		split, err := Decode(iotest.OneByteReader(strings.NewReader(s)), Options{Limits: testLimits})
		if err != nil {
			t.Fatal(err)
		}
		w := fmt.Sprintf("%q %v %v", whole.ID, whole.Outputs, whole.Parameters)
		g := fmt.Sprintf("%q %v %v", split.ID, split.Outputs, split.Parameters)
		for i := range whole.Inputs {
			w += fmt.Sprintf("%+v", *whole.Inputs[i])
			g += fmt.Sprintf("%+v", *split.Inputs[i])
		}
		if w != g {
			t.Errorf("read whole %s\nread a byte at a time %s", w, g)
		}
	}
	// Where an error is, on a later line, after tokens split across reads.
	_, err := Decode(iotest.OneByteReader(strings.NewReader("{\"inputs\": [\n  {\"name\": \"x\",\n   \"datatype\": 1}]}")), Options{Limits: testLimits})
	if err == nil || err.Error() != `invalid request at line 3, column 17: input "x": "datatype" must be a string, not a number` {
		t.Errorf("err %v", err)
	}
}

// TestDecodeAllocs: reading values allocates nothing per value: a row of
// 4096 FP32 values costs as many allocations as a row of 4.
func TestDecodeAllocs(t *testing.T) {
	row := func(n int) []byte {
		return []byte(`{"inputs":[{"name":"x","datatype":"FP32","shape":[1,` + fmt.Sprint(n) + `],"data":[` + strings.TrimSuffix(strings.Repeat("1.25,", n), ",") + `]}]}`)
	}
	allocs := func(b []byte) float64 {
		return testing.AllocsPerRun(20, func() {
			if _, err := Decode(bytes.NewReader(b), Options{Limits: testLimits}); err != nil {
				t.Fatal(err)
			}
		})
	}
	// Under -race, sync.Pool drops a share of what is put back at random,
	// so the scanner's pooled buffer is sometimes allocated anew: the
	// averages may differ by an allocation or two either way, never by
	// one per value.
	small, large := allocs(row(4)), allocs(row(4096))
	if large > small+2 || small > 18 {
		t.Errorf("a row of 4 values: %v allocations, of 4096: %v", small, large)
	}
}
