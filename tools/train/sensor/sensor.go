// Package sensor is the sensor recipe of edgetrain (`--task sensor`): a
// 1-D convolutional classifier on fixed windows of multichannel numbers
// (vibration, current, temperature …), for predictive maintenance.
//
// # Input CSV
//
// One row per window, with a header. A window column is named
// CHANNEL_tSTEP (e.g. vib_x_t0 … vib_x_t127, current_t0 …): every channel
// must have the steps 0 … T−1, all channels the same T; the columns may
// come in any order. The channels are taken in the order of their first
// column. The target (FitOptions.Target; by default the last column that
// is not a window column) holds the class; any other column (an id, a
// timestamp) is ignored.
//
// Missing values ("", NA, NaN, ?, null; see csvdata) are imputed with
// the channel's training mean. A value that is not a number, or a missing
// or unknown class, is a bad row: an error naming the line, or skipped and
// counted with FitOptions.SkipBadRows.
//
// # Model
//
//	x f32 [B, T, C] (raw units) → Normalize(per-channel mean, std)
//	  → Conv1D(16, k7, same, relu) → MaxPool1D(2)
//	  → Conv1D(32, k5, same, relu) → MaxPool1D(2)
//	  → Conv1D(32, k3, same, relu) → GlobalAveragePool1D
//	  → Dense → Softmax (Sigmoid for two classes)
//
// (a pooling step is left out when the window is too short for it). The
// per-channel standardisation is in the graph and in the metadata's
// Features (one per channel: mean, std, and the imputation value), so a
// device feeds raw readings. Two classes give a binary model (one output,
// the probability of the positive class, Labels [negative, positive] as
// csvdata.FitTarget picks them), more a multiclass one (softmax over
// Labels, sorted).
//
// # Anomaly score
//
// When one class is the normal state (a label "healthy", "normal", "ok",
// "good", "nominal", "0", "false" or "no", any case), the metadata's Extra
// "normal_label" names it and "anomaly_score" says how to score: one minus
// that class's probability. AnomalyScores computes it.
//
// # Metadata
//
// Task "sensor-classification"; Extra: "kind" (binary or multiclass),
// "target", "window" (T), "channels" (comma-separated, input order),
// "layout" ("[B, T, C] channels last, raw units"), and the normal class as
// above.
//
// No predictive-maintenance dataset is bundled: Synthetic writes seeded
// synthetic vibration/current windows (healthy, bearing fault, imbalance)
// for the tests and the example.
package sensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/tools/train"
	"github.com/edgerun/edgerun/tools/train/csvdata"
)

// Task is the metadata task of a sensor model.
const Task = "sensor-classification"

// InputName is the graph input: f32 [B, T, C].
const InputName = "x"

// Metadata Extra keys.
const (
	extraKind     = "kind"
	extraTarget   = "target"
	extraWindow   = "window"
	extraChannels = "channels"
	extraLayout   = "layout"
	extraNormal   = "normal_label"
	extraAnomaly  = "anomaly_score"
)

const evalBatch = 256

// hyper are the training hyperparameters.
type hyper struct {
	Epochs, Batch, Patience int
	LR                      float64
}

var defaults = hyper{Epochs: 30, Batch: 32, Patience: 6, LR: 3e-3}

var windowCol = regexp.MustCompile(`^(.+)_t([0-9]+)$`)

// layout is where each channel's steps are in a CSV's columns.
type layout struct {
	channels []string
	steps    int
	cols     [][]int // cols[c][t]: the column of channel c, step t
}

