package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
	"github.com/edgerun/edgerun/tools/train"
)

// fitCmd is `edgetrain fit`.
type fitCmd struct {
	Task        string   `name:"task" required:"" enum:"tabular,text,recommender,ratings,image,sensor,audio,tracing" help:"What to train: tabular (MLP classifier/regressor), text (classifier), recommender (implicit-feedback ranking), ratings (rating regressor), image (small grayscale images), sensor (windows of multichannel numbers), audio (keyword spotting from a manifest of WAV clips), tracing (knowledge tracing from a log of students' answers)."`
	Data        string   `name:"data" required:"" placeholder:"TRAIN.csv" help:"Training CSV with a header (audio: a manifest, columns file,label[,speaker])."`
	Test        string   `name:"test" placeholder:"TEST.csv" help:"Separate test CSV (default: the rows in --test-rows, else a seeded stratified 20 % of --data)."`
	TestRows    string   `name:"test-rows" placeholder:"FILE" help:"0-based data-row indices of the test split, one per line (default: test_rows.txt beside --data when present)."`
	Target      string   `name:"target" placeholder:"COL" help:"Target column (tabular, image, sensor; default the last column, or label for images when there is one)."`
	TextCol     string   `name:"text-col" placeholder:"COL" help:"Text column (text; default text)."`
	LabelCol    string   `name:"label-col" placeholder:"COL" help:"Label column (text; default label)."`
	UserCol     string   `name:"user-col" placeholder:"COL" help:"User column (recommender; default userId)."`
	ItemCol     string   `name:"item-col" placeholder:"COL" help:"Item column (recommender; default movieId)."`
	Other       []string `name:"other" placeholder:"FILE" help:"Text: out-of-domain text, one line each, trained as the extra class _other_ (the model then answers _other_ for out-of-scope input). Audio: a manifest of other speech, trained as _unknown_ (its _noise_ rows as background noise, its command words kept for the real-speech check). Repeat for several files."`
	RatingCol   string   `name:"rating-col" placeholder:"COL" help:"Rating column (recommender; default rating)."`
	StudentCol  string   `name:"student-col" placeholder:"COL" help:"Student column (tracing; default student)."`
	SkillCol    string   `name:"skill-col" placeholder:"COL" help:"Skill column, integer ids from 0 (tracing; default skill)."`
	CorrectCol  string   `name:"correct-col" placeholder:"COL" help:"Correct column, 0/1 (tracing; default correct)."`
	OrderCol    string   `name:"order-col" placeholder:"COL" help:"Order of a student's answers, integers (tracing; default step when present, else the file's order)."`
	SplitCol    string   `name:"split-col" placeholder:"COL" help:"Split column, train/test by student (tracing; default split when present, else a seeded 20 % of the students)."`
	Out         string   `name:"out" required:"" placeholder:"MODEL.erm" help:"Model file to write; replaced atomically."`
	Ngrams      int      `name:"ngrams" placeholder:"N" help:"Text: hash words and word n-grams up to N words (2: words and word pairs) instead of a word vocabulary (default: words)."`
	Arch        string   `name:"arch" placeholder:"ARCH" help:"Text: the model, bag (word embeddings averaged; the default), lstm or gru (Embedding → recurrent layer over the word vocabulary)."`
	Bidir       bool     `name:"bidirectional" help:"Text: run the lstm or gru layer both ways."`
	MinCount    int      `name:"min-count" placeholder:"N" help:"Text: words seen fewer than N times in the training rows become the unknown word (a word vocabulary; default 1: keep all)."`
	Epochs      *int     `name:"epochs" placeholder:"N" help:"Training epochs, at least 1 (default: the task's)."`
	Seed        uint64   `name:"seed" default:"1" help:"Seed of everything: same data, options and seed give the same file."`
	Quantize    string   `name:"quantize" enum:"int8,none" default:"int8" help:"Export int8 weights (quantization v1) or keep f32."`
	MaxDrop     float64  `name:"max-drop" default:"1" help:"Largest loss of the main test metric int8 may cost, in points (0.01 of accuracy/AUC; 1 % of RMSE), 0 or more. Beyond it layers are kept f32 one by one; if that is not enough the export is refused unless --force."`
	Force       bool     `name:"force" help:"Write the int8 model even when it loses more than --max-drop."`
	SkipBadRows bool     `name:"skip-bad-rows" help:"Skip rows that cannot be parsed (counted) instead of failing."`
	Codec       string   `name:"codec" enum:"zstd,s2,none" default:"zstd" help:"Payload compression."`
	Plot        string   `name:"plot" placeholder:"FILE.png" help:"Write loss and metric curves per epoch as a PNG."`
	JSON        bool     `name:"json" help:"Print one JSON object (the figures) on stdout; progress goes to stderr."`
	NoProgress  bool     `name:"no-progress" help:"No progress bar (it is off anyway when stderr is not a terminal)."`
}

