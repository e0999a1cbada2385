package tracing

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// bktScore is AUC, accuracy at 0.5 and RMSE (Predictions.Score).
func bktScore(p Predictions) (auc, acc, rmse float64) {
	m := p.Score()
	return m["roc_auc"], m["accuracy"], m["rmse"]
}

// bktCheckProbs fails unless every prediction is a probability in (0, 1)
// and every outcome 0 or 1.
func bktCheckProbs(t *testing.T, p Predictions) {
	t.Helper()
	if len(p.P) != len(p.Y) {
		t.Fatalf("%d predictions, %d outcomes", len(p.P), len(p.Y))
	}
	for i, v := range p.P {
		if !(v > 0 && v < 1) || (p.Y[i] != 0 && p.Y[i] != 1) {
			t.Fatalf("prediction %d: p %v y %v", i, v, p.Y[i])
		}
	}
}

// bktNaiveLL is the log-likelihood of skill k's answers in the sequences
// train selects, one sequence and answer at a time (no trie, no lanes).
func bktNaiveLL(d *Data, train func(*Sequence) bool, k int32, p BKTParams) float64 {
	var ll float64
	for i := range d.Seqs {
		s := &d.Seqs[i]
		if !train(s) {
			continue
		}
		l, u := bktStart(&p)
		for j, sk := range s.Skills {
			if sk != k {
				continue
			}
			var q float64
			q, l, u = bktStep(&p, l, u, s.Correct[j])
			if s.Correct[j] {
				ll += math.Log(q)
			} else {
				ll += math.Log(1 - q)
			}
		}
	}
	return ll
}

// bktSimulate draws students from BKT with the given per-skill truth: each
// student answers each skill 5 to 40 times, the skills' answers
// interleaved at random; every fifth student is a test student.
func bktSimulate(truth []BKTParams, students int, seed uint64) *Data {
	rng := rand.New(rand.NewPCG(seed, 1))
	d := &Data{Skills: len(truth), HasSplit: true}
	for i := range students {
		s := Sequence{Student: string(rune('a'+i%26)) + string(rune('0'+i/26%10)), Test: i%5 == 4}
		left := make([]int, len(truth))
		mastered := make([]bool, len(truth))
		total := 0
		for k := range truth {
			left[k] = 5 + rng.IntN(36)
			mastered[k] = rng.Float64() < truth[k].L0
			total += left[k]
		}
		for ; total > 0; total-- {
			r := rng.IntN(total)
			k := 0
			for r >= left[k] {
				r -= left[k]
				k++
			}
			left[k]--
			p := truth[k]
			var ok bool
			if mastered[k] {
				ok = rng.Float64() >= p.S
			} else {
				ok = rng.Float64() < p.G
			}
			if !mastered[k] && rng.Float64() < p.T {
				mastered[k] = true
			}
			s.Skills = append(s.Skills, int32(k))
			s.Correct = append(s.Correct, ok)
		}
		d.Seqs = append(d.Seqs, s)
		d.Rows += s.Len()
	}
	return d
}

// TestBKTRecovers: on answers drawn from BKT with known parameters (grid
// points), the grid search lands near the truth (on it, for this seed and
// every one of 30 others tried), and predicts held-out students about as
// well as the truth does.
func TestBKTRecovers(t *testing.T) {
	truth := []BKTParams{
		{L0: 0.25, T: 0.10, G: 0.20, S: 0.10},
		{L0: 0.55, T: 0.05, G: 0.10, S: 0.05},
		{L0: 0.15, T: 0.25, G: 0.30, S: 0.20},
	}
	d := bktSimulate(truth, 2000, 7)
	isTrain := func(s *Sequence) bool { return !s.Test }
	isTest := func(s *Sequence) bool { return s.Test }
	grid := BKTGrid()
	if raceEnabled || testing.Short() {
		// A subgrid that keeps the truth: the full search picks the truth
		// for this seed, so any subgrid with it does too.
		var sub []BKTParams
		for i := 0; i < len(grid); i += 13 {
			sub = append(sub, grid[i])
		}
		grid = append(sub, truth...)
	}
	m := FitBKTGrid(d, isTrain, grid)
	for k, p := range m.Params {
		w := truth[k]
		t.Logf("skill %d: fitted %+v, truth %+v", k, p, w)
		if math.Abs(p.L0-w.L0) > 0.105 || math.Abs(p.T-w.T) > 0.035 || math.Abs(p.G-w.G) > 0.055 || math.Abs(p.S-w.S) > 0.055 {
			t.Errorf("skill %d: fitted %+v, truth %+v", k, p, w)
		}
		if m.Answers[k] == 0 {
			t.Errorf("skill %d: no training answers counted", k)
		}
	}
	// The fitted point's likelihood is at least the truth's (the truth is
	// on the grid).
	for k := range truth {
		if f, w := bktNaiveLL(d, isTrain, int32(k), m.Params[k]), bktNaiveLL(d, isTrain, int32(k), truth[k]); f < w-1e-9 {
			t.Errorf("skill %d: fitted log-likelihood %.4f < the truth's %.4f", k, f, w)
		}
	}
	p := m.Predict(d, isTest)
	bktCheckProbs(t, p)
	oracle := (&BKT{Params: truth, Pooled: truth[0]}).Predict(d, isTest)
	auc, _, rmse := bktScore(p)
	oauc, _, ormse := bktScore(oracle)
	t.Logf("held out: %d scored, AUC %.4f RMSE %.4f; the truth: AUC %.4f RMSE %.4f", len(p.P), auc, rmse, oauc, ormse)
	if auc < oauc-0.005 || rmse > ormse+0.003 {
		t.Errorf("held out: AUC %.4f RMSE %.4f; the truth: AUC %.4f RMSE %.4f", auc, rmse, oauc, ormse)
	}
}

