// Package tabular is the tabular recipe of edgetrain (`--task tabular`):
// an MLP classifier or regressor on a CSV table, and its image variant
// (`--task image`) for small grayscale images given as pixel columns.
//
// Data preparation is csvdata's (standardisation, one-hot, imputation,
// bad rows). The exported graph is
//
//	features f32 [B, W] → Normalize(mean, std) → Dense … Dense → Sigmoid | Softmax | (none)
//
// (the image variant's CNN, for square images of 16×16 pixels and more,
// reads the normalised pixels through Reshape [B, H, W, 1] → Conv2D →
// MaxPool2D … → Flatten → Dense → Dense → Softmax), where the input
// holds, per row, the numeric columns in their raw units
// (missing values replaced by the training median) followed in column
// order by one-hot groups for categorical columns: the standardisation is
// in the graph, the imputation and one-hot encoding on the caller's side,
// as the model's metadata (format.Metadata.Features) describes them.
// EvalSet rebuilds that input for any CSV from a saved model.
//
// Classification targets give a binary model (one sigmoid output, the
// probability of the positive class, Labels [negative, positive]) or a
// multiclass one (softmax over Labels); a numeric target with many
// distinct values gives a regression (MSE on the standardised target, the
// de-standardisation folded into the last layer). See csvdata.Target.
package tabular

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/tools/train"
	"github.com/edgerun/edgerun/tools/train/csvdata"
)

// Metadata task names.
const (
	TaskClassification = "tabular-classification"
	TaskRegression     = "tabular-regression"
	TaskImage          = "image-classification"
)

// Metadata Extra keys.
const (
	extraTarget = "target"
	extraKind   = "kind"
	extraImage  = "image_pixels"
)

// InputName is the graph input.
const InputName = "features"

// evalBatch is the rows per engine run in an EvalSet.
const evalBatch = 256

// Fit trains the tabular recipe on o.Data: the target is o.Target (the
// last column when empty), every other column is a feature.
func Fit(o train.FitOptions) (*train.Trained, error) { return fit(o, false) }

// FitImage trains the image recipe: every feature column is a pixel
// (numbers only; one global standardisation over all pixels, so rare
// edge pixels are not blown up), in row-major order. Square images of
// 16×16 pixels and more (a square number of columns, at least 256) train
// a small CNN (cnnDefaults: Reshape to [B, H, W, 1], Conv2D and MaxPool2D
// blocks, Flatten, Dense 128, Dense) with a softmax; smaller or
// non-square ones an MLP 256-128. The target is o.Target, else the column
// "label" when there is one, else the last column.
func FitImage(o train.FitOptions) (*train.Trained, error) { return fit(o, true) }

// data is a prepared split.
type data struct {
	x    []float64 // raw model inputs, rows × width
	y    []float64
	rows int
}

func (d *data) table(width int, mean, std []float64) *train.Table {
	x := make([]float64, len(d.x))
	for i, v := range d.x {
		j := i % width
		x[i] = (v - mean[j]) / std[j]
	}
	return &train.Table{X: x, F: width, Y: slices.Clone(d.y)}
}

func encode(t *csvdata.Table, p *csvdata.Prep, rows []int, y []float64) *data {
	d := &data{x: make([]float64, len(rows)*p.Width), y: y, rows: len(rows)}
	for i, r := range rows {
		p.Encode(t.Rows[r], d.x[i*p.Width:(i+1)*p.Width])
	}
	return d
}

