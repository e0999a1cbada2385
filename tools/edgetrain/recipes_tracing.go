package main

import "github.com/edgerun/edgerun/tools/train/tracing"

func init() {
	recipes["tracing"] = recipe{fit: tracing.Fit, eval: tracing.EvalSet, score: tracing.Score, metaTasks: []string{tracing.Task}}
}
