package main

import "github.com/edgerun/edgerun/tools/train/textcls"

func init() {
	recipes["text"] = recipe{fit: textcls.Fit, eval: textcls.EvalSet, metaTasks: []string{textcls.Task}}
}
