// Package client is the host side of the SDK's example: a Go program that
// starts the pinned lexicon plugin and asks it for labels.
package client

import (
	"context"
	"fmt"

	"github.com/edgerun/edgerun/sdk"
)

// Labels starts the plugin binary bin (checked against the plugins.lock
// beside it unless opts name another manifest), asks it for the label of
// each text, and stops it.
func Labels(ctx context.Context, bin string, texts []string, opts ...sdk.Option) ([]string, error) {
	p, err := sdk.Open(bin, opts...) // verifies the checksum, starts, handshakes
	if err != nil {
		return nil, err // matches sdk.ErrChecksumMismatch, sdk.ErrNotInManifest, ...
	}
	defer p.Close() // sdk.CloseAll() in main stops every plugin still open

	// If the plugin's process dies, it is restarted with backoff.
	res, err := p.Infer(ctx, &sdk.InferRequest{
		Inputs:  []sdk.Tensor{sdk.BytesTensor("text", texts...)},
		Outputs: []string{"label"},
	})
	if err != nil {
		st := p.Status() // state, pid, restarts, why it last exited
		return nil, fmt.Errorf("%s (%s, %d restarts): %w", st.Name, st.State, st.Restarts, err)
	}
	labels := make([]string, 0, len(texts))
	for _, b := range res.Outputs[0].BYTES {
		labels = append(labels, string(b))
	}
	return labels, nil
}
