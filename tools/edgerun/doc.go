// Command edgerun is the device-side command-line program of edgerun: it
// looks at, checks, runs and benchmarks .erm models on a Raspberry Pi, an
// edge gateway or any other machine.
//
// Usage:
//
//	edgerun <command> [flags] [arguments]
//
// The commands are:
//
//	inspect MODEL [--json] [--trusted-key PUB.pem ...]
//		Verify a model file and describe it: format version, codec,
//		sizes, checksum, signature, graph inputs and outputs, nodes,
//		tensors (without their data) and metadata. With --trusted-key
//		the model must be signed by one of the given keys. MODEL "-"
//		reads standard input.
//	run MODEL (--input FILE | --csv FILE | --text TEXT) [--json] [--threads N] [--f32] [--max-request-bytes N] [--max-elements N]
//		Run a model once. --input is an Open Inference Protocol
//		request, {"inputs":[{"name","datatype","shape","data"}]}
//		(FP32, INT64, INT32; data flat or nested; keys matched
//		exactly, once each), read as a stream into the input tensors
//		by the codec shared with plugins infer (tools/internal/oip);
//		its "outputs" pick the outputs printed, null, "NaN" and "NA"
//		are imputed for a tabular model and refused for others, and
//		parameters are refused;
//		--text (not empty) is tokenized with the tokenizer in the model's
//		metadata; --csv is a table with one row per batch entry for a
//		model with one f32 input [?,N] (its features; categories by
//		name) or [?,steps,channels] (sensor windows, columns
//		CHANNEL_tSTEP), header optional, every field checked (an
//		unknown category or a missing column is an error naming its
//		row and column). Exactly one of the three. Requests are capped in bytes
//		(default 64 MiB) and values per tensor (default 2^26).
//		Prints the outputs and, for models with labels, each row's
//		labels by descending probability; --json prints an OIP
//		response with "predictions".
//	bench MODEL [--batch N] [--threads T] [--iters N] [--time D] [--warmup N] [--f32] [--json]
//		Load a model (timed), run it on random inputs, and report
//		latency percentiles, throughput, heap allocations per run,
//		peak RSS and the kernel implementation.
//	bench --roof [--threads T] [--time D] [--json]
//		Measure the cores' peak int8 and f32 throughput (the roofline)
//		with register-resident loops of the kernels' instructions.
//	bench --gemm M,K,N [--dtype int8|f32] [--threads T] [--park] [--iters N] [--time D] [--warmup N] [--json]
//		Time one matrix product on random data with the engine's
//		kernels (int8: activations quantized per row in every run),
//		columns split over T goroutines, and report the median time,
//		GOPS and the share of the roof measured in the same run.
//	serve --models DIR [--plugins DIR] [--addr HOST:PORT] [--grpc-addr HOST:PORT] [--config FILE] [--trusted-key PUB.pem ...] [--token-file FILE] [--log-format text|json] [--pipeline FILE ...]
//		The gateway daemon: every NAME.erm of DIR is the model NAME
//		(version: the metadata's "version", else the first 12 hex
//		digits of the file's SHA-256), every plugin binary of
//		--plugins the model named after it (checked against
//		plugins.lock), all served over the Open Inference Protocol v2:
//		REST (GET /v2, /v2/health/live, /v2/health/ready,
//		/v2/models/NAME[/versions/V][/ready], POST .../infer) and
//		gRPC (KServe's GRPCInferenceService) on --grpc-addr, with
//		Prometheus metrics at /metrics and a status page at /.
//		Replaced files load in the background and switch atomically;
//		a file that fails to load leaves the old version serving.
//		Per-model limits, dynamic batching (max_batch; requests
//		gather, for at most max_queue_delay, only while every session
//		is busy: a lone request runs at once), default
//		outputs and top_k come from a TOML file; --token-file guards
//		everything but the health checks and the status page's shell;
//		loopback only unless --addr says otherwise; READY=1 and
//		STOPPING=1 go to systemd (sd_notify); SIGTERM or SIGINT drain
//		and exit 0. Each --pipeline file runs as edgerun pipeline
//		would, its model possibly one of the daemon's (serve: NAME),
//		its counters in /metrics and at GET /v2/pipelines.
//	boards [NAME] [--json] [--probe]
//		List the board profiles (package boards) and mark the one this
//		machine is, from its device-tree model string and /proc/cpuinfo;
//		NAME shows one with its header pins; --probe loads periph's host
//		drivers (linked here only) and lists what they found.
//	pipeline --config FILE [--once] [--check] [--status-addr HOST:PORT] [--log-format text|json]
//		Run a sensor pipeline (internal/pipeline): a source (csv, jsonl,
//		adxl345, i2c, gpio-edges, merge) at a sample rate, windows, a
//		model (.erm or plugin), a rule (threshold with hysteresis or
//		labels, debounce), sinks (stdout, gpio, mqtt through
//		internal/mqtt). Bounded queues drop the oldest; sensor errors are
//		retried with back-off; SIGTERM drains and leaves pins off.
//		--once prints the decisions and counters of a recording as JSON.
//	verify MODEL --trusted-key PUB.pem ...
//		Check that a model is intact and signed by a trusted key.
//	sign MODEL --key NAME.key
//		Sign a model file in place with a private key.
//	keygen NAME
//		Write a new ed25519 key pair to NAME.key and NAME.pub.
//	version [--json]
//		Print the program version, Go version, platform and the .erm
//		format version it reads.
//
// Every command prints its result on standard output. A failure is one
// line on standard error, "edgerun: <command> <operand>: <cause>", and
// exit status 1; a wrong command line exits with status 2. Commands that
// report figures take --json and then print one JSON object with
// snake_case field names.
//
// The version is set at build time with
//
//	go build -ldflags "-X main.version=v1.2.3" ./tools/edgerun
//
// and otherwise taken from the module version recorded in the binary.
//
// edgerun runs on devices: it must not import tools/train or gonum, and
// it builds with CGO_ENABLED=0 for every supported GOOS/GOARCH.
package main
