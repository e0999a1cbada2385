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
// It imports format, tensor, op and quant; never sdk, boards or tools.
package engine
