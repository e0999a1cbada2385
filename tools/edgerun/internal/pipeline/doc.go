// Package pipeline runs the sensor pipelines of edgerun pipeline: a
// source read at a sample rate → windows (size, hop, channels) →
// normalisation → a model → a rule (label or threshold, debounce,
// hysteresis) → sinks (stdout JSON lines, a GPIO output, MQTT).
//
// A pipeline file is YAML:
//
//	name: line3                 # optional: its name inside edgerun serve (default: the file's)
//	sample_rate: 100            # Hz
//	queue: 4                    # windows waiting for the model (drop-oldest)
//	source: {kind: csv, path: vibration.csv, realtime: false}   # or jsonl, wav, pcm, merge
//	window: {size: 128, hop: 64, channels: [vib_x, vib_y, current]}
//	normalise: {mode: standard, mean: [0, 0, 0], std: [1, 1, 1]}   # optional; or mode: minmax, min, max
//	model:
//	  erm: model.erm            # or plugin: PATH [domain: D], or serve: NAME (inside edgerun serve only)
//	  input: x                  # optional: the model's only input
//	  layout: steps_channels    # optional: from the model's input shape (or channels_steps, flat)
//	  parameters: {threshold: "0.5"}
//	rule:
//	  output: anomaly_score
//	  threshold: {above: 0.6, clear_below: 0.4}   # or labels: [bearing_fault, imbalance]
//	  debounce: 3               # windows before raising (and clearing, unless debounce_clear)
//	sinks:
//	  - {kind: stdout}
//	  - {kind: gpio, pin: GPIO17, active_low: false, on: change}
//	  - {kind: mqtt, broker: "tcp://127.0.0.1:1883", topic: edgerun/alarm, qos: 1}
//
// Parse and Load check a file; every mistake is a *ConfigError naming the
// file, the line and the field. Source and sink kinds are a registry
// (Kinds): NewKinds has csv and jsonl sources, the audio sources wav (a
// file) and pcm (raw PCM such as arecord writes, on standard input or
// from a file or FIFO; resampled to rate), and stdout, gpio and mqtt
// sinks, the last two through drivers the program supplies (Deps), and a
// program adds the kinds of the hardware it links.
//
// New opens a pipeline and Run runs it: one goroutine reads the source
// (paced at the sample rate unless the source says otherwise; a failed
// read is counted, logged and retried with capped exponential back-off;
// io.EOF ends it), the model stage takes windows from a bounded queue
// that drops the oldest, and each sink has its own bounded drop-oldest
// queue, so memory stays bounded whatever is slow. Stats returns the
// counters. Time comes from a Clock, and debounce counts windows, so tests
// need no waiting.
//
// Audio: a model whose input is FP32 [samples] (a keyword spotter: the
// kws plugin, or a keyword-spotting .erm, which serve.OpenERM serves as
// sdkrt.NewKWS does) takes each window's samples flat (layout flat); with
// the parameter stream it keeps the rolling window between chunks, so
// windows of 100 ms (size and hop 1600 at 16 kHz) are chunks of one
// stream. A rule on an Optional output (keyword: present only when a
// word is heard) reads a response without it as no label.
//
// An .erm model is served in process as edgerun serve serves it
// (serve.OpenERM): a classifier answers label and probabilities (with
// three labels or more top_k_labels and top_k_scores), and anomaly_score
// (1 − p(normal)) when its metadata names a normal_label. A plugin runs through sdk.Open, checked
// against the plugins.lock beside it.
package pipeline