// fitReport is the JSON form of fit's result. Field names are part of the
// CLI's contract: add fields, never rename them.
type fitReport struct {
	File        string                   `json:"file"`
	Task        string                   `json:"task"`
	Kind        string                   `json:"kind"`
	Seed        uint64                   `json:"seed"`
	Epochs      int                      `json:"epochs"`
	EpochMS     float64                  `json:"epoch_ms_median"`
	MainMetric  string                   `json:"main_metric"`
	F32         map[string]float64       `json:"f32"`
	Int8        map[string]float64       `json:"int8,omitempty"`
	KeptF32     []string                 `json:"kept_f32,omitempty"`
	Quantize    string                   `json:"quantize"`
	FileBytes   int64                    `json:"file_bytes"`
	History     []epochJSON              `json:"history"`
	Labels      []string                 `json:"labels,omitempty"`
	Report      *train.Report            `json:"report,omitempty"`
	Baselines   map[string]train.Metrics `json:"baselines,omitempty"`
	DataSHA256  string                   `json:"data_sha256"`
	DurationSec float64                  `json:"duration_s"`
}

type epochJSON struct {
	Epoch     int     `json:"epoch"`
	Loss      float64 `json:"loss"`
	Metric    float64 `json:"metric"`
	ValLoss   float64 `json:"val_loss,omitempty"`
	ValMetric float64 `json:"val_metric,omitempty"`
	Seconds   float64 `json:"seconds"`
}

