package main

import (
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/edgerun/edgerun/tools/train"
)

// plotHistory writes the loss curves (train, validation) and the metric
// curves per epoch as two stacked panels of one PNG.
func plotHistory(path string, h []train.EpochStats, metric string) error {
	loss, mplot := plot.New(), plot.New()
	loss.Title.Text = "loss"
	loss.Legend.Top = true
	loss.X.Label.Text = "epoch"
	name := "metric"
	if len(h) > 0 && h[0].MetricName != "" {
		name = h[0].MetricName
	}
	mplot.Title.Text = name
	mplot.X.Label.Text = "epoch"
	pts := func(f func(train.EpochStats) float64) plotter.XYs {
		xy := make(plotter.XYs, len(h))
		for i, s := range h {
			xy[i].X, xy[i].Y = float64(s.Epoch), f(s)
		}
		return xy
	}
	hasVal := len(h) > 0 && h[0].HasVal
	lossArgs := []any{"train", pts(func(s train.EpochStats) float64 { return s.Loss })}
	metArgs := []any{"train", pts(func(s train.EpochStats) float64 { return s.Metric })}
	if hasVal {
		lossArgs = append(lossArgs, "validation", pts(func(s train.EpochStats) float64 { return s.ValLoss }))
		metArgs = append(metArgs, "validation", pts(func(s train.EpochStats) float64 { return s.ValMetric }))
	}
	if err := plotutil.AddLinePoints(loss, lossArgs...); err != nil {
		return err
	}
	if err := plotutil.AddLinePoints(mplot, metArgs...); err != nil {
		return err
	}
	const w, ht = 16 * vg.Centimeter, 20 * vg.Centimeter
	img := vgimg.New(w, ht)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadX: vg.Millimeter * 2, PadY: vg.Millimeter * 4}
	loss.Draw(tiles.At(dc, 0, 0))
	mplot.Draw(tiles.At(dc, 0, 1))
	return savePNG(img, path)
}