// findLayout finds the window columns of header (skipping column skip).
func findLayout(header []string, skip int, path string) (*layout, error) {
	lay := &layout{}
	idx := map[string]int{}
	steps := map[string]map[int]int{}
	for i, h := range header {
		m := windowCol.FindStringSubmatch(h)
		if i == skip || m == nil {
			continue
		}
		t, err := strconv.Atoi(m[2])
		if err != nil || t > 1<<20 {
			return nil, fmt.Errorf("sensor: %s: column %q: step %q out of range", path, h, m[2])
		}
		if _, ok := idx[m[1]]; !ok {
			idx[m[1]] = len(lay.channels)
			lay.channels = append(lay.channels, m[1])
			steps[m[1]] = map[int]int{}
		}
		steps[m[1]][t] = i
	}
	if len(lay.channels) == 0 {
		return nil, fmt.Errorf("sensor: %s: no window columns (want CHANNEL_tSTEP, e.g. vib_x_t0)", path)
	}
	lay.steps = len(steps[lay.channels[0]])
	for _, ch := range lay.channels {
		s := steps[ch]
		if len(s) != lay.steps {
			return nil, fmt.Errorf("sensor: %s: channel %q has %d steps, %q has %d", path, ch, len(s), lay.channels[0], lay.steps)
		}
		cols := make([]int, lay.steps)
		for t := range cols {
			c, ok := s[t]
			if !ok {
				return nil, fmt.Errorf("sensor: %s: channel %q has no column %s_t%d (steps must be 0 … %d)", path, ch, ch, t, lay.steps-1)
			}
			cols[t] = c
		}
		lay.cols = append(lay.cols, cols)
	}
	return lay, nil
}

