// Package kws is the keyword-spotting recipe of edgetrain (`--task
// audio`): a small 1-D convolutional classifier over one second of MFCC
// frames, for a voice assistant that listens for a handful of command
// words.
//
// # Data
//
// A manifest CSV (ReadManifest): columns file, label and optionally
// speaker, paths relative to the manifest's folder, 16-bit PCM or float
// WAV at any rate (resampled to 16 kHz). Every label is a command word but
// three: _unknown_ (speech that is not a command), _silence_ (no speech)
// and _noise_ (recorded background noise, used to make _silence_ examples
// and mixed into the training clips). FitOptions.Other adds manifests of
// other speech (the bundled real_english_words): their clips are
// _unknown_ examples, their _noise_ rows background noise, and clips of a
// command word in them (real recordings of "no") are never trained on:
// they are the real-speech check, metric real_command_recall.
//
// The model classifies into the command words (sorted), then _unknown_
// and _silence_.
//
// # Splits
//
// By speaker, so the test measures voices never heard in training: a
// seeded 20 % of the speakers of the command clips (at least one) are the
// test split, and 10 % of the rest (at least one when there are three or
// more) the validation split; the _unknown_ clips are split by their own
// speakers the same way. A manifest without a speaker column makes every
// clip its own speaker. FitOptions.Test names a separate test manifest
// instead. _silence_ examples are generated for each split from its own
// seed, as many as an average command word has clips in it.
//
// # Training
//
// Every training clip gives Copies examples: the clip itself and
// augmented copies (speed, time shift, gain, background noise at stated
// SNRs; see augment.go), each drawn from a generator seeded by the fit's
// seed and the example's index, so the same data, options and seed give
// the same model. Classes are weighted to balance them; Adam with a cosine
// schedule and early stopping on the validation loss.
//
// # Model
//
//	features f32 [B, 98, 10] (the MFCC frames of 1 s) → Normalize(per-coefficient mean, std)
//	  → Conv1D(48, k5, same, relu) → MaxPool1D(2)
//	  → Conv1D(64, k5, same, relu) → MaxPool1D(2)
//	  → Conv1D(64, k3, same, relu) → MaxPool1D(2)
//	  → Conv1D(64, k3, same, relu) → GlobalAveragePool1D
//	  → Dense → Softmax
//
// about 43,000 weights (≈ 45 KB as int8). The front end (runtime/audio,
// DefaultConfig: 25 ms Hann frames every 10 ms, 512-point FFT, 40 mel
// bands from 20 Hz to 8 kHz, log, 10 MFCCs) runs outside the graph, on the
// device exactly as here; its parameters are in the metadata.
//
// # Metadata
//
// Task "keyword-spotting"; Labels; Features: one per coefficient (mfcc0 …)
// with the normalisation's mean and std; Extra: "audio_frontend" (the
// audio.Config text form), "clip_samples" (the window, 16000), "frames"
// (98), "commands" (comma-separated), "kind" (multiclass), "layout".
//
// # Metrics
//
// accuracy and macro_f1 over the whole test split; command_accuracy over
// its command-word clips (the figure to compare with published keyword
// spotters); false_accept, the share of its _unknown_ and _silence_
// examples taken for a command; noisy_command_accuracy, the command clips
// again with noise mixed in at 10 dB SNR; real_command_recall when the
// Other manifests hold real recordings of command words.
package kws

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/audio"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/tools/train"
)

// Task is the metadata task of a keyword-spotting model.
const Task = "keyword-spotting"

// InputName is the graph input: f32 [B, frames, features].
const InputName = "features"

// Metadata Extra keys besides the audio input's (audio.KeyFrontend,
// audio.KeyClip, audio.KeyFrames).
const (
	ExtraCommands = "commands"
	extraKind     = "kind"
	extraLayout   = "layout"
)

const evalBatch = 128

// hyper are the training hyperparameters.
type hyper struct {
	Epochs, Batch, Patience int
	// Copies per training clip (the clip and Copies−1 augmented); 0 picks
	// enough for about 4000 examples, 4 to 16.
	Copies int
	LR     float64
}

var defaults = hyper{Epochs: 40, Batch: 32, Patience: 8, LR: 3e-3}

// clip is one loaded example.
type clip struct {
	samples []float32 // the model's window
	label   int
	speaker string
}

// Fit trains the keyword spotter on the manifest o.Data (see the package
// doc).
func Fit(o train.FitOptions) (*train.Trained, error) { return fit(o, defaults) }

