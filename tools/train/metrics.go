package train

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Report is the detail behind a classifier's metrics.
type Report struct {
	Classes   int
	Precision []float64 // per class
	Recall    []float64
	F1        []float64
	Support   []int
	Confusion [][]int // [true][predicted]
}

// Score computes the metrics of outputs (rows as the exported model gives
// them: probabilities for Binary (one column) and Multiclass, a value for
// Regression, a score for Recommender) against targets (class indices,
// 0/1, values; for Recommender 1 for the held-out positive, 0 for a
// sampled negative, in groups of groupSize rows). Outputs should be
// finite (CheckFinite); a NaN makes the metrics that rank NaN, and never
// stalls them.
func Score(kind Kind, out [][]float64, y []float64, groupSize int) (Metrics, *Report) {
	m := Metrics{}
	switch kind {
	case Regression:
		var s float64
		for i, r := range out {
			d := r[0] - y[i]
			s += d * d
		}
		m["rmse"] = math.Sqrt(s / float64(max(len(y), 1)))
		return m, nil
	case Recommender:
		if groupSize > 0 {
			m["hit_rate_at_10"] = hitRate(out, groupSize, 10)
		}
		sc := make([]float64, len(out))
		for i, r := range out {
			sc[i] = r[0]
		}
		m["roc_auc"] = ROCAUC(sc, y)
		return m, nil
	}
	classes := 2
	if kind == Multiclass && len(out) > 0 {
		classes = len(out[0])
	}
	pred := make([]int, len(out))
	for i, r := range out {
		if kind == Binary {
			if r[0] >= 0.5 {
				pred[i] = 1
			}
			continue
		}
		k := 0
		for j, v := range r {
			if v > r[k] {
				k = j
			}
		}
		pred[i] = k
	}
	rep := &Report{Classes: classes, Precision: make([]float64, classes), Recall: make([]float64, classes),
		F1: make([]float64, classes), Support: make([]int, classes), Confusion: make([][]int, classes)}
	for c := range rep.Confusion {
		rep.Confusion[c] = make([]int, classes)
	}
	ok := 0
	for i, p := range pred {
		t := int(y[i])
		rep.Confusion[t][p]++
		rep.Support[t]++
		if p == t {
			ok++
		}
	}
	m["accuracy"] = float64(ok) / float64(max(len(y), 1))
	var f1sum float64
	var present int
	for c := 0; c < classes; c++ {
		tp := rep.Confusion[c][c]
		var fp, fn int
		for o := 0; o < classes; o++ {
			if o != c {
				fp += rep.Confusion[o][c]
				fn += rep.Confusion[c][o]
			}
		}
		if tp+fp > 0 {
			rep.Precision[c] = float64(tp) / float64(tp+fp)
		}
		if tp+fn > 0 {
			rep.Recall[c] = float64(tp) / float64(tp+fn)
		}
		if p, r := rep.Precision[c], rep.Recall[c]; p+r > 0 {
			rep.F1[c] = 2 * p * r / (p + r)
		}
		if rep.Support[c] > 0 {
			f1sum += rep.F1[c]
			present++
		}
	}
	m["macro_f1"] = f1sum / float64(max(present, 1))
	if kind == Binary {
		sc := make([]float64, len(out))
		for i, r := range out {
			sc[i] = r[0]
		}
		m["roc_auc"] = ROCAUC(sc, y)
		m["pr_auc"] = PRAUC(sc, y)
	}
	return m, rep
}

// ErrNonFinite marks a model output that is NaN or infinite: training
// diverged, or an input is beyond what float32 arithmetic can carry. No
// metric of such outputs means anything; EvalEngine refuses them.
var ErrNonFinite = errors.New("non-finite model output")

// CheckFinite returns an error wrapping ErrNonFinite naming the first
// value of out (rows of cols values) that is NaN or ±Inf, or nil.
func CheckFinite(out []float64, cols int) error {
	for i, v := range out {
		if !finite(v) {
			return nonFinite(i/max(cols, 1), v)
		}
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func nonFinite(row int, v float64) error {
	return fmt.Errorf("train: %w: row %d gives %v (training diverged, or an input is out of float32 range)", ErrNonFinite, row, v)
}

// hasNaN reports whether v holds a NaN.
func hasNaN(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) {
			return true
		}
	}
	return false
}

// rankOrder returns the indices of score in ascending (or descending)
// order of score, stable. score must hold no NaN.
func rankOrder(score []float64, desc bool) []int {
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if desc {
			return cmp.Compare(score[b], score[a])
		}
		return cmp.Compare(score[a], score[b])
	})
	return idx
}

// tieEnd returns the end of the run of equal scores that starts at i in
// idx; always > i, so a loop over the runs always advances.
func tieEnd(score []float64, idx []int, i int) int {
	j := i + 1
	for j < len(idx) && score[idx[j]] == score[idx[i]] {
		j++
	}
	return j
}

// ROCAUC is the area under the ROC curve of scores for 0/1 labels (ties
// count half), by the rank-sum formula. It is NaN when a score is NaN, or
// when the labels hold only one class.
func ROCAUC(score, y []float64) float64 {
	if hasNaN(score) {
		return math.NaN()
	}
	idx := rankOrder(score, false)
	var pos, neg, rankSum float64
	for i := 0; i < len(idx); {
		j := tieEnd(score, idx, i)
		avg := float64(i+j+1) / 2 // ranks i+1..j
		for _, k := range idx[i:j] {
			if y[k] > 0.5 {
				rankSum += avg
			}
		}
		i = j
	}
	for _, v := range y {
		if v > 0.5 {
			pos++
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// PRAUC is the area under the precision-recall curve as average
// precision (scikit-learn's average_precision_score: Σ (R_n − R_{n−1}) P_n
// over descending score thresholds). It is NaN when a score is NaN, or
// when no label is positive.
func PRAUC(score, y []float64) float64 {
	if hasNaN(score) {
		return math.NaN()
	}
	idx := rankOrder(score, true)
	var pos float64
	for _, v := range y {
		if v > 0.5 {
			pos++
		}
	}
	if pos == 0 {
		return math.NaN()
	}
	var tp, fp, ap, prevR float64
	for i := 0; i < len(idx); {
		j := tieEnd(score, idx, i)
		for _, k := range idx[i:j] {
			if y[k] > 0.5 {
				tp++
			} else {
				fp++
			}
		}
		r := tp / pos
		ap += (r - prevR) * tp / (tp + fp)
		prevR = r
		i = j
	}
	return ap
}

// hitRate is the share of groups whose first row (the positive) ranks in
// the top k of its group by score (ties counted against it); NaN when a
// score is NaN.
func hitRate(out [][]float64, group, k int) float64 {
	var hits, n int
	for g := 0; g+group <= len(out); g += group {
		p := out[g][0]
		better := 0
		for _, r := range out[g : g+group] {
			if math.IsNaN(r[0]) {
				return math.NaN()
			}
		}
		for _, r := range out[g+1 : g+group] {
			if r[0] >= p {
				better++
			}
		}
		if better < k {
			hits++
		}
		n++
	}
	return float64(hits) / float64(max(n, 1))
}
