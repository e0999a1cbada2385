package serve

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/edgerun/edgerun/sdk"
)

// openPlugin starts the plugin binary at path through the SDK's
// supervisor, checked against plugins.lock beside it (unless opts say
// otherwise), and asks for its description.
func openPlugin(path, name string, startTimeout time.Duration, opts []sdk.Option) (*loaded, error) {
	all := append([]sdk.Option{sdk.WithName(name), sdk.WithManifestFile(filepath.Join(filepath.Dir(path), sdk.ManifestName))}, opts...)
	p, err := sdk.Open(path, all...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	d, err := p.Describe(ctx)
	if err != nil {
		_ = p.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if d.Domain == sdk.MultiDomain {
		_ = p.Close()
		return nil, fmt.Errorf("%s serves several domains (%s): link it under the name of one to serve that one (a symbolic link named after the domain)", path, strings.Join(d.Labels, ", "))
	}
	return &loaded{model: &pluginModel{p: p}, close: p.Close, version: d.Version, desc: d, plugin: p}, nil
}

// pluginModel is a supervised plugin as a model of the registry: while
// its process restarts (or after it failed) a request is refused at once
// with ErrUnavailable rather than waiting for it.
type pluginModel struct{ p *sdk.Plugin }

func (m *pluginModel) Describe(ctx context.Context) (*sdk.Description, error) {
	return m.p.Describe(ctx)
}

func (m *pluginModel) Health(ctx context.Context) error { return m.p.Health(ctx) }

func (m *pluginModel) Infer(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	if st := m.p.Status(); st.State != sdk.Running {
		return nil, fmt.Errorf("%w: plugin %s is %v", ErrUnavailable, m.p.Name(), st.State)
	}
	resp, err := m.p.Infer(ctx, req)
	if err != nil && errors.Is(err, sdk.ErrUnavailable) {
		err = fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return resp, err
}

// pluginState is a plugin's state as a model's.
func pluginState(s sdk.State) string {
	switch s {
	case sdk.Running:
		return StateReady
	case sdk.Failed:
		return StateFailed
	}
	return StateUnavailable
}
