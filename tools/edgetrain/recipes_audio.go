package main

import "github.com/edgerun/edgerun/tools/train/kws"

func init() {
	recipes["audio"] = recipe{fit: kws.Fit, eval: kws.EvalSet, score: kws.Score, metaTasks: []string{kws.Task}}
}
