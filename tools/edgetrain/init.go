package main

import (
	"fmt"
	"os"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine/enginetest"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
)

// initCmd is the init subcommand.
type initCmd struct {
	Arch     string `name:"arch" required:"" placeholder:"SPEC" help:"Architecture spec, e.g. mlp:64-256-128-10 (grammar below)."`
	Out      string `name:"out" required:"" placeholder:"FILE" help:"Model file to write (.erm); replaced atomically."`
	Quantize string `name:"quantize" enum:"none,int8" default:"none" help:"Weight quantization: none or int8 (per-row symmetric matmul weights and embedding tables)."`
	Seed     uint64 `name:"seed" default:"1" help:"Seed of the random weights: a spec and a seed always give the same file."`
	Codec    string `name:"codec" enum:"zstd,s2,none" default:"zstd" help:"Payload compression: zstd, s2 or none."`
	JSON     bool   `name:"json" help:"Print one JSON object instead of text."`
}

// Help is the detailed help of `edgetrain init --help`: the spec grammar.
func (c *initCmd) Help() string {
	return "The weights are random (Glorot-uniform), not trained: the file is for trying out and " +
		"benchmarking the runtime on a device.\n\n" + enginetest.SpecHelp
}

// initReport is the JSON form of init's result. Field names are part of
// the CLI's contract: add fields, never rename them.
type initReport struct {
	File       string `json:"file"`
	Arch       string `json:"arch"`
	Quantize   string `json:"quantize"`
	Seed       uint64 `json:"seed"`
	Codec      string `json:"codec"`
	FileBytes  int64  `json:"file_bytes"`
	Tensors    int    `json:"tensors"`
	Parameters int64  `json:"parameters"`
}

// Run builds the model the spec describes and writes it.
func (c *initCmd) Run(env *cliutil.Env) error {
	codec, err := format.ParseCodec(c.Codec)
	if err != nil {
		return cliutil.OpError("init", c.Out, err)
	}
	m, err := enginetest.Build(c.Arch, enginetest.Options{Int8: c.Quantize == "int8", Seed: c.Seed})
	if err != nil {
		// Build's error for an unknown kind carries the whole grammar;
		// one line and a pointer to --help are enough here.
		return cliutil.OpError("init", c.Out, fmt.Errorf("%s (see 'edgetrain init --help' for the spec grammar)", firstLine(err.Error())))
	}
	if err := format.WriteFile(c.Out, m, format.WithCodec(codec)); err != nil {
		return cliutil.OpError("init", c.Out, err)
	}
	fi, err := os.Stat(c.Out)
	if err != nil {
		return cliutil.OpError("init", c.Out, err)
	}
	r := initReport{File: c.Out, Arch: c.Arch, Quantize: c.Quantize, Seed: c.Seed, Codec: codec.String(),
		FileBytes: fi.Size(), Tensors: len(m.Tensors)}
	for i := range m.Tensors {
		r.Parameters += m.Tensors[i].NumElements()
	}
	if c.JSON {
		return cliutil.WriteJSON(env.Stdout, r)
	}
	_, err = fmt.Fprintf(env.Stdout, "wrote %s: %s, %s, %d tensors, %d parameters (%s, %s, seed %d)\n",
		r.File, r.Arch, sizeText(r.FileBytes), r.Tensors, r.Parameters, r.Quantize, r.Codec, r.Seed)
	return err
}

func firstLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}

// sizeText prints a byte count, with a binary-prefixed approximation from
// 1 KiB up: "612 B", "63421 B (61.9 KiB)".
func sizeText(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f, u := float64(n)/1024, 0
	const units = "KMGTPE"
	for f >= 1024 && u < len(units)-1 {
		f /= 1024
		u++
	}
	return fmt.Sprintf("%d B (%.1f %ciB)", n, f, units[u])
}
