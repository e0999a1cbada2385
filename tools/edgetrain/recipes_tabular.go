package main

import (
	"github.com/edgerun/edgerun/tools/train/recsys"
	"github.com/edgerun/edgerun/tools/train/tabular"
)

func init() {
	recipes["tabular"] = recipe{fit: tabular.Fit, eval: tabular.EvalSet,
		metaTasks: []string{tabular.TaskClassification, tabular.TaskRegression}}
	recipes["image"] = recipe{fit: tabular.FitImage, eval: tabular.EvalSet, metaTasks: []string{tabular.TaskImage}}
	recipes["recommender"] = recipe{fit: recsys.Fit, eval: recsys.EvalSet, metaTasks: []string{"recommendation"}}
	recipes["ratings"] = recipe{fit: recsys.FitRatings, eval: recsys.EvalSet, metaTasks: []string{"rating-regression"}}
}
