package tracing

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/tools/train"
)

// columns are o's column choices over the defaults; explicit is true for
// each optional column the user named (it must then be in the file).
func columns(o train.FitOptions) (c Columns, order, split bool) {
	c = DefaultColumns
	set := func(dst *string, v string) bool {
		if v != "" {
			*dst = v
			return true
		}
		return false
	}
	set(&c.Student, o.StudentCol)
	set(&c.Skill, o.SkillCol)
	set(&c.Correct, o.CorrectCol)
	order = set(&c.Order, o.OrderCol)
	split = set(&c.Split, o.SplitCol)
	return c, order, split
}

// readSplit reads the answer log of o and marks the test students: the
// split column's, or those of o.Test (a second log), or a seeded 20 % of
// the students.
func readSplit(o train.FitOptions) (*Data, error) {
	cols, order, split := columns(o)
	d, err := Read(o.Data, cols)
	if err != nil {
		return nil, err
	}
	if order && !d.HasOrder {
		return nil, fmt.Errorf("%s: no column %q (--order-col)", o.Data, cols.Order)
	}
	if split && !d.HasSplit {
		return nil, fmt.Errorf("%s: no column %q (--split-col)", o.Data, cols.Split)
	}
	switch {
	case o.Test != "":
		t, err := Read(o.Test, cols)
		if err != nil {
			return nil, err
		}
		for i := range d.Seqs {
			d.Seqs[i].Test = false
		}
		for i := range t.Seqs {
			t.Seqs[i].Test = true
		}
		d.Seqs = append(d.Seqs, t.Seqs...)
		d.Skills = max(d.Skills, t.Skills)
		d.Rows += t.Rows
		o.Log("test split: the %d students of %s", len(t.Seqs), o.Test)
	case d.HasSplit:
		n := 0
		for i := range d.Seqs {
			if d.Seqs[i].Test {
				n++
			}
		}
		o.Log("test split: the %d students whose rows say %s=test", n, cols.Split)
	default:
		rng := rand.New(rand.NewPCG(o.Seed, 0x7e57))
		n := len(d.Seqs) / 5
		for _, i := range rng.Perm(len(d.Seqs))[:n] {
			d.Seqs[i].Test = true
		}
		o.Log("test split: a seeded 20 %% of the students (%d)", n)
	}
	return d, nil
}

// Fit is `edgetrain fit --task tracing`: it reads the answer log, trains
// DKT on the training students (10 % of them held out for validation),
// and returns it with the per-skill mean and BKT baselines scored on the
// same test students. Score and ScoreVal run the exported model through
// the device engine.
func Fit(o train.FitOptions) (*train.Trained, error) {
	d, err := readSplit(o)
	if err != nil {
		return nil, err
	}
	var trs, tes int
	var trainSeqs []*Sequence
	for i := range d.Seqs {
		if d.Seqs[i].Test {
			tes++
		} else {
			trs++
			trainSeqs = append(trainSeqs, &d.Seqs[i])
		}
	}
	if trs == 0 || tes == 0 {
		return nil, fmt.Errorf("tracing: %d training and %d test students; both must be at least 1", trs, tes)
	}
	cfg := DefaultConfig()
	if cfg.Epochs, err = o.EpochsOr(cfg.Epochs); err != nil {
		return nil, err
	}
	cfg.Seed, cfg.OnEpoch, cfg.OnBatch = o.Seed, o.OnEpoch, o.OnBatch
	o.Log("%d answers of %d students on %d skills; training on %d students (%d held out for validation), testing on %d",
		d.Rows, len(d.Seqs), d.Skills, trs-valCount(trs, cfg.ValShare), valCount(trs, cfg.ValShare), tes)
	m, err := FitDKT(d.Skills, trainSeqs, cfg)
	if err != nil {
		return nil, err
	}
	isTest := func(s *Sequence) bool { return s.Test }
	isTrain := func(s *Sequence) bool { return !s.Test }
	val := map[*Sequence]bool{}
	for _, s := range m.Val {
		val[s] = true
	}
	isVal := func(s *Sequence) bool { return val[s] }
	base := map[string]train.Metrics{
		"skill_mean": FitSkillMean(d, isTrain).Predict(d, isTest).Score(),
	}
	if b := FitBKT(d, isTrain); b != nil {
		base["bkt"] = b.Predict(d, isTest).Score()
	}
	score := func(sel func(*Sequence) bool) func(*format.Model, ...engine.Option) (train.Metrics, error) {
		return func(fm *format.Model, opts ...engine.Option) (train.Metrics, error) {
			p, err := PredictEngine(fm, d, sel, opts...)
			if err != nil {
				return nil, err
			}
			if len(p.P) == 0 {
				return nil, errors.New("tracing: no answer to score (every student has fewer than two)")
			}
			return p.Score(), nil
		}
	}
	test := score(isTest)
	return &train.Trained{
		Kind: train.Binary, MetricName: "roc_auc", History: m.History,
		Export: m.Export, Quantizable: m.Quantizable(),
		Evaluate: func(fm *format.Model, opts ...engine.Option) (train.Metrics, *train.Report, error) {
			met, err := test(fm, opts...)
			return met, nil, err
		},
		EvaluateVal: score(isVal),
		Baselines:   base,
	}, nil
}

func valCount(n int, share float64) int { return int(share*float64(n) + 0.5) }

// EvalSet is not used by tracing (it scores with Score); it reports that
// a model's answer log must be scored as a whole.
func EvalSet(fm *format.Model, csv string, o train.FitOptions) (*train.EvalSet, train.Kind, error) {
	return nil, "", errors.New("tracing: evaluate with the recipe's score")
}

// Score is `edgetrain eval` of a tracing model on an answer log: the test
// students (the split column's) when the log has one, else every student,
// each run from the zero state through the engine.
func Score(fm *format.Model, csv string, o train.FitOptions, opts ...engine.Option) (train.Metrics, *train.Report, train.Kind, error) {
	cols, _, _ := columns(o)
	d, err := Read(csv, cols)
	if err != nil {
		return nil, nil, "", err
	}
	sel := func(s *Sequence) bool { return !d.HasSplit || s.Test }
	p, err := PredictEngine(fm, d, sel, opts...)
	if err != nil {
		return nil, nil, "", err
	}
	if len(p.P) == 0 {
		return nil, nil, "", errors.New("tracing: no answer to score (every student has fewer than two)")
	}
	return p.Score(), nil, train.Binary, nil
}
