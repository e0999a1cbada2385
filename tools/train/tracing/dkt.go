package tracing

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/tools/train"
	"gonum.org/v1/gonum/mat"
)

// Task is the format.Metadata.Task of a knowledge-tracing model.
const Task = "knowledge-tracing"

// The graph's values. A model reads a learner's answers as ids
// (AnswerID, 0 pads) with the LSTM state it starts from, and writes the
// probability of a correct next answer on every skill after each answer
// with the state after the last one.
const (
	InputAnswers = "answers" // i64 [B, T]: AnswerID of each answer, 0 = padding
	InputH       = "h_in"    // f32 [B, H]: the LSTM's hidden state before the first answer
	InputC       = "c_in"    // f32 [B, H]: its cell state
	OutputP      = "p_correct"
	OutputH      = "h_out"
	OutputC      = "c_out"
)

// Metadata Extra keys of a tracing model.
const (
	MetaSkills = "tracing_skills" // the number of skills K (ids 0..K-1)
	MetaHidden = "tracing_hidden" // the LSTM's state size H
)

// AnswerID is the model's input id of an answer: 1 + 2·skill + correct
// (0 is padding).
func AnswerID(skill int32, correct bool) int64 {
	id := 1 + 2*int64(skill)
	if correct {
		id++
	}
	return id
}

// Config is a DKT training run.
type Config struct {
	Hidden int // LSTM state size (128, as the DKT paper's)
	Embed  int // answer embedding size (64)
	// Window is the length of the training windows: a long sequence is
	// cut into windows of Window targets, and each window starts from the
	// zero state (the state is restarted, not carried, between windows in
	// training; evaluation and the device carry it through the whole
	// sequence).
	Window    int
	BatchSize int     // 32
	Epochs    int     // 15
	LR        float64 // Adam's, 1e-3
	Patience  int     // epochs without a better validation loss before stopping (3)
	ValShare  float64 // share of the training students held out for validation (0.1)
	Seed      uint64
	// OnEpoch and OnBatch report progress (may be nil).
	OnEpoch func(train.EpochStats)
	OnBatch func(done, total int)
}

// DefaultConfig is the DKT paper's model with the reference's training.
func DefaultConfig() Config {
	return Config{Hidden: 128, Embed: 64, Window: 200, BatchSize: 32, Epochs: 15, LR: 1e-3, Patience: 3, ValShare: 0.1, Seed: 1}
}

// DKT is a trained Deep Knowledge Tracing model: Embedding of answers →
// LSTM → Dense with a sigmoid per skill.
type DKT struct {
	Skills  int
	Cfg     Config
	emb     *train.Embedding
	rnn     *train.Recurrent
	out     *train.PickDense
	model   *train.Sequential
	History []train.EpochStats
	// Val are the training students held out for validation.
	Val []*Sequence
}

// windows are training examples: per window the input answer ids and the
// next answer (skill, correct) each step predicts.
type windows struct {
	ids   [][]int
	skill [][]int32
	ok    [][]bool
}

func makeWindows(seqs []*Sequence, w int) *windows {
	d := &windows{}
	for _, s := range seqs {
		n := s.Len() - 1 // targets 1..n
		for st := 0; st < n; st += w {
			e := min(st+w, n)
			ids := make([]int, e-st)
			for j := st; j < e; j++ {
				ids[j-st] = int(AnswerID(s.Skills[j], s.Correct[j]))
			}
			d.ids = append(d.ids, ids)
			d.skill = append(d.skill, s.Skills[st+1:e+1])
			d.ok = append(d.ok, s.Correct[st+1:e+1])
		}
	}
	return d
}

func (d *windows) Len() int { return len(d.ids) }

