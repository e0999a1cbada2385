package main

import (
	"context"
	"fmt"
	"os"

	"github.com/edgerun/edgerun/format/atomicfile"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
	"github.com/edgerun/edgerun/tools/train/kws"
	"github.com/edgerun/edgerun/tools/train/sensor"
)

// datasetsCmd is `edgetrain datasets`.
type datasetsCmd struct {
	List   datasetsListCmd   `cmd:"" default:"1" help:"List the datasets bundled in data/ and the command that trains each."`
	Sensor datasetsSensorCmd `cmd:"" help:"Write seeded synthetic vibration/current windows (healthy, bearing fault, imbalance) as a sensor CSV."`
	KWS    datasetsKWSCmd    `cmd:"" name:"kws" help:"Speak a keyword-spotting set with espeak-ng and sox (Debian packages): command words and other words in many synthetic voices, with a manifest for --task audio."`
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
	Unknown  int    `name:"unknown" default:"10" help:"Non-command words (the _unknown_ class) each voice says."`
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
