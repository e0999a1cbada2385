// Package sdkrt is the one bridge between the plugin contract (package
// sdk) and the engine: it serves an .erm model as an sdk.Model with the
// domain's pre- and post-processing in a few lines.
//
//	em, err := sdkrt.Load(modelBytes) // verified, loaded once, shared
//	txt, err := sdkrt.NewText(em, "text")
//	cls, err := sdkrt.NewClassifier(em)
//	m, err := sdkrt.New(em, sdkrt.Config{
//		Name: "sentiment", Version: "1", Domain: "sentiment",
//		Inputs: []sdk.TensorSpec{txt.Spec()}, Outputs: cls.Specs(),
//		Pre: txt.Pre, Post: cls.Post,
//	})
//	sdk.Serve(m)
//
// A Model keeps a pool of engine sessions (a Session is for one goroutine),
// so Infer is safe for concurrent calls; at most Config.MaxSessions run at
// once and further callers wait for one (or for their context).
//
// Helpers cover the common cases:
//
//   - Text: BYTES input, one string per row, tokenized with the
//     tokenizer the model's metadata describes (runtime/text).
//   - Tabular: one input per named feature (numbers, or BYTES for
//     categories), encoded as the trainer prepared them
//     (runtime/features: imputation of missing values, one-hot).
//   - Window: FP32 sensor windows [channels, steps] (or a batch of them)
//     into the model's channels-last [batch, steps, channels] input.
//   - IDMap: raw user or item ids mapped through the model's id maps
//     (a categorical feature whose Categories[0] is "<unknown>").
//   - Classifier: class probabilities, top-1 and top-k labels.
//   - Tracer: a knowledge-tracing model (edgetrain fit --task tracing)
//     run one learner's answer at a time (Step, no allocation) or a
//     history at once (Update, Replay), the learner's LSTM state kept
//     by the caller as a TracingState (versioned MarshalBinary, 36 +
//     4·(2·H + K) bytes; a state of another model is refused).
//     SkillRule picks the next skill from its mastery.
//
// Bad input (a missing or unknown input, a wrong datatype or shape, empty
// text, an unknown id, a parameter out of range) is an *InputError, which
// matches ErrInvalidInput with errors.Is and names the problem; a panic
// inside pre-processing, the engine or post-processing is recovered and
// returned as an error, never passed on.
//
// sdkrt imports sdk, format and runtime/...; the root sdk package never
// imports it, so a host links the engine only if it wants to.
package sdkrt