// TestBKTGridSearch: FitBKTGrid picks the same point as a brute-force
// search with the plain recursion, on a grid whose length is not a
// multiple of the lane count; the pooled point maximizes the summed
// likelihood.
func TestBKTGridSearch(t *testing.T) {
	d := bktSimulate([]BKTParams{{0.3, 0.1, 0.2, 0.1}, {0.6, 0.02, 0.3, 0.2}, {0.1, 0.3, 0.1, 0.05}}, 150, 3)
	rng := rand.New(rand.NewPCG(5, 5))
	grid := make([]BKTParams, 37)
	for i := range grid {
		grid[i] = BKTParams{L0: rng.Float64(), T: rng.Float64() * 0.5, G: 0.01 + rng.Float64()*0.4, S: 0.01 + rng.Float64()*0.4}
	}
	isTrain := func(s *Sequence) bool { return !s.Test }
	m := FitBKTGrid(d, isTrain, grid)
	pooled := make([]float64, len(grid))
	for k := range d.Skills {
		best, bestLL := 0, math.Inf(-1)
		for g, p := range grid {
			ll := bktNaiveLL(d, isTrain, int32(k), p)
			pooled[g] += ll
			if ll > bestLL+1e-9 {
				best, bestLL = g, ll
			}
		}
		if got := bktNaiveLL(d, isTrain, int32(k), m.Params[k]); got < bestLL-1e-9 {
			t.Errorf("skill %d: fitted %+v (log-likelihood %.6f), brute force %+v (%.6f)", k, m.Params[k], got, grid[best], bestLL)
		}
	}
	if want := grid[bktArgmax(pooled)]; m.Pooled != want {
		t.Errorf("pooled %+v, brute force %+v", m.Pooled, want)
	}
}

// TestBKTBundled: fitted on the bundled file's training students and
// scored on its test students, BKT reproduces the README's Python
// reference (AUC 0.8107, accuracy 0.7753, RMSE 0.3950 over 116,711
// answers) within 0.005. Under -race or -short the search runs on a
// coarse subgrid, and only the count and sanity are checked.
func TestBKTBundled(t *testing.T) {
	d, err := Read(bundled, DefaultColumns)
	if err != nil {
		t.Fatal(err)
	}
	isTrain := func(s *Sequence) bool { return !s.Test }
	isTest := func(s *Sequence) bool { return s.Test }
	grid := BKTGrid()
	full := !raceEnabled && !testing.Short()
	if !full {
		var sub []BKTParams
		for i := 0; i < len(grid); i += 97 {
			sub = append(sub, grid[i])
		}
		grid = sub
	}
	start := time.Now()
	m := FitBKTGrid(d, isTrain, grid)
	fit := time.Since(start)
	p := m.Predict(d, isTest)
	bktCheckProbs(t, p)
	auc, acc, rmse := bktScore(p)
	t.Logf("BKT (%d grid points, fit %v on %d goroutines): %d scored, AUC %.4f, accuracy %.4f, RMSE %.4f",
		len(grid), fit.Round(time.Millisecond), runtime.GOMAXPROCS(0), len(p.P), auc, acc, rmse)
	t.Logf("pooled %+v", m.Pooled)
	if len(p.P) != 116711 {
		t.Errorf("%d scored, want 116711", len(p.P))
	}
	// Skill 64 is in the test students only.
	if m.Answers[64] != 0 || m.Params[64] != m.Pooled {
		t.Errorf("skill 64: %d training answers, params %+v (pooled %+v)", m.Answers[64], m.Params[64], m.Pooled)
	}
	n := 0
	for _, a := range m.Answers {
		n += a
	}
	if n != 407967 {
		t.Errorf("%d training answers, want 407967", n)
	}
	if !full {
		if auc < 0.75 || acc < 0.72 {
			t.Errorf("coarse grid: AUC %.4f, accuracy %.4f", auc, acc)
		}
		return
	}
	if math.Abs(auc-0.8107) > 0.005 || math.Abs(acc-0.7753) > 0.005 || math.Abs(rmse-0.3950) > 0.005 {
		t.Errorf("BKT: AUC %.4f, accuracy %.4f, RMSE %.4f; the reference: 0.8107, 0.7753, 0.3950", auc, acc, rmse)
	}
}

