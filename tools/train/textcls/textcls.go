// Package textcls is the text classification recipe of `edgetrain fit
// --task text`: a CSV with a text column and a label column becomes a
// model the device runs from raw text, its tokenizer in the metadata.
//
// The default model is fastText's (PyTorch's EmbeddingBag): the text is
// tokenized into words of a vocabulary fitted on the training split
// (runtime/text "word"; with Hyper.NgramMax > 1, words and word n-grams
// hashed into buckets, "hash-ngram"), embedded, averaged over the valid
// tokens (Embedding → SeqPool mean with the PadMask) and classified by
// one Dense layer; two labels give one sigmoid output (P(second label)),
// more a softmax. The recurrent alternative (Arch LSTM or GRU) uses the
// same word vocabulary: Embedding → LSTM/GRU (masked; Bidirectional: both
// ways, the two last states concatenated) → Dense. Hyper.MinCount > 1
// makes the words seen fewer times the unknown id (the built-in sentiment
// model: a bidirectional LSTM with MinCount 2).
//
// Splits: the test split is a test CSV, the listed test rows, or a seeded
// stratified 20 %; validation is a stratified 10 % of the training rows,
// for early stopping on its loss (the best epoch's weights are kept). The
// tokenizer is fitted on the training rows only.
package textcls

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/runtime/text"
	"github.com/edgerun/edgerun/tools/train"
	"github.com/edgerun/edgerun/tools/train/csvdata"
)

// Task is the metadata task of the models this package writes.
const Task = "text-classification"

// The default columns.
const (
	DefaultTextCol  = "text"
	DefaultLabelCol = "label"
)

// Metadata Extra keys this package writes (so EvalSet finds the columns).
const (
	extraArch     = "textcls.arch"
	extraKind     = "textcls.kind"
	extraTextCol  = "textcls.text_col"
	extraLabelCol = "textcls.label_col"
)

// Arch is the model architecture.
type Arch string

// The architectures.
const (
	Bag  Arch = "bag"  // hashed words + bigrams → Embedding → SeqPool mean → Dense
	LSTM Arch = "lstm" // word vocabulary → Embedding → LSTM → Dense
	GRU  Arch = "gru"  // word vocabulary → Embedding → GRU → Dense
)

// Hyper are a run's hyperparameters.
type Hyper struct {
	Arch   Arch
	Dim    int // embedding width
	Hidden int // recurrent state size (LSTM, GRU)
	// Bidirectional runs the recurrent layer both ways (its output, the
	// two last states, is 2·Hidden wide).
	Bidirectional bool
	MaxLen        int // ids per text (padded or cut)
	Buckets       int // hash buckets (Bag)
	// NgramMax > 1 makes Bag hash word n-grams up to that length into
	// Buckets ids; 1 gives it a word vocabulary like the recurrent models.
	NgramMax int
	// MinCount drops rarer words from a word vocabulary.
	MinCount int
	Epochs   int
	Batch    int
	LR       float64
	// WeightDecay > 0 uses AdamW (decoupled decay of the Dense and
	// recurrent weights).
	WeightDecay float64
	Patience    int
	ClipNorm    float64
}

// Defaults are the hyperparameters of an architecture.
func Defaults(a Arch) Hyper {
	switch a {
	case LSTM, GRU:
		return Hyper{Arch: a, Dim: 64, Hidden: 64, MaxLen: 48, MinCount: 1, Epochs: 15, Batch: 32, LR: 3e-3, Patience: 3, ClipNorm: 5}
	}
	// Words only: on the bundled sentences hashed bigrams overfit (test
	// accuracy 0.788 with, 0.818 without; banking77 0.900 and 0.904).
	return Hyper{Arch: Bag, Dim: 64, MaxLen: 64, Buckets: 1 << 15, NgramMax: 1, MinCount: 1, Epochs: 30, Batch: 32, LR: 3e-3, Patience: 4}
}

