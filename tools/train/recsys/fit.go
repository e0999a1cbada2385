package recsys

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/tools/train"
)

// Config holds the hyperparameters of a recipe; Fit uses Implicit,
// FitWith and FitRatingsWith take their own (edgetrain gives the
// regressor Rating).
type Config struct {
	// Dim, Epochs, LR, Reg (L2 on embedding rows per use), RegBias (L2
	// on biases per use) and InitStd (initial embeddings' standard
	// deviation) are the model's; for the implicit recommender, of its
	// "watched" part.
	Dim     int
	Epochs  int
	LR      float64
	Reg     float64
	RegBias float64
	InitStd float64
	// Implicit recommender only. Batch is the mini-batch size; NegRatio
	// the items drawn per positive, uniformly from those the user has
	// not rated in training, resampled every epoch. WatchedAll makes
	// every observed rating a positive of the watched part (else only
	// ratings ≥ 4).
	Batch      int
	NegRatio   int
	WatchedAll bool
	// Liked part: a second model of the same form trained on the observed
	// ratings alone (target rating ≥ 4), LikedDim 0 for none. Its logit
	// is added to Alpha × the watched part's in the exported graph (the
	// tables are concatenated and the biases summed, so the graph is
	// still sigmoid(u·v + b_u + b_i)).
	LikedDim, LikedEpochs int
	LikedLR, LikedReg     float64
	LikedRegBias          float64
	Alpha                 float64
	// Beta weighs the liked part's item-dependent terms (u·v and b_i);
	// its user bias is added in full: it orders a user's items not at all
	// but says how generous the user is, what the ROC AUC over users needs.
	Beta float64
}

// Implicit is the default configuration of the implicit recommender.
// Measured on movielens_small (seed 1, 80 % split less the LOO rows):
// the watched part alone gives hit rate 0.747 and ROC AUC (rating ≥ 4)
// 0.61; with the liked part's user bias 0.747 / 0.70; with Beta 0.3
// 0.744 / 0.72; Beta 0.5 0.738 / 0.73; Beta 1 0.68 / 0.74. The AUC among
// rated items and the hit rate against unrated items pull apart: the
// 80/20 ROC AUC goal is met by the rating regressor (FitRatingsWith).
var Implicit = Config{Dim: 32, Epochs: 20, LR: 0.005, Reg: 0.03, InitStd: 0.1, Batch: 256, NegRatio: 4, WatchedAll: true,
	LikedDim: 32, LikedEpochs: 20, LikedLR: 0.005, LikedReg: 0.03, Alpha: 1, Beta: 0.3}

// Rating is the default configuration of the rating regressor
// (per-example SGD).
var Rating = Config{Dim: 32, Epochs: 30, LR: 0.007, Reg: 0.05, RegBias: 0.02, InitStd: 0.1}

// Result is everything a fit produced: the train.Trained the CLI
// consumes, plus both test sets of the recommender and the id maps.
type Result struct {
	*train.Trained
	// LOO is the leave-one-out set (hit_rate_at_10, groups of 1 + 99);
	// nil when loo_rows.txt / loo_negatives.csv are not beside Data.
	LOO *train.EvalSet
	// Split is the held-out rows of the random split: targets are
	// rating ≥ 4 (0/1) for the recommender (roc_auc) and the ratings for
	// the regressor (rmse).
	Split        *train.EvalSet
	Users, Items *IDMap
	TrainRows    int
}

type prepared struct {
	r            *Ratings
	users, items *IDMap
	uid, iid     []int32 // dense rows per data row
	train        []int   // indices into r of training rows
	val          []int   // indices into r of validation rows (held out of train)
	test         []int   // indices into r of held-out rows (random split)
	testR        *Ratings
	testU, testI []int32
	loo          *LOO
	looKeep      []int // indices into r of LOO rows with a known user
}