// targetColumn is o's target, or the last column that is not a window
// column.
func targetColumn(t *csvdata.Table, name string) (int, error) {
	if name != "" {
		return t.Col(name)
	}
	for i := len(t.Header) - 1; i >= 0; i-- {
		if !windowCol.MatchString(t.Header[i]) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("sensor: %s: no target column (every column is a window column; name one with --target)", t.Path)
}

// encode turns rows of t into windows, channels last (x[i·T·C + s·C + c]),
// with missing values imputed; a value that is not a number is a bad row
// (an error with the line, or dropped when skipBad). keep are the indices
// into rows of the windows encoded.
func (lay *layout) encode(t *csvdata.Table, rows []int, impute []float64, skipBad bool) (x []float64, keep []int, err error) {
	nc, ns := len(lay.channels), lay.steps
	w := make([]float64, ns*nc)
rowLoop:
	for k, r := range rows {
		rec := t.Rows[r]
		for c, cols := range lay.cols {
			for s, col := range cols {
				f := rec[col]
				v, ok := csvdata.ParseNumber(f)
				switch {
				case ok:
				case csvdata.IsMissing(f):
					v = impute[c]
				case skipBad:
					continue rowLoop
				default:
					return nil, nil, fmt.Errorf("%s: line %d: column %q is %q, not a number (or skip bad rows)", t.Path, t.Lines[r], t.Header[col], f)
				}
				w[s*nc+c] = v
			}
		}
		x = append(x, w...)
		keep = append(keep, k)
	}
	return x, keep, nil
}

// channelStats are each channel's mean and standard deviation over the
// numeric values of rows (std 1 for a constant channel).
func (lay *layout) channelStats(t *csvdata.Table, rows []int) (mean, std []float64) {
	for _, cols := range lay.cols {
		var s, ss, n float64
		for _, r := range rows {
			for _, col := range cols {
				if v, ok := csvdata.ParseNumber(t.Rows[r][col]); ok {
					s += v
					ss += v * v
					n++
				}
			}
		}
		m, sd := 0.0, 1.0
		if n > 0 {
			m = s / n
			if v := ss/n - m*m; v > 1e-12*max(1, m*m) {
				sd = math.Sqrt(v)
			}
		}
		mean, std = append(mean, m), append(std, sd)
	}
	return mean, std
}

// normalLabel finds the class that is the normal state, or "".
func normalLabel(labels []string) string {
	for _, l := range labels {
		switch strings.ToLower(strings.TrimSpace(l)) {
		case "healthy", "normal", "ok", "good", "nominal", "0", "false", "no":
			return l
		}
	}
	return ""
}

// Fit trains the sensor recipe on o.Data (see the package doc).
func Fit(o train.FitOptions) (*train.Trained, error) { return fit(o, defaults) }

func fit(o train.FitOptions, h hyper) (*train.Trained, error) {
	if o.Data == "" {
		return nil, fmt.Errorf("sensor: no training data (--data)")
	}
	tbl, err := csvdata.Read(o.Data, o.SkipBadRows)
	if err != nil {
		return nil, err
	}
	if tbl.Skipped > 0 {
		o.Log("%s: skipped %d bad rows", o.Data, tbl.Skipped)
	}
	tcol, err := targetColumn(tbl, o.Target)
	if err != nil {
		return nil, err
	}
	lay, err := findLayout(tbl.Header, tcol, o.Data)
	if err != nil {
		return nil, err
	}
	all := tbl.AllRows()
	if len(all) == 0 {
		return nil, fmt.Errorf("sensor: %s has no rows", o.Data)
	}
	g, err := csvdata.FitTarget(tbl, tcol, all)
	if err != nil {
		return nil, err
	}
	if g.Regression {
		return nil, fmt.Errorf("sensor: the target %q looks numeric with many values; the sensor recipe classifies", g.Name)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x5e2502))

	// Test split: a test CSV, the listed rows, or a stratified 20 %.
	var trainRows, testRows []int
	testTbl := tbl
	testLay := lay
	switch {
	case o.Test != "":
		trainRows = all
		if testTbl, err = csvdata.Read(o.Test, o.SkipBadRows); err != nil {
			return nil, err
		}
		if testTbl.Skipped > 0 {
			o.Log("%s: skipped %d bad rows", o.Test, testTbl.Skipped)
		}
		if testLay, err = layoutFor(testTbl, lay.channels, lay.steps, g.Name); err != nil {
			return nil, err
		}
		if g, err = csvdata.NewTarget(testTbl, g.Name, false, g.Labels); err != nil {
			return nil, fmt.Errorf("sensor: %s: %w", o.Test, err)
		}
		testRows = testTbl.AllRows()
	case o.TestRows != "":
		set, err := train.ReadTestRows(o.TestRows)
		if err != nil {
			return nil, err
		}
		testRows, trainRows = tbl.RowsIn(set)
	default:
		y := make([]float64, len(all))
		for i := range all {
			y[i], _ = g.Value(tbl.Rows[i][tcol]) // a bad target is its own group here; dropped below
		}
		trainRows, testRows = train.StratifiedSplit(rng, y, 0.2, false)
	}
	trainG, err := csvdata.NewTarget(tbl, g.Name, false, g.Labels)
	if err != nil {
		return nil, err
	}
	trainRows, ytr, skipped, err := trainG.Values(tbl, trainRows, o.SkipBadRows)
	if err != nil {
		return nil, err
	}
	testRows, yte, skipped2, err := g.Values(testTbl, testRows, o.SkipBadRows)
	if err != nil {
		return nil, err
	}
	if skipped+skipped2 > 0 {
		o.Log("skipped %d rows with a bad target", skipped+skipped2)
	}
	mean, std := lay.channelStats(tbl, trainRows)
	xtr, keep, err := lay.encode(tbl, trainRows, mean, o.SkipBadRows)
	if err != nil {
		return nil, err
	}
	ytr = pick(ytr, keep)
	xte, keep2, err := testLay.encode(testTbl, testRows, mean, o.SkipBadRows)
	if err != nil {
		return nil, err
	}
	yte = pick(yte, keep2)
	if n := len(trainRows) - len(keep) + len(testRows) - len(keep2); n > 0 {
		o.Log("skipped %d rows with a value that is not a number", n)
	}
	if len(ytr) < 4 {
		return nil, fmt.Errorf("sensor: %d training windows: too few", len(ytr))
	}
	if len(yte) == 0 {
		return nil, fmt.Errorf("sensor: the test split is empty")
	}

	kind := g.Kind()
	nc, ns := len(lay.channels), lay.steps
	width := nc * ns
	fitIdx, valIdx := train.StratifiedSplit(rng, ytr, 0.1, false)
	table := func(idx []int) *train.Table {
		t := &train.Table{F: width, T: ns}
		for _, i := range idx {
			w := xtr[i*width : (i+1)*width]
			for j, v := range w {
				c := j % nc
				t.X = append(t.X, (v-mean[c])/std[c])
			}
			t.Y = append(t.Y, ytr[i])
		}
		return t
	}
	tr, val := table(fitIdx), table(valIdx)
	o.Log("%s: %d channels (%s) × %d steps, target %q (%s: %s), %d train / %d validation / %d test windows",
		o.Data, nc, strings.Join(lay.channels, ", "), ns, g.Name, kind, strings.Join(g.Labels, ", "), tr.Len(), val.Len(), len(yte))

	mrng := rand.New(rand.NewPCG(o.Seed, 0xc0417))
	outs := len(g.Labels)
	if kind == train.Binary {
		outs = 1
	}
	model := NewModel(mrng, nc, ns, outs)
	loss := lossFor(kind, len(g.Labels), tr.Y, o)
	epochs, err := o.EpochsOr(h.Epochs)
	if err != nil {
		return nil, err
	}
	// Small sets take smaller batches (more steps per epoch): n/20
	// windows, 8 to h.Batch.
	batch := min(max(tr.Len()/20, 8), h.Batch)
	hist, err := train.Fit(model, loss, train.NewAdam(), tr, val, train.Config{
		Epochs: epochs, BatchSize: batch, Seed: o.Seed, LR: train.Cosine(h.LR, 0.05),
		Patience: h.Patience, Metric: train.Accuracy, MetricName: "acc",
		OnEpoch: o.OnEpoch, OnBatch: o.OnBatch,
	})
	if err != nil {
		return nil, err
	}

	feats := make([]format.Feature, nc)
	for c, ch := range lay.channels {
		feats[c] = format.Feature{Name: ch, Kind: csvdata.Numeric, Mean: mean[c], Std: std[c], Impute: mean[c]}
	}
	meta := format.Metadata{Task: Task, Labels: slices.Clone(g.Labels), Features: feats,
		Producer: format.Producer{Name: "edgetrain", Version: "dev"},
		Extra: []format.KeyValue{
			{Key: extraKind, Value: string(kind)},
			{Key: extraTarget, Value: g.Name},
			{Key: extraWindow, Value: strconv.Itoa(ns)},
			{Key: extraChannels, Value: strings.Join(lay.channels, ",")},
			{Key: extraLayout, Value: "[B, T, C] channels last, raw units"},
		}}
	if nl := normalLabel(g.Labels); nl != "" {
		meta.Extra = append(meta.Extra, format.KeyValue{Key: extraNormal, Value: nl},
			format.KeyValue{Key: extraAnomaly, Value: "1 - p(" + nl + ")"})
	}
	sort.Slice(meta.Extra, func(i, j int) bool { return meta.Extra[i].Key < meta.Extra[j].Key })
	exp := exportFunc(model, kind, outs, nc, ns, mean, std, meta)
	fm, err := exp(false, nil)
	if err != nil {
		return nil, err
	}
	var quantizable []string
	for _, n := range fm.Graph.Nodes {
		if n.Op == "Dense" || n.Op == "Conv1D" {
			quantizable = append(quantizable, n.Name)
		}
	}
	xval, yval := make([]float64, 0, len(valIdx)*width), make([]float64, len(valIdx))
	for i, k := range valIdx {
		xval, yval[i] = append(xval, xtr[k*width:(k+1)*width]...), ytr[k]
	}
	return &train.Trained{Kind: kind, Labels: slices.Clone(g.Labels), MetricName: kind.MainMetric(), History: hist,
		Export: exp, Quantizable: quantizable, Test: evalSet(xte, yte, ns, nc), Val: evalSet(xval, yval, ns, nc)}, nil
}

