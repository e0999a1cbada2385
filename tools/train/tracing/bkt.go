package tracing

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// BKTParams are one skill's Bayesian Knowledge Tracing parameters: L0 the
// prior probability that the skill is mastered before its first answer, T
// the probability of learning it after an answer (no forgetting), G the
// probability of a correct answer without mastery (guess), S the
// probability of a wrong answer with mastery (slip).
type BKTParams struct {
	L0, T, G, S float64
}

// BKTEpsilon bounds the probability of mastery away from 0 and 1: L stays
// in [BKTEpsilon, 1−BKTEpsilon].
//
// Without the bound, a run of correct answers drives 1−L toward 0 (the
// odds of non-mastery shrink ×G·(1−T)/(1−S) per correct answer, about
// ×0.05 for G = S = 0.05), and the wrong answers that follow must undo
// that one by one: in exact arithmetic a student stays "mastered" through
// a number of wrong answers that grows with the run of correct ones.
// Float64 code of the textbook update instead reaches L = 1 by rounding,
// and whether a wrong answer then moves it at all depends on how 1−(1−S)
// rounds (for S = 0.05 it does, for S = 0.25 it does not). On the bundled
// ASSISTments file this matters a lot (runs are long: each skill is one
// block of a student's answers): on the FitBKT grid, exact BKT scores
// test AUC 0.756, the bound 1e-15 0.806, 1e-9 0.811 (the Python
// reference's 0.8107), 1e-6 0.812, 1e-3 0.816. The bound makes the model
// well defined and the same on every platform (no dependence on rounding
// or fused multiply-adds), and reproduces the reference.
const BKTEpsilon = 1e-9

// BKT is classic four-parameter Bayesian Knowledge Tracing (Corbett &
// Anderson 1995), one parameter set per skill, no forgetting. The state of
// a student on a skill is L, the probability that the skill is mastered
// given the student's earlier answers on that skill; it starts at L0. An
// answer is predicted correct with probability
//
//	p = L·(1−S) + (1−L)·G
//
// and the answer then updates L to the posterior of mastery,
//
//	post = L·(1−S) / p            after a correct answer,
//	post = L·S / (1−p)            after a wrong one,
//
// followed by the chance to learn: L' = post + (1−post)·T, kept within
// [BKTEpsilon, 1−BKTEpsilon] (see there). L and 1−L are computed
// separately (1−L' = (1−post)·(1−T), and 1−p as L·S + (1−L)·(1−G)), so
// neither loses precision near 0. A student's answers on other skills
// leave a skill's state alone.
type BKT struct {
	// Params holds each skill's parameters, indexed by skill id; a skill
	// with no training answer has Pooled.
	Params []BKTParams
	// Pooled is the grid point with the greatest log-likelihood of all
	// training answers pooled (one parameter set for every skill; each
	// student's answers on each skill still a separate run).
	Pooled BKTParams
	// Answers counts each skill's training answers (0: Params is Pooled).
	Answers []int
}

// BKTGrid is the grid FitBKT searches, 3920 points: 10 L0 × 14 T × 28
// (G, S) pairs, in that nesting order (L0 outermost, then T, then G, then
// S):
//
//	L0 ∈ {0.05, 0.15, …, 0.95} (10)
//	T  ∈ {0.01, 0.02, 0.03, 0.05, 0.07, 0.10, 0.13, 0.16, 0.20, 0.25,
//	      0.30, 0.40, 0.50, 0.65} (14)
//	G  ∈ {0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.40} (7)
//	S  ∈ {0.05, 0.10, 0.20, 0.40} (4)
//
// so G and S are at most 0.4 (G + S < 1: mastery makes a correct answer
// more likely). The README's reference does not publish its grid; other
// grids of 3920 points score test AUC 0.811 to 0.817 on the bundled file
// (a finer grid of 150,000 points 0.813), this one 0.8106.
func BKTGrid() []BKTParams {
	l0s := []float64{0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95}
	ts := []float64{0.01, 0.02, 0.03, 0.05, 0.07, 0.10, 0.13, 0.16, 0.20, 0.25, 0.30, 0.40, 0.50, 0.65}
	gs := []float64{0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.40}
	ss := []float64{0.05, 0.10, 0.20, 0.40}
	grid := make([]BKTParams, 0, len(l0s)*len(ts)*len(gs)*len(ss))
	for _, l0 := range l0s {
		for _, t := range ts {
			for _, g := range gs {
				for _, s := range ss {
					grid = append(grid, BKTParams{L0: l0, T: t, G: g, S: s})
				}
			}
		}
	}
	return grid
}

