package main

import (
	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/tools/train"
)

// recipe is one --task: how to train it and how to rebuild engine inputs
// for a CSV from a saved model of it.
type recipe struct {
	fit  func(train.FitOptions) (*train.Trained, error)
	eval func(fm *format.Model, csv string, o train.FitOptions) (*train.EvalSet, train.Kind, error)
	// metaTasks are the format.Metadata.Task values its models carry.
	metaTasks []string
	// score, when set, evaluates a saved model on a CSV in place of eval
	// + EvalEngine (recipes with several test sets).
	score func(fm *format.Model, csv string, o train.FitOptions, opts ...engine.Option) (train.Metrics, *train.Report, train.Kind, error)
}

// recipes by --task name; the recipe files register themselves.
var recipes = map[string]recipe{}

// recipeFor finds the recipe that wrote a model.
func recipeFor(task string) (string, recipe, bool) {
	for name, r := range recipes {
		for _, t := range r.metaTasks {
			if t == task {
				return name, r, true
			}
		}
	}
	return "", recipe{}, false
}
