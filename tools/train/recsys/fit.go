package recsys

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/tools/train"
)

// Config holds the hyperparameters of a recipe; Fit and FitRatings use
// Implicit and Rating, FitWith and FitRatingsWith take their own.
type Config struct {
	Dim    int
	Epochs int
	// Implicit model: mini-batch size, sampled negatives per positive
	// (resampled every epoch), Adam learning rate, L2 on embedding rows
	// and biases per use, and the weight of an observed low rating
	// (< PositiveThreshold) as a negative (0: ignore low ratings).
	Batch     int
	NegRatio  int
	LR        float64
	Reg       float64
	RegBias   float64
	LowWeight float64
	// InitStd is the standard deviation of the initial embeddings.
	InitStd float64
}

// Implicit is the default configuration of the implicit recommender.
var Implicit = Config{Dim: 32, Epochs: 20, Batch: 256, NegRatio: 4, LR: 0.005, Reg: 1e-4, RegBias: 0, LowWeight: 1, InitStd: 0.1}

// Rating is the default configuration of the rating regressor
// (per-example SGD; Batch, NegRatio and LowWeight unused).
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
	o.Log("%d users, %d items; %d training ratings, %d test ratings", len(p.users.IDs), len(p.items.IDs), len(p.train), p.testR.Len())
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

// FitWith trains the implicit-feedback recommender: positives are the
// training ratings ≥ 4, negatives the training ratings below 4 (weight
// cfg.LowWeight) and cfg.NegRatio items per positive drawn uniformly from
// the items the user has not rated in training, resampled every epoch
// from the seed; binary cross-entropy, mini-batches, sparse Adam.
//
// Training rows are Data less the test rows (TestRows, Test or a seeded
// 20 %) and less the leave-one-out rows (loo_rows.txt beside Data). Test
// is the leave-one-out set when the LOO files are there (hit_rate_at_10),
// else the split (roc_auc of the score for rating ≥ 4); Result.Split is
// always the latter.
func FitWith(o train.FitOptions, cfg Config) (*Result, error) {
	p, err := prepare(o, true)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x2ec5))
	m := newMF(rng, p.users.Rows(), p.items.Rows(), cfg.Dim, cfg.InitStd)
	// Positives, low ratings and the rated set per user.
	words := (m.NI + 63) / 64
	rated := make([]uint64, m.NU*words)
	var pos, low []sample
	for _, k := range p.train {
		u, i := p.uid[k], p.iid[k]
		rated[int(u)*words+int(i)/64] |= 1 << (uint(i) % 64)
		if p.r.Rating[k] >= PositiveThreshold {
			pos = append(pos, sample{u: u, i: i, y: 1, w: 1})
		} else if cfg.LowWeight > 0 {
			low = append(low, sample{u: u, i: i, y: 0, w: float32(cfg.LowWeight)})
		}
	}
	if len(pos) == 0 {
		return nil, fmt.Errorf("recsys: no positive training ratings (rating ≥ %g)", PositiveThreshold)
	}
	if cfg.Epochs <= 0 {
		cfg.Epochs = Implicit.Epochs
	}
	if o.Epochs > 0 {
		cfg.Epochs = o.Epochs
	}
	o.Log("implicit: %d positives, %d low ratings as negatives, %d sampled negatives per positive", len(pos), len(low), cfg.NegRatio)
	t := newImplicitTrainer(m, cfg.Reg, cfg.RegBias)
	n := len(pos)*(1+cfg.NegRatio) + len(low)
	buf := make([]sample, 0, n)
	var hist []train.EpochStats
	for e := 0; e < cfg.Epochs; e++ {
		start := time.Now()
		buf = append(append(buf[:0], pos...), low...)
		for _, s := range pos {
			row := rated[int(s.u)*words : int(s.u+1)*words]
			for j := 0; j < cfg.NegRatio; j++ {
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
		nb := (len(buf) + cfg.Batch - 1) / cfg.Batch
		var loss, wsum float64
		for b := 0; b < nb; b++ {
			bt := buf[b*cfg.Batch : min((b+1)*cfg.Batch, len(buf))]
			loss += t.batch(bt, cfg.LR)
			if o.OnBatch != nil {
				o.OnBatch(b+1, nb)
			}
		}
		for _, s := range buf {
			wsum += float64(s.w)
		}
		st := train.EpochStats{Epoch: e + 1, Epochs: cfg.Epochs, LR: cfg.LR, Loss: loss / wsum, Duration: time.Since(start)}
		hist = append(hist, st)
		if o.OnEpoch != nil {
			o.OnEpoch(st)
		}
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
	tr := &train.Trained{Kind: train.Recommender, History: hist, Quantizable: []string{"user_emb", "item_emb"}}
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

// FitRatings trains the rating regressor with the Rating configuration;
// see FitRatingsWith.
func FitRatings(o train.FitOptions) (*train.Trained, error) {
	r, err := FitRatingsWith(o, Rating)
	if err != nil {
		return nil, err
	}
	return r.Trained, nil
}

// FitRatingsWith trains the rating regressor u·v + b_u + b_i + b (biased
// matrix factorisation) with the squared error by per-example SGD over
// the training rows (Data less the test rows; the LOO files are not
// used), b fixed at the training mean. Test is the split (rmse).
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
	if o.Epochs > 0 {
		cfg.Epochs = o.Epochs
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
	tr := &train.Trained{Kind: train.Regression, MetricName: "rmse", History: hist, Quantizable: []string{"user_emb", "item_emb"}, Test: res.Split}
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