// prepare reads Data, picks the test rows (Test CSV, TestRows, or a
// seeded 20 %), finds the LOO files beside Data when withLOO, and maps ids
// (every id in Data; the reserved row 0 for the rest).
func prepare(o train.FitOptions, withLOO bool) (*prepared, error) {
	if o.Data == "" {
		return nil, fmt.Errorf("recsys: no training data (--data)")
	}
	r, rowIdx, err := ReadRatings(o.Data, o, true)
	if err != nil {
		return nil, err
	}
	p := &prepared{r: r, users: NewIDMap(r.Users), items: NewIDMap(r.Items)}
	p.uid, p.iid = make([]int32, r.Len()), make([]int32, r.Len())
	for k := range r.Users {
		u, _ := p.users.Row(r.Users[k])
		i, _ := p.items.Row(r.Items[k])
		p.uid[k], p.iid[k] = int32(u), int32(i)
	}
	held := map[int]bool{} // data-row index → held out of training
	if withLOO {
		if p.loo, err = FindLOO(o.Data); err != nil {
			return nil, err
		}
		if p.loo != nil {
			pos := map[int]int{}
			for k, row := range rowIdx {
				pos[row] = k
			}
			for _, row := range p.loo.Rows {
				held[row] = true
				if k, ok := pos[row]; ok {
					p.looKeep = append(p.looKeep, k)
				}
			}
			o.Log("leave-one-out: %d held-out positives from %s, negatives from %s", len(p.looKeep), LOORowsFile, LOONegativesFile)
		}
	}
	var testRows map[int]bool
	switch {
	case o.Test != "":
		tr, _, err := ReadRatings(o.Test, o, true)
		if err != nil {
			return nil, err
		}
		p.testR = tr
	case o.TestRows != "":
		if testRows, err = train.ReadTestRows(o.TestRows); err != nil {
			return nil, err
		}
	default:
		rng := rand.New(rand.NewPCG(o.Seed, 0x5e1))
		testRows = map[int]bool{}
		for _, row := range rowIdx {
			if rng.Float64() < 0.2 {
				testRows[row] = true
			}
		}
		o.Log("no test rows given: a seeded random 20 %% of the rows is the test split")
	}
	for k, row := range rowIdx {
		switch {
		case testRows[row]:
			p.test = append(p.test, k)
		case held[row]:
		default:
			p.train = append(p.train, k)
		}
	}
	// Validation: a seeded ValFraction of the training rows, held out of
	// training, for the choices made after it (the int8 fallback).
	vrng := rand.New(rand.NewPCG(o.Seed, 0x7a1))
	kept := p.train[:0]
	for _, k := range p.train {
		if vrng.Float64() < ValFraction {
			p.val = append(p.val, k)
		} else {
			kept = append(kept, k)
		}
	}
	p.train = kept
	if p.testR == nil {
		p.testR = &Ratings{}
		for _, k := range p.test {
			p.testR.Users = append(p.testR.Users, r.Users[k])
			p.testR.Items = append(p.testR.Items, r.Items[k])
			p.testR.Rating = append(p.testR.Rating, r.Rating[k])
		}
	}
	p.testU, p.testI = p.users.rows(p.testR.Users), p.items.rows(p.testR.Items)
	if len(p.train) == 0 {
		return nil, fmt.Errorf("recsys: %s: no training rows left after the test split", o.Data)
	}
	o.Log("%d users, %d items; %d training ratings, %d validation ratings, %d test ratings", len(p.users.IDs), len(p.items.IDs), len(p.train), len(p.val), p.testR.Len())
	return p, nil
}

func (m *IDMap) rows(ids []string) []int32 {
	out := make([]int32, len(ids))
	for k, s := range ids {
		r, _ := m.Row(s)
		out[k] = int32(r)
	}
	return out
}

// Fit trains the implicit-feedback recommender sigmoid(u·v + b_u + b_i + b)
// with the Implicit configuration; see FitWith.
func Fit(o train.FitOptions) (*train.Trained, error) {
	r, err := FitWith(o, Implicit)
	if err != nil {
		return nil, err
	}
	return r.Trained, nil
}

