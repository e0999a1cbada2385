package engine_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/runtime/engine"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestGolden runs small models of every architecture, f32 and int8, on
// fixed inputs and compares every output bit for bit with
// testdata/golden.json. The float epilogues are written without implicit
// FMA and with the kernel package's own exp/tanh, so the same file and
// input give the same bits on every architecture and kernel; the
// cross-architecture runs (arm64 and armv7 under qemu) use this test.
// Rewrite with: go test ./runtime/engine -run Golden -update
func TestGolden(t *testing.T) {
	got := map[string][]string{}
	for _, spec := range specs {
		for _, q := range []bool{false, true} {
			for _, threads := range []int{1, 3} {
				m := load(t, spec, q)
				in := inputs(m, 3, 11)
				s := m.NewSession(engine.WithThreads(threads))
				out, err := s.Run(in)
				s.Close()
				if err != nil {
					t.Fatal(err)
				}
				key := fmt.Sprintf("%s int8=%v", spec, q)
				var bits []string
				for _, o := range out {
					var b strings.Builder
					for _, v := range o.F32 {
						fmt.Fprintf(&b, "%08x", math.Float32bits(v))
					}
					bits = append(bits, b.String())
				}
				if prev, ok := got[key]; ok {
					if fmt.Sprint(prev) != fmt.Sprint(bits) {
						t.Errorf("%s: %d threads give different bits than 1", key, threads)
					}
					continue
				}
				got[key] = bits
			}
		}
	}
	path := filepath.Join("testdata", "golden.json")
	if *update {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string][]string
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for key, w := range want {
		if fmt.Sprint(got[key]) != fmt.Sprint(w) {
			t.Errorf("%s: outputs differ from the golden bits\n got %v\nwant %v", key, got[key], w)
		}
	}
	if len(want) != len(got) {
		t.Errorf("golden file has %d models, test ran %d", len(want), len(got))
	}
}
