package sdkrt_test

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/edgerun/edgerun/runtime/features"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdkrt"
)

// TestTabularPreMatchesEncoder: Pre encodes numbers directly, not through
// their text; every row must still be, bit for bit, what features.Encoder
// (Strict) makes of the row's text, as Pre did before: numbers of every
// magnitude, -0, NaN (imputed), categories with spaces, missing ones.
func TestTabularPreMatchesEncoder(t *testing.T) {
	tab, err := sdkrt.NewTabular(load(t, tabularModel()))
	if err != nil {
		t.Fatal(err)
	}
	enc := features.NewEncoder([]features.Feature{
		{Name: "a", Kind: "numeric", Impute: 2},
		{Name: "c", Kind: "categorical", Categories: []string{"x", "y", "<missing>"}},
	})
	enc.Strict = true
	rng := rand.New(rand.NewPCG(1, 2))
	cats := []string{"x", "y", " y ", "NA", "?", "null", " N/a ", "NaN", "nan ", "<missing>"}
	const n = 500
	a := make([]float32, n)
	c := make([]string, n)
	for r := range n {
		switch r % 5 {
		case 0:
			a[r] = float32(math.NaN())
		case 1:
			a[r] = float32(rng.NormFloat64())
		case 2:
			a[r] = math.Float32frombits(rng.Uint32()&^(0xff<<23) | uint32(rng.IntN(254)+1)<<23) // any finite exponent
		case 3:
			a[r] = math.Float32frombits(rng.Uint32() &^ (0xff << 23)) // denormal or zero
		default:
			a[r] = float32(math.Copysign(0, -1))
		}
		c[r] = cats[rng.IntN(len(cats))]
	}
	out, err := tab.Pre(&sdk.InferRequest{Inputs: []sdk.Tensor{text("c", c...), fp32("a", []int64{n}, a...)}})
	if err != nil {
		t.Fatal(err)
	}
	got := out[0].F32
	want := make([]float64, enc.Width)
	for r := range n {
		s := "NaN"
		if !math.IsNaN(float64(a[r])) {
			s = strconv.FormatFloat(float64(a[r]), 'g', -1, 32)
		}
		if err := enc.Encode(want, []string{s, c[r]}, []int{0, 1}); err != nil {
			t.Fatal(err)
		}
		for k, w := range want {
			if g := got[r*enc.Width+k]; math.Float32bits(g) != math.Float32bits(float32(w)) {
				t.Fatalf("row %d (%v, %q) column %d: %v, want %v", r, a[r], c[r], k, g, float32(w))
			}
		}
	}
}

// TestTabularPreAllocs: Pre allocates the model's input and little else:
// no text per value, no map per request.
func TestTabularPreAllocs(t *testing.T) {
	tab, err := sdkrt.NewTabular(load(t, tabularModel()))
	if err != nil {
		t.Fatal(err)
	}
	req := &sdk.InferRequest{Inputs: []sdk.Tensor{fp32("a", []int64{4}, 1, 2, 3, 4), text("c", "x", "y", "NA", " y ")}}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := tab.Pre(req); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 4 {
		t.Errorf("Pre of 4 rows: %.0f allocations, want at most 4 (the data, the tensor and its slice)", allocs)
	}
}
