package train

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func randBatch(rng *rand.Rand, rows, cols int) *Batch {
	x := make([]float64, rows*cols)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return &Batch{X: mat.NewDense(rows, cols, x), B: rows}
}

// TestGradCheckDense: Dense with every activation, under every loss,
// matches finite differences.
func TestGradCheckDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, act := range []Activation{Linear, ReLU, LeakyReLU, Sigmoid, Tanh, GELU} {
		for _, tc := range []struct {
			name string
			loss Loss
			outs int
			y    func(i int) float64
		}{
			{"mse", MSE{}, 2, func(i int) float64 { return rng.NormFloat64() }},
			{"bce", SigmoidBCE{PosWeight: 3}, 1, func(i int) float64 { return float64(i % 2) }},
			{"ce", SoftmaxCE{ClassWeights: []float64{1, 2, 0.5}}, 3, func(i int) float64 { return float64(i % 3) }},
		} {
			m := NewSequential(NewDense(rng, 5, 7, act), NewDense(rng, 7, tc.outs, Linear))
			b := randBatch(rng, 6, 5)
			n := 6
			if tc.name == "mse" {
				n *= tc.outs
			}
			y := make([]float64, n)
			for i := range y {
				y[i] = tc.y(i)
			}
			if e := GradCheck(m, tc.loss, b, y, 50); e > 1e-5 {
				t.Errorf("%v/%s: gradient relative error %.3g", act, tc.name, e)
			}
		}
	}
}

// TestOptimizersLearn: every optimizer fits a small separable problem,
// and the same seed gives the same weights bit for bit.
func TestOptimizersLearn(t *testing.T) {
	for _, mk := range []struct {
		name string
		opt  func() Optimizer
		lr   float64
	}{
		{"sgd", func() Optimizer { return &SGD{Momentum: 0.9} }, 0.05},
		{"rmsprop", func() Optimizer { return NewRMSprop() }, 0.005},
		{"adam", func() Optimizer { return NewAdam() }, 0.01},
		{"adamw", func() Optimizer { return NewAdamW(0.01) }, 0.01},
	} {
		run := func() (*Sequential, []EpochStats) {
			rng := rand.New(rand.NewPCG(3, 4))
			d := &Table{F: 2}
			for i := 0; i < 400; i++ {
				x0, x1 := rng.NormFloat64(), rng.NormFloat64()
				c := 0.0
				if x0*x0+x1*x1 > 1.2 {
					c = 1
				}
				d.X = append(d.X, x0, x1)
				d.Y = append(d.Y, c)
			}
			m := NewSequential(NewDense(rng, 2, 16, Tanh), NewDense(rng, 16, 2, Linear))
			h, err := Fit(m, SoftmaxCE{}, mk.opt(), d, nil, Config{Epochs: 60, BatchSize: 32, Seed: 9, LR: Constant(mk.lr), Metric: Accuracy})
			if err != nil {
				t.Fatal(err)
			}
			return m, h
		}
		m1, h := run()
		last := h[len(h)-1]
		if last.Metric < 0.9 || last.Loss > h[0].Loss {
			t.Errorf("%s: final accuracy %.3f, loss %.3f (first epoch %.3f)", mk.name, last.Metric, last.Loss, h[0].Loss)
		}
		m2, _ := run()
		for i, p := range m1.Params() {
			for j, w := range p.W {
				if w != m2.Params()[i].W[j] {
					t.Fatalf("%s: same seed, different weights", mk.name)
				}
			}
		}
	}
}

// TestGradCheckSoftmaxAndAct: the standalone Softmax and activation
// layers match finite differences (under MSE, so the Jacobians are used
// in full).
func TestGradCheckSoftmaxAndAct(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tail := range []Layer{&SoftmaxLayer{}, &Act{A: GELU}, &Act{A: Tanh}, &Act{A: LeakyReLU}} {
		m := NewSequential(NewDense(rng, 4, 5, Linear), tail, NewDense(rng, 5, 2, Linear))
		b := randBatch(rng, 3, 4)
		y := []float64{0.1, -0.2, 0.3, 0.5, -1, 2}
		if e := GradCheck(m, MSE{}, b, y, 50); e > 1e-5 {
			t.Errorf("%T: gradient relative error %.3g", tail, e)
		}
	}
}