// NewModel is the recipe's network for windows of steps × channels and
// outs outputs (logits): three Conv1D layers with max pooling between
// them (while the window is long enough), global average pooling and a
// Dense head.
func NewModel(rng *rand.Rand, channels, steps, outs int) *train.Sequential {
	var ls []train.Layer
	c, t := channels, steps
	for i, f := range []int{16, 32, 32} {
		kw := []int{7, 5, 3}[i]
		ls = append(ls, train.NewConv1D(rng, c, f, kw, "same", 1, 1, train.ReLU))
		c = f
		if i < 2 && t >= 8 {
			ls = append(ls, train.NewMaxPool1D(2, 2))
			t /= 2
		}
	}
	ls = append(ls, &train.GlobalAveragePool1D{}, train.NewDense(rng, c, outs, train.Linear))
	return train.NewSequential(ls...)
}

// lossFor is cross-entropy, weighted when the classes are imbalanced
// (binary: positives under 25 %; multiclass: largest over smallest class
// above 3).
func lossFor(kind train.Kind, classes int, y []float64, o train.FitOptions) train.Loss {
	n := make([]float64, classes)
	for _, v := range y {
		n[int(v)]++
	}
	total := float64(len(y))
	if kind == train.Binary {
		if n[1] > 0 && n[1] < 0.25*total {
			o.Log("imbalanced: %.1f %% positives, positive weight %.2f", 100*n[1]/total, n[0]/n[1])
			return train.SigmoidBCE{PosWeight: n[0] / n[1]}
		}
		return train.SigmoidBCE{}
	}
	lo, hi := math.Inf(1), 0.0
	for _, c := range n {
		lo, hi = min(lo, c), max(hi, c)
	}
	if lo > 0 && hi/lo > 3 {
		w := make([]float64, classes)
		for i, c := range n {
			w[i] = total / (float64(classes) * c)
		}
		o.Log("imbalanced classes (%.0f to %.0f windows): balanced class weights", lo, hi)
		return train.SoftmaxCE{ClassWeights: w}
	}
	return train.SoftmaxCE{}
}