// FitWith trains the implicit-feedback recommender. Its watched part
// learns positives (the training ratings ≥ 4, or every rating with
// WatchedAll) against cfg.NegRatio items per positive drawn uniformly
// from the items the user has not rated in training, resampled every
// epoch from the seed; its liked part (LikedDim > 0) learns rating ≥ 4
// on the observed training ratings. Both: binary cross-entropy,
// mini-batches, sparse Adam. The exported score is
// sigmoid(α·watched + liked), one u·v + b_u + b_i + b graph.
//
// Training rows are Data less the test rows (TestRows, Test or a seeded
// 20 %), less the leave-one-out rows (loo_rows.txt beside Data) and less
// a seeded ValFraction held out as Val (roc_auc of rating ≥ 4). Test
// is the leave-one-out set when the LOO files are there (hit_rate_at_10),
// else the split (roc_auc of the score for rating ≥ 4); Result.Split is
// always the latter.
func FitWith(o train.FitOptions, cfg Config) (*Result, error) {
	p, err := prepare(o, true)
	if err != nil {
		return nil, err
	}
	if o.Epochs != 0 {
		if cfg.Epochs, err = o.EpochsOr(cfg.Epochs); err != nil {
			return nil, err
		}
		cfg.LikedEpochs = cfg.Epochs
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x2ec5))
	nu, ni := p.users.Rows(), p.items.Rows()
	words := (ni + 63) / 64
	rated := make([]uint64, nu*words)
	var pos, obs []sample
	for _, k := range p.train {
		u, i := p.uid[k], p.iid[k]
		rated[int(u)*words+int(i)/64] |= 1 << (uint(i) % 64)
		liked := p.r.Rating[k] >= PositiveThreshold
		if liked || cfg.WatchedAll {
			pos = append(pos, sample{u: u, i: i, y: 1, w: 1})
		}
		y := float32(0)
		if liked {
			y = 1
		}
		obs = append(obs, sample{u: u, i: i, y: y, w: 1})
	}
	if len(pos) == 0 {
		return nil, fmt.Errorf("recsys: no positive training ratings (rating ≥ %g)", PositiveThreshold)
	}
	o.Log("implicit: %d positives, %d sampled negatives per positive; liked part on %d observed ratings", len(pos), cfg.NegRatio, len(obs))
	var hist []train.EpochStats
	epoch := func(st train.EpochStats) {
		hist = append(hist, st)
		if o.OnEpoch != nil {
			o.OnEpoch(st)
		}
	}
	m := newMF(rng, nu, ni, cfg.Dim, cfg.InitStd)
	if err := fitBCE(m, rng, pos, rated, words, cfg.NegRatio, cfg.Epochs, cfg.Batch, cfg.LR, cfg.Reg, cfg.RegBias, o.OnBatch, epoch); err != nil {
		return nil, err
	}
	if cfg.LikedDim > 0 {
		l := newMF(rng, nu, ni, cfg.LikedDim, cfg.InitStd)
		if err := fitBCE(l, rng, obs, nil, 0, 0, cfg.LikedEpochs, cfg.Batch, cfg.LikedLR, cfg.LikedReg, cfg.LikedRegBias, o.OnBatch, epoch); err != nil {
			return nil, err
		}
		m = concatMF(m, l, cfg.Alpha, cfg.Beta)
	}
	// The reserved rows: an unknown user scores items by their biases
	// (popularity); an unknown item gets the lowest item bias.
	m.BI[UnknownRow] = minOf(m.BI[1:])
	m.BU[UnknownRow] = meanOf(m.BU[1:])
	res := &Result{Users: p.users, Items: p.items, TrainRows: len(p.train)}
	res.Split = splitSet(p, train.Recommender)
	if p.loo != nil {
		res.LOO, err = looSet(p)
		if err != nil {
			return nil, err
		}
	}
	tr := &train.Trained{Kind: train.Recommender, History: hist, Quantizable: []string{"user_emb", "item_emb"},
		Val: valSet(p, train.Recommender), ValMetric: "roc_auc"}
	if res.LOO != nil {
		tr.MetricName, tr.Test = "hit_rate_at_10", res.LOO
	} else {
		tr.MetricName, tr.Test = "roc_auc", res.Split
	}
	snap := *m
	tr.Export = func(int8 bool, keepF32 map[string]bool) (*format.Model, error) {
		return export(&snap, p.users, p.items, train.Recommender, o, int8, keepF32)
	}
	res.Trained = tr
	return res, nil
}

