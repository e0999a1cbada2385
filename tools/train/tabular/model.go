package tabular

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/tools/train"
)

// hyper are a run's hyperparameters.
type hyper struct {
	// Conv are the filters of the CNN's convolution blocks (each a 3×3
	// "same" Conv2D with ReLU and a 2×2 max pool); empty: an MLP.
	Conv        []int
	Hidden      []int
	Epochs      int
	Batch       int
	LR          float64
	WeightDecay float64 // AdamW; 0: Adam
	Patience    int     // epochs without a better validation score
}

// defaults: for images of 16×16 and more (side > 0) the CNN (cnnDefaults),
// for smaller ones the MLP 256-128 (the PyTorch baseline's shape); for
// tables an MLP 32-16 (a small net: the tables are small and noisy).
// Imbalanced binary data (positives under 25 %) train with a positive
// weight of negatives/positives, imbalanced classes (largest over
// smallest above 3) with balanced class weights.
func defaults(kind train.Kind, image bool, side, rows int) hyper {
	if image && side > 0 {
		return cnnDefaults(side, rows)
	}
	if image {
		return hyper{Hidden: []int{256, 128}, Epochs: 100, Batch: 32, LR: 1e-3, Patience: 15}
	}
	return hyper{Hidden: []int{32, 16}, Epochs: 200, Batch: 32, LR: 1e-3, WeightDecay: 1e-4, Patience: 20}
}

// cnnDefaults is the image CNN for side×side grayscale images: blocks of
// a 3×3 "same" Conv2D (ReLU) and a 2×2 max pool with 16, then 32, then
// 64 filters, as many as bring the side to 8 or less (two for 16×16 to
// 31×31: 28×28 → 14×14 → 7×7), then Flatten → Dense 128 (ReLU) → Dense.
// On 28×28 that is 207 k weights and 1.2 M multiply-adds an image
// forward: the small CNN of the Fashion-MNIST tutorials (32-64 filters,
// 0.90 to 0.92 test accuracy there) at half the width, which trains
// about 2.5 times faster (BenchmarkCNNImage: about 1 ms an image for
// forward, backward and Adam on the 2-core machine, a minute an epoch of
// 60 000 images). Adam at 1e-3 in batches of 64, early stopping on the
// validation loss after 5 epochs without progress, 30 epochs at most;
// under 10 000 training rows, whose epochs are short and validation loss
// noisy, 10 and 60.
func cnnDefaults(side, rows int) hyper {
	conv := []int{16, 32}
	for s := side / 4; s > 8 && len(conv) < 5; s /= 2 {
		conv = append(conv, 64)
	}
	h := hyper{Conv: conv, Hidden: []int{128}, Epochs: 30, Batch: 64, LR: 1e-3, Patience: 5}
	if rows < 10_000 {
		h.Epochs, h.Patience = 60, 10
	}
	return h
}

// run is one training run's state.
type run struct {
	o       train.FitOptions
	kind    train.Kind
	width   int
	classes int
	image   bool
	side    int // images: the side of a square image the CNN reads; 0: the MLP
	tr, val *train.Table
	ym, ys  float64 // regression target standardisation
	h       *hyper  // nil: defaults
}

func (r *run) outputs() int {
	if r.kind == train.Multiclass {
		return r.classes
	}
	return 1
}

func (r *run) loss() train.Loss {
	switch r.kind {
	case train.Binary:
		var pos float64
		for _, y := range r.tr.Y {
			pos += y
		}
		neg := float64(len(r.tr.Y)) - pos
		if pos > 0 && pos < 0.25*float64(len(r.tr.Y)) {
			pw := neg / pos
			r.o.Log("imbalanced: %.1f %% positives, positive weight %.2f", 100*pos/float64(len(r.tr.Y)), pw)
			return train.SigmoidBCE{PosWeight: pw}
		}
		return train.SigmoidBCE{}
	case train.Multiclass:
		n := make([]float64, r.classes)
		for _, y := range r.tr.Y {
			n[int(y)]++
		}
		lo, hi := math.Inf(1), 0.0
		for _, c := range n {
			lo, hi = min(lo, c), max(hi, c)
		}
		if lo > 0 && hi/lo > 3 {
			w := make([]float64, r.classes)
			for i, c := range n {
				w[i] = float64(len(r.tr.Y)) / (float64(r.classes) * c)
			}
			r.o.Log("imbalanced classes (%.0f to %.0f rows): balanced class weights", lo, hi)
			return train.SoftmaxCE{ClassWeights: w}
		}
		return train.SoftmaxCE{}
	}
	return train.MSE{}
}

