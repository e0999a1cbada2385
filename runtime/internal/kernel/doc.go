// Package kernel holds the runtime's compute kernels: int8 GEMM (uint8
// activations × int8 packed weights → int32), f32 GEMM, and per-row
// activation quantization. Every kernel has an always-compiled pure-Go
// reference (the *Generic functions); instruction-set versions are added
// per architecture and chosen once through the dispatch table (Impls,
// Use, Features). Weights are packed once at load time into the one
// layout the chosen kernel reads — PackI8 and PackF32 from a copy, AdoptI8
// and AdoptF32 in place, keeping the caller's slice (except the avx512vnni
// int8 tiles, which AdoptI8 builds in a new, padded slice) — never stored
// that way in a file. It imports nothing of edgerun.
package kernel
