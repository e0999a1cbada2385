package sensor_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/edgerun/edgerun/tools/train"
	"github.com/edgerun/edgerun/tools/train/sensor"
)

// Train the sensor classifier on synthetic vibration/current windows and
// measure the exported int8 model through the device engine.
func Example() {
	dir, _ := os.MkdirTemp("", "sensor")
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "windows.csv")
	if err := sensor.Synthetic(data, 300, 1); err != nil {
		panic(err)
	}
	res, err := sensor.Fit(train.FitOptions{Data: data, Epochs: 5, Seed: 1})
	if err != nil {
		panic(err)
	}
	fm, err := res.Export(true, nil)
	if err != nil {
		panic(err)
	}
	met, _, err := train.EvalEngine(fm, res.Kind, res.Test)
	if err != nil {
		panic(err)
	}
	fmt.Println(fm.Metadata.Task, res.Labels)
	fmt.Println("input", fm.Graph.Inputs[0].Shape)
	fmt.Println("int8 accuracy above 0.8:", met["accuracy"] > 0.8)
	// Output:
	// sensor-classification [bearing_fault healthy imbalance]
	// input [-1 128 3]
	// int8 accuracy above 0.8: true
}
