package engine_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/internal/kernel"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenF32Tol is the relative tolerance for f32 models on kernels that
// reorder or fuse the reference's sums (FMA): their outputs are a few
// ulps (~1e-7 relative) from the portable kernels', and an error in a
// kernel shows up far above 1e-4.
const goldenF32Tol = 1e-4

// TestGolden runs small models of every architecture, f32 and int8, on
// fixed inputs with every kernel implementation this CPU has, and compares
// the outputs with testdata/golden.json, written by the portable kernels
// ("generic"). Int8 models must match bit for bit on every
// implementation and architecture: integer sums are exact, and the float
// epilogues are written without implicit FMA and with the kernel
// package's own exp/tanh. F32 models match bit for bit on the portable
// kernels (the cross-architecture runs, arm64 and armv7 under qemu, use
// this test); vector kernels that fuse multiply-adds or sum in lanes are
// compared within goldenF32Tol. On every implementation, 1 and 3 threads
// must give the same bits.
// Rewrite with: go test ./runtime/engine -run Golden -update
func TestGolden(t *testing.T) {
	path := filepath.Join("testdata", "golden.json")
	for _, im := range kernel.Impls() {
		t.Run(im.Name, func(t *testing.T) {
			restore, err := kernel.Use(im.Name)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			got := goldenOutputs(t)
			if *update && im.Name == "generic" {
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
				g, ok := got[key]
				switch {
				case !ok:
					t.Errorf("%s: in the golden file, not run", key)
				case im.Name == "generic" || strings.HasSuffix(key, "int8=true"):
					if fmt.Sprint(g) != fmt.Sprint(w) {
						t.Errorf("%s: outputs differ from the golden bits\n got %v\nwant %v", key, g, w)
					}
				default:
					if err := closeBits(g, w, goldenF32Tol); err != nil {
						t.Errorf("%s: %v\n got %v\nwant %v", key, err, g, w)
					}
				}
			}
			if len(want) != len(got) {
				t.Errorf("golden file has %d models, test ran %d", len(want), len(got))
			}
		})
	}
}

// goldenOutputs runs every spec, f32 and int8, with 1 and 3 threads, and
// returns the outputs as hex float32 bits by "spec int8=bool".
func goldenOutputs(t *testing.T) map[string][]string {
	t.Helper()
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
	return got
}

// closeBits compares outputs given as hex float32 bits: each value within
// tol relative to itself, or to 1e-3 of the output's largest magnitude
// for values near zero.
func closeBits(got, want []string, tol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d outputs, want %d", len(got), len(want))
	}
	for o := range want {
		g, err := parseBits(got[o])
		if err != nil {
			return err
		}
		w, err := parseBits(want[o])
		if err != nil {
			return err
		}
		if len(g) != len(w) {
			return fmt.Errorf("output %d has %d values, want %d", o, len(g), len(w))
		}
		var scale float64
		for _, v := range w {
			scale = max(scale, math.Abs(v))
		}
		for i := range w {
			if d := math.Abs(g[i] - w[i]); !(d <= tol*max(math.Abs(w[i]), 1e-3*scale)) {
				return fmt.Errorf("output %d value %d: %v, want %v (relative error %.2g > %g)", o, i, g[i], w[i], d/math.Abs(w[i]), tol)
			}
		}
	}
	return nil
}

func parseBits(s string) ([]float64, error) {
	if len(s)%8 != 0 {
		return nil, fmt.Errorf("%d hex digits, not a multiple of 8", len(s))
	}
	out := make([]float64, len(s)/8)
	for i := range out {
		u, err := strconv.ParseUint(s[8*i:8*i+8], 16, 32)
		if err != nil {
			return nil, err
		}
		out[i] = float64(math.Float32frombits(uint32(u)))
	}
	return out, nil
}
