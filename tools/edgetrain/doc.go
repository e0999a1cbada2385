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
// Training, quantization, evaluation and export (fit, quantize, eval,
// export, datasets) come in later versions.
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