// bktDefault is Pooled when there is no training answer at all.
var bktDefault = BKTParams{L0: 0.5, T: 0.1, G: 0.2, S: 0.1}

// FitBKT fits BKT on the sequences train says are training data: for
// each skill, the point of BKTGrid with the greatest log-likelihood of
// that skill's training answers (every answer, the first of a sequence
// too, each predicted from the student's earlier answers on the skill);
// ties go to the earlier grid point. A skill with no training answer gets
// Pooled (bktDefault's L0 0.5, T 0.1, G 0.2, S 0.1 when there is no
// training answer at all).
//
// The search runs on runtime.GOMAXPROCS(0) goroutines; each skill's
// answers are first merged into a trie of answer runs (students with the
// same answers on a skill so far share the computation).
func FitBKT(d *Data, train func(*Sequence) bool) *BKT {
	return FitBKTGrid(d, train, BKTGrid())
}

// FitBKTGrid is FitBKT over the given grid. Each point must have L0 and
// T in [0, 1] and G and S in [1e-6, 1−1e-6]; it panics otherwise, or
// when the grid is empty.
func FitBKTGrid(d *Data, train func(*Sequence) bool, grid []BKTParams) *BKT {
	if len(grid) == 0 {
		panic("tracing: FitBKTGrid: empty grid")
	}
	for _, g := range grid {
		if !(g.L0 >= 0 && g.L0 <= 1 && g.T >= 0 && g.T <= 1 && g.G >= 1e-6 && g.G <= 1-1e-6 && g.S >= 1e-6 && g.S <= 1-1e-6) {
			panic(fmt.Sprintf("tracing: FitBKTGrid: grid point %+v out of range", g))
		}
	}
	tries, answers := bktBuildTries(d, train)

	// Jobs: a skill and a run of lane batches of the grid.
	batches := (len(grid) + bktLanes - 1) / bktLanes
	const batchesPerJob = 8
	type job struct{ skill, lo, hi int } // batches lo..hi-1
	var jobs []job
	ll := make([][]float64, d.Skills) // ll[skill][grid point]
	maxDepth := 0
	for k := range tries {
		if len(tries[k].depth) == 0 {
			continue
		}
		ll[k] = make([]float64, batches*bktLanes)
		maxDepth = max(maxDepth, tries[k].maxDepth)
		for lo := 0; lo < batches; lo += batchesPerJob {
			jobs = append(jobs, job{k, lo, min(lo+batchesPerJob, batches)})
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]float64, 2*(maxDepth+1)*bktLanes)
			var lanes [bktLanes]BKTParams
			for {
				n := int(next.Add(1)) - 1
				if n >= len(jobs) {
					return
				}
				j := jobs[n]
				for b := j.lo; b < j.hi; b++ {
					for i := range lanes {
						// Pad the last batch with the grid's last point.
						lanes[i] = grid[min(b*bktLanes+i, len(grid)-1)]
					}
					tries[j.skill].logLik(&lanes, (*[bktLanes]float64)(ll[j.skill][b*bktLanes:]), buf)
				}
			}
		}()
	}
	wg.Wait()

	m := &BKT{Params: make([]BKTParams, d.Skills), Answers: answers, Pooled: bktDefault}
	pooled := make([]float64, len(grid))
	fitted := false
	for k, l := range ll {
		if l == nil {
			continue
		}
		ll[k] = l[:len(grid)]
		fitted = true
		for g, v := range ll[k] {
			pooled[g] += v
		}
	}
	if fitted {
		m.Pooled = grid[bktArgmax(pooled)]
	}
	for k := range m.Params {
		m.Params[k] = m.Pooled
		if ll[k] != nil {
			m.Params[k] = grid[bktArgmax(ll[k])]
		}
	}
	return m
}

