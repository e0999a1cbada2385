package adxl345

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"periph.io/x/conn/v3/i2c"
)

// CheckResult is what Check measured.
type CheckResult struct {
	Samples   int        // readings taken
	Mean      [3]float64 // mean x, y, z in g
	Magnitude float64    // length of Mean in g
}

// Check is the hardware check of a real ADXL345, for a board test or the
// pipeline command to run (unit tests replay the bus instead): it opens the
// device on bus with opts (its Unit is ignored: Check works in g), takes n
// readings (10 when n <= 0) one output-data period apart, closes the device
// and checks that the mean acceleration of a sensor at rest, gravity, is
// 1 g within ±0.25 g. It returns an error naming what failed: no device, a
// wrong DEVID, a failed read, or an implausible magnitude (the sensor moving,
// or broken).
func Check(ctx context.Context, bus i2c.Bus, opts Options, n int) (CheckResult, error) {
	var res CheckResult
	if n <= 0 {
		n = 10
	}
	opts.Unit = "g"
	cfg, err := opts.validate()
	if err != nil {
		return res, err
	}
	d, err := Open(bus, opts)
	if err != nil {
		return res, err
	}
	period := time.Second / 100
	for _, r := range rateCodes {
		if r.code == cfg.bwRate {
			period = time.Duration(float64(time.Second) / r.hz)
		}
	}
	t := time.NewTicker(period)
	defer t.Stop()
	var sum [3]float64
	for i := 0; i < n; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return res, errors.Join(ctx.Err(), d.Close())
			case <-t.C:
			}
		}
		r, err := d.Read(ctx)
		if err != nil {
			return res, errors.Join(err, d.Close())
		}
		for j := range sum {
			sum[j] += r.Values[j]
		}
		res.Samples++
	}
	if err := d.Close(); err != nil {
		return res, err
	}
	for j := range sum {
		res.Mean[j] = sum[j] / float64(n)
	}
	res.Magnitude = math.Sqrt(res.Mean[0]*res.Mean[0] + res.Mean[1]*res.Mean[1] + res.Mean[2]*res.Mean[2])
	if math.Abs(res.Magnitude-1) > 0.25 {
		return res, fmt.Errorf("adxl345: mean acceleration at rest is %.3f g (x %.3f, y %.3f, z %.3f), want 1 g ± 0.25: is the sensor moving, or broken?", res.Magnitude, res.Mean[0], res.Mean[1], res.Mean[2])
	}
	return res, nil
}
