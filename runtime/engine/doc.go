// Package engine runs edgerun models: Load turns a format.Model into a
// Model (operators built and checked by the op package's builders, which
// pack the weights once for the CPU's kernels), and NewSession gives a
// Session that runs it.
//
//	m, err := engine.LoadFile("model.erm")
//	s := m.NewSession(engine.WithThreads(2))
//	defer s.Close()
//	out, err := s.Run([]*tensor.Tensor{x})
//
// A Model is read-only and shared by any number of sessions on any number
// of goroutines. A Session is for one goroutine at a time: it owns the
// activation arena (planned from the input shapes with liveness-based
// reuse, once per distinct set of input shapes) and a persistent worker
// pool, so a steady-state Run allocates nothing and starts no goroutine.
// Batch size and sequence length are run-time dimensions.
//
// # Memory
//
// A loaded Model holds each weight once, in the packed form its kernel
// reads: LoadFile and Read let Load pack the decoded tensors in place
// (TakeTensorData), and Load keeps a constant for Run only when an
// operator reads it there. Int8 weights stay int8: running an int8 model
// in f32 (WithF32 sessions, to compare quantized and float results) is an
// explicit choice — load it WithF32Weights to keep one dequantized copy
// (4 bytes a weight more) for all such sessions, or else each WithF32
// session dequantizes its own on its first Run. Neither a Plan nor a Run
// changes the Model. The live heap of a loaded int8 model is at most
// 1.15× its tensor bytes, and the peak RSS of loading and running it at
// most 1.5× more than a tiny model's, on every kernel (memory_test.go).
//
// # Threads
//
// WithThreads(n) gives a session n−1 workers besides the goroutine that
// calls Run. The operators hand out their work in units: Dense, Conv1D,
// Conv2D and the recurrent layers' products by rows or output columns
// (each row share quantizing its own activations), attention by (batch,
// head), and the row-wise operators (Embedding, AddPositional, LayerNorm
// and the fused Add+LayerNorm, SeqPool, DepthwiseConv2D and the 2-D
// pools) by blocks of rows. Whether a piece of
// work is handed out or run by the caller alone is decided per call site
// by measuring both (op.Split): work that takes less than a few hand-offs
// stays on the caller, and when other processes keep the other cores busy
// the caller keeps the work too. On top of that the session times whole
// Runs with and without its workers (per set of input shapes) and keeps
// the faster: handing out one operator's work can slow the serial work
// after it, whose data then sits in another core's cache, by more than
// the operator saves, and a session with more threads is not slower than
// one thread for that. Each thread starts with its own contiguous share
// of an operator's units, so consecutive row-split operators mostly find
// their rows on the core that wrote them. Every unit is computed the same
// way whoever runs it, so the number of threads never changes a bit of the
// result.
//
// # Batches in slices
//
// A model whose operators all compute each sample of a batch from that
// sample alone (op.PerSample: every operator of the architectures
// edgetrain makes; Concat along dim 0 is not) may run a batch as slices
// of a few samples, each slice with its activations and scratch in the
// cache from one operator to the next; with several threads each thread
// runs whole slices, with no hand-off between operators. On the first
// runs with a set of input shapes the session times the batch at once and
// in slices of three sizes (the most samples, a power of two, whose
// activations and scratch fit 2 MiB, half and twice that), keeps
// the fastest slices, and from then on times those against the batch at
// once and runs the faster. Here the transformer at batch 32 runs in
// slices in about 0.85× the time of the batch at once and the LSTM in
// 0.8×, and with 2 threads 1.7–1.8× and 1.5–1.6× faster than with 1. The
// bits are those of the batch at once (slices_test.go checks every
// architecture, f32 and int8). A request that fails in a slice (a token
// outside the vocabulary) is re-run at once, so its error names the
// position in the batch.
//
// # State between Runs
//
// A forward LSTM or GRU may take its initial state as inputs and give its
// final state as outputs (op/CATALOG.md), so a sequence can run a piece
// at a time: a knowledge-tracing model, for one, runs each new answer of
// a learner with the state kept from that learner's last answer. The
// caller keeps the state (one per learner, in its own tensors: a session
// serves any number of them) and copies the state outputs into it after
// each Run; the outputs are the session's and the next Run may write them
// before it reads its inputs. The pieces give the bits of the whole
// sequence run at once, and a step of one learner allocates nothing.
//
// # Limits
//
// Load holds the model to the format.Limits it was read with
// (format.Model.Limits; a zero field means its default, as for a model
// built in memory): MaxDims bounds every rank, MaxDimSize every
// dimension, MaxElements the element count of every graph input,
// constant and planned activation, MaxSeqLen the tokenizer's max_len and
// the sequence length of attention (whose cost grows as its square).
// Element counts are computed with overflow-checked arithmetic
// (tensor.Shape.Bounded) and count a zero dimension as 1, so that the
// loops over the other dimensions stay bounded too; an operator's scratch
// is at most 4 × MaxElements of each element type. The same bounds apply
// to every Run: the dynamic dimensions of a request cannot make an input
// or any activation exceed them, and nothing is allocated for a request
// they refuse. A model either fails Load or runs; a zero-length sequence
// runs (attention has no query, a mean pool of no step is 0).
//
// # Errors
//
// Errors are classed, for errors.Is:
//
//   - ErrInvalidModel: every error of Load (unknown operator or
//     attribute, a shape an operator cannot run, a value over the limits).
//   - ErrInvalidInput: a Run whose request does not fit the model (count,
//     dtype, shape, a dimension or activation over the limits, a token id
//     outside the vocabulary).
//   - ErrInternal: a panic in Load or in an operator during Run,
//     recovered: a bug in edgerun. The message holds the panic value and
//     the stack of the goroutine that panicked. A panic on one of the
//     session's workers is re-raised on the goroutine that called Run once
//     every worker has finished, so it never kills the process; the session
//     then drops its plans and operator state and serves the next Run.
//
// The cause stays in the chain too: a shape over the limits is also
// tensor.ErrShape, and LoadFile and Read return format's errors
// (format.ErrCorrupt, format.ErrLimit, ...) for a file they cannot read.
//
// It imports format, tensor, op and the kernel package (directly only to
// name the kernel in use: Kernel, Features); never quant, sdk, boards or
// tools.
package engine
