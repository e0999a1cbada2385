package main

import (
	"io"
	"os"

	"github.com/edgerun/edgerun/tools/internal/cliutil"
)

// version is set with -ldflags "-X main.version=...".
var version = "dev"

// cli is the command-line grammar. A new subcommand is a new field here
// and a type with a Run(*cliutil.Env) error method.
type cli struct {
	Inspect inspectCmd         `cmd:"" help:"Verify a model file and describe its format, graph, tensors and metadata."`
	Run     runCmd             `cmd:"" help:"Run a model once on a JSON request, a CSV table, a text or a WAV clip and print its outputs."`
	Listen  listenCmd          `cmd:"" help:"Spot a keyword model's command words in a stream of audio (raw PCM on standard input, or a WAV file); JSON lines."`
	Tutor   tutorCmd           `cmd:"" help:"Replay a learner's answers through a knowledge-tracing model one at a time: mastery and the next skill."`
	Bench   benchCmd           `cmd:"" help:"Measure a model's load time, latency percentiles, throughput, allocations and memory."`
	Plugins pluginsCmd         `cmd:"" help:"List, describe and call domain-model plugins (checksum-verified, supervised)."`
	Serve   serveCmd           `cmd:"" help:"Serve every model of a folder and every plugin over the Open Inference Protocol v2 (REST), with hot swap."`
	Verify  verifyCmd          `cmd:"" help:"Check that a model is intact and signed by a trusted key."`
	Sign    cliutil.SignCmd    `cmd:"" help:"Sign a model file in place with a private key."`
	Keygen  cliutil.KeygenCmd  `cmd:"" help:"Write a new ed25519 key pair for signing models."`
	Boards  boardsCmd          `cmd:"" help:"List the board profiles (Raspberry Pi, gateways) and detect the one this is."`
	Version cliutil.VersionCmd `cmd:"" help:"Print the program, Go and .erm format versions."`

	Pipeline pipelineCmd `cmd:"" help:"Run a sensor pipeline: source → window → model → rule → sinks (stdout, GPIO, MQTT)."`
}

// run is the whole program; main only connects it to the process.
func run(args []string, stdout, stderr io.Writer) int {
	app := &cliutil.App{
		Name:        "edgerun",
		Description: "edgerun inspects, verifies and runs .erm models on edge devices.",
		Version:     version,
		CLI:         &cli{},
	}
	return app.Run(args, stdout, stderr)
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