// TestBKTEdges: empty data, a skill answered only correctly, sequences of
// one answer, a test skill absent from training (and one beyond the
// fitted skills) do not panic and give probabilities.
func TestBKTEdges(t *testing.T) {
	all := func(*Sequence) bool { return true }
	isTrain := func(s *Sequence) bool { return !s.Test }
	isTest := func(s *Sequence) bool { return s.Test }

	// Empty.
	m := FitBKT(&Data{}, all)
	if len(m.Params) != 0 || m.Pooled != bktDefault {
		t.Errorf("empty: %+v", m)
	}
	if p := m.Predict(&Data{}, all); len(p.P) != 0 {
		t.Errorf("empty: %d predictions", len(p.P))
	}
	// Skills but no training student: everything is the default.
	d := &Data{Skills: 2, Seqs: []Sequence{{Student: "x", Skills: []int32{0, 1, 1}, Correct: []bool{true, false, true}, Test: true}}}
	m = FitBKT(d, isTrain)
	if m.Params[0] != bktDefault || m.Params[1] != bktDefault {
		t.Errorf("no training: %+v", m)
	}
	bktCheckProbs(t, m.Predict(d, isTest))

	// Skill 0 always right, skill 1 mixed, skill 2 only in test, single
	// answers; skill 3 exists in a later data set only.
	d = &Data{Skills: 3}
	for i := range 40 {
		d.Seqs = append(d.Seqs, Sequence{Student: "s", Skills: []int32{0, 0, 0, 1, 1, 1}, Correct: []bool{true, true, true, i%2 == 0, i%3 == 0, true}})
		d.Seqs = append(d.Seqs, Sequence{Student: "one", Skills: []int32{int32(i % 2)}, Correct: []bool{i%2 == 0}})
	}
	d.Seqs = append(d.Seqs,
		Sequence{Student: "t", Skills: []int32{0, 2, 2, 1, 0}, Correct: []bool{true, false, true, false, true}, Test: true},
		Sequence{Student: "u", Skills: []int32{2}, Correct: []bool{true}, Test: true})
	m = FitBKT(d, isTrain)
	t.Logf("%+v", m)
	if m.Answers[2] != 0 || m.Params[2] != m.Pooled || m.Answers[0] != 140 || m.Answers[1] != 140 {
		t.Errorf("answers %v, params %+v", m.Answers, m.Params)
	}
	// All correct: the best point says a correct answer is likely from
	// the start.
	if p := m.Params[0]; p.L0*(1-p.S)+(1-p.L0)*p.G < 0.8 {
		t.Errorf("always-correct skill: %+v", p)
	}
	p := m.Predict(d, isTest)
	bktCheckProbs(t, p)
	if len(p.P) != 4 || p.P[3] < 0.8 {
		t.Errorf("predictions %+v", p)
	}
	d2 := &Data{Skills: 4, Seqs: []Sequence{{Skills: []int32{3, 3, 0}, Correct: []bool{false, true, true}}}}
	bktCheckProbs(t, m.Predict(d2, all))

	// Out-of-range grids panic.
	for _, g := range [][]BKTParams{nil, {{L0: 0.5, T: 0.1, G: 0, S: 0.1}}, {{L0: 1.5, T: 0.1, G: 0.2, S: 0.1}}, {{L0: 0.5, T: 0.1, G: 0.2, S: math.NaN()}}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("grid %+v: no panic", g)
				}
			}()
			FitBKTGrid(d, isTrain, g)
		}()
	}
}

// TestBKTStep: the update is the textbook one, and mastery stays within
// [BKTEpsilon, 1−BKTEpsilon] through a long run.
func TestBKTStep(t *testing.T) {
	p := BKTParams{L0: 0.4, T: 0.2, G: 0.25, S: 0.1}
	l, u := bktStart(&p)
	q, l2, u2 := bktStep(&p, l, u, true)
	post := 0.4 * 0.9 / (0.4*0.9 + 0.6*0.25)
	if math.Abs(q-(0.4*0.9+0.6*0.25)) > 1e-15 || math.Abs(l2-(post+(1-post)*0.2)) > 1e-15 || math.Abs(l2+u2-1) > 1e-15 {
		t.Errorf("correct: q %v L %v 1-L %v", q, l2, u2)
	}
	q, l2, _ = bktStep(&p, l, u, false)
	post = 0.4 * 0.1 / (1 - q)
	if math.Abs(l2-(post+(1-post)*0.2)) > 1e-15 {
		t.Errorf("wrong: L %v", l2)
	}
	for range 1000 {
		_, l, u = bktStep(&p, l, u, true)
	}
	if u != BKTEpsilon || l != 1-BKTEpsilon {
		t.Errorf("after 1000 correct answers: L %v, 1-L %v", l, u)
	}
	// Recovery: a few wrong answers bring mastery down again.
	for range 15 {
		_, l, u = bktStep(&p, l, u, false)
	}
	if l > 0.5 {
		t.Errorf("after 1000 correct and 15 wrong answers: L %v", l)
	}
}

func BenchmarkFitBKT(b *testing.B) {
	d, err := Read(bundled, DefaultColumns)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		FitBKT(d, func(s *Sequence) bool { return !s.Test })
	}
}
