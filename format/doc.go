// Package format reads and writes .erm files, edgerun's model container.
//
// An .erm file is a small fixed preamble (magic, format version, codec,
// sizes, an xxhash64 checksum), a payload compressed with zstd (the
// default), S2 (fastest to load) or stored as is, and an optional ed25519
// signature. The payload is msgpack: a map with the graph, the tensor
// descriptions and the metadata, followed by one bin object per tensor
// holding its little-endian, row-major data. SPEC.md describes every byte.
//
// Read treats its input as untrusted: it verifies the checksum (and the
// signature, when present or required) over the raw bytes before it
// returns a model (before it decompresses anything when a signature is
// required or the input can be read only once), checks every count and
// size against Limits before allocating for it, and never panics;
// decoding costs time proportional to the decoded size and memory within
// the limits. Errors name the part of the file that is wrong and
// match one of ErrCorrupt, ErrChecksum, ErrVersion, ErrLimit or
// ErrSignature. WriteFile replaces files atomically.
//
// Package format imports nothing else of edgerun; the runtime, the
// trainer and the tools all depend on it.
package format
