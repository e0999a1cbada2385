package sensor

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"

	"github.com/edgerun/edgerun/format/atomicfile"
)

// Synthetic data: no predictive-maintenance dataset is bundled, so the
// tests and the example train on generated windows. They are SYNTHETIC:
// simple physical caricatures of a motor-driven machine, not measurements.
//
// A window is SyntheticSteps samples at SyntheticRate Hz of three
// channels: vib_x and vib_y (two accelerometer axes) and current (one
// motor phase current). Each window draws a shaft speed fr of 20–35 Hz, a
// load of 0.5–1, sensor gains of 0.8–1.2 and white noise (σ 0.2–0.5 on
// vibration, 0.05 on current). The classes:
//
//   - healthy: vibration at 1× shaft speed (amplitude 0.3–1.1) plus a
//     weaker 2× harmonic; the current a 50 Hz sine of the load's
//     amplitude with a small 3rd harmonic.
//   - bearing_fault: healthy, plus an outer-race defect: impulses every
//     1/(3.0–3.6 · fr) s, each a 180–260 Hz resonance decaying in about
//     4 ms (amplitude 0.5–1.8, weaker on vib_y).
//   - imbalance: a strong 1× component (amplitude 1.0–2.0), vib_y in
//     quadrature with vib_x, and the current amplitude-modulated at fr by
//     5–15 %.
//
// The classes are drawn healthy 40 %, bearing_fault 30 %, imbalance 30 %.

// SyntheticRate and SyntheticSteps are the generator's sample rate and
// default window length.
const (
	SyntheticRate  = 1000
	SyntheticSteps = 128
)

// SyntheticChannels and SyntheticLabels name the generated channels and
// classes.
var (
	SyntheticChannels = []string{"vib_x", "vib_y", "current"}
	SyntheticLabels   = []string{"healthy", "bearing_fault", "imbalance"}
)

// Synthetic writes n synthetic windows of SyntheticSteps samples to a CSV
// file at path (see WriteSynthetic), atomically (format/atomicfile): a
// failed or killed run leaves the old file, never a truncated one. The
// same n and seed give the same file.
func Synthetic(path string, n int, seed uint64) error {
	return atomicfile.Write(path, 0o644, func(f *os.File) error {
		return WriteSynthetic(f, n, SyntheticSteps, seed)
	})
}

// WriteSynthetic writes n synthetic windows of steps samples as CSV: a
// header vib_x_t0 … vib_x_t{steps−1}, vib_y_t0 …, current_t0 …, label,
// then one row per window (values with 4 decimals).
func WriteSynthetic(w io.Writer, n, steps int, seed uint64) error {
	if n < 0 || steps < 1 {
		return fmt.Errorf("sensor: synthetic: %d windows of %d steps", n, steps)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5e9503))
	bw := bufio.NewWriter(w)
	for _, ch := range SyntheticChannels {
		for t := 0; t < steps; t++ {
			bw.WriteString(ch + "_t" + strconv.Itoa(t) + ",")
		}
	}
	bw.WriteString("label\n")
	x := make([][]float64, len(SyntheticChannels))
	for i := range x {
		x[i] = make([]float64, steps)
	}
	buf := make([]byte, 0, 32)
	for i := 0; i < n; i++ {
		class := 0
		switch u := rng.Float64(); {
		case u >= 0.7:
			class = 2
		case u >= 0.4:
			class = 1
		}
		synthWindow(rng, class, x)
		for _, ch := range x {
			for _, v := range ch {
				buf = strconv.AppendFloat(buf[:0], v, 'f', 4, 64)
				bw.Write(buf)
				bw.WriteByte(',')
			}
		}
		bw.WriteString(SyntheticLabels[class] + "\n")
	}
	return bw.Flush()
}

// synthWindow fills x (vib_x, vib_y, current) with one window of class.
func synthWindow(rng *rand.Rand, class int, x [][]float64) {
	u := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	steps := len(x[0])
	dt := 1.0 / SyntheticRate
	fr := u(20, 35)
	load := u(0.5, 1)
	gx, gy, gc := u(0.8, 1.2), u(0.8, 1.2), u(0.95, 1.05)
	noise := u(0.2, 0.5)
	ph, ph2, phc := u(0, 2*math.Pi), u(0, 2*math.Pi), u(0, 2*math.Pi)
	a1 := u(0.3, 1.1)
	a2 := u(0.1, 0.3) * a1
	yPhase := u(-0.6, 0.6) // healthy: x and y roughly in phase, loosely
	mod := 0.0
	if class == 2 {
		a1 = u(1.0, 2.0)
		a2 = u(0.05, 0.15) * a1
		yPhase = math.Pi / 2 // quadrature: a rotating force
		mod = u(0.05, 0.15)
	}
	// Bearing defect impulses.
	var period, fres, amp, t0 float64
	if class == 1 {
		period = 1 / (u(3.0, 3.6) * fr)
		fres = u(180, 260)
		amp = u(0.5, 1.8)
		t0 = u(0, period)
	}
	const tau = 0.004
	for s := 0; s < steps; s++ {
		t := float64(s) * dt
		w := 2 * math.Pi * fr * t
		vx := a1*math.Sin(w+ph) + a2*math.Sin(2*w+ph2)
		vy := a1*math.Sin(w+ph+yPhase) + a2*math.Sin(2*w+ph2+yPhase)
		if class == 1 {
			// The impulses so far, each ringing down.
			for ti := t0 - 5*period; ti <= t; ti += period {
				if d := t - ti; d >= 0 && d < 8*tau {
					r := amp * math.Exp(-d/tau) * math.Sin(2*math.Pi*fres*d)
					vx += r
					vy += 0.6 * r
				}
			}
		}
		c := load * (1 + mod*math.Sin(w)) * (math.Sin(2*math.Pi*50*t+phc) + 0.05*math.Sin(3*(2*math.Pi*50*t+phc)))
		x[0][s] = gx*vx + noise*rng.NormFloat64()
		x[1][s] = gy*vy + noise*rng.NormFloat64()
		x[2][s] = gc*c + 0.05*rng.NormFloat64()
	}
}