func fit(o train.FitOptions, h hyper) (*train.Trained, error) {
	if o.Data == "" {
		return nil, fmt.Errorf("kws: no training manifest (--data)")
	}
	cfg := audio.DefaultConfig()
	n := cfg.Rate // one second
	rows, err := ReadManifest(o.Data)
	if err != nil {
		return nil, fmt.Errorf("kws: %w", err)
	}
	var commands []string
	for _, r := range rows {
		if !special(r.Label) && !slices.Contains(commands, r.Label) {
			commands = append(commands, r.Label)
		}
	}
	if len(commands) == 0 {
		return nil, fmt.Errorf("kws: %s has no command-word clips (every label is _unknown_, _silence_ or _noise_)", o.Data)
	}
	sort.Strings(commands)
	labels := append(slices.Clone(commands), Unknown, Silence)
	idx := map[string]int{}
	for i, l := range labels {
		idx[l] = i
	}
	// Load: command clips, unknown clips, noise, and real command clips
	// of the other manifests.
	var cmds, unk, real []clip
	var noises [][]float32
	load := func(path string, rs []Row, other bool) error {
		for _, r := range rs {
			s, err := loadClip(r, cfg.Rate)
			if err != nil {
				return fmt.Errorf("kws: %s: %w", path, err)
			}
			spk := path + "/" + r.Speaker
			if r.Speaker == "" {
				spk = path + "/" + r.File
			}
			c := clip{samples: audio.FitWindow(nil, s, n), speaker: spk}
			switch {
			case r.Label == Noise:
				noises = append(noises, s)
			case r.Label == Silence:
				// A recorded silence: trained as is, no speaker split.
				c.label = idx[Silence]
				unk = append(unk, c)
			case r.Label == Unknown || (other && !slices.Contains(commands, r.Label)):
				c.label = idx[Unknown]
				unk = append(unk, c)
			case other:
				c.label = idx[r.Label]
				real = append(real, c)
			default:
				c.label = idx[r.Label]
				cmds = append(cmds, c)
			}
		}
		return nil
	}
	if err := load(o.Data, rows, false); err != nil {
		return nil, err
	}
	for _, p := range o.Other {
		rs, err := ReadManifest(p)
		if err != nil {
			return nil, fmt.Errorf("kws: %w", err)
		}
		if err := load(p, rs, true); err != nil {
			return nil, err
		}
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x4b5753))
	var trC, valC, teC []clip
	if o.Test != "" {
		trC = append(cmds, unk...)
		trs, err := ReadManifest(o.Test)
		if err != nil {
			return nil, fmt.Errorf("kws: %w", err)
		}
		for _, r := range trs {
			s, err := loadClip(r, cfg.Rate)
			if err != nil {
				return nil, fmt.Errorf("kws: %s: %w", o.Test, err)
			}
			if r.Label == Noise {
				continue
			}
			teC = append(teC, clip{samples: audio.FitWindow(nil, s, n), label: mapLabel(idx, r.Label)})
		}
		trC, valC = splitSpeakers(rng, trC, 0.1)
	} else {
		if o.TestRows != "" {
			return nil, fmt.Errorf("kws: --test-rows does not apply to audio (the test split is by speaker; give a --test manifest)")
		}
		restC, testC := splitSpeakers(rng, cmds, 0.2)
		restU, testU := splitSpeakers(rng, unk, 0.2)
		teC = append(testC, testU...)
		fitC, vC := splitSpeakers(rng, restC, 0.1)
		fitU, vU := splitSpeakers(rng, restU, 0.1)
		trC, valC = append(fitC, fitU...), append(vC, vU...)
	}
	perWord := func(cs []clip) int {
		k := 0
		for _, c := range cs {
			if c.label < len(commands) {
				k++
			}
		}
		return max(1, (k+len(commands)-1)/len(commands))
	}
	aug := newAugmenter(cfg.Rate, n, noises)
	addSilence := func(cs []clip, seed uint64) []clip {
		r := rand.New(rand.NewPCG(o.Seed, seed))
		for range perWord(cs) {
			cs = append(cs, clip{samples: aug.silence(r), label: idx[Silence]})
		}
		return cs
	}
	trC = addSilence(trC, 0x5111)
	valC = addSilence(valC, 0x5112)
	teC = addSilence(teC, 0x5113)
	if len(trC) < len(labels) {
		return nil, fmt.Errorf("kws: %d training clips: too few", len(trC))
	}

	fe, err := audio.NewFrontend(cfg)
	if err != nil {
		return nil, err
	}
	frames, nf := cfg.Frames(n), cfg.Features()
	width := frames * nf
	copies := h.Copies
	if copies == 0 {
		copies = min(16, max(4, (4000+len(trC)-1)/len(trC)))
	}
	// Training examples: each clip, then its augmented copies.
	xtr := make([]float64, 0, len(trC)*copies*width)
	ytr := make([]float64, 0, len(trC)*copies)
	feat := make([]float32, width)
	for ci, c := range trC {
		for k := range copies {
			s := c.samples
			if k > 0 {
				r := rand.New(rand.NewPCG(o.Seed^0xa06, uint64(ci)*64+uint64(k)))
				if s, err = aug.apply(r, c.samples); err != nil {
					return nil, err
				}
			}
			if _, err := fe.Frames(feat, s); err != nil {
				return nil, err
			}
			for _, v := range feat {
				xtr = append(xtr, float64(v))
			}
			ytr = append(ytr, float64(c.label))
		}
	}
	mean, std := coefStats(xtr, nf)
	norm := func(x []float64) []float64 {
		out := make([]float64, len(x))
		for i, v := range x {
			c := i % nf
			out[i] = (v - mean[c]) / std[c]
		}
		return out
	}
	xval, yval, err := features(fe, valC, width)
	if err != nil {
		return nil, err
	}
	tr := &train.Table{X: norm(xtr), F: width, T: frames, Y: ytr}
	val := &train.Table{X: norm(xval), F: width, T: frames, Y: yval}
	o.Log("%s: %d command words (%s) + %s + %s; %d training clips × %d (augmented) = %d examples, %d validation, %d test clips; split by speaker",
		o.Data, len(commands), strings.Join(commands, ", "), Unknown, Silence, len(trC), copies, tr.Len(), val.Len(), len(teC))

	mrng := rand.New(rand.NewPCG(o.Seed, 0xc0417))
	model := NewModel(mrng, nf, frames, len(labels))
	epochs, err := o.EpochsOr(h.Epochs)
	if err != nil {
		return nil, err
	}
	hist, err := train.Fit(model, train.SoftmaxCE{ClassWeights: balance(ytr, len(labels))}, train.NewAdam(), tr, val, train.Config{
		Epochs: epochs, BatchSize: h.Batch, Seed: o.Seed, LR: train.Cosine(h.LR, 0.05),
		Patience: h.Patience, Metric: train.Accuracy, MetricName: "acc",
		OnEpoch: o.OnEpoch, OnBatch: o.OnBatch,
	})
	if err != nil {
		return nil, err
	}

	feats := make([]format.Feature, nf)
	for c := range feats {
		feats[c] = format.Feature{Name: "mfcc" + strconv.Itoa(c), Kind: "numeric", Mean: mean[c], Std: std[c]}
	}
	if cfg.MFCC == 0 {
		for c := range feats {
			feats[c].Name = "logmel" + strconv.Itoa(c)
		}
	}
	meta := format.Metadata{Task: Task, Labels: slices.Clone(labels), Features: feats,
		Producer: format.Producer{Name: "edgetrain", Version: "dev"},
		Extra: []format.KeyValue{
			{Key: audio.KeyFrontend, Value: cfg.String()},
			{Key: audio.KeyClip, Value: strconv.Itoa(n)},
			{Key: ExtraCommands, Value: strings.Join(commands, ",")},
			{Key: audio.KeyFrames, Value: strconv.Itoa(frames)},
			{Key: extraKind, Value: string(train.Multiclass)},
			{Key: extraLayout, Value: "[B, frames, features]: the audio front end's frames of one clip, in time order"},
		}}
	sort.Slice(meta.Extra, func(i, j int) bool { return meta.Extra[i].Key < meta.Extra[j].Key })
	exp := exportFunc(model, len(labels), nf, frames, mean, std, meta)
	fm, err := exp(false, nil)
	if err != nil {
		return nil, err
	}
	var quantizable []string
	for _, nd := range fm.Graph.Nodes {
		if nd.Op == "Dense" || nd.Op == "Conv1D" {
			quantizable = append(quantizable, nd.Name)
		}
	}
	test, err := newEvalSet(fe, teC, real, width, frames, nf, len(commands), o.Seed)
	if err != nil {
		return nil, err
	}
	valSet := &train.EvalSet{Y: yval, Batches: batches(xval, len(yval), frames, nf)}
	return &train.Trained{Kind: train.Multiclass, Labels: slices.Clone(labels), MetricName: "accuracy", History: hist,
		Export: exp, Quantizable: quantizable, Test: test.set, Val: valSet, Evaluate: test.evaluate}, nil
}

