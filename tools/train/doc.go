// Package train is edgerun's host-side training library: layers with
// forward and backward passes on gonum matrices, losses, optimizers, a
// seeded mini-batch trainer, metrics, and export of the trained model to
// an .erm graph of runtime/op operators that the device engine runs.
//
// Training is in float64 on the host; export writes float32 weights, or
// int8 ones quantized with runtime/quant (quantization v1), so host and
// device agree on every quantized byte. Evaluation of an exported model
// always goes through runtime/engine: what is measured is what ships.
//
// Everything is seeded: the same data, configuration and seed give the
// same model bytes.
//
// The shape of a model:
//
//	m := train.NewSequential(
//		train.NewDense(rng, 64, 256, train.ReLU),
//		train.NewDense(rng, 256, 10, train.Linear),
//	)
//	hist, err := train.Fit(m, train.SoftmaxCE{}, train.NewAdam(), trainSet, valSet, train.Config{Epochs: 30, BatchSize: 32, LR: train.Constant(1e-3)})
//
// A layer is a Layer: Forward on a Batch, Backward from the gradient of
// its output (accumulating its parameters' gradients), Params, and Export
// to graph nodes.
package train