// Fit trains the model o asks for: o.TextArch (Bag when empty, LSTM,
// GRU) with its Defaults, word n-grams up to o.Ngrams (Bag only; 1 to
// text.MaxNgram; 0: words only) hashed into its buckets, a bidirectional
// recurrent layer with o.Bidirectional, and words seen fewer than
// o.MinCount times dropped from the word vocabulary (0: the default).
func Fit(o train.FitOptions) (*train.Trained, error) {
	a := Arch(o.TextArch)
	switch a {
	case "":
		a = Bag
	case Bag, LSTM, GRU:
	default:
		return nil, fmt.Errorf("textcls: unknown architecture %q (want bag, lstm or gru)", o.TextArch)
	}
	h := Defaults(a)
	switch {
	case o.Ngrams < 0 || o.Ngrams > text.MaxNgram:
		return nil, fmt.Errorf("textcls: n-grams up to %d words: want 1 to %d (0: words only)", o.Ngrams, text.MaxNgram)
	case o.Ngrams > 1 && a != Bag:
		return nil, fmt.Errorf("textcls: n-grams are for the bag model, not %s (which reads the word vocabulary)", a)
	case o.Ngrams > 0:
		h.NgramMax = o.Ngrams
	}
	switch {
	case o.Bidirectional && a == Bag:
		return nil, fmt.Errorf("textcls: bidirectional is for the lstm and gru models, not bag")
	case o.MinCount < 0:
		return nil, fmt.Errorf("textcls: minimum word count %d: want 1 or more (0: the default)", o.MinCount)
	case o.MinCount > 1 && h.NgramMax > 1:
		return nil, fmt.Errorf("textcls: a minimum word count needs a word vocabulary; hashed n-grams have none")
	case o.MinCount > 0:
		h.MinCount = o.MinCount
	}
	h.Bidirectional = o.Bidirectional
	return FitWith(o, h)
}

