//go:build unix

package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// binaryOutputs decodes an inference response's outputs, in JSON or in
// Triton's binary tensor data extension (headerLen the JSON's length,
// -1 for none), each as the text of its values (FP32 as its bits, so
// that equal means bit-identical).
func binaryOutputs(t *testing.T, body []byte, headerLen int) map[string][]string {
	t.Helper()
	head, rest := body, []byte(nil)
	if headerLen >= 0 {
		head, rest = body[:headerLen], body[headerLen:]
	}
	var doc struct {
		Outputs []struct {
			Name       string           `json:"name"`
			Datatype   string           `json:"datatype"`
			Shape      []int64          `json:"shape"`
			Data       []any            `json:"data"`
			Parameters map[string]int64 `json:"parameters"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(head, &doc); err != nil {
		t.Fatalf("response %q: %v", head, err)
	}
	out := map[string][]string{}
	le := binary.LittleEndian
	for _, o := range doc.Outputs {
		var vals []string
		if size, ok := o.Parameters["binary_data_size"]; ok {
			if size > int64(len(rest)) {
				t.Fatalf("output %s: binary_data_size %d, %d bytes left", o.Name, size, len(rest))
			}
			d := rest[:size]
			rest = rest[size:]
			for len(d) > 0 {
				switch o.Datatype {
				case "FP32":
					vals, d = append(vals, strconv.FormatUint(uint64(le.Uint32(d)), 16)), d[4:]
				case "BYTES":
					l := le.Uint32(d)
					vals, d = append(vals, string(d[4:4+l])), d[4+l:]
				default:
					t.Fatalf("output %s: datatype %s", o.Name, o.Datatype)
				}
			}
		} else {
			for _, v := range o.Data {
				switch o.Datatype {
				case "FP32":
					f, ok := v.(float64)
					if !ok {
						f, _ = strconv.ParseFloat(v.(string), 64)
					}
					vals = append(vals, strconv.FormatUint(uint64(math.Float32bits(float32(f))), 16))
				default:
					vals = append(vals, v.(string))
				}
			}
		}
		out[o.Name] = vals
	}
	if len(rest) > 0 {
		t.Errorf("%d bytes of binary data left over", len(rest))
	}
	return out
}

// binaryRow sends the MLP's feature row (0.5, -1, 2, 0) in Triton's
// binary form, its outputs asked for in binary, through the daemon at
// base, and checks the answer is jsonAnswer's (the same row in JSON) bit
// for bit.
func binaryRow(t *testing.T, client *http.Client, base, token, jsonAnswer string) {
	t.Helper()
	var ins []string
	var data []byte
	for i, v := range []float32{0.5, -1, 2, 0} {
		ins = append(ins, `{"name":"f`+strconv.Itoa(i)+`","datatype":"FP32","shape":[1],"parameters":{"binary_data_size":4}}`)
		data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
	}
	header := `{"inputs":[` + strings.Join(ins, ",") + `],"parameters":{"binary_data_output":true}}`
	req, err := http.NewRequest("POST", base+"/v2/models/mlp/infer", bytes.NewReader(append([]byte(header), data...)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Inference-Header-Content-Length", strconv.Itoa(len(header)))
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("binary infer mlp: %d %s %v %q", res.StatusCode, res.Header.Get("Content-Type"), err, body)
	}
	n, err := strconv.Atoi(res.Header.Get("Inference-Header-Content-Length"))
	if err != nil || n > len(body) {
		t.Fatalf("binary infer mlp: Inference-Header-Content-Length %q for %d bytes", res.Header.Get("Inference-Header-Content-Length"), len(body))
	}
	got, want := binaryOutputs(t, body, n), binaryOutputs(t, []byte(jsonAnswer), -1)
	if len(want) == 0 || len(got) != len(want) {
		t.Fatalf("binary infer mlp: outputs %v, want %v", got, want)
	}
	for name, w := range want {
		if g := got[name]; strings.Join(g, "\x00") != strings.Join(w, "\x00") {
			t.Errorf("binary infer mlp: %s = %q, JSON %q", name, g, w)
		}
	}
}