// WriteSyntheticStream writes a SYNTHETIC recording of one machine as
// CSV: a header time,vib_x,vib_y,current, then one row per sample at
// SyntheticRate Hz for seconds (time in seconds, values with 4
// decimals). The machine (shaft speed, load, sensor gains, noise) is
// drawn once from seed and runs healthy until faultAt seconds, then with
// fault ("bearing_fault" or "imbalance", as the windows of WriteSynthetic
// draw them) to the end: a recording with a fault partway through, for
// pipelines to be run on without hardware. The same arguments give the
// same file.
func WriteSyntheticStream(w io.Writer, seconds, faultAt float64, fault string, seed uint64) error {
	class := -1
	for i, l := range SyntheticLabels {
		if l == fault && i > 0 {
			class = i
		}
	}
	switch {
	case class < 0:
		return fmt.Errorf("sensor: synthetic stream: fault %q is not one of %q", fault, SyntheticLabels[1:])
	case !(seconds > 0) || seconds > 3600:
		return fmt.Errorf("sensor: synthetic stream: %v seconds (want more than 0, at most 3600)", seconds)
	case !(faultAt >= 0):
		return fmt.Errorf("sensor: synthetic stream: fault at %v s", faultAt)
	}
	rng := rand.New(rand.NewPCG(seed, 0x57e4a))
	u := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	fr, load := u(20, 35), u(0.5, 1)
	gx, gy, gc := u(0.8, 1.2), u(0.8, 1.2), u(0.95, 1.05)
	noise := u(0.2, 0.4)
	ph, ph2, phc := u(0, 2*math.Pi), u(0, 2*math.Pi), u(0, 2*math.Pi)
	a1 := u(0.4, 0.9)
	a2 := u(0.1, 0.3) * a1
	yPhase := u(-0.6, 0.6)
	// The fault's parameters, drawn now so that the healthy part does not
	// depend on which fault follows.
	period := 1 / (u(3.0, 3.6) * fr)
	fres, amp := u(180, 260), u(0.8, 1.8)
	ia1, mod := u(1.2, 2.0), u(0.05, 0.15)
	const tau = 0.004
	bw := bufio.NewWriter(w)
	bw.WriteString("time,vib_x,vib_y,current\n")
	buf := make([]byte, 0, 64)
	n := int(math.Round(seconds * SyntheticRate))
	for s := range n {
		t := float64(s) / SyntheticRate
		w := 2 * math.Pi * fr * t
		b1, b2, yp, m := a1, a2, yPhase, 0.0
		faulty := t >= faultAt
		if faulty && class == 2 {
			b1, b2, yp, m = ia1, 0.1*ia1, math.Pi/2, mod
		}
		vx := b1*math.Sin(w+ph) + b2*math.Sin(2*w+ph2)
		vy := b1*math.Sin(w+ph+yp) + b2*math.Sin(2*w+ph2+yp)
		if faulty && class == 1 {
			// Impulses since the fault began, each ringing down.
			first := faultAt + math.Ceil(math.Max(0, t-8*tau-faultAt)/period)*period
			for ti := first; ti <= t; ti += period {
				d := t - ti
				r := amp * math.Exp(-d/tau) * math.Sin(2*math.Pi*fres*d)
				vx += r
				vy += 0.6 * r
			}
		}
		c := load * (1 + m*math.Sin(w)) * (math.Sin(2*math.Pi*50*t+phc) + 0.05*math.Sin(3*(2*math.Pi*50*t+phc)))
		buf = strconv.AppendFloat(buf[:0], t, 'f', 3, 64)
		for _, v := range []float64{gx*vx + noise*rng.NormFloat64(), gy*vy + noise*rng.NormFloat64(), gc*c + 0.05*rng.NormFloat64()} {
			buf = append(buf, ',')
			buf = strconv.AppendFloat(buf, v, 'f', 4, 64)
		}
		buf = append(buf, '\n')
		bw.Write(buf)
	}
	return bw.Flush()
}