func fit(o train.FitOptions, image bool) (*train.Trained, error) {
	if o.Data == "" {
		return nil, fmt.Errorf("tabular: no training data (--data)")
	}
	tbl, err := csvdata.Read(o.Data, o.SkipBadRows)
	if err != nil {
		return nil, err
	}
	if tbl.Skipped > 0 {
		o.Log("%s: skipped %d bad rows", o.Data, tbl.Skipped)
	}
	if len(tbl.Header) < 2 {
		return nil, fmt.Errorf("tabular: %s has %d column(s): want a target and at least one feature", o.Data, len(tbl.Header))
	}
	tcol, err := targetColumn(tbl, o.Target, image)
	if err != nil {
		return nil, err
	}
	var fcols []int
	for i := range tbl.Header {
		if i != tcol {
			fcols = append(fcols, i)
		}
	}
	all := tbl.AllRows()
	g, err := csvdata.FitTarget(tbl, tcol, all)
	if err != nil {
		return nil, err
	}
	if image && g.Regression {
		return nil, fmt.Errorf("tabular: image: the target %q looks numeric with many values; an image model classifies", g.Name)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x7ab1e))

	// Test split: a test CSV, the listed rows, or a stratified 20 %.
	var trainRows, testRows []int
	var testTbl *csvdata.Table
	switch {
	case o.Test != "":
		trainRows = all
		if testTbl, err = csvdata.Read(o.Test, o.SkipBadRows); err != nil {
			return nil, err
		}
		if testTbl.Skipped > 0 {
			o.Log("%s: skipped %d bad rows", o.Test, testTbl.Skipped)
		}
	case o.TestRows != "":
		set, err := train.ReadTestRows(o.TestRows)
		if err != nil {
			return nil, err
		}
		testRows, trainRows = tbl.RowsIn(set)
		testTbl = tbl
	default:
		trainRows, testRows = split(rng, tbl, g, all, 0.2)
		testTbl = tbl
	}
	trainRows, ytr, skipped, err := g.Values(tbl, trainRows, o.SkipBadRows)
	if err != nil {
		return nil, err
	}
	if o.Test != "" {
		testRows = testTbl.AllRows()
	}
	testRows, yte, skipped2, err := g.Values(testTbl, testRows, o.SkipBadRows)
	if err != nil {
		return nil, err
	}
	if skipped+skipped2 > 0 {
		o.Log("skipped %d rows with a bad target", skipped+skipped2)
	}
	if len(trainRows) < 4 {
		return nil, fmt.Errorf("tabular: %d training rows: too few", len(trainRows))
	}
	if len(testRows) == 0 {
		return nil, fmt.Errorf("tabular: the test split is empty")
	}

	prep := csvdata.FitPrep(tbl, fcols, trainRows)
	if image {
		if err := imageNorm(prep, tbl, trainRows); err != nil {
			return nil, err
		}
	}
	mean, std := prep.Norm()

	// Validation: a stratified 10 % of the training rows.
	pos := map[int]int{}
	for i, r := range trainRows {
		pos[r] = i
	}
	fitIdx, valIdx := train.StratifiedSplit(rng, ytr, 0.1, g.Regression)
	pick := func(idx []int) ([]int, []float64) {
		rows, y := make([]int, len(idx)), make([]float64, len(idx))
		for i, k := range idx {
			rows[i], y[i] = trainRows[k], ytr[k]
		}
		return rows, y
	}
	fr, fy := pick(fitIdx)
	vr, vy := pick(valIdx)
	kind := g.Kind()
	o.Log("%s: %d features (%d inputs), target %q (%s), %d train / %d validation / %d test rows",
		o.Data, len(prep.Features), prep.Width, g.Name, kind, len(fr), len(vr), len(testRows))

	r := &run{o: o, kind: kind, width: prep.Width, classes: len(g.Labels), image: image}
	if image {
		r.side = cnnSide(prep.Width)
	}
	r.tr = encode(tbl, prep, fr, fy).table(prep.Width, mean, std)
	r.val = encode(tbl, prep, vr, vy).table(prep.Width, mean, std)
	if kind == train.Regression {
		r.ym, r.ys, _ = meanStd(r.tr.Y)
		for _, t := range []*train.Table{r.tr, r.val} {
			for i := range t.Y {
				t.Y[i] = (t.Y[i] - r.ym) / r.ys
			}
		}
	}
	model, hist, err := r.train()
	if err != nil {
		return nil, err
	}

	meta := format.Metadata{Task: TaskClassification, Labels: g.Labels, Features: prep.Features,
		Producer: format.Producer{Name: "edgetrain", Version: "dev"},
		Extra:    []format.KeyValue{{Key: extraKind, Value: string(kind)}, {Key: extraTarget, Value: g.Name}}}
	if kind == train.Regression {
		meta.Task, meta.Labels = TaskRegression, nil
	}
	if image {
		meta.Task = TaskImage
		meta.Extra = append(meta.Extra, format.KeyValue{Key: extraImage, Value: imageShape(len(prep.Features))})
	}
	sort.Slice(meta.Extra, func(i, j int) bool { return meta.Extra[i].Key < meta.Extra[j].Key })
	exp := exportFunc(model, kind, r.classes, mean, std, r.ym, r.ys, meta)
	fm, err := exp(false, nil)
	if err != nil {
		return nil, err
	}
	var quantizable []string
	for _, n := range fm.Graph.Nodes {
		if n.Op == "Dense" || n.Op == "Conv2D" {
			quantizable = append(quantizable, n.Name)
		}
	}
	tr := &train.Trained{Kind: kind, Labels: g.Labels, MetricName: kind.MainMetric(), History: hist,
		Export: exp, Quantizable: quantizable,
		Test: evalSet(encode(testTbl, prep, testRows, yte), prep.Width),
		Val:  evalSet(encode(tbl, prep, vr, vy), prep.Width)}
	return tr, nil
}

