// Package oip is the Open Inference Protocol (KServe v2) codec of the
// edgerun tools: Decode reads an inference request's JSON into a neutral
// form (typed data per input, a mask of missing values, the outputs asked
// for, the parameters), streaming and bounded by Limits; WriteResponse
// writes a response, a value at a time. It imports nothing of this
// module; `edgerun run`, `edgerun plugins infer` and the daemon map a
// Request onto a model's inputs or a plugin's and decide what is allowed
// there (missing values, parameters, outputs).
package oip