// train fits the MLP with early stopping on the validation split: ROC AUC
// for binary tasks (ties: lower loss), the loss otherwise; the best
// epoch's weights are kept. The epochs' Metric and ValMetric are the
// accuracy (classifiers).
func (r *run) train() (*train.Sequential, []train.EpochStats, error) {
	h := defaults(r.kind, r.image, r.side, r.tr.Len())
	if r.h != nil {
		h = *r.h
	}
	var err error
	if h.Epochs, err = r.o.EpochsOr(h.Epochs); err != nil {
		return nil, nil, err
	}
	rng := rand.New(rand.NewPCG(r.o.Seed, 0x1a7e5))
	var layers []train.Layer
	in := r.width
	if len(h.Conv) > 0 {
		var desc string
		layers, in, desc = cnnLayers(rng, r.side, h.Conv)
		r.o.Log("image %d×%d: a CNN, %s → dense %v → %d outputs", r.side, r.side, desc, h.Hidden, r.outputs())
	}
	for _, n := range h.Hidden {
		layers = append(layers, train.NewDense(rng, in, n, train.ReLU))
		in = n
	}
	layers = append(layers, train.NewDense(rng, in, r.outputs(), train.Linear))
	m := train.NewSequential(layers...)
	predictBatch := 256
	if len(h.Conv) > 0 {
		predictBatch = h.Batch // the conv layers' buffers stay the training size
	}
	loss := r.loss()
	var opt train.Optimizer = train.NewAdam()
	if h.WeightDecay > 0 {
		opt = train.NewAdamW(h.WeightDecay)
	}
	cfg := train.Config{Epochs: 1, BatchSize: h.Batch, LR: train.Constant(h.LR), OnBatch: r.o.OnBatch}
	if r.kind != train.Regression {
		cfg.Metric, cfg.MetricName = train.Accuracy, "acc"
	}
	var hist []train.EpochStats
	bestAUC, bestLoss := math.Inf(-1), math.Inf(1)
	var best [][]float64
	since, bestEpoch := 0, 0
	for e := 0; e < h.Epochs; e++ {
		start := time.Now()
		cfg.Seed = r.o.Seed*1_000_003 + uint64(e)
		st, err := train.Fit(m, loss, opt, r.tr, nil, cfg)
		if err != nil {
			return nil, nil, err
		}
		s := st[0]
		s.Epoch, s.Epochs = e+1, h.Epochs
		better := true
		if r.val.Len() > 0 {
			out := train.Predict(m, r.val, predictBatch)
			s.HasVal = true
			if err := train.CheckFinite(out.RawMatrix().Data, out.RawMatrix().Cols); err != nil {
				return nil, nil, fmt.Errorf("epoch %d: validation: %w", e+1, err)
			}
			s.ValLoss, _ = loss.Eval(out, r.val.Y, false)
			switch r.kind {
			case train.Binary:
				auc := train.ROCAUC(out.RawMatrix().Data, r.val.Y)
				s.ValMetric = train.Accuracy(out, r.val.Y)
				better = auc > bestAUC+1e-12 || (auc >= bestAUC-1e-12 && s.ValLoss < bestLoss)
				if better {
					bestAUC, bestEpoch = auc, e+1
				}
			case train.Multiclass:
				s.ValMetric = train.Accuracy(out, r.val.Y)
				better = s.ValLoss < bestLoss
			default:
				better = s.ValLoss < bestLoss
			}
		}
		if better {
			bestLoss, since, s.Best = s.ValLoss, 0, true
			best = snapshot(m.Params(), best)
		} else {
			since++
		}
		s.Duration = time.Since(start)
		hist = append(hist, s)
		if r.o.OnEpoch != nil {
			r.o.OnEpoch(s)
		}
		if h.Patience > 0 && since >= h.Patience {
			break
		}
	}
	for i, p := range m.Params() {
		copy(p.W, best[i])
	}
	if r.kind == train.Binary && bestEpoch > 0 {
		r.o.Log("kept epoch %d: the best validation ROC AUC, %.4f", bestEpoch, bestAUC)
	}
	return m, hist, nil
}

