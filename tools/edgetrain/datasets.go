package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/edgerun/edgerun/format/atomicfile"
	"github.com/edgerun/edgerun/runtime/audio"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
	"github.com/edgerun/edgerun/tools/train/kws"
	"github.com/edgerun/edgerun/tools/train/sensor"
)

// datasetsCmd is `edgetrain datasets`.
type datasetsCmd struct {
	List      datasetsListCmd      `cmd:"" default:"1" help:"List the datasets bundled in data/ and the command that trains each."`
	Sensor    datasetsSensorCmd    `cmd:"" help:"Write seeded synthetic vibration/current windows (healthy, bearing fault, imbalance) as a sensor CSV."`
	KWS       datasetsKWSCmd       `cmd:"" name:"kws" help:"Speak a keyword-spotting set with espeak-ng and sox (Debian packages): command words and other words in many synthetic voices, with a manifest for --task audio."`
	KWSStream datasetsKWSStreamCmd `cmd:"" name:"kws-stream" help:"Make a test stream for edgerun listen: one clip of each command word and some other real words, with gaps and background noise, and its truth.csv."`
}

type datasetsListCmd struct{}

// bundled is data/ as the README describes it.
var bundled = []struct{ domain, path, task, extra string }{
	{"handwritten digits (image)", "data/image/digits_8x8/digits_8x8.csv", "image", ""},
	{"medical diagnosis", "data/medical/breast_cancer_wdbc/breast_cancer_wdbc.csv", "tabular", "--target diagnosis"},
	{"fraud / credit risk", "data/fraud_risk/lending_club/lending_club.csv", "tabular", ""},
	{"review sentiment", "data/sentiment/uci_labelled_sentences/uci_labelled_sentences.csv", "text", ""},
	{"customer-service intent", "data/intent/banking77/banking77.csv", "text", "--label-col intent"},
	{"recommendation (ranking)", "data/recommendation/movielens_small/ratings.csv", "recommender", ""},
	{"recommendation (ratings)", "data/recommendation/movielens_small/ratings.csv", "ratings", ""},
	{"keyword spotting (synthetic voices)", "data/keyword_spotting/espeak_commands_synthetic/manifest.csv", "audio", "--other data/keyword_spotting/real_english_words/manifest.csv"},
}

func (datasetsListCmd) Run(env *cliutil.Env) error {
	for _, d := range bundled {
		cmd := fmt.Sprintf("edgetrain fit --task %s --data %s", d.task, d.path)
		if d.extra != "" {
			cmd += " " + d.extra
		}
		fmt.Fprintf(env.Stdout, "%-28s %s --out MODEL.erm\n", d.domain, cmd)
	}
	_, err := fmt.Fprintln(env.Stdout, "Each dataset's README (source, licence, columns) is beside its CSV; test_rows.txt is its fixed test split.")
	return err
}

type datasetsSensorCmd struct {
	Out     string  `name:"out" required:"" placeholder:"FILE.csv" help:"CSV to write."`
	Windows int     `name:"windows" default:"900" help:"Number of windows (rows)."`
	Seed    uint64  `name:"seed" default:"1" help:"Seed: the same seed gives the same file."`
	Stream  float64 `name:"stream" placeholder:"SECONDS" help:"Instead of windows, a recording of one machine this long (time,vib_x,vib_y,current at 1000 Hz), healthy until --fault-at."`
	FaultAt float64 `name:"fault-at" default:"5" placeholder:"SECONDS" help:"With --stream: when the fault begins."`
	Fault   string  `name:"fault" default:"bearing_fault" enum:"bearing_fault,imbalance" help:"With --stream: the fault (bearing_fault or imbalance)."`
}

func (c *datasetsSensorCmd) Run(env *cliutil.Env) error {
	if c.Stream != 0 {
		err := atomicfile.Write(c.Out, 0o644, func(f *os.File) error {
			return sensor.WriteSyntheticStream(f, c.Stream, c.FaultAt, c.Fault, c.Seed)
		})
		if err != nil {
			return cliutil.OpError("datasets sensor", c.Out, err)
		}
		_, err = fmt.Fprintf(env.Stdout, "wrote %s: a synthetic %g s recording, %s from %g s (seed %d)\n", c.Out, c.Stream, c.Fault, c.FaultAt, c.Seed)
		return err
	}
	if c.Windows <= 0 {
		return fmt.Errorf("datasets sensor: --windows must be positive")
	}
	if err := sensor.Synthetic(c.Out, c.Windows, c.Seed); err != nil {
		return cliutil.OpError("datasets sensor", c.Out, err)
	}
	_, err := fmt.Fprintf(env.Stdout, "wrote %s: %d synthetic windows (seed %d)\n", c.Out, c.Windows, c.Seed)
	return err
}

type datasetsKWSCmd struct {
	Out      string `name:"out" required:"" placeholder:"DIR" help:"Folder to write: manifest.csv and wav/."`
	Speakers int    `name:"speakers" default:"200" help:"Synthetic voices."`
	Unknown  int    `name:"unknown" default:"15" help:"Non-command words (the _unknown_ class) each voice says."`
	Seed     uint64 `name:"seed" default:"1" help:"Seed of the voices' parameters and words: the same seed gives the same files."`
}