// targetColumn picks the target: name, else (images) "label", else the
// last column.
func targetColumn(t *csvdata.Table, name string, image bool) (int, error) {
	if name != "" {
		return t.Col(name)
	}
	if image {
		if c, err := t.Col("label"); err == nil {
			return c, nil
		}
	}
	return len(t.Header) - 1, nil
}

// imageNorm checks that every pixel is numeric and gives all of them the
// mean and std of every pixel of the training rows.
func imageNorm(p *csvdata.Prep, t *csvdata.Table, rows []int) error {
	var s, ss, n float64
	for i, f := range p.Features {
		if f.Kind != csvdata.Numeric {
			return fmt.Errorf("tabular: image: column %q is not numeric (pixels are numbers)", f.Name)
		}
		for _, r := range rows {
			v, ok := csvdata.ParseNumber(t.Rows[r][p.Cols[i]])
			if !ok {
				v = f.Impute
			}
			s += v
			ss += v * v
			n++
		}
	}
	mean := s / n
	std := math.Sqrt(max(ss/n-mean*mean, 0))
	if !(std > 1e-12) {
		std = 1
	}
	for i := range p.Features {
		p.Features[i].Mean, p.Features[i].Std = mean, std
	}
	return nil
}

// imageShape is "HxW" for a square image, else the pixel count.
func imageShape(n int) string {
	if s, ok := squareSide(n); ok {
		return fmt.Sprintf("%dx%d", s, s)
	}
	return strconv.Itoa(n)
}

// squareSide is the side of a square image of n pixels.
func squareSide(n int) (int, bool) {
	s := int(math.Sqrt(float64(n)))
	for s*s > n {
		s--
	}
	for (s+1)*(s+1) <= n {
		s++
	}
	return s, n > 0 && s*s == n
}

// cnnMinSide is the least side of the square images the CNN reads.
const cnnMinSide = 16

// cnnSide is the side of the square images of n pixels the image recipe
// trains a CNN on (16×16 and more), else 0 (the MLP).
func cnnSide(n int) int {
	if s, ok := squareSide(n); ok && s >= cnnMinSide {
		return s
	}
	return 0
}

func meanStd(v []float64) (mean, std float64, n int) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(max(len(v), 1))
	for _, x := range v {
		std += (x - mean) * (x - mean)
	}
	std = math.Sqrt(std / float64(max(len(v), 1)))
	if !(std > 1e-12) {
		std = 1
	}
	return mean, std, len(v)
}

