// Command edgetrain is the host-side command-line program of edgerun: it
// trains small domain models on real data and exports them as .erm files
// for edge devices, and manages the keys that sign them.
//
// Usage:
//
//	edgetrain <command> [flags] [arguments]
//
// The commands are:
//
//	fit --task TASK --data TRAIN.csv --out MODEL.erm [--epochs N] [--plot FILE.png] [--max-drop P] [--json] ...
//		Train a domain model, evaluate its f32 and int8 exports through
//		the device engine, and write it. --epochs is at least 1
//		(default: the task's); --max-drop is a number of points ≥ 0.
//	eval MODEL --data TEST.csv [--json] ...
//		Evaluate a model file on a CSV through the device engine.
//	quantize MODEL --out OUT.erm [--data CSV] [--max-drop P] ...
//		Quantize an f32 model file to int8.
//	export MODEL --out DEVICE.erm [--codec C] [--key KEY] [--strip]
//		Write the device copy of a model.
//	datasets [list] | datasets sensor --out FILE.csv [--windows N] [--seed S]
//		List the bundled datasets, or write synthetic sensor data.
//	init --arch SPEC --out FILE [--quantize int8] [--seed N] [--codec zstd|s2|none] [--json]
//		Write a randomly initialised (untrained) model of a standard
//		architecture: mlp, textcls, transformer, recommender or
//		conv1d (init --help shows the spec grammar).
//	keygen NAME
//		Write a new ed25519 key pair to NAME.key and NAME.pub.
//	sign MODEL --key NAME.key
//		Sign a model file in place with a private key.
//	version [--json]
//		Print the program version, Go version, platform and the .erm
//		format version it writes.
//
// A model whose outputs are NaN or ±Inf on the evaluation data (training
// diverged, or inputs beyond float32) is an error, never a metric. Every
// file edgetrain writes (models, keys, CSVs, plots) is written atomically
// through format/atomicfile: a failed or killed run leaves the old file
// and nothing beside it; a replaced file keeps its mode.
//
// Every command prints its result on standard output. A failure is one
// line on standard error, "edgetrain: <command> <operand>: <cause>", and
// exit status 1; a wrong command line exits with status 2. Commands that
// report figures take --json and then print one JSON object with
// snake_case field names.
//
// The version is set at build time with
//
//	go build -ldflags "-X main.version=v1.2.3" ./tools/edgetrain
//
// and otherwise taken from the module version recorded in the binary.
package main
