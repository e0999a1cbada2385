package train

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// TestScoreKnownValues checks the metrics against values worked by hand
// (and by scikit-learn's roc_auc_score / average_precision_score on the
// same arrays).
func TestScoreKnownValues(t *testing.T) {
	score := []float64{0.1, 0.4, 0.35, 0.8}
	y := []float64{0, 0, 1, 1}
	if got := ROCAUC(score, y); math.Abs(got-0.75) > 1e-12 {
		t.Errorf("ROC AUC %v, want 0.75", got)
	}
	if got := PRAUC(score, y); math.Abs(got-0.8333333333333333) > 1e-12 {
		t.Errorf("PR AUC %v, want 0.8333", got)
	}
	if got := ROCAUC([]float64{0.5, 0.5, 0.5}, []float64{0, 1, 0}); got != 0.5 {
		t.Errorf("ROC AUC with ties %v, want 0.5", got)
	}
	out := [][]float64{{0.9, 0.1, 0}, {0.2, 0.7, 0.1}, {0.1, 0.2, 0.7}, {0.6, 0.3, 0.1}}
	m, rep := Score(Multiclass, out, []float64{0, 1, 2, 2}, 0)
	if m["accuracy"] != 0.75 {
		t.Errorf("accuracy %v", m["accuracy"])
	}
	// class 0: P 1/2 R 1 F1 2/3; class 1: 1; class 2: P 1 R 1/2 F1 2/3.
	if want := (2.0/3 + 1 + 2.0/3) / 3; math.Abs(m["macro_f1"]-want) > 1e-12 {
		t.Errorf("macro F1 %v, want %v", m["macro_f1"], want)
	}
	if rep.Confusion[2][0] != 1 || rep.Confusion[2][2] != 1 {
		t.Errorf("confusion %v", rep.Confusion)
	}
	m, _ = Score(Regression, [][]float64{{1}, {3}}, []float64{2, 2}, 0)
	if m["rmse"] != 1 {
		t.Errorf("rmse %v", m["rmse"])
	}
	// Two groups of 12: the positive beats all in the first, only 2 in
	// the second (rank 11: a miss at 10).
	var rec [][]float64
	var ry []float64
	for g := 0; g < 2; g++ {
		rec = append(rec, []float64{0.5})
		ry = append(ry, 1)
		for i := 0; i < 11; i++ {
			s := 0.1
			if g == 1 && i < 10 {
				s = 0.9
			}
			rec = append(rec, []float64{s})
			ry = append(ry, 0)
		}
	}
	m, _ = Score(Recommender, rec, ry, 12)
	if m["hit_rate_at_10"] != 0.5 {
		t.Errorf("hit rate %v, want 0.5", m["hit_rate_at_10"])
	}
}

// within runs f, failing the test if it has not returned after a minute: a
// safety net for the NaN tie loops that used to spin forever, not a speed
// check.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%s did not return (infinite loop)", what)
	}
}

// TestMetricsNaN: NaN scores used to make the tie loops of ROCAUC and
// PRAUC spin forever (NaN != NaN, so a run of ties never advanced). Every
// metric now returns, NaN for the ranking ones.
func TestMetricsNaN(t *testing.T) {
	nan := math.NaN()
	for _, score := range [][]float64{
		{nan},
		{nan, nan, nan, nan},
		{0.1, nan, 0.8, 0.3},
		{nan, 0.2, 0.2, nan},
	} {
		y := []float64{0, 1, 0, 1}[:len(score)]
		if len(score) == 1 {
			y = []float64{1}
		}
		within(t, fmt.Sprintf("ROCAUC(%v)", score), func() {
			if got := ROCAUC(score, y); !math.IsNaN(got) {
				t.Errorf("ROCAUC(%v) = %v, want NaN", score, got)
			}
		})
		within(t, fmt.Sprintf("PRAUC(%v)", score), func() {
			if got := PRAUC(score, y); !math.IsNaN(got) {
				t.Errorf("PRAUC(%v) = %v, want NaN", score, got)
			}
		})
		out := make([][]float64, len(score))
		for i, v := range score {
			out[i] = []float64{v}
		}
		within(t, "Score(Binary)", func() {
			m, _ := Score(Binary, out, y, 0)
			if !math.IsNaN(m["roc_auc"]) || !math.IsNaN(m["pr_auc"]) {
				t.Errorf("Score(Binary, %v) = %v, want NaN AUCs", score, m)
			}
		})
		within(t, "Score(Recommender)", func() {
			m, _ := Score(Recommender, out, y, len(out))
			if !math.IsNaN(m["roc_auc"]) || !math.IsNaN(m["hit_rate_at_10"]) {
				t.Errorf("Score(Recommender, %v) = %v, want NaN", score, m)
			}
		})
	}
	// Infinities are ordered: they rank like any score.
	inf := math.Inf(1)
	if got := ROCAUC([]float64{-inf, inf, inf, 0}, []float64{0, 1, 1, 0}); got != 1 {
		t.Errorf("ROCAUC with infinities = %v, want 1", got)
	}
	if got := PRAUC([]float64{-inf, inf, inf, 0}, []float64{0, 1, 1, 0}); got != 1 {
		t.Errorf("PRAUC with infinities = %v, want 1", got)
	}
}

func TestCheckFinite(t *testing.T) {
	if err := CheckFinite([]float64{0, 1, -2, 3}, 2); err != nil {
		t.Errorf("finite values: %v", err)
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		err := CheckFinite([]float64{0, 1, 2, v, 4, 5}, 2)
		if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), fmt.Sprintf("row 1 gives %v", v)) {
			t.Errorf("CheckFinite with %v = %v", v, err)
		}
	}
}