// split takes a seeded share of rows as test, stratified by the raw
// target value for classification.
func split(rng *rand.Rand, t *csvdata.Table, g *csvdata.Target, rows []int, share float64) (rest, test []int) {
	y := make([]float64, len(rows))
	keys := map[string]float64{}
	for i, r := range rows {
		s := strings.TrimSpace(t.Rows[r][g.Col])
		if _, ok := keys[s]; !ok {
			keys[s] = float64(len(keys))
		}
		y[i] = keys[s]
	}
	a, b := train.StratifiedSplit(rng, y, share, g.Regression)
	for _, i := range a {
		rest = append(rest, rows[i])
	}
	for _, i := range b {
		test = append(test, rows[i])
	}
	return rest, test
}

// evalSet batches raw inputs for the engine.
func evalSet(d *data, width int) *train.EvalSet {
	s := &train.EvalSet{Y: d.y}
	for lo := 0; lo < d.rows; lo += evalBatch {
		hi := min(lo+evalBatch, d.rows)
		x := make([]float32, (hi-lo)*width)
		for i, v := range d.x[lo*width : hi*width] {
			x[i] = float32(v)
		}
		s.Batches = append(s.Batches, []*tensor.Tensor{tensor.NewF32(tensor.Shape{hi - lo, width}, x)})
	}
	return s
}

// EvalSet rebuilds the engine inputs and targets of the CSV at csvPath
// for a model this package saved: features found by name, prepared as
// the model's metadata says, the target column from the metadata (or
// o.Target). With o.TestRows only those rows are used. Bad rows are an
// error with the line number, or skipped with o.SkipBadRows.
func EvalSet(fm *format.Model, csvPath string, o train.FitOptions) (*train.EvalSet, train.Kind, error) {
	md := &fm.Metadata
	var kind train.Kind
	target := o.Target
	for _, kv := range md.Extra {
		switch kv.Key {
		case extraKind:
			kind = train.Kind(kv.Value)
		case extraTarget:
			if target == "" {
				target = kv.Value
			}
		}
	}
	if kind == "" {
		switch {
		case md.Task == TaskRegression:
			kind = train.Regression
		case len(md.Labels) == 2:
			kind = train.Binary
		default:
			kind = train.Multiclass
		}
	}
	if len(md.Features) == 0 {
		return nil, "", fmt.Errorf("tabular: the model has no features in its metadata")
	}
	if target == "" {
		return nil, "", fmt.Errorf("tabular: the model does not name its target column (give the target)")
	}
	tbl, err := csvdata.Read(csvPath, o.SkipBadRows)
	if err != nil {
		return nil, "", err
	}
	if tbl.Skipped > 0 {
		o.Log("%s: skipped %d bad rows", csvPath, tbl.Skipped)
	}
	prep, err := csvdata.PrepFor(md.Features, tbl)
	if err != nil {
		return nil, "", fmt.Errorf("tabular: %s: %w", csvPath, err)
	}
	if len(fm.Graph.Inputs) == 1 {
		if s := fm.Graph.Inputs[0].Shape; len(s) == 2 && s[1] != int64(prep.Width) {
			return nil, "", fmt.Errorf("tabular: the model's input has %d values, its features make %d", s[1], prep.Width)
		}
	}
	g, err := csvdata.NewTarget(tbl, target, kind == train.Regression, md.Labels)
	if err != nil {
		return nil, "", fmt.Errorf("tabular: %s: %w", csvPath, err)
	}
	rows, y, skipped, err := g.EvalRows(tbl, o.TestRows, o.SkipBadRows)
	if err != nil {
		return nil, "", err
	}
	if skipped > 0 {
		o.Log("%s: skipped %d rows with a bad target", csvPath, skipped)
	}
	if len(rows) == 0 {
		return nil, "", fmt.Errorf("tabular: %s: no rows to evaluate", csvPath)
	}
	return evalSet(encode(tbl, prep, rows, y), prep.Width), kind, nil
}
