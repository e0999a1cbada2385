package main

import (
	"fmt"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
	"github.com/edgerun/edgerun/tools/train"
)

// evalCmd is `edgetrain eval`.
type evalCmd struct {
	Model     string `arg:"" placeholder:"MODEL.erm" help:"Model file written by edgetrain fit."`
	Data      string `name:"data" required:"" placeholder:"TEST.csv" help:"CSV to evaluate on (same columns as the training data)."`
	TestRows  string `name:"test-rows" placeholder:"FILE" help:"Evaluate only these 0-based data rows of --data (e.g. the test_rows.txt of a bundled dataset)."`
	Target    string `name:"target" placeholder:"COL" help:"Target column, when it differs from the model's."`
	TextCol   string `name:"text-col" placeholder:"COL" help:"Text column, when it differs from the model's."`
	LabelCol  string `name:"label-col" placeholder:"COL" help:"Label column, when it differs from the model's."`
	UserCol   string `name:"user-col" placeholder:"COL" help:"User column (recommender)."`
	ItemCol   string `name:"item-col" placeholder:"COL" help:"Item column (recommender)."`
	RatingCol string `name:"rating-col" placeholder:"COL" help:"Rating column (recommender)."`
	JSON      bool   `name:"json" help:"Print one JSON object."`
}

// evalReport is eval's JSON. Field names are part of the CLI's contract.
type evalReport struct {
	Model    string             `json:"model"`
	Task     string             `json:"task"`
	Kind     string             `json:"kind"`
	Weights  string             `json:"weights"`
	Rows     int                `json:"rows"`
	F32      map[string]float64 `json:"f32"`
	Int8     map[string]float64 `json:"int8,omitempty"`
	Exported []format.Metric    `json:"exported_metrics,omitempty"`
	Report   *train.Report      `json:"report,omitempty"`
}

// Run rebuilds the inputs of --data from the model's metadata and runs
// them through the device engine: the weights as shipped (int8 when the
// file has them) and their dequantized f32 form side by side.
func (c *evalCmd) Run(env *cliutil.Env) error {
	fm, err := format.ReadFile(c.Model)
	if err != nil {
		return cliutil.OpError("eval", c.Model, err)
	}
	name, r, ok := recipeFor(fm.Metadata.Task)
	if !ok {
		return fmt.Errorf("eval: %s: model task %q is not one edgetrain trains", c.Model, fm.Metadata.Task)
	}
	o := train.FitOptions{Data: c.Data, TestRows: c.TestRows, Target: c.Target, TextCol: c.TextCol, LabelCol: c.LabelCol,
		UserCol: c.UserCol, ItemCol: c.ItemCol, RatingCol: c.RatingCol}
	hasInt8 := false
	for i := range fm.Tensors {
		if fm.Tensors[i].DType == format.I8 {
			hasInt8 = true
		}
	}
	// score runs the CSV through the engine with the session options.
	var score func(opts ...engine.Option) (train.Metrics, *train.Report, train.Kind, int, error)
	if r.score != nil {
		score = func(opts ...engine.Option) (train.Metrics, *train.Report, train.Kind, int, error) {
			m, rp, kind, err := r.score(fm, c.Data, o, opts...)
			return m, rp, kind, 0, err
		}
	} else {
		set, kind, err := r.eval(fm, c.Data, o)
		if err != nil {
			return fmt.Errorf("eval: %s: %w", c.Data, err)
		}
		score = func(opts ...engine.Option) (train.Metrics, *train.Report, train.Kind, int, error) {
			m, rp, err := train.EvalEngine(fm, kind, set, opts...)
			return m, rp, kind, len(set.Y), err
		}
	}
	f32, f32rep, kind, rows, err := score(engine.WithF32())
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	rep := evalReport{Model: c.Model, Task: name, Kind: string(kind), Weights: "f32", Rows: rows, Exported: fm.Metadata.Metrics}
	rep.F32, rep.Report = f32, f32rep
	var q train.Metrics
	if hasInt8 {
		rep.Weights = "int8"
		if q, rep.Report, _, _, err = score(); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		rep.Int8 = q
	}
	if c.JSON {
		return cliutil.WriteJSON(env.Stdout, rep)
	}
	fmt.Fprintf(env.Stdout, "%s: %s model (%s weights), %s\n", c.Model, name, rep.Weights, c.Data)
	printReport(env.Stdout, kind, fm.Metadata.Labels, f32, q, rep.Report)
	return nil
}
