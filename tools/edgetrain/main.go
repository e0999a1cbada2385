package main

import (
	"io"
	"os"

	"github.com/edgerun/edgerun/tools/internal/cliutil"
)

// version is set with -ldflags "-X main.version=...".
var version = "dev"

// cli is the command-line grammar. A new subcommand (fit, quantize, eval,
// export, ...) is a new field here and a type with a
// Run(*cliutil.Env) error method, in a file of its own.
type cli struct {
	Fit        fitCmd             `cmd:"" help:"Train a domain model on a CSV, evaluate it through the device engine, quantize and write it."`
	Eval       evalCmd            `cmd:"" help:"Evaluate a model file on a CSV through the device engine (int8 and f32 side by side)."`
	EvalStream evalStreamCmd      `cmd:"" name:"eval-stream" help:"Score a keyword spotter's detections on a stream (edgerun listen's JSON lines) against its truth.csv: hits, misses, false accepts per hour."`
	Quantize   quantizeCmd        `cmd:"" help:"Quantize an f32 model file to int8 (quantization v1), checked on data through the engine with per-layer f32 fallback."`
	Export     exportCmd          `cmd:"" help:"Write the device copy of a model: codec, optional signature, optional stripped metadata."`
	Datasets   datasetsCmd        `cmd:"" help:"List the bundled datasets, or write synthetic sensor data, spoken keyword clips (espeak-ng) or a keyword test stream."`
	Init       initCmd            `cmd:"" help:"Write a randomly initialised model of a standard architecture (mlp, textcls, transformer, recommender, conv1d, cnn)."`
	Keygen     cliutil.KeygenCmd  `cmd:"" help:"Write a new ed25519 key pair for signing models."`
	Sign       cliutil.SignCmd    `cmd:"" help:"Sign a model file in place with a private key."`
	Version    cliutil.VersionCmd `cmd:"" help:"Print the program, Go and .erm format versions."`
}

// run is the whole program; main only connects it to the process.
func run(args []string, stdout, stderr io.Writer) int {
	app := &cliutil.App{
		Name:        "edgetrain",
		Description: "edgetrain trains, quantizes and exports .erm models for edgerun, and signs them.",
		Version:     version,
		CLI:         &cli{},
	}
	return app.Run(args, stdout, stderr)
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
