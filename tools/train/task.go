package train

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// Kind is the kind of supervised problem a recipe solves; it decides the
// loss, the output activation the export appends, and the metrics.
type Kind string

// The kinds.
const (
	Binary      Kind = "binary"      // one sigmoid output: P(positive)
	Multiclass  Kind = "multiclass"  // softmax over the labels
	Regression  Kind = "regression"  // one value
	Recommender Kind = "recommender" // a score per (user, item); ranked
)

// MainMetric is the figure a model of kind k is judged by by default:
// roc_auc (Binary), rmse (Regression), hit_rate_at_10 (Recommender),
// accuracy (Multiclass).
func (k Kind) MainMetric() string {
	switch k {
	case Binary:
		return "roc_auc"
	case Regression:
		return "rmse"
	case Recommender:
		return "hit_rate_at_10"
	}
	return "accuracy"
}

// Trained is what a recipe (tabular, text, recommender, image, sensor)
// returns: the trained model, able to export itself, and its test split in
// the engine's input form.
type Trained struct {
	Kind       Kind
	Labels     []string // class names in output order (Binary: the positive class)
	MetricName string   // the main metric, e.g. "accuracy", "roc_auc", "rmse", "hit_rate_at_10"
	History    []EpochStats
	// Export writes the model: int8 (quantization v1) with the nodes named
	// in keepF32 left f32, or all f32; metadata (task, labels, tokenizer,
	// features, normalisation, producer) included. The output of the
	// graph is what Score takes: probabilities (Binary, Multiclass), a
	// value (Regression) or a score (Recommender).
	Export func(int8 bool, keepF32 map[string]bool) (*format.Model, error)
	// Quantizable names the nodes whose weights int8 export quantizes, in
	// graph order: the candidates for a per-layer f32 fallback.
	Quantizable []string
	// Test is the held-out split: what the report prints.
	Test *EvalSet
	// Val is the validation split (held out of the training rows, never
	// the test split): what choices after training, such as the int8
	// fallback of `edgetrain fit --max-drop`, are made on. ScoreVal
	// scores it.
	Val *EvalSet
	// Evaluate, when set, scores an exported model instead of
	// EvalEngine(fm, Kind, Test): for recipes with several test sets
	// (the recommender's leave-one-out ranking and its 80/20 split).
	Evaluate func(fm *format.Model, opts ...engine.Option) (Metrics, *Report, error)
	// ValMetric, when set, is the main metric on Val when it differs
	// from MetricName (the recommender: MetricName hit_rate_at_10 on its
	// leave-one-out test, roc_auc on its validation pairs).
	ValMetric string
	// EvaluateVal, when set, scores an exported model on the validation
	// split instead of EvalEngine(fm, Kind, Val) (recipes whose splits
	// are not EvalSets: knowledge tracing's held-out students).
	EvaluateVal func(fm *format.Model, opts ...engine.Option) (Metrics, error)
	// Baselines are simpler models' figures on the same test split (name
	// → metrics), which the report prints beside the model's: what the
	// model buys over them.
	Baselines map[string]Metrics
}

// ErrNoValidation is returned by ScoreVal for a Trained without a
// validation split.
var ErrNoValidation = errors.New("train: the model has no validation split")

// Score evaluates an exported model of t on its test split through the
// engine.
func (t *Trained) Score(fm *format.Model, opts ...engine.Option) (Metrics, *Report, error) {
	if t.Evaluate != nil {
		return t.Evaluate(fm, opts...)
	}
	return EvalEngine(fm, t.Kind, t.Test, opts...)
}

// ScoreVal evaluates an exported model of t on its validation split
// through the engine, and names the main metric there (ValMetric, else
// MetricName). Without a validation split it returns ErrNoValidation.
func (t *Trained) ScoreVal(fm *format.Model, opts ...engine.Option) (Metrics, string, error) {
	name := t.MetricName
	if t.ValMetric != "" {
		name = t.ValMetric
	}
	if t.EvaluateVal != nil {
		met, err := t.EvaluateVal(fm, opts...)
		if err != nil {
			return nil, "", fmt.Errorf("train: validation split: %w", err)
		}
		return met, name, nil
	}
	if t.Val == nil || len(t.Val.Y) == 0 {
		return nil, "", ErrNoValidation
	}
	met, _, err := EvalEngine(fm, t.Kind, t.Val, opts...)
	if err != nil {
		return nil, "", fmt.Errorf("train: validation split: %w", err)
	}
	return met, name, nil
}

// EvalSet is a split ready for the engine: one batch of inputs per Run
// (each a tensor with a leading batch dimension), the targets in row
// order, and for rankings the group size (each group of GroupSize rows is
// one user's candidates, the first of them the held-out positive).
type EvalSet struct {
	Batches   [][]*tensor.Tensor
	Y         []float64
	GroupSize int
}

// Metrics are named figures: accuracy, macro_f1, roc_auc, pr_auc, rmse,
// hit_rate_at_10 (those that apply to the kind).
type Metrics map[string]float64