// Batch pads the windows idx to the longest; each row (b·T + t) picks
// the next answer's skill (−1 on padding), and its targets are two values:
// that skill and whether the answer was correct.
func (d *windows) Batch(idx []int) (*train.Batch, []float64) {
	t := 0
	for _, i := range idx {
		t = max(t, len(d.ids[i]))
	}
	ids := make([]int, len(idx)*t)
	mask := make([]float64, len(idx)*t)
	pick := make([]int, len(idx)*t)
	y := make([]float64, 2*len(idx)*t)
	for b, i := range idx {
		for s := 0; s < t; s++ {
			r := b*t + s
			if s >= len(d.ids[i]) {
				y[2*r], pick[r] = -1, -1
				continue
			}
			ids[r], mask[r] = d.ids[i][s], 1
			pick[r] = int(d.skill[i][s])
			y[2*r] = float64(d.skill[i][s])
			if d.ok[i][s] {
				y[2*r+1] = 1
			}
		}
	}
	return &train.Batch{IDs: ids, B: len(idx), T: t, Mask: mask, Pick: pick}, y
}

// buckets are training batches of windows of similar length (sorted by
// length, in groups of the batch size; fixed for the run), so that little
// of a batch is padding: an example of the dataset is one batch, and
// Fit shuffles their order every epoch.
type buckets struct {
	w      *windows
	groups [][]int
}

func makeBuckets(w *windows, size int, rng *rand.Rand) *buckets {
	order := rng.Perm(w.Len())
	sort.SliceStable(order, func(a, b int) bool { return len(w.ids[order[a]]) < len(w.ids[order[b]]) })
	bk := &buckets{w: w}
	for i := 0; i < len(order); i += size {
		bk.groups = append(bk.groups, order[i:min(i+size, len(order))])
	}
	return bk
}

func (b *buckets) Len() int { return len(b.groups) }

func (b *buckets) Batch(idx []int) (*train.Batch, []float64) {
	var all []int
	for _, i := range idx {
		all = append(all, b.groups[i]...)
	}
	return b.w.Batch(all)
}

// nextLoss is binary cross-entropy of the next answer on its skill's
// logit only (the other skills' outputs get no gradient), averaged over
// the valid steps.
type nextLoss struct{}

func (nextLoss) Eval(out *mat.Dense, y []float64, grad bool) (float64, *mat.Dense) {
	r, k := out.Dims()
	if len(y) != 2*r {
		panic(fmt.Sprintf("tracing: %d targets for %d rows", len(y), r))
	}
	o := out.RawMatrix()
	var g *mat.Dense
	if grad {
		g = mat.NewDense(r, k, nil)
	}
	col := func(i int) int { // the next skill's column: all of them, or the picked one
		if k == 1 {
			return 0
		}
		return int(y[2*i])
	}
	var s float64
	n := 0
	for i := 0; i < r; i++ {
		if y[2*i] >= 0 {
			n++
		}
	}
	if n == 0 {
		return 0, g
	}
	for i := 0; i < r; i++ {
		sk := int(y[2*i])
		if sk < 0 {
			continue
		}
		z, t := o.Data[i*o.Stride+col(i)], y[2*i+1]
		s += t*softplus(-z) + (1-t)*softplus(z)
		if grad {
			g.Set(i, col(i), (sigm(z)-t)/float64(n))
		}
	}
	return s / float64(n), g
}

func softplus(x float64) float64 {
	if x > 30 {
		return x
	}
	return math.Log1p(math.Exp(x))
}