// FitWith trains with the given hyperparameters (o.Epochs, when set,
// overrides h.Epochs).
func FitWith(o train.FitOptions, h Hyper) (*train.Trained, error) {
	if o.Data == "" {
		return nil, fmt.Errorf("textcls: no training data (--data)")
	}
	var err error
	if h.Epochs, err = o.EpochsOr(h.Epochs); err != nil {
		return nil, err
	}
	tbl, err := csvdata.Read(o.Data, o.SkipBadRows)
	if err != nil {
		return nil, err
	}
	if tbl.Skipped > 0 {
		o.Log("%s: skipped %d bad rows", o.Data, tbl.Skipped)
	}
	textCol, labelCol := orDefault(o.TextCol, DefaultTextCol), orDefault(o.LabelCol, DefaultLabelCol)
	tc, err := tbl.Col(textCol)
	if err != nil {
		return nil, fmt.Errorf("textcls: the text column: %w", err)
	}
	lc, err := tbl.Col(labelCol)
	if err != nil {
		return nil, fmt.Errorf("textcls: the label column: %w", err)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x7e47))

	// Test split: a test CSV, the listed rows, or a stratified 20 %.
	all := tbl.AllRows()
	var trainRows, testRows []int
	testTbl := tbl
	switch {
	case o.Test != "":
		trainRows = all
		if testTbl, err = csvdata.Read(o.Test, o.SkipBadRows); err != nil {
			return nil, err
		}
		if testTbl.Skipped > 0 {
			o.Log("%s: skipped %d bad rows", o.Test, testTbl.Skipped)
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
		keys := map[string]float64{}
		for i, r := range all {
			s := strings.TrimSpace(tbl.Rows[r][lc])
			if _, ok := keys[s]; !ok {
				keys[s] = float64(len(keys))
			}
			y[i] = keys[s]
		}
		trainRows, testRows = train.StratifiedSplit(rng, y, 0.2, false)
	}
	for _, path := range o.Other {
		if trainRows, err = addOther(tbl, tc, lc, path, trainRows); err != nil {
			return nil, err
		}
	}
	g, err := classes(tbl, lc, trainRows)
	if err != nil {
		return nil, err
	}
	trainRows, ytr, skipped, err := g.Values(tbl, trainRows, o.SkipBadRows)
	if err != nil {
		return nil, err
	}
	ttc := tc
	if testTbl != tbl {
		if ttc, err = testTbl.Col(textCol); err != nil {
			return nil, fmt.Errorf("textcls: %s: the text column: %w", o.Test, err)
		}
		if g.Col, err = testTbl.Col(labelCol); err != nil {
			return nil, fmt.Errorf("textcls: %s: the label column: %w", o.Test, err)
		}
	}
	testRows, yte, skipped2, err := g.Values(testTbl, testRows, o.SkipBadRows)
	if err != nil {
		return nil, err
	}
	if skipped+skipped2 > 0 {
		o.Log("skipped %d rows with a bad label", skipped+skipped2)
	}
	if len(trainRows) < 4 {
		return nil, fmt.Errorf("textcls: %d training rows: too few", len(trainRows))
	}
	if len(testRows) == 0 {
		return nil, fmt.Errorf("textcls: the test split is empty")
	}
	kind := g.Kind()

	// The tokenizer, fitted on the training rows only.
	texts := make([]string, len(trainRows))
	for i, r := range trainRows {
		texts[i] = tbl.Rows[r][tc]
	}
	var cfg text.Config
	if h.Arch == Bag && h.NgramMax > 1 {
		cfg = text.Fit(texts, text.KindHashNgram, text.FitOptions{Lowercase: true, MaxLen: h.MaxLen, NgramMin: 1, NgramMax: h.NgramMax, Buckets: h.Buckets})
	} else {
		cfg = text.Fit(texts, text.KindWord, text.FitOptions{Lowercase: true, MaxLen: h.MaxLen, MinCount: h.MinCount})
	}
	tok, err := text.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("textcls: tokenizer: %w", err)
	}
	data := encode(tok, texts, ytr)

	fitIdx, valIdx := train.StratifiedSplit(rng, ytr, 0.1, false)
	trSet, valSet := data.Subset(fitIdx), data.Subset(valIdx)
	o.Log("%s: text %q, label %q (%s, %d classes), %s tokenizer (%d ids, max_len %d), %d train / %d validation / %d test rows",
		o.Data, textCol, labelCol, kind, len(g.Labels), cfg.Kind, tok.VocabSize(), h.MaxLen, trSet.Len(), valSet.Len(), len(testRows))

	outs := 1
	var loss train.Loss = train.SigmoidBCE{}
	if kind == train.Multiclass {
		outs, loss = len(g.Labels), train.SoftmaxCE{}
	}
	mrng := rand.New(rand.NewPCG(o.Seed, 0x3e1d))
	emb := train.NewEmbedding(mrng, tok.VocabSize(), h.Dim)
	var layers []train.Layer
	switch h.Arch {
	case Bag:
		layers = []train.Layer{emb, &train.SeqPool{Mode: train.PoolMean}, train.NewDense(mrng, h.Dim, outs, train.Linear)}
	case LSTM, GRU:
		r := train.NewLSTM(mrng, h.Dim, h.Hidden, h.Bidirectional, false)
		if h.Arch == GRU {
			r = train.NewGRU(mrng, h.Dim, h.Hidden, h.Bidirectional, false)
		}
		width := h.Hidden
		if h.Bidirectional {
			width *= 2
		}
		layers = []train.Layer{emb, r, train.NewDense(mrng, width, outs, train.Linear)}
	default:
		return nil, fmt.Errorf("textcls: unknown architecture %q (want bag, lstm or gru)", h.Arch)
	}
	m := train.NewSequential(layers...)
	var opt train.Optimizer = train.NewAdam()
	if h.WeightDecay > 0 {
		opt = train.NewAdamW(h.WeightDecay)
	}
	hist, err := train.Fit(m, loss, opt, trSet, valSet, train.Config{
		Epochs: h.Epochs, BatchSize: h.Batch, Seed: o.Seed, LR: train.Constant(h.LR), Patience: h.Patience, ClipNorm: h.ClipNorm,
		Metric: train.Accuracy, MetricName: "acc", OnEpoch: o.OnEpoch, OnBatch: o.OnBatch,
	})
	if err != nil {
		return nil, err
	}

	meta := format.Metadata{Task: Task, Labels: g.Labels, Tokenizer: tokenizerMeta(cfg),
		Producer: format.Producer{Name: "edgetrain", Version: "dev"},
		Extra: []format.KeyValue{{Key: extraArch, Value: string(h.Arch)}, {Key: extraKind, Value: string(kind)},
			{Key: extraLabelCol, Value: labelCol}, {Key: extraTextCol, Value: textCol}}}
	exp := func(int8 bool, keep map[string]bool) (*format.Model, error) {
		e := train.NewExporter(int8)
		e.KeepF32 = keep
		e.M.Graph.Inputs = []format.ValueInfo{{Name: "ids", DType: format.I64, Shape: []int64{-1, int64(h.MaxLen)}}}
		out, err := m.Export(e, "ids")
		if err != nil {
			return nil, err
		}
		if kind == train.Binary {
			out = e.Node("sigmoid", "Sigmoid", []string{out})
		} else {
			out = e.Node("softmax", "Softmax", []string{out})
		}
		e.Output(out, outs)
		e.M.Metadata = meta
		e.M.Metadata.Labels = append([]string(nil), g.Labels...)
		return e.Finish()
	}
	fm, err := exp(false, nil)
	if err != nil {
		return nil, err
	}
	var quantizable []string
	for _, n := range fm.Graph.Nodes {
		switch n.Op {
		case "Embedding", "Dense", "LSTM", "GRU":
			quantizable = append(quantizable, n.Name)
		}
	}
	testTexts := make([]string, len(testRows))
	for i, r := range testRows {
		testTexts[i] = testTbl.Rows[r][ttc]
	}
	valTexts, yval := make([]string, len(valIdx)), make([]float64, len(valIdx))
	for i, k := range valIdx {
		valTexts[i], yval[i] = texts[k], ytr[k]
	}
	return &train.Trained{Kind: kind, Labels: g.Labels, MetricName: "accuracy", History: hist, Export: exp,
		Quantizable: quantizable, Test: evalSet(tok, testTexts, yte), Val: evalSet(tok, valTexts, yval)}, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// classes fits the label column's classes on rows: always a
