package main

import (
	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/tools/train"
	"github.com/edgerun/edgerun/tools/train/recsys"
	"github.com/edgerun/edgerun/tools/train/tabular"
)

func init() {
	recipes["tabular"] = recipe{fit: tabular.Fit, eval: tabular.EvalSet,
		metaTasks: []string{tabular.TaskClassification, tabular.TaskRegression}}
	recipes["image"] = recipe{fit: tabular.FitImage, eval: tabular.EvalSet, metaTasks: []string{tabular.TaskImage}}
	recipes["recommender"] = recipe{fit: recsysFit(recsys.FitWith, recsys.Implicit), eval: recsys.EvalSet, score: recsysScore,
		metaTasks: []string{"recommendation"}}
	recipes["ratings"] = recipe{fit: recsysFit(recsys.FitRatingsWith, recsys.Rating), eval: recsys.EvalSet, score: recsysScore,
		metaTasks: []string{"rating-regression"}}
}

// recsysFit trains a recommender and scores its exports on both of its
// test sets: the leave-one-out ranking (hit rate@10) and the 80/20 split
// of ratings (ROC AUC of rating ≥ 4, RMSE for the rating model).
func recsysFit(fit func(train.FitOptions, recsys.Config) (*recsys.Result, error), cfg recsys.Config) func(train.FitOptions) (*train.Trained, error) {
	return func(o train.FitOptions) (*train.Trained, error) {
		res, err := fit(o, cfg)
		if err != nil {
			return nil, err
		}
		tr := res.Trained
		tr.Evaluate = func(fm *format.Model, opts ...engine.Option) (train.Metrics, *train.Report, error) {
			m, err := recsys.Evaluate(fm, tr.Kind, res.LOO, res.Split, opts...)
			return m, nil, err
		}
		return tr, nil
	}
}

// recsysScore evaluates a saved recommender on a ratings CSV.
func recsysScore(fm *format.Model, csv string, o train.FitOptions, opts ...engine.Option) (train.Metrics, *train.Report, train.Kind, error) {
	loo, split, kind, err := recsys.EvalSets(fm, csv, o)
	if err != nil {
		return nil, nil, "", err
	}
	m, err := recsys.Evaluate(fm, kind, loo, split, opts...)
	return m, nil, kind, err
}
