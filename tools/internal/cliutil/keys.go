package cliutil

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"strings"

	"github.com/edgerun/edgerun/format"
)

// KeygenCmd is the keygen subcommand.
type KeygenCmd struct {
	Name string `arg:"" name:"name" help:"Base name of the key pair: writes NAME.key (private, mode 0600) and NAME.pub (public). A trailing .key or .pub is ignored."`
}

// Run writes a new ed25519 key pair and prints its fingerprint.
func (c *KeygenCmd) Run(env *Env) error {
	base := strings.TrimSuffix(strings.TrimSuffix(c.Name, ".key"), ".pub")
	if base == "" {
		return OpError("keygen", c.Name, fmt.Errorf("empty key name"))
	}
	pub, err := format.WriteKeyPair(base)
	if err != nil {
		return OpError("keygen", c.Name, err)
	}
	_, err = fmt.Fprintf(env.Stdout, "wrote %s.key (private, keep it secret) and %s.pub; key fingerprint %s\n",
		base, base, format.KeyFingerprint(pub))
	return err
}

// SignCmd is the sign subcommand.
type SignCmd struct {
	Model string `arg:"" name:"model" help:"Model file (.erm) to sign in place."`
	Key   string `name:"key" required:"" placeholder:"NAME.key" help:"Private key written by keygen."`
}

// Run signs a model file in place and prints the key's fingerprint.
func (c *SignCmd) Run(env *Env) error {
	key, err := ReadPrivateKey(c.Key)
	if err != nil {
		return OpError("sign", c.Model, err)
	}
	if err := format.SignFile(c.Model, key); err != nil {
		return OpError("sign", c.Model, err)
	}
	pub, _ := key.Public().(ed25519.PublicKey)
	_, err = fmt.Fprintf(env.Stdout, "%s: signed by %s\n", c.Model, format.KeyFingerprint(pub))
	return err
}

// ReadPrivateKey reads a private key file written by keygen. Errors name
// the file once.
func ReadPrivateKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	k, err := format.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return k, nil
}

// ReadTrustedKeys reads public key files written by keygen, for
// format.WithTrustedKeys. Errors name the file once.
func ReadTrustedKeys(paths []string) ([]ed25519.PublicKey, error) {
	keys := make([]ed25519.PublicKey, 0, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("trusted key: %w", err)
		}
		k, err := format.ParsePublicKey(b)
		if err != nil {
			return nil, fmt.Errorf("trusted key %s: %w", p, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}