// exportFunc is Trained.Export: Normalize per channel, the network, the
// output activation, and a fresh copy of the metadata per call.
func exportFunc(m *train.Sequential, kind train.Kind, outs, nc, ns int, mean, std []float64, meta format.Metadata) func(bool, map[string]bool) (*format.Model, error) {
	return func(int8 bool, keep map[string]bool) (*format.Model, error) {
		e := train.NewExporter(int8)
		e.KeepF32 = keep
		e.M.Graph.Inputs = []format.ValueInfo{{Name: InputName, DType: format.F32, Shape: []int64{-1, int64(ns), int64(nc)}}}
		nn := e.Unique("normalize")
		x := e.NodeNamed(nn, "Normalize", []string{InputName, e.Vector(nn+"/mean", mean), e.Vector(nn+"/std", std)})
		out, err := m.Export(e, x)
		if err != nil {
			return nil, err
		}
		if kind == train.Binary {
			out = e.Node("sigmoid", "Sigmoid", []string{out})
		} else {
			out = e.Node("softmax", "Softmax", []string{out}, train.IntAttr("axis", -1))
		}
		e.Output(out, outs)
		md := meta
		md.Labels = slices.Clone(meta.Labels)
		md.Extra = slices.Clone(meta.Extra)
		md.Features = slices.Clone(meta.Features)
		e.M.Metadata = md
		return e.Finish()
	}
}

// evalSet batches raw windows (channels last) for the engine.
func evalSet(x, y []float64, ns, nc int) *train.EvalSet {
	s := &train.EvalSet{Y: y}
	w := ns * nc
	for lo := 0; lo < len(y); lo += evalBatch {
		hi := min(lo+evalBatch, len(y))
		s.Batches = append(s.Batches, []*tensor.Tensor{tensor.NewF32(tensor.Shape{hi - lo, ns, nc}, f32(x[lo*w:hi*w]))})
	}
	return s
}

// layoutFor finds channels × steps window columns in t (the layout a
// model was trained on).
func layoutFor(t *csvdata.Table, channels []string, steps int, target string) (*layout, error) {
	skip := -1
	if c, err := t.Col(target); err == nil {
		skip = c
	}
	lay, err := findLayout(t.Header, skip, t.Path)
	if err != nil {
		return nil, err
	}
	if lay.steps != steps {
		return nil, fmt.Errorf("sensor: %s: windows of %d steps, the model takes %d", t.Path, lay.steps, steps)
	}
	idx := map[string]int{}
	for i, ch := range lay.channels {
		idx[ch] = i
	}
	out := &layout{channels: channels, steps: steps}
	for _, ch := range channels {
		i, ok := idx[ch]
		if !ok {
			return nil, fmt.Errorf("sensor: %s: no columns for channel %q (the model takes %s)", t.Path, ch, strings.Join(channels, ", "))
		}
		out.cols = append(out.cols, lay.cols[i])
	}
	return out, nil
}