// special reports whether a label is one of the three that are not words.
func special(l string) bool { return l == Unknown || l == Silence || l == Noise }

// mapLabel is the class of a manifest label for a model with classes idx:
// itself, _silence_ for _noise_, else _unknown_.
func mapLabel(idx map[string]int, l string) int {
	if i, ok := idx[l]; ok {
		return i
	}
	if l == Noise {
		return idx[Silence]
	}
	return idx[Unknown]
}

// splitSpeakers holds out a seeded share of the speakers of cs (at least
// one when there are three or more, none with fewer) and returns the rest
// and the held-out clips. Clips without a speaker (generated silence)
// always stay in the rest.
func splitSpeakers(rng *rand.Rand, cs []clip, share float64) (rest, held []clip) {
	var spk []string
	seen := map[string]bool{}
	for _, c := range cs {
		if c.speaker != "" && !seen[c.speaker] {
			seen[c.speaker] = true
			spk = append(spk, c.speaker)
		}
	}
	sort.Strings(spk)
	rng.Shuffle(len(spk), func(i, j int) { spk[i], spk[j] = spk[j], spk[i] })
	k := int(math.Round(share * float64(len(spk))))
	if len(spk) >= 3 {
		k = max(k, 1)
	}
	out := map[string]bool{}
	for _, s := range spk[:min(k, len(spk))] {
		out[s] = true
	}
	for _, c := range cs {
		if out[c.speaker] {
			held = append(held, c)
		} else {
			rest = append(rest, c)
		}
	}
	return rest, held
}