// bktArgmax is the first index of the greatest value.
func bktArgmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// bktStart is the state (L, 1−L) before a skill's first answer.
func bktStart(p *BKTParams) (l, u float64) {
	l = min(max(p.L0, BKTEpsilon), 1-BKTEpsilon)
	return l, 1 - l
}

// bktStep is one answer: q the predicted probability of a correct answer
// in state (l, u = 1−l), and the state after the answer ok.
func bktStep(p *BKTParams, l, u float64, ok bool) (q, l2, u2 float64) {
	q = l*(1-p.S) + u*p.G
	var a, b float64 // P(answer, mastered), P(answer, not mastered)
	if ok {
		a, b = l*(1-p.S), u*p.G
	} else {
		a, b = l*p.S, u*(1-p.G)
	}
	inv := 1 / (a + b)
	post, npost := a*inv, b*inv
	l2, u2 = post+npost*p.T, npost*(1-p.T)
	if u2 < BKTEpsilon {
		l2, u2 = 1-BKTEpsilon, BKTEpsilon
	} else if l2 < BKTEpsilon {
		l2, u2 = BKTEpsilon, 1-BKTEpsilon
	}
	return q, l2, u2
}

// bktLanes grid points are evaluated in one pass over a trie: the lanes
// are independent, so their divisions overlap.
const bktLanes = 8

// bktTrie is a skill's training answers as a trie of (student, skill)
// answer runs, in depth-first preorder: node i is a prefix of cnt[i]
// runs, ending in the answer obs[i] at depth[i] ≥ 1 (the run's
// depth[i]-th answer on the skill); its parent is the last node before it
// with depth depth[i]−1. One pass in order, keeping the state of the
// current path by depth, runs BKT's forward recursion over every run at
// once, and identical prefixes (many short runs) are computed once.
type bktTrie struct {
	depth    []int32
	obs      []bool
	cnt      []float64
	maxDepth int
}

func bktBuildTries(d *Data, train func(*Sequence) bool) ([]bktTrie, []int) {
	type node struct {
		kid [2]int32 // 0: none
		cnt float64
	}
	nodes := make([][]node, d.Skills) // nodes[k][0] is the root
	answers := make([]int, d.Skills)
	cur := make([]int32, d.Skills) // each skill's node in the current sequence
	var touched []int32
	for i := range d.Seqs {
		s := &d.Seqs[i]
		if !train(s) {
			continue
		}
		for _, k := range touched {
			cur[k] = 0
		}
		touched = touched[:0]
		for j, k := range s.Skills {
			if nodes[k] == nil {
				nodes[k] = []node{{}}
			}
			if cur[k] == 0 {
				touched = append(touched, k)
			}
			o := 0
			if s.Correct[j] {
				o = 1
			}
			c := nodes[k][cur[k]].kid[o]
			if c == 0 {
				c = int32(len(nodes[k]))
				nodes[k] = append(nodes[k], node{})
				nodes[k][cur[k]].kid[o] = c
			}
			nodes[k][c].cnt++
			cur[k] = c
			answers[k]++
		}
	}
	tries := make([]bktTrie, d.Skills)
	for k, ns := range nodes {
		if len(ns) < 2 {
			continue
		}
		t := &tries[k]
		t.depth = make([]int32, 0, len(ns)-1)
		t.obs = make([]bool, 0, len(ns)-1)
		t.cnt = make([]float64, 0, len(ns)-1)
		type item struct {
			n     int32
			depth int32
			ok    bool
		}
		stack := []item{{ns[0].kid[1], 1, true}, {ns[0].kid[0], 1, false}}
		for len(stack) > 0 {
			it := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if it.n == 0 {
				continue
			}
			t.depth = append(t.depth, it.depth)
			t.obs = append(t.obs, it.ok)
			t.cnt = append(t.cnt, ns[it.n].cnt)
			t.maxDepth = max(t.maxDepth, int(it.depth))
			stack = append(stack, item{ns[it.n].kid[1], it.depth + 1, true}, item{ns[it.n].kid[0], it.depth + 1, false})
		}
	}
	return tries, answers
}