// classification (a numeric label column with many values is still
// classes), two labels as [negative, positive] by csvdata's rule.
func classes(t *csvdata.Table, col int, rows []int) (*csvdata.Target, error) {
	g, err := csvdata.FitTarget(t, col, rows)
	if err != nil {
		return nil, fmt.Errorf("textcls: %w", err)
	}
	if !g.Regression {
		return g, nil
	}
	seen := map[string]bool{}
	var labels []string
	for _, r := range rows {
		s := strings.TrimSpace(t.Rows[r][col])
		if !csvdata.IsMissing(s) && !seen[s] {
			seen[s] = true
			labels = append(labels, s)
		}
	}
	sort.Slice(labels, func(i, j int) bool {
		a, _ := strconv.ParseFloat(labels[i], 64)
		b, _ := strconv.ParseFloat(labels[j], 64)
		if a != b {
			return a < b
		}
		return labels[i] < labels[j]
	})
	g, err = csvdata.NewTarget(t, t.Header[col], false, labels)
	if err != nil {
		return nil, fmt.Errorf("textcls: %w", err)
	}
	return g, nil
}

// encode tokenizes texts into a dataset of padded id sequences.
func encode(tok *text.Tokenizer, texts []string, y []float64) *train.Seqs {
	d := &train.Seqs{T: tok.MaxLen(), Pad: int(tok.PadID()), Y: y}
	var buf []int32
	for _, s := range texts {
		buf = tok.Encode(buf[:0], s)
		ids := make([]int, len(buf))
		for i, id := range buf {
			ids[i] = int(id)
		}
		d.IDs = append(d.IDs, ids)
	}
	return d
}

// evalBatch is the rows per engine Run in an EvalSet.
const evalBatch = 256