func sigm(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// nextAccuracy is the share of valid steps whose next answer the logit's
// sign predicts.
func nextAccuracy(out *mat.Dense, y []float64) float64 {
	r, k := out.Dims()
	o := out.RawMatrix()
	ok, n := 0, 0
	for i := 0; i < r; i++ {
		sk := int(y[2*i])
		if sk < 0 {
			continue
		}
		n++
		if k == 1 {
			sk = 0
		}
		if (o.Data[i*o.Stride+sk] >= 0) == (y[2*i+1] == 1) {
			ok++
		}
	}
	if n == 0 {
		return 0
	}
	return float64(ok) / float64(n)
}

// FitDKT trains a DKT model on the training sequences: the students
// held out for validation (cfg.ValShare, seeded) pick the epoch whose
// weights are kept (early stopping on the validation loss).
func FitDKT(skills int, trainSeqs []*Sequence, cfg Config) (*DKT, error) {
	if skills < 1 {
		return nil, errors.New("tracing: no skills")
	}
	if cfg.Hidden < 1 || cfg.Embed < 1 || cfg.Window < 1 || cfg.BatchSize < 1 || cfg.Epochs < 1 {
		return nil, fmt.Errorf("tracing: hidden, embed, window, batch size and epochs must be positive (%d, %d, %d, %d, %d)", cfg.Hidden, cfg.Embed, cfg.Window, cfg.BatchSize, cfg.Epochs)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xd47))
	order := rng.Perm(len(trainSeqs))
	nv := int(math.Round(cfg.ValShare * float64(len(trainSeqs))))
	var tr, va []*Sequence
	for i, j := range order {
		if i < nv {
			va = append(va, trainSeqs[j])
		} else {
			tr = append(tr, trainSeqs[j])
		}
	}
	tw, vw := makeWindows(tr, cfg.Window), makeWindows(va, cfg.Window)
	if tw.Len() == 0 {
		return nil, errors.New("tracing: no training sequence has two answers")
	}
	m := &DKT{Skills: skills, Cfg: cfg, Val: va}
	m.emb = train.NewEmbedding(rng, 1+2*skills, cfg.Embed)
	m.rnn = train.NewLSTM(rng, cfg.Embed, cfg.Hidden, false, true)
	m.out = train.NewPickDense(rng, cfg.Hidden, skills)
	m.model = train.NewSequential(train.NewEmbeddingRecurrent(m.emb, m.rnn), m.out)
	var val train.Dataset
	if vw.Len() > 0 {
		val = vw
	}
	hist, err := train.Fit(m.model, nextLoss{}, train.NewAdam(), makeBuckets(tw, cfg.BatchSize, rng), val, train.Config{
		Epochs: cfg.Epochs, BatchSize: 1, Seed: cfg.Seed, LR: train.Constant(cfg.LR),
		Patience: cfg.Patience, ClipNorm: 5, Metric: nextAccuracy, MetricName: "acc",
		OnEpoch: cfg.OnEpoch, OnBatch: cfg.OnBatch,
	})
	m.History = hist
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Export writes the model for the engine: inputs answers, h_in, c_in;
// outputs p_correct [B, T, K] (after each answer, the probability that
// the next answer on each skill is correct), h_out and c_out (the state
// after the last valid answer of each row: what a device keeps per
// learner). int8 quantizes the embedding table, the LSTM's and the
// output layer's weights (quantization v1), except layers in keepF32.
func (m *DKT) Export(int8 bool, keepF32 map[string]bool) (*format.Model, error) {
	e := train.NewExporter(int8)
	e.KeepF32 = keepF32
	h := int64(m.Cfg.Hidden)
	e.M.Graph.Inputs = []format.ValueInfo{
		{Name: InputAnswers, DType: format.I64, Shape: []int64{-1, -1}},
		{Name: InputH, DType: format.F32, Shape: []int64{-1, h}},
		{Name: InputC, DType: format.F32, Shape: []int64{-1, h}},
	}
	x, err := m.emb.Export(e, InputAnswers)
	if err != nil {
		return nil, err
	}
	y, err := m.rnn.ExportState(e, x, InputH, InputC, OutputH, OutputC)
	if err != nil {
		return nil, err
	}
	w := e.Matrix("dense/w", m.out.W)
	b := e.Vector("dense/b", m.out.B.W)
	e.M.Graph.Nodes = append(e.M.Graph.Nodes, format.Node{Name: "dense", Op: "Dense", Inputs: []string{y, w, b},
		Outputs: []string{OutputP}, Attrs: []format.Attr{train.StrAttr("activation", "sigmoid")}})
	k := int64(m.Skills)
	e.M.Graph.Outputs = []format.ValueInfo{
		{Name: OutputP, DType: format.F32, Shape: []int64{-1, -1, k}},
		{Name: OutputH, DType: format.F32, Shape: []int64{-1, h}},
		{Name: OutputC, DType: format.F32, Shape: []int64{-1, h}},
	}
	e.M.Metadata = format.Metadata{Task: Task,
		Extra: []format.KeyValue{{Key: MetaHidden, Value: strconv.Itoa(m.Cfg.Hidden)}, {Key: MetaSkills, Value: strconv.Itoa(m.Skills)}}}
	return e.Finish()
}

// Quantizable names the nodes int8 export quantizes.
func (m *DKT) Quantizable() []string { return []string{"embedding", "lstm", "dense"} }

// ModelInfo reads a tracing model's skills and state size from its
// metadata.
func ModelInfo(fm *format.Model) (skills, hidden int, err error) {
	if fm.Metadata.Task != Task {
		return 0, 0, fmt.Errorf("tracing: the model's task is %q, not %q", fm.Metadata.Task, Task)
	}
	get := func(key string) (int, error) {
		for _, kv := range fm.Metadata.Extra {
			if kv.Key == key {
				v, err := strconv.Atoi(kv.Value)
				if err != nil || v < 1 || v > MaxSkill {
					return 0, fmt.Errorf("tracing: metadata %s is %q, want a positive count", key, kv.Value)
				}
				return v, nil
			}
		}
		return 0, fmt.Errorf("tracing: the model has no %s metadata", key)
	}
	if skills, err = get(MetaSkills); err != nil {
		return 0, 0, err
	}
	if hidden, err = get(MetaHidden); err != nil {
		return 0, 0, err
	}
	return skills, hidden, nil
}

// PredictEngine runs the sequences sel picks through the engine, each
// from the zero state with the state carried through the whole sequence
// (one Run per sequence), and returns every answer at position ≥ 1
// predicted from the answers before it, in the order of Predict.
func PredictEngine(fm *format.Model, d *Data, sel func(*Sequence) bool, opts ...engine.Option) (Predictions, error) {
	skills, hidden, err := ModelInfo(fm)
	if err != nil {
		return Predictions{}, err
	}
	em, err := engine.Load(fm)
	if err != nil {
		return Predictions{}, err
	}
	s := em.NewSession(opts...)
	defer s.Close()
	var p Predictions
	zero := make([]float32, hidden)
	for i := range d.Seqs {
		q := &d.Seqs[i]
		if !sel(q) || q.Len() < 2 {
			continue
		}
		n := q.Len() - 1
		ids := make([]int64, n)
		for j := 0; j < n; j++ {
			ids[j] = AnswerID(q.Skills[j], q.Correct[j])
		}
		for j := 1; j <= n; j++ {
			if int(q.Skills[j]) >= skills {
				return Predictions{}, fmt.Errorf("tracing: student %s answers skill %d, the model knows %d", q.Student, q.Skills[j], skills)
			}
		}
		out, err := s.Run([]*tensor.Tensor{
			{DType: tensor.I64, Shape: tensor.Shape{1, n}, I64: ids},
			{DType: tensor.F32, Shape: tensor.Shape{1, hidden}, F32: zero},
			{DType: tensor.F32, Shape: tensor.Shape{1, hidden}, F32: zero},
		})
		if err != nil {
			return Predictions{}, fmt.Errorf("tracing: student %s: %w", q.Student, err)
		}
		pc := out[0].F32
		for j := 1; j <= n; j++ {
			v := float64(pc[(j-1)*skills+int(q.Skills[j])])
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return Predictions{}, fmt.Errorf("tracing: student %s answer %d: %w", q.Student, j, train.ErrNonFinite)
			}
			y := 0.0
			if q.Correct[j] {
				y = 1
			}
			p.P = append(p.P, v)
			p.Y = append(p.Y, y)
		}
	}
	return p, nil
}

// Score is the field's figures of predictions: ROC AUC, accuracy at 0.5
// and RMSE of the probability.
func (p Predictions) Score() train.Metrics {
	if len(p.P) == 0 {
		return train.Metrics{}
	}
	var ok int
	var se float64
	for i, v := range p.P {
		if (v >= 0.5) == (p.Y[i] == 1) {
			ok++
		}
		se += (v - p.Y[i]) * (v - p.Y[i])
	}
	n := float64(len(p.P))
	return train.Metrics{"roc_auc": train.ROCAUC(p.P, p.Y), "accuracy": float64(ok) / n, "rmse": math.Sqrt(se / n)}
}
