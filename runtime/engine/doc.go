// Package engine runs edgerun models: Load turns a format.Model into a
// Model (weights packed once for the CPU's kernels, operators built and
// checked), and NewSession gives a Session that runs it.
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
// It imports format, tensor, op and quant; never sdk, boards or tools.
package engine