// coefStats are each coefficient's mean and standard deviation over rows
// of frames of nf values (std 1 when constant).
func coefStats(x []float64, nf int) (mean, std []float64) {
	mean, std = make([]float64, nf), make([]float64, nf)
	var cnt float64
	for i := 0; i+nf <= len(x); i += nf {
		for c := range nf {
			mean[c] += x[i+c]
		}
		cnt++
	}
	for c := range mean {
		mean[c] /= max(cnt, 1)
	}
	for i := 0; i+nf <= len(x); i += nf {
		for c := range nf {
			d := x[i+c] - mean[c]
			std[c] += d * d
		}
	}
	for c := range std {
		std[c] = math.Sqrt(std[c] / max(cnt, 1))
		if std[c] < 1e-6 {
			std[c] = 1
		}
	}
	return mean, std
}

// balance are class weights total/(classes·count), 0 for absent classes.
func balance(y []float64, classes int) []float64 {
	cnt := make([]float64, classes)
	for _, v := range y {
		cnt[int(v)]++
	}
	w := make([]float64, classes)
	present := 0
	for _, c := range cnt {
		if c > 0 {
			present++
		}
	}
	for i, c := range cnt {
		if c > 0 {
			w[i] = float64(len(y)) / (float64(present) * c)
		}
	}
	return w
}

// features computes the front end's frames of every clip, raw.
func features(fe *audio.Frontend, cs []clip, width int) ([]float64, []float64, error) {
	x := make([]float64, 0, len(cs)*width)
	y := make([]float64, 0, len(cs))
	feat := make([]float32, width)
	for _, c := range cs {
		if _, err := fe.Frames(feat, c.samples); err != nil {
			return nil, nil, err
		}
		for _, v := range feat {
			x = append(x, float64(v))
		}
		y = append(y, float64(c.label))
	}
	return x, y, nil
}

// NewModel is the recipe's network over frames × feats inputs with outs
// classes (logits): four Conv1D layers, max pooling after the first three
// while the sequence is long enough, global average pooling and a Dense
// head.
func NewModel(rng *rand.Rand, feats, frames, outs int) *train.Sequential {
	var ls []train.Layer
	c, t := feats, frames
	for i, f := range []int{48, 64, 64, 64} {
		kw := []int{5, 5, 3, 3}[i]
		ls = append(ls, train.NewConv1D(rng, c, f, kw, "same", 1, 1, train.ReLU))
		c = f
		if i < 3 && t >= 8 {
			ls = append(ls, train.NewMaxPool1D(2, 2))
			t /= 2
		}
	}
	ls = append(ls, &train.GlobalAveragePool1D{}, train.NewDense(rng, c, outs, train.Linear))
	return train.NewSequential(ls...)
}

