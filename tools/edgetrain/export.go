package main

import (
	"fmt"
	"os"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
)

// exportCmd is `edgetrain export`: the device copy of a model.
type exportCmd struct {
	Model string `arg:"" placeholder:"MODEL.erm" help:"Model file to export."`
	Out   string `name:"out" required:"" placeholder:"DEVICE.erm" help:"File to write; replaced atomically."`
	Codec string `name:"codec" enum:"zstd,s2,none" default:"zstd" help:"Payload compression: zstd (smallest), s2 (fastest load), none."`
	Key   string `name:"key" placeholder:"KEY" help:"Sign with this ed25519 private key (edgetrain keygen); devices can then require it (edgerun verify --trusted-key)."`
	Strip bool   `name:"strip" help:"Drop the training metrics and free-form metadata (labels, tokenizer and features stay: the device needs them)."`
}

// Run rewrites the model with the chosen codec, optionally stripped and signed.
func (c *exportCmd) Run(env *cliutil.Env) error {
	codec, err := format.ParseCodec(c.Codec)
	if err != nil {
		return err
	}
	fm, err := format.ReadFile(c.Model)
	if err != nil {
		return cliutil.OpError("export", c.Model, err)
	}
	if c.Strip {
		fm.Metadata.Metrics, fm.Metadata.Extra, fm.Metadata.DataFingerprint = nil, nil, ""
	}
	opts := []format.Option{format.WithCodec(codec)}
	if c.Key != "" {
		key, err := cliutil.ReadPrivateKey(c.Key)
		if err != nil {
			return cliutil.OpError("export", c.Key, err)
		}
		opts = append(opts, format.WithSigningKey(key))
	}
	if err := format.WriteFile(c.Out, fm, opts...); err != nil {
		return cliutil.OpError("export", c.Out, err)
	}
	fi, err := os.Stat(c.Out)
	if err != nil {
		return err
	}
	signed := "unsigned"
	if c.Key != "" {
		signed = "signed"
	}
	_, err = fmt.Fprintf(env.Stdout, "wrote %s (%s, %s, %d bytes)\n", c.Out, codec, signed, fi.Size())
	return err
}
