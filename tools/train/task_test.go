package train

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestEpochsOr(t *testing.T) {
	for _, c := range []struct{ epochs, def, want int }{{0, 30, 30}, {1, 30, 1}, {7, 30, 7}} {
		o := FitOptions{Epochs: c.epochs}
		if got, err := o.EpochsOr(c.def); got != c.want || err != nil {
			t.Errorf("EpochsOr(%d) with Epochs %d = %d, %v; want %d", c.def, c.epochs, got, err, c.want)
		}
	}
	o := FitOptions{Epochs: -1}
	if _, err := o.EpochsOr(30); err == nil {
		t.Error("negative epochs accepted (used to mean the default)")
	}
}

// TestFitNonFiniteValidation: a model whose validation outputs are NaN is
// an error wrapping ErrNonFinite, not an epoch that silently never
// improves.
func TestFitNonFiniteValidation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tr, val := &Table{F: 2}, &Table{F: 2}
	for i := 0; i < 64; i++ {
		tr.X = append(tr.X, rng.NormFloat64(), rng.NormFloat64())
		tr.Y = append(tr.Y, float64(i%2))
		val.X = append(val.X, math.NaN(), 1)
		val.Y = append(val.Y, float64(i%2))
	}
	m := NewSequential(NewDense(rng, 2, 4, Linear), NewDense(rng, 4, 2, Linear))
	_, err := Fit(m, SoftmaxCE{}, NewAdam(), tr, val, Config{Epochs: 2, BatchSize: 16, Metric: Accuracy})
	if !errors.Is(err, ErrNonFinite) {
		t.Fatalf("Fit with overflowing validation data = %v, want ErrNonFinite", err)
	}
}