// exportFunc is Trained.Export: Normalize per coefficient, the network,
// Softmax, and a fresh copy of the metadata per call.
func exportFunc(m *train.Sequential, outs, nf, frames int, mean, std []float64, meta format.Metadata) func(bool, map[string]bool) (*format.Model, error) {
	return func(int8 bool, keep map[string]bool) (*format.Model, error) {
		e := train.NewExporter(int8)
		e.KeepF32 = keep
		e.M.Graph.Inputs = []format.ValueInfo{{Name: InputName, DType: format.F32, Shape: []int64{-1, int64(frames), int64(nf)}}}
		nn := e.Unique("normalize")
		x := e.NodeNamed(nn, "Normalize", []string{InputName, e.Vector(nn+"/mean", mean), e.Vector(nn+"/std", std)})
		out, err := m.Export(e, x)
		if err != nil {
			return nil, err
		}
		out = e.Node("softmax", "Softmax", []string{out}, train.IntAttr("axis", -1))
		e.Output(out, outs)
		md := meta
		md.Labels = slices.Clone(meta.Labels)
		md.Extra = slices.Clone(meta.Extra)
		md.Features = slices.Clone(meta.Features)
		e.M.Metadata = md
		return e.Finish()
	}
}

// batches cuts raw features into engine inputs of evalBatch clips.
func batches(x []float64, n, frames, nf int) [][]*tensor.Tensor {
	var out [][]*tensor.Tensor
	w := frames * nf
	for lo := 0; lo < n; lo += evalBatch {
		hi := min(lo+evalBatch, n)
		v := make([]float32, (hi-lo)*w)
		for i := range v {
			v[i] = float32(x[lo*w+i])
		}
		out = append(out, []*tensor.Tensor{tensor.NewF32(tensor.Shape{hi - lo, frames, nf}, v)})
	}
	return out
}

// testSets are the clean test split, its command clips with noise, and the
// real command recordings, scored together by evaluate.
type testSets struct {
	set, noisy, real *train.EvalSet
	commands         int
}

func newEvalSet(fe *audio.Frontend, test, real []clip, width, frames, nf, commands int, seed uint64) (*testSets, error) {
	ts := &testSets{commands: commands}
	x, y, err := features(fe, test, width)
	if err != nil {
		return nil, err
	}
	if len(y) == 0 {
		return nil, fmt.Errorf("kws: the test split is empty")
	}
	ts.set = &train.EvalSet{Y: y, Batches: batches(x, len(y), frames, nf)}
	// The command clips at 10 dB SNR, white or pink noise.
	rng := rand.New(rand.NewPCG(seed, 0x9015e))
	var noisy []clip
	for _, c := range test {
		if c.label < commands {
			s := slices.Clone(c.samples)
			mixNoise(s, genNoise(rng, rng.IntN(2), len(s)), 10)
			clip1(s)
			noisy = append(noisy, clip{samples: s, label: c.label})
		}
	}
	if len(noisy) > 0 {
		x, y, err := features(fe, noisy, width)
		if err != nil {
			return nil, err
		}
		ts.noisy = &train.EvalSet{Y: y, Batches: batches(x, len(y), frames, nf)}
	}
	if len(real) > 0 {
		x, y, err := features(fe, real, width)
		if err != nil {
			return nil, err
		}
		ts.real = &train.EvalSet{Y: y, Batches: batches(x, len(y), frames, nf)}
	}
	return ts, nil
}

// evaluate is Trained.Evaluate: see the package doc's metrics.
func (ts *testSets) evaluate(fm *format.Model, opts ...engine.Option) (train.Metrics, *train.Report, error) {
	out, err := train.EngineOutputs(fm, ts.set, opts...)
	if err != nil {
		return nil, nil, err
	}
	met, rep := train.Score(train.Multiclass, out, ts.set.Y, 0)
	addCommandMetrics(met, out, ts.set.Y, ts.commands)
	if ts.noisy != nil {
		o, err := train.EngineOutputs(fm, ts.noisy, opts...)
		if err != nil {
			return nil, nil, err
		}
		m, _ := train.Score(train.Multiclass, o, ts.noisy.Y, 0)
		met["noisy_command_accuracy"] = m["accuracy"]
	}
	if ts.real != nil {
		o, err := train.EngineOutputs(fm, ts.real, opts...)
		if err != nil {
			return nil, nil, err
		}
		m, _ := train.Score(train.Multiclass, o, ts.real.Y, 0)
		met["real_command_recall"] = m["accuracy"]
	}
	return met, rep, nil
}