// evalSet tokenizes texts into engine inputs: ids i64 [n, MaxLen].
func evalSet(tok *text.Tokenizer, texts []string, y []float64) *train.EvalSet {
	s := &train.EvalSet{Y: y}
	t := tok.MaxLen()
	var buf []int32
	for lo := 0; lo < len(texts); lo += evalBatch {
		hi := min(lo+evalBatch, len(texts))
		in := &tensor.Tensor{DType: tensor.I64, Shape: tensor.Shape{hi - lo, t}, I64: make([]int64, 0, (hi-lo)*t)}
		for _, txt := range texts[lo:hi] {
			buf = tok.Encode(buf[:0], txt)
			for _, id := range buf {
				in.I64 = append(in.I64, int64(id))
			}
		}
		s.Batches = append(s.Batches, []*tensor.Tensor{in})
	}
	return s
}

func tokenizerMeta(c text.Config) *format.Tokenizer {
	return &format.Tokenizer{Kind: c.Kind, Lowercase: c.Lowercase, MaxLen: int64(c.MaxLen), Vocab: c.Vocab,
		Unknown: c.Unknown, Padding: c.Padding, NgramMin: int64(c.NgramMin), NgramMax: int64(c.NgramMax), Buckets: int64(c.Buckets)}
}

// EvalSet rebuilds the engine inputs and targets of the CSV at csvPath
// for a model this package saved: the tokenizer from the model's
// metadata, the text and label columns it was trained on (or o.TextCol,
// o.LabelCol), the labels in the model's order. With o.TestRows only
// those rows are used. Bad rows are an error with the line number, or
// skipped with o.SkipBadRows.
func EvalSet(fm *format.Model, csvPath string, o train.FitOptions) (*train.EvalSet, train.Kind, error) {
	md := &fm.Metadata
	if md.Tokenizer == nil {
		return nil, "", fmt.Errorf("textcls: the model has no tokenizer in its metadata")
	}
	textCol, labelCol := o.TextCol, o.LabelCol
	var kind train.Kind
	for _, kv := range md.Extra {
		switch kv.Key {
		case extraKind:
			kind = train.Kind(kv.Value)
		case extraTextCol:
			textCol = orDefault(textCol, kv.Value)
		case extraLabelCol:
			labelCol = orDefault(labelCol, kv.Value)
		}
	}
	textCol, labelCol = orDefault(textCol, DefaultTextCol), orDefault(labelCol, DefaultLabelCol)
	if kind == "" {
		kind = train.Multiclass
		if len(md.Labels) == 2 {
			kind = train.Binary
		}
	}
	t := md.Tokenizer
	tok, err := text.New(text.Config{Kind: t.Kind, Lowercase: t.Lowercase, MaxLen: int(t.MaxLen), Vocab: t.Vocab,
		Unknown: t.Unknown, Padding: t.Padding, NgramMin: int(t.NgramMin), NgramMax: int(t.NgramMax), Buckets: int(t.Buckets)})
	if err != nil {
		return nil, "", fmt.Errorf("textcls: the model's tokenizer: %w", err)
	}
	if tok.MaxLen() <= 0 {
		return nil, "", fmt.Errorf("textcls: the model's tokenizer has no max_len")
	}
	tbl, err := csvdata.Read(csvPath, o.SkipBadRows)
	if err != nil {
		return nil, "", err
	}
	if tbl.Skipped > 0 {
		o.Log("%s: skipped %d bad rows", csvPath, tbl.Skipped)
	}
	tc, err := tbl.Col(textCol)
	if err != nil {
		return nil, "", fmt.Errorf("textcls: %s: the text column: %w", csvPath, err)
	}
	g, err := csvdata.NewTarget(tbl, labelCol, false, md.Labels)
	if err != nil {
		return nil, "", fmt.Errorf("textcls: %s: %w", csvPath, err)
	}
	rows, y, skipped, err := g.EvalRows(tbl, o.TestRows, o.SkipBadRows)
	if err != nil {
		return nil, "", err
	}
	if skipped > 0 {
		o.Log("%s: skipped %d rows with a bad label", csvPath, skipped)
	}
	if len(rows) == 0 {
		return nil, "", fmt.Errorf("textcls: %s: no rows to evaluate", csvPath)
	}
	texts := make([]string, len(rows))
	for i, r := range rows {
		texts[i] = tbl.Rows[r][tc]
	}
	return evalSet(tok, texts, y), kind, nil
}