// EngineOutputs loads fm into the device engine and returns the rows of
// its first output for every batch of set, in order, as EvalEngine scores
// them (the same checks: one row per target, every value finite).
func EngineOutputs(fm *format.Model, set *EvalSet, opts ...engine.Option) ([][]float64, error) {
	m, err := engine.Load(fm)
	if err != nil {
		return nil, err
	}
	s := m.NewSession(opts...)
	defer s.Close()
	var out [][]float64
	for i, in := range set.Batches {
		res, err := s.Run(in)
		if err != nil {
			return nil, fmt.Errorf("train: evaluation batch %d: %w", i, err)
		}
		y := res[0]
		cols := 1
		if len(y.Shape) > 1 {
			cols = y.Shape[len(y.Shape)-1]
		}
		for r := 0; r+cols <= len(y.F32); r += cols {
			row := make([]float64, cols)
			for j, v := range y.F32[r : r+cols] {
				row[j] = float64(v)
			}
			out = append(out, row)
		}
	}
	if len(out) != len(set.Y) {
		return nil, fmt.Errorf("train: evaluation gave %d outputs for %d targets", len(out), len(set.Y))
	}
	for i, row := range out {
		for _, v := range row {
			if !finite(v) {
				return nil, nonFinite(i, v)
			}
		}
	}
	return out, nil
}

// EvalEngine loads fm into the device engine, runs set through it (one
// thread unless opts say otherwise; engine.WithF32 runs int8 layers on
// their dequantized weights) and scores the outputs: what is measured is
// what ships. An output that is NaN or ±Inf is an error wrapping
// ErrNonFinite, not a metric.
func EvalEngine(fm *format.Model, kind Kind, set *EvalSet, opts ...engine.Option) (Metrics, *Report, error) {
	out, err := EngineOutputs(fm, set, opts...)
	if err != nil {
		return nil, nil, err
	}
	met, rep := Score(kind, out, set.Y, set.GroupSize)
	return met, rep, nil
}

// FitOptions is what `edgetrain fit` passes every recipe.
type FitOptions struct {
	// Data is the training CSV (with a header). Test, when set, is a
	// separate test CSV. Otherwise TestRows (0-based data-row indices, one
	// per line) pick the test rows out of Data; the CLI fills it with the
	// test_rows.txt found beside Data. Without either, a seeded stratified
	// 20 % of Data is the test split. Validation always comes out of the
	// training rows (10 %, stratified for classification).
	Data, Test, TestRows string
	// Column choices: Target (tabular), TextCol and LabelCol (text),
	// UserCol, ItemCol and RatingCol (recommender). Empty: the recipe's
	// documented default.
	Target, TextCol, LabelCol, UserCol, ItemCol, RatingCol string
	// Other (text) are files of out-of-domain text, one line each, added
	// to the training rows as the extra class "_other_" (out of scope).
	Other []string
	// Ngrams (text) > 1 makes the text recipe hash words and word n-grams
	// up to that length into buckets; 0 is the recipe's default (words).
	Ngrams int
	// TextArch (text) is the model: "" or "bag" (embeddings averaged),
	// "lstm" or "gru" (Embedding → recurrent layer over the word
	// vocabulary); Bidirectional runs the recurrent layer both ways.
	// MinCount > 1 drops words seen fewer times in the training rows from
	// the word vocabulary (they become the unknown id); 0 is the default.
	TextArch      string
	Bidirectional bool
	MinCount      int
	// StudentCol, SkillCol, CorrectCol, OrderCol and SplitCol (knowledge
	// tracing) name the answer log's columns; empty: the recipe's
	// defaults (student, skill, correct, step, split; the last two used
	// when present).
	StudentCol, SkillCol, CorrectCol, OrderCol, SplitCol string
	// Epochs 0 means the recipe's default (EpochsOr); negative is an
	// error. Seed seeds everything.
	Epochs int
	Seed   uint64
	// SkipBadRows skips rows that cannot be parsed (counted in the log)
	// instead of failing with the line number.
	SkipBadRows bool
	// OnEpoch and OnBatch report progress (may be nil).
	OnEpoch func(EpochStats)
	OnBatch func(done, total int)
	// Logf prints notes (skipped rows, class weights, splits); may be nil.
	Logf func(format string, args ...any)
}

// EpochsOr is the number of epochs to train: o.Epochs, or def when
// o.Epochs is 0 (the recipe's default). A negative count is an error.
func (o *FitOptions) EpochsOr(def int) (int, error) {
	switch {
	case o.Epochs < 0:
		return 0, fmt.Errorf("train: epochs must be at least 1 (got %d)", o.Epochs)
	case o.Epochs == 0:
		return def, nil
	}
	return o.Epochs, nil
}

// Log calls o.Logf when set.
func (o *FitOptions) Log(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

// ReadTestRows reads a test_rows.txt file: 0-based data-row indices, one
// per line (blank lines ignored).
func ReadTestRows(path string) (map[int]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rows := map[int]bool{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		n, err := strconv.Atoi(line)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s:%d: %q is not a row index", path, i+1, line)
		}
		rows[n] = true
	}
	return rows, nil
}