// addCommandMetrics adds command_accuracy (over targets that are command
// words, classes below commands) and false_accept (the share of the
// others predicted as a command word), when there are such targets.
func addCommandMetrics(met train.Metrics, out [][]float64, y []float64, commands int) {
	var nc, okc, no, fa int
	for i, r := range out {
		p := 0
		for j, v := range r {
			if v > r[p] {
				p = j
			}
		}
		if int(y[i]) < commands {
			nc++
			if p == int(y[i]) {
				okc++
			}
		} else {
			no++
			if p < commands {
				fa++
			}
		}
	}
	if nc > 0 {
		met["command_accuracy"] = float64(okc) / float64(nc)
	}
	if no > 0 {
		met["false_accept"] = float64(fa) / float64(no)
	}
}

// Meta is what a keyword-spotting model's metadata says.
type Meta struct {
	audio.ModelInput
	Labels   []string // classes in output order
	Commands int      // the first Commands labels are command words
}

// ReadMeta reads and checks a keyword-spotting model's metadata.
func ReadMeta(md *format.Metadata) (*Meta, error) {
	if md.Task != Task {
		return nil, fmt.Errorf("kws: the model's task is %q, not %q", md.Task, Task)
	}
	in, err := audio.ParseModelInput(func(k string) string {
		for _, kv := range md.Extra {
			if kv.Key == k {
				return kv.Value
			}
		}
		return ""
	})
	if err != nil {
		return nil, err
	}
	m := &Meta{ModelInput: in, Labels: md.Labels}
	for _, l := range m.Labels {
		if !special(l) {
			m.Commands++
		}
	}
	return m, nil
}

// EvalSet rebuilds the engine inputs of a manifest for a model this
// package saved: each clip resampled to the model's rate, centred in its
// window, through the stored front end; labels the model does not know
// count as _unknown_, _noise_ as _silence_.
func EvalSet(fm *format.Model, manifest string, o train.FitOptions) (*train.EvalSet, train.Kind, error) {
	m, err := ReadMeta(&fm.Metadata)
	if err != nil {
		return nil, "", err
	}
	rows, err := ReadManifest(manifest)
	if err != nil {
		return nil, "", fmt.Errorf("kws: %w", err)
	}
	fe, err := audio.NewFrontend(m.Frontend)
	if err != nil {
		return nil, "", err
	}
	idx := map[string]int{}
	for i, l := range m.Labels {
		idx[l] = i
	}
	if _, ok := idx[Unknown]; !ok {
		return nil, "", fmt.Errorf("kws: the model has no %s class", Unknown)
	}
	if _, ok := idx[Silence]; !ok {
		return nil, "", fmt.Errorf("kws: the model has no %s class", Silence)
	}
	var cs []clip
	for _, r := range rows {
		s, err := loadClip(r, m.Frontend.Rate)
		if err != nil {
			return nil, "", fmt.Errorf("kws: %s: %w", manifest, err)
		}
		cs = append(cs, clip{samples: audio.FitWindow(nil, s, m.Clip), label: mapLabel(idx, r.Label)})
	}
	nf := m.Frontend.Features()
	x, y, err := features(fe, cs, m.Frames*nf)
	if err != nil {
		return nil, "", err
	}
	return &train.EvalSet{Y: y, Batches: batches(x, len(y), m.Frames, nf)}, train.Multiclass, nil
}

// Score evaluates a saved model on a manifest: EvalSet's clips through
// the engine, with accuracy, macro_f1, command_accuracy and false_accept.
func Score(fm *format.Model, manifest string, o train.FitOptions, opts ...engine.Option) (train.Metrics, *train.Report, train.Kind, error) {
	set, kind, err := EvalSet(fm, manifest, o)
	if err != nil {
		return nil, nil, "", err
	}
	m, _ := ReadMeta(&fm.Metadata)
	out, err := train.EngineOutputs(fm, set, opts...)
	if err != nil {
		return nil, nil, "", err
	}
	met, rep := train.Score(kind, out, set.Y, 0)
	addCommandMetrics(met, out, set.Y, m.Commands)
	return met, rep, kind, nil
}
