package main

import "github.com/edgerun/edgerun/tools/train/sensor"

func init() {
	recipes["sensor"] = recipe{fit: sensor.Fit, eval: sensor.EvalSet, metaTasks: []string{sensor.Task}}
}
