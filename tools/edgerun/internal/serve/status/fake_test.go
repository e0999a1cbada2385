package status

import (
	"context"
	"fmt"
	"sync"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/tools/edgerun/internal/serve"
)

// fakeRegistry lists fixed models; Infer runs the ones with a Model.
type fakeRegistry struct {
	mu     sync.Mutex
	infos  []serve.ModelInfo
	models map[string]sdk.Model
}

var _ serve.Registry = (*fakeRegistry)(nil)

func (f *fakeRegistry) Models() []serve.ModelInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]serve.ModelInfo(nil), f.infos...)
}

func (f *fakeRegistry) Model(name, version string) (serve.ModelInfo, error) {
	for _, m := range f.Models() {
		if m.Name == name && (version == "" || version == m.Version) {
			return m, nil
		}
	}
	return serve.ModelInfo{}, fmt.Errorf("%w: %q", serve.ErrNotFound, name)
}

func (f *fakeRegistry) Infer(ctx context.Context, name, version string, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	mi, err := f.Model(name, version)
	if err != nil {
		return nil, err
	}
	m := f.models[name]
	if m == nil || mi.State != serve.StateReady {
		return nil, fmt.Errorf("%w: %s is %s", serve.ErrUnavailable, name, mi.State)
	}
	resp, err := m.Infer(ctx, req)
	if err != nil {
		return nil, err
	}
	resp.ModelName, resp.ModelVersion = mi.Name, mi.Version
	return resp, nil
}

func (f *fakeRegistry) Live() bool  { return true }
func (f *fakeRegistry) Ready() bool { return true }

// setState changes a model's state and restarts.
func (f *fakeRegistry) setState(name, state string, restarts int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.infos {
		if f.infos[i].Name == name {
			f.infos[i].State, f.infos[i].Restarts = state, restarts
		}
	}
}