// Run trains, evaluates through the engine, quantizes and writes.
func (c *fitCmd) Run(env *cliutil.Env) error {
	start := time.Now()
	r, ok := recipes[c.Task]
	if !ok {
		return fmt.Errorf("fit: task %q is not built into this edgetrain", c.Task)
	}
	epochs := 0 // the recipe's default
	if c.Epochs != nil {
		if *c.Epochs < 1 {
			return fmt.Errorf("fit: --epochs must be at least 1 (got %d)", *c.Epochs)
		}
		epochs = *c.Epochs
	}
	if err := checkMaxDrop(c.MaxDrop); err != nil {
		return fmt.Errorf("fit: %w", err)
	}
	if len(c.Other) > 0 && c.Task != "text" && c.Task != "audio" {
		return fmt.Errorf("fit: --other is for --task text and audio (got --task %s)", c.Task)
	}
	for _, f := range []struct {
		name string
		set  bool
	}{{"--ngrams", c.Ngrams != 0}, {"--arch", c.Arch != ""}, {"--bidirectional", c.Bidir}, {"--min-count", c.MinCount != 0}} {
		if f.set && c.Task != "text" {
			return fmt.Errorf("fit: %s is for --task text, not %s", f.name, c.Task)
		}
	}
	codec, err := format.ParseCodec(c.Codec)
	if err != nil {
		return err
	}
	log := env.Stdout
	if c.JSON {
		log = env.Stderr
	}
	o := train.FitOptions{Data: c.Data, Test: c.Test, TestRows: c.TestRows, Target: c.Target, TextCol: c.TextCol,
		LabelCol: c.LabelCol, Other: c.Other, Ngrams: c.Ngrams, TextArch: c.Arch, Bidirectional: c.Bidir, MinCount: c.MinCount, UserCol: c.UserCol, ItemCol: c.ItemCol, RatingCol: c.RatingCol, Epochs: epochs,
		StudentCol: c.StudentCol, SkillCol: c.SkillCol, CorrectCol: c.CorrectCol, OrderCol: c.OrderCol, SplitCol: c.SplitCol,
		Seed: c.Seed, SkipBadRows: c.SkipBadRows}
	if o.Test == "" && o.TestRows == "" {
		if p := filepath.Join(filepath.Dir(c.Data), "test_rows.txt"); fileExists(p) {
			o.TestRows = p
			fmt.Fprintf(log, "test split: the rows listed in %s\n", p)
		}
	}
	o.Logf = func(f string, args ...any) { fmt.Fprintf(log, f+"\n", args...) }
	bar := newBar(env.Stderr, c.NoProgress)
	o.OnBatch = func(done, total int) { bar.step(done, total) }
	o.OnEpoch = func(s train.EpochStats) {
		bar.clear()
		fmt.Fprintln(log, s.String(""))
	}
	tr, err := r.fit(o)
	bar.clear()
	if err != nil {
		return fmt.Errorf("fit: %w", err)
	}
	rep := fitReport{File: c.Out, Task: c.Task, Kind: string(tr.Kind), Seed: c.Seed, Epochs: len(tr.History),
		MainMetric: tr.MetricName, Quantize: c.Quantize, Labels: tr.Labels, Baselines: tr.Baselines}
	rep.DataSHA256, err = fingerprint(append([]string{c.Data, c.Test}, c.Other...)...)
	if err != nil {
		return err
	}
	var secs []float64
	for _, h := range tr.History {
		rep.History = append(rep.History, epochJSON{h.Epoch, h.Loss, h.Metric, h.ValLoss, h.ValMetric, h.Duration.Seconds()})
		secs = append(secs, h.Duration.Seconds()*1000)
	}
	rep.EpochMS = median(secs)

	// Evaluate the exported f32 model through the engine.
	f32m, err := tr.Export(false, nil)
	if err != nil {
		return fmt.Errorf("fit: export: %w", err)
	}
	f32met, f32rep, err := tr.Score(f32m)
	if err != nil {
		return fmt.Errorf("fit: evaluating the f32 export: %w", err)
	}
	rep.F32, rep.Report = f32met, f32rep
	final := f32m
	if c.Quantize == "int8" {
		final, rep.Int8, rep.KeptF32, err = c.quantize(tr, f32m, log)
		if err != nil {
			return err
		}
	}
	addMetrics(final, "f32", rep.F32)
	addMetrics(final, "int8", rep.Int8)
	final.Metadata.DataFingerprint = "sha256:" + rep.DataSHA256
	final.Metadata.Producer = format.Producer{Name: "edgetrain", Version: env.Version}
	if len(rep.KeptF32) > 0 {
		final.Metadata.Extra = append(final.Metadata.Extra, format.KeyValue{Key: "kept_f32", Value: strings.Join(rep.KeptF32, ",")})
	}
	if err := format.WriteFile(c.Out, final, format.WithCodec(codec)); err != nil {
		return fmt.Errorf("fit: %w", err)
	}
	if fi, err := os.Stat(c.Out); err == nil {
		rep.FileBytes = fi.Size()
	}
	if c.Plot != "" {
		if err := plotHistory(c.Plot, tr.History, tr.MetricName); err != nil {
			return fmt.Errorf("fit: plot: %w", err)
		}
	}
	rep.DurationSec = time.Since(start).Seconds()
	if c.JSON {
		return cliutil.WriteJSON(env.Stdout, rep)
	}
	printReport(env.Stdout, tr.Kind, tr.Labels, rep.F32, rep.Int8, rep.Report)
	printBaselines(env.Stdout, tr.Baselines, rep.F32)
	if len(rep.KeptF32) > 0 {
		fmt.Fprintf(env.Stdout, "kept f32 (int8 cost too much): %s\n", strings.Join(rep.KeptF32, ", "))
	}
	_, err = fmt.Fprintf(env.Stdout, "wrote %s (%s, %s, %d bytes) in %.1fs\n", c.Out, c.Task, c.Quantize, rep.FileBytes, rep.DurationSec)
	return err
}