// logLik sets ll[i] to the log-likelihood of the trie's answers under
// p[i]; buf is scratch of at least 2·(maxDepth+1)·bktLanes. It is
// bktStep unrolled over the lanes (same operations, same results).
func (t *bktTrie) logLik(p *[bktLanes]BKTParams, ll *[bktLanes]float64, buf []float64) {
	const K = bktLanes
	// Per lane: the (mastered, not mastered) factors of a correct answer
	// and of a wrong one, and T, 1−T.
	var a1, b1, a0, b0, tl, nt, prod [K]float64
	n := (t.maxDepth + 1) * K
	L, U := buf[:n], buf[n:2*n]
	for i := range K {
		a1[i], b1[i], a0[i], b0[i] = 1-p[i].S, p[i].G, p[i].S, 1-p[i].G
		tl[i], nt[i] = p[i].T, 1-p[i].T
		L[i], U[i] = bktStart(&p[i])
		ll[i], prod[i] = 0, 1
	}
	var lik [K]float64
	for i, d := range t.depth {
		lp, up := (*[K]float64)(L[int(d-1)*K:]), (*[K]float64)(U[int(d-1)*K:])
		lc, uc := (*[K]float64)(L[int(d)*K:]), (*[K]float64)(U[int(d)*K:])
		fa, fb := &a0, &b0
		if t.obs[i] {
			fa, fb = &a1, &b1
		}
		for j := range K {
			a, b := lp[j]*fa[j], up[j]*fb[j]
			inv := 1 / (a + b)
			post, npost := a*inv, b*inv
			l2, u2 := post+npost*tl[j], npost*nt[j]
			if u2 < BKTEpsilon {
				l2, u2 = 1-BKTEpsilon, BKTEpsilon
			} else if l2 < BKTEpsilon {
				l2, u2 = BKTEpsilon, 1-BKTEpsilon
			}
			lc[j], uc[j], lik[j] = l2, u2, a+b
		}
		// Most nodes are one run's: multiply their likelihoods and take
		// the log now and then (lik ≥ min(G, S, 1−G, 1−S) ≥ 1e-6, so prod
		// stays a normal number).
		if c := t.cnt[i]; c == 1 {
			for j := range K {
				prod[j] *= lik[j]
				if prod[j] < 1e-200 {
					ll[j] += math.Log(prod[j])
					prod[j] = 1
				}
			}
		} else {
			for j := range K {
				ll[j] += c * math.Log(lik[j])
			}
		}
	}
	for j := range K {
		ll[j] += math.Log(prod[j])
	}
}

// Predict scores the sequences sel says are scored, like
// SkillMean.Predict: every answer at position ≥ 1 in sequence order,
// predicted from the student's earlier answers on its skill (from L0 when
// it is the skill's first answer in the sequence). A skill beyond Params
// (not in the data fitted on) uses Pooled.
func (m *BKT) Predict(d *Data, sel func(*Sequence) bool) Predictions {
	var pr Predictions
	L := make([]float64, d.Skills)
	U := make([]float64, d.Skills)
	stamp := make([]int, d.Skills) // i+1 when L[k] is sequence i's
	for i := range d.Seqs {
		s := &d.Seqs[i]
		if !sel(s) {
			continue
		}
		for j, k := range s.Skills {
			p := &m.Pooled
			if int(k) < len(m.Params) {
				p = &m.Params[k]
			}
			if stamp[k] != i+1 {
				stamp[k] = i + 1
				L[k], U[k] = bktStart(p)
			}
			var q float64
			q, L[k], U[k] = bktStep(p, L[k], U[k], s.Correct[j])
			if j > 0 {
				y := 0.0
				if s.Correct[j] {
					y = 1
				}
				pr.P = append(pr.P, q)
				pr.Y = append(pr.Y, y)
			}
		}
	}
	return pr
}