// EvalSet rebuilds the engine inputs and targets of the CSV at csvPath
// for a model this package saved: the channels and window length from the
// metadata, missing values imputed as the metadata says, the target from
// the metadata (or o.Target). With o.TestRows only those rows are used.
// Bad rows are an error with the line number, or skipped with
// o.SkipBadRows.
func EvalSet(fm *format.Model, csvPath string, o train.FitOptions) (*train.EvalSet, train.Kind, error) {
	md := &fm.Metadata
	if md.Task != Task {
		return nil, "", fmt.Errorf("sensor: the model's task is %q, not %q", md.Task, Task)
	}
	var kind train.Kind
	target, steps := o.Target, 0
	for _, kv := range md.Extra {
		switch kv.Key {
		case extraKind:
			kind = train.Kind(kv.Value)
		case extraTarget:
			if target == "" {
				target = kv.Value
			}
		case extraWindow:
			steps, _ = strconv.Atoi(kv.Value)
		}
	}
	if kind == "" {
		kind = train.Multiclass
		if len(md.Labels) == 2 {
			kind = train.Binary
		}
	}
	if steps <= 0 || len(md.Features) == 0 || target == "" {
		return nil, "", fmt.Errorf("sensor: the model's metadata lacks the window, channels or target")
	}
	channels := make([]string, len(md.Features))
	impute := make([]float64, len(md.Features))
	for i, f := range md.Features {
		channels[i], impute[i] = f.Name, f.Impute
	}
	tbl, err := csvdata.Read(csvPath, o.SkipBadRows)
	if err != nil {
		return nil, "", err
	}
	if tbl.Skipped > 0 {
		o.Log("%s: skipped %d bad rows", csvPath, tbl.Skipped)
	}
	lay, err := layoutFor(tbl, channels, steps, target)
	if err != nil {
		return nil, "", err
	}
	g, err := csvdata.NewTarget(tbl, target, false, md.Labels)
	if err != nil {
		return nil, "", fmt.Errorf("sensor: %s: %w", csvPath, err)
	}
	rows, y, skipped, err := g.EvalRows(tbl, o.TestRows, o.SkipBadRows)
	if err != nil {
		return nil, "", err
	}
	x, keep, err := lay.encode(tbl, rows, impute, o.SkipBadRows)
	if err != nil {
		return nil, "", err
	}
	if n := skipped + len(rows) - len(keep); n > 0 {
		o.Log("%s: skipped %d bad rows", csvPath, n)
	}
	if len(keep) == 0 {
		return nil, "", fmt.Errorf("sensor: %s: no rows to evaluate", csvPath)
	}
	return evalSet(x, pick(y, keep), steps, len(channels)), kind, nil
}

// AnomalyScores turns a model's outputs (rows of class probabilities, or
// one positive-class probability for a binary model) into anomaly scores
// 1 − p(normal), for the labels (output order; binary: [negative,
// positive]) with normal the normal class. ok is false when normal is not
// a label.
func AnomalyScores(out [][]float64, labels []string, normal string) (scores []float64, ok bool) {
	k := slices.Index(labels, normal)
	if k < 0 {
		return nil, false
	}
	scores = make([]float64, len(out))
	for i, r := range out {
		switch {
		case len(r) == 1 && k == 1: // binary, normal is the positive class
			scores[i] = 1 - r[0]
		case len(r) == 1:
			scores[i] = r[0]
		default:
			scores[i] = 1 - r[k]
		}
	}
	return scores, true
}

func pick(y []float64, keep []int) []float64 {
	out := make([]float64, len(keep))
	for i, k := range keep {
		out[i] = y[k]
	}
	return out
}

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