// quantize exports int8 and, when the main metric drops more than
// --max-drop, keeps layers f32 (most sensitive first) until it does not.
// Every drop is measured on the validation split (tr.ScoreVal), never on
// the test split; the test figures of the model chosen are returned for
// the report.
func (c *fitCmd) quantize(tr *train.Trained, f32m *format.Model, log io.Writer) (*format.Model, train.Metrics, []string, error) {
	f32val, main, err := tr.ScoreVal(f32m)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("fit: evaluating the f32 export: %w", err)
	}
	eval := func(keep map[string]bool) (*format.Model, float64, error) {
		m, err := tr.Export(true, keep)
		if err != nil {
			return nil, 0, fmt.Errorf("fit: int8 export: %w", err)
		}
		met, _, err := tr.ScoreVal(m)
		if err != nil {
			return nil, 0, fmt.Errorf("fit: evaluating the int8 export: %w", err)
		}
		return m, metricDrop(main, f32val, met), nil
	}
	done := func(m *format.Model, kept []string) (*format.Model, train.Metrics, []string, error) {
		met, _, err := tr.Score(m)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("fit: evaluating the int8 export: %w", err)
		}
		return m, met, kept, nil
	}
	m, drop, err := eval(nil)
	if err != nil {
		return nil, nil, nil, err
	}
	if drop <= c.MaxDrop || len(tr.Quantizable) == 0 {
		if drop > c.MaxDrop && !c.Force {
			return nil, nil, nil, fmt.Errorf("fit: int8 loses %.2f points of validation %s (limit --max-drop %g) and no layer can stay f32; use --quantize none or --force", drop, main, c.MaxDrop)
		}
		return done(m, nil)
	}
	fmt.Fprintf(log, "int8 loses %.2f points of validation %s (limit %g): trying layers in f32\n", drop, main, c.MaxDrop)
	// Sensitivity of each layer alone, then keep the most sensitive until
	// the drop is within the limit.
	type sens struct {
		name string
		gain float64
	}
	var ss []sens
	for _, l := range tr.Quantizable {
		_, ld, err := eval(map[string]bool{l: true})
		if err != nil {
			return nil, nil, nil, err
		}
		ss = append(ss, sens{l, drop - ld})
	}
	sort.SliceStable(ss, func(i, j int) bool { return ss[i].gain > ss[j].gain })
	keep := map[string]bool{}
	var kept []string
	for _, s := range ss {
		keep[s.name] = true
		kept = append(kept, s.name)
		if m, drop, err = eval(keep); err != nil {
			return nil, nil, nil, err
		}
		fmt.Fprintf(log, "  %s kept f32: int8 now loses %.2f points of validation %s\n", s.name, drop, main)
		if drop <= c.MaxDrop {
			return done(m, kept)
		}
	}
	if !c.Force {
		return nil, nil, nil, fmt.Errorf("fit: int8 loses %.2f points of validation %s even with every layer f32 but the inputs (limit --max-drop %g); use --quantize none or --force", drop, main, c.MaxDrop)
	}
	return done(m, kept)
}

// checkMaxDrop refuses a --max-drop that is negative or not a number (a
// comparison with NaN is always false: every model would be refused).
func checkMaxDrop(v float64) error {
	if !(v >= 0) || math.IsInf(v, 1) {
		return fmt.Errorf("--max-drop must be a number of points, 0 or more (got %v)", v)
	}
	return nil
}

// metricDrop is how many points the int8 model loses on the main metric:
// 100·(f32 − int8) for scores where higher is better, 100·(int8 − f32)/f32
// for RMSE (a relative loss in percent).
func metricDrop(name string, f32, q train.Metrics) float64 {
	a, b := f32[name], q[name]
	if name == "rmse" {
		if a == 0 {
			return 0
		}
		return 100 * (b - a) / a
	}
	return 100 * (a - b)
}

func addMetrics(m *format.Model, variant string, met train.Metrics) {
	names := make([]string, 0, len(met))
	for k := range met {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if v := met[k]; !math.IsNaN(v) {
			m.Metadata.Metrics = append(m.Metadata.Metrics, format.Metric{Name: k, Split: "test", Variant: variant, Value: v})
		}
	}
}

// fingerprint is the SHA-256 of the data files, in order.
func fingerprint(paths ...string) (string, error) {
	h := sha256.New()
	for _, p := range paths {
		if p == "" {
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// bar is the progress bar of one epoch's batches (progressbar, only on a
// terminal).
type bar struct {
	w   io.Writer
	off bool
	pb  *progressbar.ProgressBar
}

func newBar(w io.Writer, off bool) *bar {
	if f, ok := w.(*os.File); !ok || !isTerminal(f) {
		off = true
	}
	return &bar{w: w, off: off}
}

func (b *bar) step(done, total int) {
	if b.off {
		return
	}
	if b.pb == nil || done == 1 {
		b.pb = progressbar.NewOptions(total, progressbar.OptionSetWriter(b.w), progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionSetDescription("batches"))
	}
	_ = b.pb.Set(done)
}

func (b *bar) clear() {
	if b.pb != nil {
		_ = b.pb.Clear()
		b.pb = nil
	}
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
