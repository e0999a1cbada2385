package engine_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// TestSlicesBitExact runs every architecture, f32 and int8, with batches
// cut into slices of samples (1 and 2 threads, several slice counts) and
// checks every output bit against the batch run at once, and that a
// sliced Run allocates nothing once warm.
func TestSlicesBitExact(t *testing.T) {
	for _, spec := range append(specs, bigSpecs...) {
		for _, q := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/int8=%v", spec, q), func(t *testing.T) {
				haveOps(t, opsOf(spec)...)
				m := load(t, spec, q)
				batches, counts := []int{2, 5, 9}, func(batch int) []int { return []int{2, 3, batch} }
				big := slices.Contains(bigSpecs, spec)
				if big {
					// Batch 9 at once against slices of 4–5: the recurrent
					// layers' batch product (8 rows or more) against their
					// row-by-row form; under qemu these models are slow,
					// so only two slice counts and no allocation count.
					batches, counts = []int{9}, func(int) []int { return []int{2, 3} }
				}
				for _, batch := range batches {
					in := inputs(m, batch, uint64(batch))
					ref := m.NewSession()
					engine.SetSlices(ref, -1)
					want, err := ref.Run(in)
					if err != nil {
						t.Fatal(err)
					}
					for _, threads := range []int{1, 2} {
						for _, n := range counts(batch) {
							s := m.NewSession(engine.WithThreads(threads))
							engine.SetSlices(s, n)
							got, err := s.Run(in)
							if err != nil {
								t.Fatal(err)
							}
							if k := engine.Slices(s); k != min(n, batch) {
								t.Fatalf("batch %d: ran in %d slices, want %d", batch, k, min(n, batch))
							}
							where := fmt.Sprintf("batch %d, %d threads, %d slices", batch, threads, n)
							sameBits(t, where, got, want)
							if big {
								s.Close()
								continue
							}
							if a := testing.AllocsPerRun(5, func() {
								if _, err := s.Run(in); err != nil {
									t.Fatal(err)
								}
							}); a != 0 {
								t.Errorf("%s: %v allocations per Run", where, a)
							}
							s.Close()
						}
					}
				}
			})
		}
	}
}

// bigSpecs are the perfpeers models (the transformer and LSTM with
// fewer steps): widths of whole AVX-512 tiles, and the recurrent layers'
// batch products against their row-by-row form.
var bigSpecs = []string{
	"textcls:vocab=2000,emb=64,lstm=128,classes=1,seq=16",
	"transformer:vocab=800,d=128,heads=4,ffn=512,layers=2,seq=16,classes=4",
	"mlp:64-256-128-10",
}

func sameBits(t *testing.T, where string, got, want []*tensor.Tensor) {
	t.Helper()
	for i := range want {
		if !got[i].Shape.Equal(want[i].Shape) {
			t.Fatalf("%s: output %d has shape %v, want %v", where, i, got[i].Shape, want[i].Shape)
		}
		for j, v := range want[i].F32 {
			if g := got[i].F32[j]; g != v && !(g != g && v != v) {
				t.Fatalf("%s: output %d[%d] = %v, want %v", where, i, j, g, v)
			}
		}
	}
}

// TestSlicesChosen checks that a session left to itself times the batch
// both ways and runs on with the bits of the batch at once, and that the
// transformer, whose operators are all per sample, can be sliced.
func TestSlicesChosen(t *testing.T) {
	spec := "transformer:vocab=40,d=16,heads=2,ffn=24,layers=2,seq=9,classes=4"
	haveOps(t, opsOf(spec)...)
	m := load(t, spec, true)
	in := inputs(m, 12, 4)
	ref := m.NewSession()
	engine.SetSlices(ref, -1)
	want, err := ref.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	s := m.NewSession(engine.WithThreads(2))
	defer s.Close()
	sliced, whole := 0, 0
	for i := range 40 {
		got, err := s.Run(in)
		if err != nil {
			t.Fatal(err)
		}
		sameBits(t, fmt.Sprintf("run %d", i), got, want)
		if engine.Slices(s) > 0 {
			sliced++
		} else {
			whole++
		}
	}
	if sliced == 0 || whole == 0 {
		t.Fatalf("in 40 runs %d sliced and %d at once: both ways should have been timed", sliced, whole)
	}
}

// TestSlicesError checks that a token outside the vocabulary in one slice
// fails the Run with the error of the batch run at once (positions in
// the batch, not in the slice), and that the session then
// serves the next Run.
func TestSlicesError(t *testing.T) {
	spec := "transformer:vocab=40,d=16,heads=2,ffn=24,layers=2,seq=9,classes=4"
	haveOps(t, opsOf(spec)...)
	m := load(t, spec, true)
	good := inputs(m, 6, 2)
	bad := inputs(m, 6, 2)
	bad[0].I64[5*9+3] = 4000
	for _, threads := range []int{1, 2} {
		s := m.NewSession(engine.WithThreads(threads))
		engine.SetSlices(s, 3)
		ref := m.NewSession()
		engine.SetSlices(ref, -1)
		_, wantErr := ref.Run(bad)
		if _, err := s.Run(bad); !errors.Is(err, engine.ErrInvalidInput) || wantErr == nil || err.Error() != wantErr.Error() {
			t.Fatalf("%d threads: bad token gave %v, want ErrInvalidInput %v", threads, err, wantErr)
		} else {
			t.Log(err)
		}
		want, err := ref.Run(good)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Run(good)
		if err != nil {
			t.Fatal(err)
		}
		sameBits(t, "after the error", got, want)
		s.Close()
	}
}