// fitBCE trains m on fixed samples plus, with negRatio > 0, that many
// sampled negatives per sample from the items not set in the user's row
// of rated (words uint64 per user).
func fitBCE(m *mf, rng *rand.Rand, fixed []sample, rated []uint64, words, negRatio, epochs, batch int, lr, reg, regBias float64,
	onBatch func(int, int), onEpoch func(train.EpochStats)) error {
	t := newImplicitTrainer(m, reg, regBias)
	buf := make([]sample, 0, len(fixed)*(1+negRatio))
	for e := 0; e < epochs; e++ {
		start := time.Now()
		buf = append(buf[:0], fixed...)
		for _, s := range fixed[:len(fixed)*min(negRatio, 1)] {
			row := rated[int(s.u)*words : int(s.u+1)*words]
			for j := 0; j < negRatio; j++ {
				var it int
				for tries := 0; ; tries++ {
					it = 1 + rng.IntN(m.NI-1)
					if row[it/64]&(1<<(uint(it)%64)) == 0 || tries > 100 {
						break
					}
				}
				buf = append(buf, sample{u: s.u, i: int32(it), y: 0, w: 1})
			}
		}
		rng.Shuffle(len(buf), func(a, b int) { buf[a], buf[b] = buf[b], buf[a] })
		nb := (len(buf) + batch - 1) / batch
		var loss, wsum float64
		for b := 0; b < nb; b++ {
			loss += t.batch(buf[b*batch:min((b+1)*batch, len(buf))], lr)
			if onBatch != nil {
				onBatch(b+1, nb)
			}
		}
		for _, s := range buf {
			wsum += float64(s.w)
		}
		l := loss / wsum
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return fmt.Errorf("recsys: epoch %d: loss is %v (learning rate %g too high?)", e+1, l, lr)
		}
		onEpoch(train.EpochStats{Epoch: e + 1, Epochs: epochs, LR: lr, Loss: l, Duration: time.Since(start)})
	}
	return nil
}

// concatMF is the model whose score is alpha·a's + b's with b's item
// terms scaled by beta: tables side by side, biases summed.
func concatMF(a, b *mf, alpha, beta float64) *mf {
	d := a.D + b.D
	m := &mf{D: d, NU: a.NU, NI: a.NI, P: make([]float64, a.NU*d), Q: make([]float64, a.NI*d), BU: make([]float64, a.NU), BI: make([]float64, a.NI)}
	for u := 0; u < a.NU; u++ {
		for k, x := range a.P[u*a.D : (u+1)*a.D] {
			m.P[u*d+k] = alpha * x
		}
		for k, x := range b.P[u*b.D : (u+1)*b.D] {
			m.P[u*d+a.D+k] = beta * x
		}
		m.BU[u] = alpha*a.BU[u] + b.BU[u]
	}
	for i := 0; i < a.NI; i++ {
		copy(m.Q[i*d:i*d+a.D], a.Q[i*a.D:(i+1)*a.D])
		copy(m.Q[i*d+a.D:(i+1)*d], b.Q[i*b.D:(i+1)*b.D])
		m.BI[i] = alpha*a.BI[i] + beta*b.BI[i]
	}
	m.B = alpha*a.B + b.B
	return m
}

// FitRatingsWith trains the rating regressor u·v + b_u + b_i + b (biased
// matrix factorisation) with the squared error by per-example SGD over
// the training rows (Data less the test rows and a seeded ValFraction
// held out as Val; the LOO files are not used), b fixed at the training
// mean. Test is the split (rmse).
func FitRatingsWith(o train.FitOptions, cfg Config) (*Result, error) {
	p, err := prepare(o, false)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x3a71))
	m := newMF(rng, p.users.Rows(), p.items.Rows(), cfg.Dim, cfg.InitStd)
	us, is, ys := make([]int32, len(p.train)), make([]int32, len(p.train)), make([]float64, len(p.train))
	seenU, seenI := make([]bool, m.NU), make([]bool, m.NI)
	var mean float64
	for j, k := range p.train {
		us[j], is[j], ys[j] = p.uid[k], p.iid[k], p.r.Rating[k]
		seenU[us[j]], seenI[is[j]] = true, true
		mean += ys[j]
	}
	m.B = mean / float64(len(ys))
	// Rows no training rating reaches stay zero: their prediction is the
	// mean plus the other side's bias.
	for u, ok := range seenU {
		if !ok {
			clear(m.P[u*m.D : (u+1)*m.D])
		}
	}
	for i, ok := range seenI {
		if !ok {
			clear(m.Q[i*m.D : (i+1)*m.D])
		}
	}
	if cfg.Epochs, err = o.EpochsOr(cfg.Epochs); err != nil {
		return nil, err
	}
	order := make([]int, len(ys))
	for j := range order {
		order[j] = j
	}
	var hist []train.EpochStats
	for e := 0; e < cfg.Epochs; e++ {
		start := time.Now()
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		mse := m.sgdRatings(us, is, ys, order, cfg.LR, cfg.Reg, cfg.RegBias)
		st := train.EpochStats{Epoch: e + 1, Epochs: cfg.Epochs, LR: cfg.LR, Loss: mse, Duration: time.Since(start)}
		hist = append(hist, st)
		if o.OnBatch != nil {
			o.OnBatch(1, 1)
		}
		if o.OnEpoch != nil {
			o.OnEpoch(st)
		}
	}
	res := &Result{Users: p.users, Items: p.items, TrainRows: len(p.train), Split: splitSet(p, train.Regression)}
	tr := &train.Trained{Kind: train.Regression, MetricName: "rmse", History: hist, Quantizable: []string{"user_emb", "item_emb"}, Test: res.Split,
		Val: valSet(p, train.Regression)}
	snap := *m
	tr.Export = func(int8 bool, keepF32 map[string]bool) (*format.Model, error) {
		return export(&snap, p.users, p.items, train.Regression, o, int8, keepF32)
	}
	res.Trained = tr
	return res, nil
}

func minOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	m := v[0]
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

func meanOf(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(max(len(v), 1))
}

// evalBatch is the number of (user, item) pairs per engine Run.
const evalBatch = 1000

// pairsSet makes an EvalSet of (user row, item row) pairs.
func pairsSet(us, is []int32, y []float64, group int) *train.EvalSet {
	set := &train.EvalSet{Y: y, GroupSize: group}
	for lo := 0; lo < len(us); lo += evalBatch {
		hi := min(lo+evalBatch, len(us))
		u, i := make([]int64, hi-lo), make([]int64, hi-lo)
		for k := lo; k < hi; k++ {
			u[k-lo], i[k-lo] = int64(us[k]), int64(is[k])
		}
		set.Batches = append(set.Batches, []*tensor.Tensor{tensor.NewI64(tensor.Shape{hi - lo}, u), tensor.NewI64(tensor.Shape{hi - lo}, i)})
	}
	return set
}

// ValFraction is the share of the training ratings held out as the
// validation split.
const ValFraction = 0.05

// valSet is the validation pairs, scored like the split: rating ≥ 4 (0/1)
// for the recommender (roc_auc), the ratings for the regressor (rmse).
func valSet(p *prepared, kind train.Kind) *train.EvalSet {
	us, is, y := make([]int32, len(p.val)), make([]int32, len(p.val)), make([]float64, len(p.val))
	for j, k := range p.val {
		us[j], is[j] = p.uid[k], p.iid[k]
		if r := p.r.Rating[k]; kind == train.Regression {
			y[j] = r
		} else if r >= PositiveThreshold {
			y[j] = 1
		}
	}
	return pairsSet(us, is, y, 0)
}

func splitSet(p *prepared, kind train.Kind) *train.EvalSet {
	y := make([]float64, p.testR.Len())
	for k, r := range p.testR.Rating {
		if kind == train.Regression {
			y[k] = r
		} else if r >= PositiveThreshold {
			y[k] = 1
		}
	}
	return pairsSet(p.testU, p.testI, y, 0)
}

// looSet builds the leave-one-out groups: each held-out positive, then its
// user's negatives (every group must have as many).
func looSet(p *prepared) (*train.EvalSet, error) {
	var us, is []int32
	var y []float64
	group := 0
	for _, k := range p.looKeep {
		negs, ok := p.loo.Negatives[p.r.Users[k]]
		if !ok {
			return nil, fmt.Errorf("recsys: %s has no negatives for user %s", LOONegativesFile, p.r.Users[k])
		}
		if group == 0 {
			group = 1 + len(negs)
		} else if 1+len(negs) != group {
			return nil, fmt.Errorf("recsys: %s: user %s has %d negatives, others %d", LOONegativesFile, p.r.Users[k], len(negs), group-1)
		}
		u := p.uid[k]
		us = append(us, u)
		is = append(is, p.iid[k])
		y = append(y, 1)
		for _, s := range negs {
			r, _ := p.items.Row(s)
			us = append(us, u)
			is = append(is, int32(r))
			y = append(y, 0)
		}
	}
	if len(us) == 0 {
		return nil, fmt.Errorf("recsys: %s names no rows of the data", LOORowsFile)
	}
	return pairsSet(us, is, y, group), nil
}
