package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/mat"
)

// Config is a training run.
type Config struct {
	Epochs    int
	BatchSize int
	Seed      uint64 // shuffling (layers are initialised by their constructors' rng)
	LR        Schedule
	// Patience > 0 stops when the validation loss has not improved for
	// that many epochs and restores the best epoch's weights.
	Patience int
	// ClipNorm > 0 clips the gradients' global norm (recurrent layers).
	ClipNorm float64
	// Metric scores outputs against targets (e.g. Accuracy); MetricName
	// names it in EpochStats and logs.
	Metric     func(out *mat.Dense, y []float64) float64
	MetricName string
	// OnEpoch is called after every epoch; OnBatch after every batch with
	// the batches done and the epoch's total.
	OnEpoch func(EpochStats)
	OnBatch func(done, total int)
}

// EpochStats is one epoch's figures.
type EpochStats struct {
	Epoch, Epochs      int // 1-based
	LR                 float64
	Loss, Metric       float64
	ValLoss, ValMetric float64
	HasVal             bool
	Duration           time.Duration
	Best               bool   // the best validation loss so far
	MetricName         string // Config.MetricName
}

// String is the Keras-style line: "Epoch 3/30  loss 0.412  acc 0.861  val_loss 0.455  val_acc 0.842  4.1s".
// metric names the metric ("" uses s.MetricName; none when both are empty).
func (s EpochStats) String(metric string) string {
	if metric == "" {
		metric = s.MetricName
	}
	out := fmt.Sprintf("Epoch %d/%d  loss %.4f", s.Epoch, s.Epochs, s.Loss)
	if metric != "" {
		out += fmt.Sprintf("  %s %.4f", metric, s.Metric)
	}
	if s.HasVal {
		out += fmt.Sprintf("  val_loss %.4f", s.ValLoss)
		if metric != "" {
			out += fmt.Sprintf("  val_%s %.4f", metric, s.ValMetric)
		}
	}
	return out + fmt.Sprintf("  %.1fs", s.Duration.Seconds())
}

// Fit trains m on train with mini-batches in a seeded order and returns
// the per-epoch statistics. val may be nil.
func Fit(m Model, loss Loss, opt Optimizer, train, val Dataset, cfg Config) ([]EpochStats, error) {
	if cfg.Epochs <= 0 || cfg.BatchSize <= 0 {
		return nil, fmt.Errorf("train: epochs and batch size must be positive (got %d, %d)", cfg.Epochs, cfg.BatchSize)
	}
	n := train.Len()
	if n == 0 {
		return nil, fmt.Errorf("train: no training examples")
	}
	if cfg.LR == nil {
		cfg.LR = Constant(1e-3)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7ea1))
	ps := m.Params()
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	var hist []EpochStats
	best, since := math.Inf(1), 0
	var bestW [][]float64
	nb := (n + cfg.BatchSize - 1) / cfg.BatchSize
	for e := 0; e < cfg.Epochs; e++ {
		start := time.Now()
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
		lr := cfg.LR(e, cfg.Epochs)
		var lsum, msum float64
		for bi := 0; bi < nb; bi++ {
			idx := order[bi*cfg.BatchSize : min((bi+1)*cfg.BatchSize, n)]
			b, y := train.Batch(idx)
			zeroGrads(ps)
			out := m.Forward(b, true)
			l, g := loss.Eval(out, y, true)
			if math.IsNaN(l) || math.IsInf(l, 0) {
				return hist, fmt.Errorf("train: epoch %d batch %d: loss is %v (learning rate %g too high?)", e+1, bi+1, l, lr)
			}
			m.Backward(g)
			if cfg.ClipNorm > 0 {
				ClipGlobalNorm(ps, cfg.ClipNorm)
			}
			opt.Step(ps, lr)
			w := float64(len(idx))
			lsum += l * w
			if cfg.Metric != nil {
				msum += cfg.Metric(out, y) * w
			}
			if cfg.OnBatch != nil {
				cfg.OnBatch(bi+1, nb)
			}
		}
		st := EpochStats{Epoch: e + 1, Epochs: cfg.Epochs, LR: lr, Loss: lsum / float64(n), Metric: msum / float64(n), MetricName: cfg.MetricName}
		if val != nil && val.Len() > 0 {
			st.HasVal = true
			st.ValLoss, st.ValMetric = Evaluate(m, loss, cfg.Metric, val, 256)
			if !finite(st.ValLoss) {
				return hist, fmt.Errorf("train: epoch %d: validation loss is %v: %w", e+1, st.ValLoss, ErrNonFinite)
			}
			if st.ValLoss < best {
				best, since, st.Best = st.ValLoss, 0, true
				if cfg.Patience > 0 {
					bestW = snapshot(ps, bestW)
				}
			} else {
				since++
			}
		}
		st.Duration = time.Since(start)
		hist = append(hist, st)
		if cfg.OnEpoch != nil {
			cfg.OnEpoch(st)
		}
		if cfg.Patience > 0 && st.HasVal && since >= cfg.Patience {
			break
		}
	}
	if bestW != nil {
		for i, p := range ps {
			copy(p.W, bestW[i])
		}
	}
	return hist, nil
}

func snapshot(ps []*Param, dst [][]float64) [][]float64 {
	if dst == nil {
		dst = make([][]float64, len(ps))
	}
	for i, p := range ps {
		dst[i] = append(dst[i][:0], p.W...)
	}
	return dst
}

// Evaluate returns the mean loss and metric of m over d (inference mode).
func Evaluate(m Model, loss Loss, metric func(*mat.Dense, []float64) float64, d Dataset, batch int) (float64, float64) {
	n := d.Len()
	var ls, ms float64
	for lo := 0; lo < n; lo += batch {
		idx := seq(lo, min(lo+batch, n))
		b, y := d.Batch(idx)
		out := m.Forward(b, false)
		l, _ := loss.Eval(out, y, false)
		ls += l * float64(len(idx))
		if metric != nil {
			ms += metric(out, y) * float64(len(idx))
		}
	}
	return ls / float64(n), ms / float64(n)
}

// Predict returns m's outputs over d, row by row.
func Predict(m Model, d Dataset, batch int) *mat.Dense {
	n := d.Len()
	var out *mat.Dense
	for lo := 0; lo < n; lo += batch {
		b, _ := d.Batch(seq(lo, min(lo+batch, n)))
		o := m.Forward(b, false)
		if out == nil {
			_, c := o.Dims()
			out = mat64(n, c)
		}
		r, _ := o.Dims()
		out.Slice(lo, lo+r, 0, out.RawMatrix().Cols).(*mat.Dense).Copy(o)
	}
	return out
}

func seq(lo, hi int) []int {
	s := make([]int, hi-lo)
	for i := range s {
		s[i] = lo + i
	}
	return s
}

// Accuracy is the share of rows whose largest output is the target class
// (one output column: a logit, positive when > 0).
func Accuracy(out *mat.Dense, y []float64) float64 {
	r, c := out.Dims()
	o := out.RawMatrix().Data
	var ok int
	for i := 0; i < r; i++ {
		row := o[i*c : (i+1)*c]
		var k int
		if c == 1 {
			if row[0] > 0 {
				k = 1
			}
		} else {
			for j, v := range row {
				if v > row[k] {
					k = j
				}
			}
		}
		if k == int(y[i]) {
			ok++
		}
	}
	return float64(ok) / float64(max(r, 1))
}
