package main

import (
	"fmt"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
)

// verifyCmd is the verify subcommand.
type verifyCmd struct {
	Model       string   `arg:"" name:"model" help:"Model file (.erm)."`
	TrustedKeys []string `name:"trusted-key" required:"" sep:"none" placeholder:"PUB.pem" help:"Public key (written by keygen) to trust; repeat for several."`
}

// Run reads and fully verifies the model, requiring a signature by one of
// the trusted keys.
func (c *verifyCmd) Run(env *cliutil.Env) error {
	keys, err := cliutil.ReadTrustedKeys(c.TrustedKeys)
	if err != nil {
		return cliutil.OpError("verify", c.Model, err)
	}
	m, err := format.ReadFile(c.Model, format.WithTrustedKeys(keys...), format.WithoutTensorData())
	if err != nil {
		return cliutil.OpError("verify", c.Model, err)
	}
	_, err = fmt.Fprintf(env.Stdout, "%s: signed by %s, trusted\n", c.Model, format.KeyFingerprint(m.Container.SignerKey))
	return err
}

// trustedKeyOptions makes a command's --trusted-key flags into read
// options: with keys, the model must be signed by one of them.
func trustedKeyOptions(paths []string) ([]format.Option, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	keys, err := cliutil.ReadTrustedKeys(paths)
	if err != nil {
		return nil, err
	}
	return []format.Option{format.WithTrustedKeys(keys...)}, nil
}