// cnnLayers are the CNN's convolution blocks over side×side grayscale
// images given as rows of pixels, through the Flatten: ToImage, then per
// block a 3×3 "same" Conv2D with ReLU and a 2×2 max pool. It returns the
// layers, the width of their output and a description for the log.
func cnnLayers(rng *rand.Rand, side int, conv []int) ([]train.Layer, int, string) {
	layers := []train.Layer{&train.ToImage{H: side, W: side, C: 1}}
	c, s := 1, side
	desc := ""
	for i, f := range conv {
		cv := train.NewConv2D(rng, c, f, 3, 3, "same", 1, 1, train.ReLU)
		cv.NoInputGrad = i == 0 // the pixels need no gradient
		layers = append(layers, cv, train.NewMaxPool2D(2, 2, "valid", 2, 2))
		c, s = f, s/2
		desc += fmt.Sprintf("conv 3×3×%d + max pool 2 → %d×%d×%d, ", f, s, s, c)
	}
	layers = append(layers, &train.Flatten{})
	return layers, s * s * c, desc + "flatten"
}

func snapshot(ps []*train.Param, dst [][]float64) [][]float64 {
	if dst == nil {
		dst = make([][]float64, len(ps))
	}
	for i, p := range ps {
		dst[i] = append(dst[i][:0], p.W...)
	}
	return dst
}

// exportFunc is Trained.Export: Normalize, the MLP, the output activation,
// and a fresh copy of the metadata per call.
func exportFunc(m *train.Sequential, kind train.Kind, classes int, mean, std []float64, ym, ys float64, meta format.Metadata) func(bool, map[string]bool) (*format.Model, error) {
	em := m
	if kind == train.Regression {
		em = destandardised(m, ym, ys)
	}
	width := len(mean)
	return func(int8 bool, keep map[string]bool) (*format.Model, error) {
		e := train.NewExporter(int8)
		e.KeepF32 = keep
		e.M.Graph.Inputs = []format.ValueInfo{{Name: InputName, DType: format.F32, Shape: []int64{-1, int64(width)}}}
		nn := e.Unique("normalize")
		x := e.NodeNamed(nn, "Normalize", []string{InputName, e.Vector(nn+"/mean", mean), e.Vector(nn+"/std", std)})
		out, err := em.Export(e, x)
		if err != nil {
			return nil, err
		}
		cols := 1
		switch kind {
		case train.Binary:
			out = e.Node("sigmoid", "Sigmoid", []string{out})
		case train.Multiclass:
			out = e.Node("softmax", "Softmax", []string{out}, train.IntAttr("axis", -1))
			cols = classes
		}
		e.Output(out, cols)
		md := meta
		md.Labels = slices.Clone(meta.Labels)
		md.Extra = slices.Clone(meta.Extra)
		md.Features = slices.Clone(meta.Features)
		for i := range md.Features {
			md.Features[i].Categories = slices.Clone(md.Features[i].Categories)
		}
		e.M.Metadata = md
		return e.Finish()
	}
}

// destandardised is m with its last Dense scaled so it outputs y·ys + ym.
func destandardised(m *train.Sequential, ym, ys float64) *train.Sequential {
	ls := slices.Clone(m.Layers)
	last := ls[len(ls)-1].(*train.Dense)
	w := &train.Param{Name: last.W.Name, Shape: last.W.Shape, W: make([]float64, len(last.W.W)), G: make([]float64, len(last.W.W))}
	b := &train.Param{Name: last.B.Name, Shape: last.B.Shape, W: make([]float64, len(last.B.W)), G: make([]float64, len(last.B.W))}
	for i, v := range last.W.W {
		w.W[i] = v * ys
	}
	for i, v := range last.B.W {
		b.W[i] = v*ys + ym
	}
	ls[len(ls)-1] = &train.Dense{W: w, B: b, Act: last.Act}
	return train.NewSequential(ls...)
}