func (c *datasetsKWSCmd) Run(env *cliutil.Env) error {
	err := kws.Synthesize(context.Background(), kws.SynthOptions{Dir: c.Out, Speakers: c.Speakers, Unknown: c.Unknown, Seed: c.Seed,
		Logf: func(f string, a ...any) { fmt.Fprintf(env.Stderr, f+"\n", a...) }})
	if err != nil {
		return fmt.Errorf("datasets kws: %w", err)
	}
	_, err = fmt.Fprintf(env.Stdout, "wrote %s/manifest.csv: %d synthetic voices × (%d commands + %d other words), generated with espeak-ng (not real speech)\n",
		c.Out, c.Speakers, len(kws.Commands), c.Unknown)
	return err
}

type datasetsKWSStreamCmd struct {
	Out      string  `name:"out" required:"" placeholder:"DIR" help:"Folder to write: stream.wav and truth.csv."`
	Commands string  `name:"commands" default:"data/keyword_spotting/espeak_commands_synthetic/manifest.csv" placeholder:"MANIFEST" help:"Clips of the command words: one of each word is placed, speakers taken in turn."`
	Others   string  `name:"others" default:"data/keyword_spotting/real_english_words/manifest.csv" placeholder:"MANIFEST" help:"Other speech: its non-command words of --others-speaker go between the commands."`
	Speaker  string  `name:"others-speaker" default:"klettres-en_GB" help:"The speaker (recording set) of --others to take words from (keep it out of training: manifest_train.csv leaves klettres-en_GB out); all: every speaker."`
	NOthers  int     `name:"n-others" default:"5" help:"Other words to place."`
	NoCmds   bool    `name:"no-commands" help:"Only the other words, every one of them (up to --n-others): a stream to count false accepts on."`
	SNR      float64 `name:"snr" default:"20" help:"Speech over the background pink noise, dB."`
	Seed     uint64  `name:"seed" default:"1" help:"Seed of the gaps, the order of the others and the noise."`
}

func (c *datasetsKWSStreamCmd) Run(env *cliutil.Env) error {
	cmds, err := kws.ReadManifest(c.Commands)
	if err != nil {
		return fmt.Errorf("datasets kws-stream: %w", err)
	}
	others, err := kws.ReadManifest(c.Others)
	if err != nil {
		return fmt.Errorf("datasets kws-stream: %w", err)
	}
	// One clip per command word, in the order of kws.Commands, the
	// speakers of the manifest in turn.
	var spk []string
	for _, r := range cmds {
		if !slices.Contains(spk, r.Speaker) {
			spk = append(spk, r.Speaker)
		}
	}
	var pick []kws.Row
	for i, w := range kws.Commands {
		want := spk[(i*5)%len(spk)]
		k := slices.IndexFunc(cmds, func(r kws.Row) bool { return r.Label == w && r.Speaker == want })
		if k < 0 {
			return fmt.Errorf("datasets kws-stream: %s has no %q by %s", c.Commands, w, want)
		}
		pick = append(pick, cmds[k])
	}
	var other []kws.Row
	for _, r := range others {
		if (r.Speaker == c.Speaker || c.Speaker == "all") && !slices.Contains(kws.Commands, r.Label) && r.Label != kws.Noise && len(r.Label) > 1 {
			other = append(other, r)
		}
	}
	rand.New(rand.NewPCG(c.Seed, 0x07e5)).Shuffle(len(other), func(i, j int) { other[i], other[j] = other[j], other[i] })
	other = other[:min(c.NOthers, len(other))]
	if c.NoCmds {
		pick = nil
	}
	s, truth, err := kws.MakeStream(kws.StreamOptions{Commands: pick, Others: other, Rate: 16000, Gap: [2]float64{0.6, 1.2}, SNR: c.SNR, Seed: c.Seed})
	if err != nil {
		return fmt.Errorf("datasets kws-stream: %w", err)
	}
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(c.Out, "stream.wav"), audio.EncodeWAV(&audio.Clip{Rate: 16000, Samples: s}), 0o644); err != nil {
		return err
	}
	err = atomicfile.Write(filepath.Join(c.Out, "truth.csv"), 0o644, func(f *os.File) error {
		w := csv.NewWriter(f)
		_ = w.Write([]string{"label", "word", "start_s", "end_s", "file"})
		for _, t := range truth {
			_ = w.Write([]string{t.Label, t.Word, strconv.FormatFloat(t.Start, 'f', 3, 64), strconv.FormatFloat(t.End, 'f', 3, 64), t.File})
		}
		w.Flush()
		return w.Error()
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(env.Stdout, "wrote %s/stream.wav (%.1f s: %d command words, %d other words, pink noise at %g dB SNR) and truth.csv\n",
		c.Out, float64(len(s))/16000, len(pick), len(other), c.SNR)
	return err
}
